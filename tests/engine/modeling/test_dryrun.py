"""Dry runs of a draft MEFM request: in memory, on a moving clock, with no database at all."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy.engine
import sqlalchemy.orm

from engine.errors import InvalidDiagram
from engine.modeling.dryrun import START, dry_run, minimal_answer
from tests.processes.scenarios import HAITI_HURRICANE
from tests.processes.scenarios_eppe import HAITI_EPPE

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows" / "bpmn"
PROCESS = "mefm_request"
MEFM = HAITI_HURRICANE["mefm"]
ANSWERS = {
    "check_budget": MEFM["mefm_budget_check"],
    "sign_and_submit": MEFM["mefm_com_submission"],
    "regional_review": MEFM["mefm_regional_review"],
    "prd_review": MEFM["mefm_prd_review"],
    "decide_request": MEFM["mefm_decision"],
    "escalated_decision": MEFM["mefm_decision"],
    "allocate_funds": MEFM["mefm_finance_allocation"],
}
TO_REPAYMENT = "complete until record_repayment"
AT_REGIONAL_REVIEW = "complete until regional_review"


def draft(**replacements: str) -> dict[str, bytes]:
    """The shipped BPMN and DMN files as a draft, with text of mefm_request.bpmn replaced."""
    files = {p.name: p.read_bytes() for p in sorted(WORKFLOWS.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    text = files["mefm_request.bpmn"].decode("utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    files["mefm_request.bpmn"] = text.encode("utf-8")
    return files


def run(files=None, script=(TO_REPAYMENT,), **options):
    options.setdefault("answers", ANSWERS)
    return dry_run(
        files or draft(),
        PROCESS,
        start_data=MEFM["mefm_request_start"],
        script=None if script is None else list(script),
        **options,
    )


def test_happy_path_reaches_the_allocation_and_waits_for_the_repayment():
    result = run()

    ids = [step.element_id for step in result.path]
    assert ids[0] == "start_request"
    assert ids.index("regional_review") < ids.index("decide_request") < ids.index("allocate_funds")
    assert "Allocate the funds" in [step.name for step in result.path]
    assert result.open_tasks == ("record_repayment",)
    assert not result.ended and result.problems == () and result.timers == ()
    tasks = {task.element_id: task for task in result.tasks}
    assert tasks["regional_review"].lane == "Emergency Focal Point"
    assert tasks["regional_review"].office == "RO-AMERICAS"
    assert tasks["regional_review"].due_at == START + timedelta(hours=48)
    assert tasks["check_budget"].office == "HTI" and tasks["decide_request"].office == "HQ"
    assert tasks["decide_request"].data == MEFM["mefm_decision"]
    assert tasks["record_repayment"].state == "open"
    assert result.data["approval_level"] == MEFM["approval"]["approval_level"]
    assigned = [(e.task, e.to_roles) for e in result.emails if e.kind == "task_assigned"]
    assert ("allocate_funds", (("Finance", "HQ"),)) in assigned


def test_without_answers_the_data_decides_and_the_run_ends():
    result = dry_run(draft(), PROCESS)

    assert result.ended and result.problems == ()
    assert result.end_events[-1] == "advance_repaid"
    regional = next(t for t in result.tasks if t.element_id == "regional_review")
    assert regional.data == {"regional_recommendation": "recommend"}


def test_waiting_48_hours_at_the_regional_review_escalates():
    result = run(script=[AT_REGIONAL_REVIEW, "wait PT48H"])

    assert [(t.element_id, t.at - START, t.interrupting) for t in result.timers] == [
        ("remind_after_24h", timedelta(hours=24), False),
        ("escalate_after_48h", timedelta(hours=48), True),
    ]
    reminder, escalation = [e for e in result.emails if e.kind in ("reminder", "escalation")]
    assert reminder.kind == "reminder" and reminder.task == "regional_review"
    assert reminder.to_roles == (("Emergency Focal Point", "RO-AMERICAS"),)
    assert escalation.kind == "escalation"
    assert {("Regional Director", "RO-AMERICAS"), ("PRD", "HQ")} <= set(escalation.to_roles)
    assert result.open_tasks == ("escalated_decision",)
    tasks = {task.element_id: task for task in result.tasks}
    assert tasks["regional_review"].state == "cancelled"
    assert tasks["escalated_decision"].opened_at == START + timedelta(hours=48)


def test_the_escalated_decision_goes_on_to_the_allocation():
    result = run(script=[AT_REGIONAL_REVIEW, "wait PT48H", TO_REPAYMENT])

    ids = [step.element_id for step in result.path]
    assert ids.index("escalated_decision") < ids.index("allocate_funds")
    assert "prd_review" not in ids
    assert result.open_tasks == ("record_repayment",)


def test_fast_forward_waits_once_an_sla_clock_runs():
    result = run(script=None, fast_forward="PT48H")

    assert [t.element_id for t in result.timers] == ["remind_after_24h", "escalate_after_48h"]
    assert result.ended


@pytest.mark.parametrize(("wait", "escalated"), [("PT36H", True), ("PT35H", False)])
def test_a_draft_with_a_36_hour_sla_escalates_at_36_hours(wait, escalated):
    files = draft(**{"<bpmn:timeDuration>PT48H</bpmn:timeDuration>": "<bpmn:timeDuration>PT36H</bpmn:timeDuration>"})

    result = run(files, script=[AT_REGIONAL_REVIEW, f"wait {wait}"])

    fired = [t.element_id for t in result.timers]
    assert ("escalate_after_48h" in fired) is escalated
    assert result.open_tasks == (("escalated_decision",) if escalated else ("regional_review",))
    assert any(e.kind == "escalation" for e in result.emails) is escalated
    assert result.finished_at == START + timedelta(hours=int(wait[2:4]))


def test_a_return_sends_a_returned_email_and_answers_are_used_in_order():
    returned = {"regional_recommendation": "return", "regional_comments": "Say who spends it."}
    answers = {**ANSWERS, "regional_review": [returned, MEFM["mefm_regional_review"]]}
    answers["revise_request"] = MEFM["mefm_request_start"]  # the same amount: Finance allocates it

    result = run(answers=answers)

    reviews = [t for t in result.tasks if t.element_id == "regional_review"]
    assert [t.data["regional_recommendation"] for t in reviews] == ["return", "recommend"]
    assert [e.kind for e in result.emails if e.task == "revise_request"] == ["returned"]
    assert result.open_tasks == ("record_repayment",)


def test_a_broken_condition_is_a_problem_naming_its_element():
    files = draft(**{"regional_recommendation == 'return'": "regional_recomendation == 'return'"})

    result = run(files)

    [problem] = result.problems
    assert problem.element_id == "regional_recommendation_gateway"
    assert "regional_recomendation" in problem.message
    assert not result.ended


def test_an_answer_that_does_not_fit_the_form_is_a_problem():
    answers = {**ANSWERS, "regional_review": {"regional_recommendation": "maybe"}}

    result = run(answers=answers)

    [problem] = result.problems
    assert problem.element_id == "regional_review"
    assert "regional_recommendation" in problem.fields
    assert result.open_tasks == ("regional_review",)


def test_an_unknown_script_step_or_duration_is_a_problem():
    assert run(script=["jump"]).problems[0].message == "unknown script step 'jump'"
    assert "ISO 8601" in run(script=["wait soon"]).problems[0].message


def test_a_loop_that_never_ends_stops_at_max_steps():
    always_return = {"regional_recommendation": "return", "regional_comments": "Again."}
    answers = {**ANSWERS, "regional_review": [always_return] * 50}

    result = run(answers=answers, script=["complete all"], max_steps=30)

    assert "stopped after 30 steps" in result.problems[-1].message


def test_a_draft_with_errors_is_refused():
    files = draft(**{'sourceRef="regional_review"': 'sourceRef="nowhere"'})

    with pytest.raises(InvalidDiagram):
        dry_run(files, PROCESS)


def test_the_dry_run_never_touches_the_database(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the dry run used the database")

    monkeypatch.setenv("DOEFLOW_DATABASE_URL", "postgresql://nobody@192.0.2.1:1/none")
    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)
    monkeypatch.setattr(sqlalchemy.engine.Engine, "connect", refuse)
    monkeypatch.setattr(sqlalchemy.engine.Engine, "raw_connection", refuse)
    monkeypatch.setattr(sqlalchemy.orm.Session, "__init__", refuse)

    result = run(script=[AT_REGIONAL_REVIEW, "wait PT48H", TO_REPAYMENT])

    assert result.problems == () and result.open_tasks == ("record_repayment",)


def test_minimal_answer_fills_what_a_condition_of_the_form_requires():
    schema = {
        "type": "object",
        "required": ["choice"],
        "properties": {
            "choice": {"type": "string", "enum": ["other", "none"]},
            "detail": {"type": "string", "minLength": 3},
            "when": {"type": "string", "format": "date"},
        },
        "allOf": [{"if": {"properties": {"choice": {"const": "other"}}}, "then": {"required": ["detail"]}}],
    }

    assert minimal_answer(schema, START) == {"choice": "other", "detail": "xxx"}


def test_a_call_activity_runs_inside_and_thrown_messages_are_reported():
    forms = {
        "draft_proposal": "eppe_draft",
        "check_budget": "eppe_budget_check",
        "approve_for_endorsement": "eppe_com_approval",
        "choose_funding_routes": "eppe_funding_routes",
        "record_donor_submission": "eppe_donor_submission",
    }
    answers = {element: HAITI_EPPE[key] for element, key in forms.items()}

    result = dry_run(draft(), "eppe", start_data=HAITI_EPPE["eppe_start"], answers=answers)

    assert result.ended and result.problems == ()
    offices = {t.element_id: (t.lane, t.office) for t in result.tasks}
    assert offices["regional_endorsement"] == ("Regional Director", "RO-AMERICAS")  # inside endorsement.bpmn
    thrown = {m.name: m.payload for m in result.messages}
    # The proposal's own reference is the engine's (x-case-reference): in a dry run, a sample of it.
    assert re.fullmatch(r"EPPE-HTI-\d{4}-0000", thrown["EPPEEndorsed"]["eppe_reference"])
