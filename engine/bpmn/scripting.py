"""Restricted evaluation of everything a diagram runs as Python (scripts, conditions, timers, DMN cells,
correlations): a RestrictedPython policy, an allow-list of builtins and a wall-clock bound per run."""

from __future__ import annotations

import ast
import functools
import operator
import sys
import time
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..errors import ScriptRefused

TIME_LIMIT_SECONDS = 1.0
MAX_RANGE_ITEMS = 10_000
MAX_REPEATED_ITEMS = 1_000_000  # `text * n`, `[0] * n`: one operation the time bound cannot stop
MAX_EXPONENT = 64  # largest constant allowed right of "**" and "<<"

# SpiffWorkflow looks for frames of this file name to report the failing line of a script.
_FILENAME = "<string>"
_FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "print",
    }
)
_MESSAGES = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.While: "while loops are not allowed; use a for loop over a bounded range",
    # An except clause could swallow the time-limit error and carry on untraced.
    ast.Try: "try/except is not allowed",
    ast.TryStar: "try/except is not allowed",
    # RestrictedPython would need a metaclass hook for classes; refuse them up front instead.
    ast.ClassDef: "class definitions are not allowed",
}


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE_ITEMS:
        raise ScriptRefused(f"range() of more than {MAX_RANGE_ITEMS} items is not allowed")
    return result


def _guarded_mul(left: Any, right: Any) -> Any:
    """`*`, refusing a repetition of a text or a list into more than MAX_REPEATED_ITEMS items."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(times, int):
            if len(sequence) * max(times, 0) > MAX_REPEATED_ITEMS:
                raise ScriptRefused(f"a repetition of more than {MAX_REPEATED_ITEMS} items is not allowed")
    return left * right


_INPLACE_OPERATORS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": _guarded_mul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}

_BUILTINS: dict[str, Any] = {
    **{
        name: value for name, value in safe_builtins.items() if isinstance(value, type) and issubclass(value, Exception)
    },  # for `raise ValueError(...)`
    **{
        name: safe_builtins[name]
        for name in (
            "None",
            "False",
            "True",
            "abs",
            "bool",
            "chr",
            "divmod",
            "float",
            "int",
            "isinstance",
            "len",
            "ord",
            "repr",
            "round",
            "str",
        )
    },
    "all": all,
    "any": any,
    "dict": dict,
    "enumerate": enumerate,
    "list": list,
    "max": max,
    "min": min,
    "set": set,
    "sorted": sorted,
    "sum": sum,
    "tuple": tuple,
    "zip": zip,
    "range": _bounded_range,
}

# The names RestrictedPython rewrites code to call; they start with "_", so scripts cannot touch them.
_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": lambda op, target, value: _INPLACE_OPERATORS[op](target, value),
    "_apply_": lambda function, *args, **kwargs: function(*args, **kwargs),
    "_mul_": _guarded_mul,
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and name != "_"


def _is_small_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) <= MAX_EXPONENT


def _problem(node: ast.AST) -> str | None:
    """What our policy adds to RestrictedPython's for this node, if anything."""
    if isinstance(node, ast.Attribute) and _is_private(node.attr):
        return f'names starting with "_" are not allowed: {node.attr}'
    if isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
        return f'"{node.id}" is not allowed'
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, (ast.Pow, ast.LShift)):
        right = node.right if isinstance(node, ast.BinOp) else node.value
        if not _is_small_constant(right):
            symbol = "**" if isinstance(node.op, ast.Pow) else "<<"
            return f'"{symbol}" is only allowed with a constant of at most {MAX_EXPONENT} on its right'
    return _MESSAGES.get(type(node))


