"""Fuzzing the restricted evaluator with expressions and scripts built from Python tokens and known
sandbox-escape fragments: each is refused, or runs within the time bound, and nothing escapes."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.bpmn.scripting import RestrictedEnvironment, check_expression, check_script
from engine.errors import ScriptRefused

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # "1()" compiles, with a warning
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WALL_CLOCK_LIMIT = 2.0
SENTINEL = Path("/tmp") / f"doeflow-fuzz-escaped-{uuid.uuid4().hex}"

NAMES = st.sampled_from(
    [
        "x",
        "y",
        "data",
        "get",
        "len",
        "range",
        "sum",
        "sorted",
        "str",
        "int",
        "dict",
        "list",
        "type",
        "object",
        "open",
        "eval",
        "exec",
        "getattr",
        "globals",
        "vars",
        "__import__",
        "__builtins__",
        "_getattr_",
        "_",
        "f",
    ]
)
# Small numbers only outside range() and "**": a sequence times a huge number allocates in one C call.
LITERALS = st.sampled_from(
    ["0", "1", "2", "7", "64", "65", "-1", "'a'", "'__class__'", "True", "None", "[]", "()", "{}"]
)
ATTRIBUTES = st.sampled_from(
    [
        "__class__",
        "__bases__",
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__dict__",
        "__mro__",
        "__code__",
        "mro",
        "format",
        "format_map",
        "gi_frame",
        "f_back",
        "f_globals",
        "keys",
        "append",
        "upper",
        "real",
    ]
)
HOSTILE = st.sampled_from(
    [
        "().__class__.__bases__[0].__subclasses__()",
        "__import__('os').system('true')",
        f"open({str(SENTINEL)!r}, 'w').write('x')",
        "eval('1+1')",
        "getattr(x, '__class__')",
        "type(x).mro()",
        "'{0.__class__}'.format(x)",
        "'{a.__class__}'.format_map({'a': x})",
        "(lambda f: f(f))(lambda f: f(f))",
        "[y for y in range(10**9)]",
        "[a for a in range(10000) for b in range(10000)]",
        "sum(range(10000)) ** 64",
        "9 ** 9 ** 9",
        "2 << 100000",
        "get('__builtins__')",
        "get('_getattr_')",
        "(g for g in [1]).gi_frame.f_back.f_globals",
        "f'{x.__class__}'",
        "max(range(10000), key=lambda a: sorted(range(1000)))",
        "str(10 ** 64 ** 2)",
    ]
)


def expressions(depth: int = 3) -> st.SearchStrategy[str]:
    atoms = st.one_of(NAMES, LITERALS, HOSTILE)
    if depth == 0:
        return atoms
    inner = expressions(depth - 1)
    return st.one_of(
        atoms,
        st.tuples(
            inner,
            st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "<<", "==", "<", " and ", " or ", " in "]),
            inner,
        ).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from(["not ", "-", "~"]), inner).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(inner, st.lists(inner, max_size=2)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(inner, ATTRIBUTES).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, NAMES, inner).map(lambda t: f"[{t[0]} for {t[1]} in {t[2]}]"),
        st.tuples(NAMES, inner).map(lambda t: f"(lambda {t[0]}: {t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


STATEMENT_TEMPLATES = st.sampled_from(
    [
        "{n} = {e}",
        "{n} += {e}",
        "for {n} in {e}:\n    y = {e}",
        "if {e}:\n    x = {e}\nelse:\n    del x",
        "def f(n):\n    return f(n) if {e} else {e}",
        "f = lambda: f()\nf()",
        "while True:\n    pass",
        "import os",
        "from os import system",
        "try:\n    x = {e}\nexcept Exception:\n    pass",
        "class A:\n    pass",
        "global x",
        "raise {e}",
        "assert {e}",
        "with {e} as {n}:\n    pass",
        "{n} = [{e} for _ in range(3)]",
        "x.__class__ = {e}",
        "{n}[0] = {e}",
    ]
)


@st.composite
def scripts(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        template = draw(STATEMENT_TEMPLATES)
        lines.append(template.format(n=draw(NAMES), e=draw(expressions(2))))
    return "\n".join(lines)


def run(action, source: str):
    started = time.monotonic()
    try:
        action(source)
    except ScriptRefused:
        pass
    except Exception:  # noqa: BLE001 - an ordinary error of the script itself (NameError, TypeError...)
        pass
    # Anything else (SystemExit, KeyboardInterrupt, GeneratorExit) propagates and fails the test.
    assert time.monotonic() - started < WALL_CLOCK_LIMIT, source
    assert not SENTINEL.exists(), source


@FUZZ
@given(source=expressions())
def test_no_expression_escapes_or_runs_too_long(source):
    message = check_expression(source)
    assert message is None or isinstance(message, str)
    context = {"x": 1, "y": [1, 2], "data": {"a": 1}}
    if message is None:
        run(lambda code: RestrictedEnvironment().evaluate(code, context), source)
    else:
        with pytest.raises((ScriptRefused, SyntaxError)):
            RestrictedEnvironment().evaluate(source, context)
    assert context == {"x": 1, "y": [1, 2], "data": {"a": 1}}


@FUZZ
@given(source=scripts())
def test_no_script_escapes_or_runs_too_long(source):
    message = check_script(source)
    assert message is None or isinstance(message, str)
    context = {"x": 1, "y": [1, 2], "data": {"a": 1}}
    run(lambda code: RestrictedEnvironment().execute(code, context), source)
    assert all(not name.startswith("_") or name == "_" for name in context), context
    assert all(not callable(value) for value in context.values()), context


@pytest.mark.parametrize("fragment", ["-", "not ", "~"])
def test_a_long_chain_of_unary_operators_is_refused_not_raised(fragment):
    assert isinstance(check_expression(fragment * 100_000 + "1"), str)
