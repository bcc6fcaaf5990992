"""Outcomes marked in a diagram: the lint refuses a mark that would tell nobody (a misspelt outcome,
a half mark), and a run reports each outcome once, when its step reaches it."""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import outcomes
from engine.bpmn.loading import load_definitions
from engine.bpmn.scripting import make_script_engine
from tests.engine.bpmn.test_bpmn_loading import diagram, id_line
from tests.processes.conftest import WORKFLOWS


def marked(properties: str, *, on: str = "decide") -> bytes:
    """A decision task, then an end event; `properties` go on the element `on`."""
    props = f"<bpmn:extensionElements><spiffworkflow:properties>{properties}</spiffworkflow:properties></bpmn:extensionElements>"
    decide = props if on == "decide" else ""
    end = props if on == "end" else ""
    return diagram(
        f"""<bpmn:startEvent id="start"/>
<bpmn:userTask id="decide" name="Decide">{decide}</bpmn:userTask>
<bpmn:endEvent id="end" name="Done">{end}</bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>"""
    )


def prop(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}"/>'


def errors(content: bytes) -> list[str]:
    return [str(p) for p in load_definitions({"d.bpmn": content}).errors()]


DECISION = prop("outcomeField", "decision") + prop("outcomes", "approve: approved, reject: rejected")


def test_a_bad_outcome_value_is_refused_at_its_element():
    content = marked(prop("outcome", "aproved"), on="end")
    assert errors(content) == [
        f"d.bpmn:{id_line(content, 'end')}: end: outcome 'aproved' is not one of "
        "approved, approved_reduced, rejected, endorsed, not_endorsed, returned"
    ]


@pytest.mark.parametrize(
    "properties, on, expected",
    [
        (prop("outcomeField", "decision") + prop("outcomes", "approve: aprobado"), "decide", "maps to 'aprobado'"),
        (prop("outcomeField", "decision"), "decide", "needs either the property outcome or both"),
        (prop("outcomes", "approve approved"), "decide", "'approve approved' is not 'key: value'"),
        (prop("outcome", "approved") + DECISION, "decide", "either a fixed outcome or outcomeField"),
        (prop("reasonField", "comments"), "decide", "needs either the property outcome or both"),
        (DECISION + prop("amountField", "endorsed: amount_usd"), "decide", "'endorsed', which this element never"),
        (DECISION + prop("amountField", "aproved: amount_usd"), "decide", "amountField: 'aproved' is not one of"),
        (DECISION + prop("reasonField", "the comments"), "decide", "'the comments' is not a field name"),
        (DECISION, "end", "outcomeField needs a task"),
    ],
)
def test_a_half_or_misspelt_mark_is_refused(properties, on, expected):
    found = errors(marked(properties, on=on))
    assert len(found) >= 1 and any(expected in message for message in found), found


def test_good_marks_pass_and_the_shipped_diagrams_are_marked():
    assert errors(marked(DECISION + prop("reasonField", "comments, notes") + prop("amountField", "amount_usd"))) == []
    assert errors(marked(prop("outcome", "endorsed") + prop("reasonField", "why"), on="end")) == []
    shipped = {path.name: path.read_bytes() for path in WORKFLOWS.iterdir() if path.suffix in (".bpmn", ".dmn")}
    assert load_definitions(shipped).errors() == []
    text = (WORKFLOWS / "mefm_request.bpmn").read_text(encoding="utf-8")
    assert 'name="outcomes" value="approve: approved, approve_reduced: approved_reduced' in text


def test_read_mark_gives_the_outcome_reason_and_amount_fields():
    mark, problems = outcomes.read_mark(
        {
            "outcomeField": "decision",
            "outcomes": "approve: approved, approve_reduced: approved_reduced",
            "reasonField": "comments, notes",
            "amountField": "approved: requested_usd, approved_reduced: approved_usd",
        }
    )
    assert problems == []
    assert mark.outcome_for({"decision": "approve_reduced"}) == "approved_reduced"
    assert mark.outcome_for({"decision": "defer"}) is None
    assert mark.reason_fields == ("comments", "notes")
    assert mark.amount_fields == {"approved": "requested_usd", "approved_reduced": "approved_usd"}
    assert outcomes.read_mark({"formKey": "x"}) == (None, [])


def workflow_of(content: bytes) -> BpmnWorkflow:
    spec, subprocesses = load_definitions({"d.bpmn": content}).spec("p")
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=make_script_engine())
    workflow.do_engine_steps()
    return workflow


def test_an_outcome_is_reached_by_the_step_that_completes_its_task_and_only_by_it():
    workflow = workflow_of(marked(DECISION + prop("reasonField", "comments") + prop("amountField", "amount_usd")))
    before = outcomes.task_states(workflow)
    assert outcomes.reached(workflow, lambda: before) == []  # the decision is open, not taken
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.set_data(decision="approve", comments="Within the envelope.", amount_usd=12_500)
    task.run()
    workflow.do_engine_steps()

    [reached] = outcomes.reached(workflow, lambda: before)
    assert (reached.outcome, reached.element_id, reached.reason, reached.amount) == (
        "approved",
        "decide",
        "Within the envelope.",
        12_500,
    )
    after = outcomes.task_states(workflow)
    assert outcomes.reached(workflow, lambda: after) == []  # the next step does not reach it again


def test_a_fixed_outcome_is_reached_when_its_element_is_and_the_stored_state_tells_what_was_before():
    from engine.bpmn import serializer

    workflow = workflow_of(marked(prop("outcome", "not_endorsed") + prop("reasonField", "why"), on="end"))
    stored = serializer.dump(workflow)
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.set_data(why="Out of scope.")
    task.run()
    workflow.do_engine_steps()

    [reached] = outcomes.reached(workflow, lambda: serializer.task_states(stored))
    assert (reached.outcome, reached.element_id, reached.reason, reached.amount) == (
        "not_endorsed",
        "end",
        "Out of scope.",
        None,
    )
    assert outcomes.reached(workflow, lambda: serializer.task_states(serializer.dump(workflow))) == []