class _Policy(RestrictingNodeTransformer):
    """RestrictingNodeTransformer plus our own refusals, checked before each node is transformed."""

    def visit(self, node: ast.AST) -> Any:
        problem = _problem(node)
        if problem:
            self.error(node, problem)
        return super().visit(node)

    def check_name(self, node: ast.AST, name: str | None, allow_magic_methods: bool = False) -> None:
        # Called for variables, function names and argument names alike.
        if name is not None and _is_private(name):
            self.error(node, f'names starting with "_" are not allowed: {name}')
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        if isinstance(node.op, ast.Mult):  # through _mul_, which bounds a repetition's size
            function = ast.copy_location(ast.Name("_mul_", ast.Load()), node)
            call = ast.Call(func=function, args=[node.left, node.right], keywords=[])
            return ast.copy_location(call, node)
        return node

    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append(f"{info.rstrip('.')} (line {getattr(node, 'lineno', '?')})")


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> CodeType | str:
    """Code for the source, or the first reason it is refused. A SyntaxError propagates (with its line)."""
    if mode == "eval":
        source = source.strip()  # condition text in a diagram is often indented or on its own line
    try:
        tree = ast.parse(source, _FILENAME, mode)
    except (MemoryError, RecursionError):  # the parser's own limits: a very long chain of operators
        return "the text is nested too deeply to be read"
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_restricted(tree, _FILENAME, policy=_Policy)
    return result.errors[0] if result.errors else result.code


def _check(source: str, mode: str) -> str | None:
    try:
        result = _compile(source, mode)
    except SyntaxError as err:
        return f"syntax error: {err.msg} (line {err.lineno})"
    return result if isinstance(result, str) else None


def check_expression(source: str) -> str | None:
    """Static check of an expression (condition, timer, DMN cell): None if allowed, else a one-line message."""
    return _check(source, "eval")


def check_script(source: str) -> str | None:
    """Static check of a script (statements): None if allowed, else a one-line message."""
    return _check(source, "exec")


def _code(source: str, mode: str) -> CodeType:
    result = _compile(source, mode)
    if isinstance(result, str):
        raise ScriptRefused(result)
    return result


def _run(code: CodeType, namespace: dict[str, Any], what: str) -> Any:
    """Evaluate code, raising ScriptRefused from within it once it has run longer than the time limit."""
    limit = TIME_LIMIT_SECONDS
    deadline = time.monotonic() + limit

    def trace(frame, event, arg):
        # Only the script's own frames (its body, functions, comprehensions) need the clock; not guards.
        if event == "call" and frame.f_code.co_filename != _FILENAME:
            return None
        if time.monotonic() > deadline:
            raise ScriptRefused(f"the {what} took longer than {limit} s")
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        return eval(code, namespace)
    finally:
        sys.settrace(previous)


def _optional(namespace: dict[str, Any], name: str, default: Any = None) -> Any:
    """`get(name, default)` in a script or condition: the value of a variable that may not be set."""
    if not isinstance(name, str) or _is_private(name):
        raise NameError(f"get() takes the name of a variable, not {name!r}")
    value = namespace.get(name, default)
    return default if callable(value) else value


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts restricted, with task data as their variables."""

    def _namespace(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
        # Guards go last so task data can never replace them.
        namespace = {**self.globals, **(external_context or {}), **context, **_GUARDS}
        namespace["get"] = functools.partial(_optional, namespace)
        return namespace

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return _run(_code(expression, "eval"), self._namespace(context, external_context), "expression")

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        namespace = self._namespace(context, external_context)
        _run(_code(script, "exec"), namespace, "script")
        # Written back only after success, so a refused or failing script leaves the task data untouched.
        external = external_context or {}
        for name in [name for name in context if name not in namespace]:
            del context[name]  # the script deleted it
        for name, value in namespace.items():
            if name in _GUARDS or name in self.globals or callable(value) or (name in external and name not in context):
                continue
            context[name] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRefused("service tasks are not supported")


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose errors keep the reason; meant for a RestrictedEnvironment."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as err:
            # The library reports only "Error evaluating expression '...'"; add why.
            cause = err.__context__
            if isinstance(cause, Exception) and not isinstance(cause, SpiffWorkflowException):
                err.add_note(f"{type(cause).__name__}: {cause}")
            raise

    def call_service(self, task, **kwargs):
        # The library's own error path here refers to an undefined name (`script`) and raises NameError.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err


def make_script_engine() -> PythonScriptEngine:
    """A script engine that runs every script and expression restricted. Cheap: compiled code is cached."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment())
