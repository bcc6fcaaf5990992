"""Restricted scripts and expressions: what runs, what is refused, and that refusals leave no trace."""

import sys
import time
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn import scripting
from engine.bpmn.scripting import RestrictedEnvironment, check_expression, check_script, make_script_engine
from engine.errors import ScriptRefused

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://example.org/test">
"""


def script_diagram(script: str) -> str:
    return (
        HEADER
        + f"""
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_script" sourceRef="start" targetRef="compute"/>
    <bpmn:scriptTask id="compute" name="Compute"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="compute" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def gateway_diagram(setup: str, condition: str) -> str:
    """Start, a script setting up data, then a gateway: `condition` leads to "high", the default to "low"."""
    return (
        HEADER
        + f"""
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_setup" sourceRef="start" targetRef="setup"/>
    <bpmn:scriptTask id="setup" name="Setup"><bpmn:script>{escape(setup)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="setup" targetRef="decide"/>
    <bpmn:exclusiveGateway id="decide" name="Decide" default="to_low"/>
    <bpmn:sequenceFlow id="to_high" sourceRef="decide" targetRef="high">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_low" sourceRef="decide" targetRef="low"/>
    <bpmn:scriptTask id="high" name="High"><bpmn:script>route = 'high'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="low" name="Low"><bpmn:script>route = 'low'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="high_end" sourceRef="high" targetRef="end"/>
    <bpmn:sequenceFlow id="low_end" sourceRef="low" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    )


def run(diagram: str) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(diagram.encode())
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=make_script_engine())
    workflow.do_engine_steps()
    return workflow


def refusal(diagram: str) -> WorkflowException:
    with pytest.raises(WorkflowException) as caught:
        run(diagram)
    return caught.value


@pytest.fixture
def short_time_limit(monkeypatch):
    monkeypatch.setattr(scripting, "TIME_LIMIT_SECONDS", 0.2)


# --- What works ---------------------------------------------------------------------------------


def test_script_task_writes_new_and_changed_variables_back_to_task_data():
    script = """
total = 0
for item in items:
    total += item['qty'] * item['price']
names = sorted(item['name'].upper() for item in items)
big = [item['name'] for item in items if item['qty'] > 1]
label = 'order of ' + str(len(items)) + ' lines'
first, second = names[0], names[1]
"""
    setup = "items = [{'name': 'b', 'qty': 2, 'price': 1.5}, {'name': 'a', 'qty': 1, 'price': 10}]\n"
    workflow = run(script_diagram(setup + script))
    assert workflow.is_completed()
    assert workflow.data["total"] == 13.0
    assert workflow.data["names"] == ["A", "B"]
    assert workflow.data["big"] == ["b"]
    assert workflow.data["label"] == "order of 2 lines"
    assert (workflow.data["first"], workflow.data["second"]) == ("A", "B")


def test_functions_defined_in_a_script_do_not_end_up_in_task_data():
    workflow = run(script_diagram("def double(n):\n    return n * 2\nhalve = lambda n: n / 2\nx = double(21)"))
    assert workflow.data == {"x": 42}


def test_gateway_condition_picks_the_matching_branch():
    condition = "amount > 50000 and level == 'L3'"
    assert run(gateway_diagram("amount = 60000\nlevel = 'L3'", condition)).data["route"] == "high"
    assert run(gateway_diagram("amount = 60000\nlevel = 'L2'", condition)).data["route"] == "low"


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("amount > 50000 and level == 'L3'", True),
        ("name.upper()", "ANN"),
        ("order.get('qty', 0) * 2", 6),
        ("order['qty'] in [1, 2, 3]", True),
        ("sum(x * x for x in range(4))", 14),
        ("[k for k, v in order.items() if v]", ["qty"]),
        ("max(1, 2) + min([3, 4]) + abs(-1) + round(2.4) + len('ab')", 10),
        ("isinstance(amount, int) and bool(1) and int('2') == 2 and float('1.5') == 1.5", True),
        ("any([0, 1]) and all([1, 1]) and list(zip([1], [2])) == [(1, 2)]", True),
        ("dict(a=1) == {'a': 1} and set([1]) == {1} and tuple([1]) == (1,)", True),
        ("list(enumerate('ab'))", [(0, "a"), (1, "b")]),
        ("2 ** 10 + 9 ** 0.5", 1027.0),
        ("(lambda n: n + 1)(1)", 2),
        ("\n    amount >= 1\n  ", True),
    ],
)
def test_allowed_expressions_evaluate(expression, expected):
    context = {"amount": 60000, "level": "L3", "name": "ann", "order": {"qty": 3}}
    assert check_expression(expression) is None
    assert RestrictedEnvironment().evaluate(expression, context) == expected


def test_execute_never_writes_guards_builtins_or_external_context_into_task_data():
    context = {"a": 1, "gone": 2}
    RestrictedEnvironment().execute("b = a + ext\ndel gone\nf = len", context, external_context={"ext": 10})
    assert context == {"a": 1, "b": 11}


def test_get_reads_a_variable_that_may_not_be_set_in_scripts_and_conditions():
    environment = RestrictedEnvironment()
    context = {"linked_eppe_id": "EPPE-HTI-2025-014"}
    environment.execute(
        "eppe_reference = get('linked_eppe_id')\nnote = get('comments', '')\nn = get('n', 0) + 1", context
    )
    assert context == {"linked_eppe_id": "EPPE-HTI-2025-014", "eppe_reference": "EPPE-HTI-2025-014", "note": "", "n": 1}
    assert environment.evaluate("get('budget_usd', 0) > 100", {"budget_usd": 500}) is True
    assert environment.evaluate("get('budget_usd', 0) > 100", {}) is False
    assert environment.evaluate("get('get')", {}) is None  # the helper itself is not a variable


@pytest.mark.parametrize("name", ["__builtins__", "_getattr_", "_getitem_"])
def test_get_cannot_reach_the_guards_or_the_builtins(name):
    with pytest.raises(Exception, match="takes the name of a variable"):
        RestrictedEnvironment().evaluate(f"get({name!r})", {})


@pytest.mark.parametrize(
    "source",
    ["'a' * 10**8", "10**8 * 'a'", "[0] * 10**7", "x = 'ab'\nx *= 10**7", "('a',) * 2_000_000"],
)
def test_one_huge_repetition_is_refused_before_it_allocates(source):
    environment = RestrictedEnvironment()
    with pytest.raises(ScriptRefused, match="repetition of more than"):
        environment.execute(source, {})


def test_ordinary_multiplication_still_works():
    context = {"amount": 1200.5, "lines": [1, 2], "dash": "-"}
    RestrictedEnvironment().execute("total = amount * 3\nrule = dash * 20\ntwice = lines * 2\nn = 2\nn *= 21", context)
    assert (context["total"], context["rule"], context["twice"], context["n"]) == (3601.5, "-" * 20, [1, 2, 1, 2], 42)


def test_evaluating_a_common_condition_is_cheap():
    env = RestrictedEnvironment()
    context = {"amount": 60000, "level": "L3"}
    started = time.perf_counter()
    for _ in range(10_000):
        env.evaluate("amount > 50000 and level == 'L3'", context)
    assert time.perf_counter() - started < 0.5


# --- What is refused, in a real workflow, without side effects -------------------------------------


def test_script_cannot_import_os(tmp_path):
    marker = tmp_path / "marker"
    error = refusal(script_diagram(f"before = 1\nimport os\nos.system('touch {marker}')"))
    assert "import is not allowed" in str(error)
    assert not marker.exists()


def test_script_cannot_call_dunder_import(tmp_path):
    marker = tmp_path / "marker"
    error = refusal(script_diagram(f"__import__('os').system('touch {marker}')"))
    assert 'names starting with "_" are not allowed: __import__' in str(error)
    assert not marker.exists()


def test_gateway_condition_cannot_run_a_shell_command(tmp_path):
    marker = tmp_path / "marker"
    error = refusal(gateway_diagram("amount = 1", f"__import__('os').system('touch {marker}') == 0"))
    assert 'names starting with "_" are not allowed: __import__' in str(error)
    assert not marker.exists()


def test_gateway_condition_cannot_open_files(tmp_path):
    target = tmp_path / "written"
    error = refusal(gateway_diagram("amount = 1", f"open('{target}', 'w').write('x') > 0"))
    assert '"open" is not allowed' in str(error)
    assert not target.exists()


def test_script_cannot_open_files(tmp_path):
    target = tmp_path / "written"
    error = refusal(script_diagram(f"open('{target}', 'w').write('x')\nsecret = open('/etc/passwd').read()"))
    assert '"open" is not allowed' in str(error)
    assert not target.exists()


@pytest.mark.parametrize(
    "script, message",
    [
        ("x = ().__class__.__bases__[0].__subclasses__()", 'names starting with "_" are not allowed'),
        ("x = eval('1+1')", "Eval calls are not allowed"),
        ("exec('x=1')", "Exec calls are not allowed"),
        ("x = getattr(items, '__class__')", '"getattr" is not allowed'),
        ("while True:\n    pass", "while loops are not allowed"),
        ("x = 10**10**10", '"**" is only allowed with a constant'),
    ],
)
def test_script_escape_is_refused_before_running(script, message):
    error = refusal(script_diagram(f"items = []\n{script}"))
    assert message in str(error)


def test_script_cannot_build_a_huge_range():
    error = refusal(script_diagram("x = list(range(10**9))"))
    assert "range() of more than 10000 items is not allowed" in str(error)


def test_script_is_stopped_after_the_time_limit(short_time_limit):
    started = time.perf_counter()
    error = refusal(
        script_diagram("partial = 1\nfor x in [i * j for i in range(10000) for j in range(10000)]:\n    pass")
    )
    assert "the script took longer than 0.2 s" in str(error)
    assert time.perf_counter() - started < 2
    assert error.task.data == {}  # nothing written back, not even the first line's variable


def test_loop_growing_its_own_list_is_stopped_by_the_time_limit(short_time_limit):
    error = refusal(script_diagram("seen = [1]\nfor x in seen:\n    seen.append(x)"))
    assert "took longer than 0.2 s" in str(error)


def test_time_limit_leaves_the_previous_trace_function_in_place(short_time_limit):
    previous = sys.gettrace()
    with pytest.raises(ScriptRefused, match="took longer"):
        RestrictedEnvironment().execute("for x in [i for i in range(10000) for j in range(10000)]:\n    pass", {})
    assert sys.gettrace() is previous


def test_script_with_a_syntax_error_reports_its_line():
    error = refusal(script_diagram("x = 1\ny = (\n"))
    assert "SyntaxError" in str(error) and error.line_number == 2


def test_gateway_condition_error_says_why():
    error = refusal(gateway_diagram("amount = 1", "amount > 'ten'"))
    assert "TypeError" in str(error) and "not supported between" in str(error)


def test_correlation_style_direct_evaluate_is_refused_with_script_refused():
    # Message correlation calls the environment directly, bypassing the engine's error wrapping.
    with pytest.raises(ScriptRefused, match="__class__"):
        RestrictedEnvironment().evaluate("order.__class__", {"order": {}})


def test_service_tasks_are_refused():
    with pytest.raises(ScriptRefused, match="service tasks are not supported"):
        RestrictedEnvironment().call_service({}, operation_name="http/get")


def test_str_format_is_refused_at_run_time():
    with pytest.raises(NotImplementedError, match="format"):
        RestrictedEnvironment().evaluate("'{0.__class__}'.format(x)", {"x": 1})


# --- Static checks -------------------------------------------------------------------------------

REFUSED_EXPRESSIONS = [
    ("__import__('os').system('true')", 'names starting with "_" are not allowed: __import__'),
    ("().__class__.__bases__[0].__subclasses__()", 'names starting with "_" are not allowed: __subclasses__'),
    ("open('/etc/passwd').read()", '"open" is not allowed'),
    ("eval('1+1')", "Eval calls are not allowed"),
    ("exec('x=1')", "Exec calls are not allowed"),
    ("compile('1', 'f', 'eval')", '"compile" is not allowed'),
    ("getattr(x, '__class__')", '"getattr" is not allowed'),
    ("setattr(x, 'y', 1)", '"setattr" is not allowed'),
    ("delattr(x, 'y')", '"delattr" is not allowed'),
    ("globals()", '"globals" is not allowed'),
    ("locals()", '"locals" is not allowed'),
    ("vars(x)", '"vars" is not allowed'),
    ("input()", '"input" is not allowed'),
    ("breakpoint()", '"breakpoint" is not allowed'),
    ("10**10**10", '"**" is only allowed with a constant of at most 64'),
    ("x ** 65", '"**" is only allowed with a constant of at most 64'),
    ("2 ** n", '"**" is only allowed with a constant of at most 64'),
    ("1 << 1000", '"<<" is only allowed with a constant of at most 64'),
    ("x._private", 'names starting with "_" are not allowed: _private'),
    ("amount >", "syntax error"),
]


@pytest.mark.parametrize("expression, message", REFUSED_EXPRESSIONS)
def test_check_expression_refuses(expression, message):
    problem = check_expression(expression)
    assert problem is not None and message in problem and "\n" not in problem


@pytest.mark.parametrize("expression, message", REFUSED_EXPRESSIONS)
def test_refused_expression_raises_script_refused_at_run_time(expression, message):
    with pytest.raises((ScriptRefused, SyntaxError)):
        RestrictedEnvironment().evaluate(expression, {"x": 1, "n": 2, "amount": 1})


@pytest.mark.parametrize(
    "script, message",
    [
        ("import os", "import is not allowed (line 1)"),
        ("x = 1\nfrom os import path", "import is not allowed (line 2)"),
        ("while True:\n    pass", "while loops are not allowed"),
        ("try:\n    x = 1\nexcept Exception:\n    pass", "try/except is not allowed"),
        ("class A:\n    pass", "class definitions are not allowed"),
        ("x = 2\nx **= 100", '"**" is only allowed with a constant of at most 64 on its right (line 2)'),
        ("def f(_secret):\n    return 1", 'names starting with "_" are not allowed: _secret'),
        ("def _helper():\n    return 1", 'names starting with "_" are not allowed: _helper'),
        ("print('hi')", '"print" is not allowed'),
        ("async def f():\n    pass", "AsyncFunctionDef statements are not allowed"),
        ("x = (", "syntax error: '(' was never closed (line 1)"),
    ],
)
def test_check_script_refuses(script, message):
    assert message in check_script(script)


@pytest.mark.parametrize(
    "script",
    [
        "total = 0\nfor i in range(10):\n    total += i",
        "def double(n):\n    return n * 2\ny = double(2)",
        "names = [n.strip().lower() for n in raw.split(',')]",
        "order['qty'] = order.get('qty', 0) + 1",
        "a, b = 1, 2\nc = {k: v for k, v in {'x': 1}.items()}",
        "x = 3 ** 2\nx **= 2\nif x > 10:\n    y = 'big'\nelse:\n    y = 'small'",
        "_ = 1",
        "raise ValueError('amount must be positive')",
    ],
)
def test_check_script_allows(script):
    assert check_script(script) is None


def test_refused_script_is_not_recompiled_for_every_run():
    check_script("import os")
    hits = scripting._compile.cache_info().hits
    check_script("import os")
    assert scripting._compile.cache_info().hits == hits + 1
