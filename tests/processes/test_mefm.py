"""The MEFM request (workflows/bpmn/mefm_request.bpmn), path by path through the engine API, acting as
the people of the offices concerned; the 48-hour SLA is tested by moving the clock, never by sleeping."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from lxml import etree

from engine.bpmn.parser import DoeflowParser
from engine.bpmn.scripting import make_script_engine
from engine.errors import Conflict, InvalidData, NotFound, PermissionDenied
from engine.messaging import delivery as messages
from engine.store.models import Message
from engine.work import instances, tasks
from forms.validation import field_errors
from tests.processes.conftest import WORKFLOWS, complete, form, only_task, open_tasks, proposal_on_record, tick_at
from tests.processes.scenarios import (
    GUATEMALA_FLOODS,
    HAITI_HURRICANE,
    PANAMA_DARIEN,
    SCENARIOS,
    VALIDATION_FAILURES,
)

PROCESS = "mefm_request"
DIAGRAM = WORKFLOWS / "mefm_request.bpmn"
DECISION_TABLE = WORKFLOWS / "mefm_approval_authority.dmn"
EFP = "emergency-focal-point@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
PRD = "prd@hq.demo"
APPROVER = "mefm-approver@hq.demo"
FINANCE = "finance@hq.demo"
HIGH_BALANCE = VALIDATION_FAILURES["mefm"]["high_balance"]
REPAYMENT = "Record the repayment of the advance"
FORM_KEYS = [
    "mefm_request_start",
    "mefm_budget_check",
    "mefm_com_submission",
    "mefm_regional_review",
    "mefm_prd_review",
    "mefm_decision",
    "mefm_escalated_decision",
    "mefm_request_revise",
    "mefm_finance_allocation",
    "mefm_request_prepare",
    "mefm_repayment",
]
TITLES = {
    "director_doe": "Director DOE (on PRD recommendation)",
    "director_doe_ddg": "Director DOE + DDG Operations",
    "director_general": "Director General",
    "director_general_exception": "Director General (exception)",
}


def chief_of_mission(office: str) -> str:
    return f"chief-of-mission@{office.lower()}.demo"


def resources_management(office: str) -> str:
    return f"resources-management@{office.lower()}.demo"


def start(world, office: str, mefm: dict, *, who: str | None = None, **changes):
    link = {"linked_eppe_id": mefm["linked_eppe_id"]} if mefm.get("linked_eppe_id") else {}
    data = {**mefm["mefm_request_start"], **link, **changes}
    if "requested_amount_usd" in changes and "activities" not in changes:
        # One line for the whole amount: the request's amount is the sum of its activities.
        data["activities"] = [{**data["activities"][0], "cost_usd": changes["requested_amount_usd"]}]
    proposal_on_record(world, office, data.get("linked_eppe_id"))  # a link names one of the office's EPPEs
    return instances.start_instance(world.uow(), world.user(who or chief_of_mission(office)), PROCESS, office, data)


def submit(world, office: str, mefm: dict, **changes):
    """Prepared, budget-checked and signed: the 48-hour review opens at the clock's time."""
    instance = start(world, office, mefm, **changes)
    complete(world, resources_management(office), instance.id, mefm["mefm_budget_check"])
    complete(world, chief_of_mission(office), instance.id, mefm["mefm_com_submission"])
    return instance


def to_decision(world, office: str, mefm: dict, *, prd_review: dict | None = None, **changes):
    """Submitted and reviewed by the region and PRD: the decision is open for the MEFM Approver."""
    instance = submit(world, office, mefm, **changes)
    complete(world, EFP, instance.id, mefm["mefm_regional_review"])
    complete(world, PRD, instance.id, prd_review or mefm["mefm_prd_review"])
    return instance


def view(world, instance_id: int, who: str = APPROVER):
    return instances.get_instance(world.uow(), world.user(who), instance_id)


def where(task) -> tuple:
    return task.title, task.lane, task.office, task.form_key


# What an endorsed EPPE with the MEFM bridge among its funding routes throws (eppe.bpmn's payload).
_HAITI_START = HAITI_HURRICANE["mefm"]["mefm_request_start"]
EPPE_BRIDGE = {
    "eppe_reference": "EPPE-HTI-2025-014",
    "linked_eppe_id": "EPPE-HTI-2025-014",
    "office": "HTI",
    **{k: _HAITI_START[k] for k in ("title", "crisis_type", "emergency_level", "onset_date")},
    **{k: _HAITI_START[k] for k in ("people_affected", "people_targeted", "requested_amount_usd")},
    "repayment_source": "cerf",
}
# What the Chief of Mission completes of it: what only the office knows for the bridge.
HAITI_PREPARED = {
    k: _HAITI_START[k]
    for k in (
        "people_affected",
        "people_targeted",
        "requested_amount_usd",
        "bridge_duration_days",
        "activities",
        "repayment_source",
        "repayment_source_name",
        "expected_repayment_date",
        "justification",
    )
}


def send(world, name: str, payload: dict) -> Message:
    """Post a message as another process would throw it; returns it once delivered (or kept)."""
    message_id = messages.send(world.uow(), name, payload)
    with world.db.unit_of_work(world.clock, write=False) as uow:
        message = uow.session.get(Message, message_id)
        uow.session.expunge(message)
        return message


def decided_and_allocated(world, office: str, instance_id: int, mefm: dict):
    """From the regional review to the allocation: the advance waits for its repayment."""
    complete(world, EFP, instance_id, mefm["mefm_regional_review"])
    complete(world, PRD, instance_id, mefm["mefm_prd_review"])
    complete(world, APPROVER, instance_id, mefm["mefm_decision"])
    return complete(world, FINANCE, instance_id, mefm["mefm_finance_allocation"])


# --- the paths -----------------------------------------------------------------------------------


def test_haiti_hurricane_request_is_approved_within_48_hours_and_the_funds_allocated(
    world, published_processes, mailbox
):
    mefm, com, rm = HAITI_HURRICANE["mefm"], chief_of_mission("HTI"), resources_management("HTI")
    world.clock.set(mefm["submitted_at"] - timedelta(hours=3))
    instance = start(world, "HTI", mefm)
    assert instance.status == "running" and instance.title == mefm["mefm_request_start"]["title"]

    budget = only_task(world, rm, instance.id)
    assert where(budget) == ("Check the budget", "Resources Management", "HTI", "mefm_budget_check")
    assert budget.due_at is None  # the 48-hour clock starts at the submission
    tasks.complete_task(world.uow(), world.user(rm), budget.id, mefm["mefm_budget_check"])
    sign = only_task(world, com, instance.id)
    assert where(sign) == ("Sign and submit the request", "Chief of Mission", "HTI", "mefm_com_submission")

    world.clock.set(mefm["submitted_at"])
    tasks.complete_task(world.uow(), world.user(com), sign.id, mefm["mefm_com_submission"])
    regional = only_task(world, EFP, instance.id)
    assert where(regional) == (
        "Review the request for the region",
        "Emergency Focal Point",
        "HTI",
        "mefm_regional_review",
    )
    assert regional.due_at == mefm["decision_due_at"]

    world.clock.advance(hours=5)
    tasks.complete_task(world.uow(), world.user(EFP), regional.id, mefm["mefm_regional_review"])
    prd = only_task(world, PRD, instance.id)
    assert where(prd) == ("Check the fund balance and recommend", "PRD", "HTI", "mefm_prd_review")
    assert prd.due_at == mefm["decision_due_at"]  # one clock for the whole review

    world.clock.advance(hours=6)
    tasks.complete_task(world.uow(), world.user(PRD), prd.id, mefm["mefm_prd_review"])
    decision = only_task(world, APPROVER, instance.id)
    assert where(decision) == ("Decide the request", "MEFM Approver", "HTI", "mefm_decision")
    assert decision.due_at == mefm["decision_due_at"]

    world.clock.advance(hours=10)
    decided = tasks.complete_task(world.uow(), world.user(APPROVER), decision.id, mefm["mefm_decision"])
    assert {k: decided.data[k] for k in mefm["approval"]} == mefm["approval"]
    allocation = only_task(world, FINANCE, instance.id)
    assert where(allocation) == ("Allocate the funds", "Finance", "HTI", "mefm_finance_allocation")

    done = tasks.complete_task(world.uow(), world.user(FINANCE), allocation.id, mefm["mefm_finance_allocation"])
    assert done.status == "running" and not done.sla_breached
    assert [(t.title, t.lane, t.form_key) for t in done.tasks] == [(REPAYMENT, "Finance", "mefm_repayment")]
    assert done.data["amount_owed_usd"] == 500_000 and done.data["eppe_reference"] == "EPPE-HTI-2025-014"
    assert done.data["project_code"] == "PX.HTI.0245" and done.data["decision"] == "approve"
    assert [(e.title, e.outcome) for e in done.events if e.kind == "completed_task"] == [
        ("Check the budget", None),
        ("Sign and submit the request", None),
        ("Review the request for the region", "recommend"),
        ("Check the fund balance and recommend", "recommend_approval"),
        ("Decide the request", "approve"),
        ("Allocate the funds", None),
    ]
    assert mailbox() == sorted(
        [(who, "Task assigned") for who in (rm, com, EFP, PRD, APPROVER, FINANCE, FINANCE)] + [(com, "Approved")]
    )  # no reminder, no escalation; the Chief of Mission who started it told of the approval


def test_panama_request_approved_for_a_reduced_amount_needs_that_amount(world, published_processes):
    mefm = PANAMA_DARIEN["mefm"]
    instance = to_decision(world, "PAN", mefm)
    decision = only_task(world, APPROVER, instance.id)
    for data, refused_fields in [
        ({"decision": "approve_reduced"}, {"approved_amount_usd": "This field is required."}),
        (
            {"decision": "approve_reduced", "approved_amount_usd": 999},
            {"approved_amount_usd": "Must be at least 1000."},
        ),
        ({"decision": "approve_reduced", "approved_amount_usd": "240k"}, {"approved_amount_usd": "Must be a number."}),
        ({"decision": "approve_less"}, {"decision": "Choose one of: approve, approve_reduced, return, reject."}),
    ]:
        with pytest.raises(InvalidData) as refused:
            tasks.complete_task(world.uow(), world.user(APPROVER), decision.id, data)
        assert refused.value.fields == refused_fields
    assert only_task(world, APPROVER, instance.id).id == decision.id  # nothing moved
    assert [e.title for e in view(world, instance.id).events if e.kind == "completed_task"][-1] == (
        "Check the fund balance and recommend"
    )

    decided = tasks.complete_task(world.uow(), world.user(APPROVER), decision.id, mefm["mefm_decision"])
    assert decided.data["approved_amount_usd"] == 240_000
    assert decided.data["approval_level"] == mefm["approval"]["approval_level"]
    done = complete(world, FINANCE, instance.id, mefm["mefm_finance_allocation"])
    assert done.status == "running" and done.data["allocated_amount_usd"] == done.data["amount_owed_usd"] == 240_000


def test_guatemala_request_returned_at_30_hours_resubmitted_at_36_and_decided_at_47_meets_the_sla(
    world, published_processes, mailbox
):
    mefm, com = GUATEMALA_FLOODS["mefm"], chief_of_mission("GTM")
    submitted = world.clock.now()
    instance = submit(world, "GTM", mefm)
    world.clock.set(submitted + timedelta(hours=2))
    complete(world, EFP, instance.id, mefm["mefm_regional_review"])
    world.clock.set(submitted + timedelta(hours=6))
    complete(world, PRD, instance.id, mefm["mefm_prd_review"])
    mailbox()
    assert tick_at(world, submitted + timedelta(hours=24, seconds=1)).fired == 1
    assert mailbox() == [(APPROVER, "Reminder")]

    world.clock.set(submitted + mefm["return_after"])
    complete(world, APPROVER, instance.id, mefm["mefm_decision_return"])
    revise = only_task(world, com, instance.id)
    assert where(revise) == ("Revise the request", "Chief of Mission", "GTM", "mefm_request_revise")
    assert revise.due_at is None
    assert mailbox() == [(com, "Returned for revision")]

    world.clock.set(submitted + mefm["resubmit_after"])
    complete(world, com, instance.id, {**mefm["mefm_request_start"], **mefm["revise_changes"]})
    regional = only_task(world, EFP, instance.id)
    # The documented choice: a resubmission starts a new 48-hour review.
    assert regional.due_at == submitted + mefm["resubmit_after"] + timedelta(hours=48)
    complete(world, EFP, instance.id, mefm["mefm_regional_review"])
    complete(world, PRD, instance.id, mefm["mefm_prd_review"])

    world.clock.set(submitted + mefm["decide_after"])
    decided = complete(world, APPROVER, instance.id, mefm["mefm_decision"])
    assert decided.data["activities"][2]["activity"].endswith("of Alta Verapaz")
    assert {k: decided.data[k] for k in mefm["approval"]} == mefm["approval"]
    assert tick_at(world, submitted + timedelta(hours=49)).fired == 0
    assert tick_at(world, submitted + timedelta(hours=100)).fired == 0
    allocated = complete(world, FINANCE, instance.id, mefm["mefm_finance_allocation"])
    assert [t.title for t in allocated.tasks] == [REPAYMENT] and not allocated.sla_breached
    done = complete(world, FINANCE, instance.id, mefm["mefm_repayment"])
    assert done.status == "completed" and not done.sla_breached
    assert done.data["repaid_amount_usd"] == 150_000 and done.data["repayment_source"] == "appeal"
    assert [e.outcome for e in done.events if e.kind == "completed_task" and e.title == "Decide the request"] == [
        "return",
        "approve",
    ]


def test_a_regional_return_for_information_goes_back_to_the_chief_of_mission_too(world, published_processes):
    mefm, com = HAITI_HURRICANE["mefm"], chief_of_mission("HTI")
    instance = submit(world, "HTI", mefm)
    regional = only_task(world, EFP, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(EFP), regional.id, {"regional_recommendation": "return"})
    assert refused.value.fields == {"regional_comments": "This field is required."}

    returned = tasks.complete_task(
        world.uow(),
        world.user(EFP),
        regional.id,
        {"regional_recommendation": "return", "regional_comments": "Split the NFI line by department."},
    )
    assert [where(t) for t in returned.tasks] == [
        ("Revise the request", "Chief of Mission", "HTI", "mefm_request_revise")
    ]
    assert open_tasks(world, PRD, instance.id) == []

    # Resubmitted for less: the review starts again and the table is consulted on the new amount.
    revised = {**mefm["mefm_request_start"], "requested_amount_usd": 240_000}
    revised["activities"] = [
        {"sector": "shelter_nfi", "activity": "NFI kits for Sud and Grand'Anse", "cost_usd": 240_000}
    ]
    complete(world, com, instance.id, revised)
    complete(world, EFP, instance.id, mefm["mefm_regional_review"])
    complete(world, PRD, instance.id, mefm["mefm_prd_review"])
    decided = complete(world, APPROVER, instance.id, mefm["mefm_decision"])
    assert (decided.data["approval_level"], decided.data["requested_amount_usd"]) == ("director_doe", 240_000)
    assert only_task(world, FINANCE, instance.id).title == "Allocate the funds"


def test_request_of_an_office_owing_650000_goes_to_the_director_general_who_rejects_it(world, published_processes):
    office = HIGH_BALANCE["office"]
    instance = to_decision(world, office, HIGH_BALANCE)
    decision = only_task(world, APPROVER, instance.id)
    assert decision.office == office
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(APPROVER), decision.id, {"decision": "reject"})
    assert refused.value.fields == {"comments": "This field is required."}

    done = tasks.complete_task(world.uow(), world.user(APPROVER), decision.id, HIGH_BALANCE["mefm_decision"])
    assert done.status == "completed" and done.tasks == []
    assert {k: done.data[k] for k in HIGH_BALANCE["approval"]} == HIGH_BALANCE["approval"]
    assert "project_code" not in done.data
    assert open_tasks(world, FINANCE, instance.id) == []


# --- the 48-hour SLA -----------------------------------------------------------------------------


def test_reminder_after_24_hours_reaches_whoever_holds_the_review_and_the_review_goes_on(
    world, published_processes, mailbox
):
    submitted = world.clock.now()
    instance = submit(world, "HTI", HAITI_HURRICANE["mefm"])
    world.clock.set(submitted + timedelta(hours=2))
    complete(world, EFP, instance.id, HAITI_HURRICANE["mefm"]["mefm_regional_review"])
    mailbox()

    assert tick_at(world, submitted + timedelta(hours=23, minutes=59)).fired == 0
    assert tick_at(world, submitted + timedelta(hours=24, seconds=1)).fired == 1
    assert mailbox() == [(PRD, "Reminder")]
    review = only_task(world, PRD, instance.id)
    assert review.due_at == submitted + timedelta(hours=48)  # still due at 48 h
    assert not view(world, instance.id).sla_breached
    assert tick_at(world, submitted + timedelta(hours=30)).fired == 0
    assert mailbox() == []
    assert [e.data["element_id"] for e in view(world, instance.id).events if e.kind == "timer_fired"] == [
        "remind_after_24h"
    ]


def test_escalation_after_48_hours_marks_the_breach_and_sends_the_request_to_the_next_approval_level(
    world, published_processes, mailbox
):
    mefm, submitted = GUATEMALA_FLOODS["mefm"], world.clock.now()
    instance = submit(world, "GTM", mefm)
    world.clock.set(submitted + timedelta(hours=3))
    complete(world, EFP, instance.id, mefm["mefm_regional_review"])
    prd_review = only_task(world, PRD, instance.id)
    tick_at(world, submitted + timedelta(hours=24, seconds=1))
    mailbox()

    assert tick_at(world, submitted + timedelta(hours=48, seconds=1)).fired == 1
    assert mailbox() == [(APPROVER, "Task assigned"), (PRD, "Escalation"), (DIRECTOR, "Escalation")]
    escalated = only_task(world, APPROVER, instance.id)
    assert where(escalated) == (
        "Escalated decision (48 h passed)",
        "MEFM Approver",
        "GTM",
        "mefm_escalated_decision",
    )
    assert escalated.due_at is None
    breached = view(world, instance.id)
    assert breached.sla_breached and [t.id for t in breached.tasks] == [escalated.id]
    assert tasks.get_task(world.uow(), world.user(PRD), prd_review.id).state == "cancelled"
    assert open_tasks(world, PRD, instance.id) == [] and open_tasks(world, EFP, instance.id) == []
    with pytest.raises(Conflict):
        tasks.complete_task(world.uow(), world.user(PRD), prd_review.id, mefm["mefm_prd_review"])
    assert [(e.data["element_id"], e.outcome) for e in breached.events if e.kind == "timer_fired"] == [
        ("remind_after_24h", "reminded"),
        ("escalate_after_48h", "escalated"),
    ]

    # Scenario C's alternative: decided at 49 h, after the breach, on the escalated path.
    world.clock.set(submitted + timedelta(hours=49))
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(APPROVER), escalated.id, {"decision": "approve_reduced"})
    assert refused.value.fields == {"approved_amount_usd": "This field is required."}
    tasks.complete_task(world.uow(), world.user(APPROVER), escalated.id, {"decision": "approve"})
    done = complete(world, FINANCE, instance.id, mefm["mefm_finance_allocation"])
    assert done.status == "running" and done.sla_breached and [t.title for t in done.tasks] == [REPAYMENT]
    assert tick_at(world, submitted + timedelta(hours=100)).fired == 0


def test_a_decision_before_24_hours_cancels_both_timers(world, published_processes, mailbox):
    submitted = world.clock.now()
    instance = to_decision(world, "PAN", PANAMA_DARIEN["mefm"])
    world.clock.set(submitted + timedelta(hours=20))
    complete(world, APPROVER, instance.id, PANAMA_DARIEN["mefm"]["mefm_decision"])
    mailbox()
    for hours in (24, 48, 100):
        assert tick_at(world, submitted + timedelta(hours=hours, seconds=1)).fired == 0
    assert mailbox() == []
    after = view(world, instance.id)
    assert not after.sla_breached and [t.title for t in after.tasks] == ["Allocate the funds"]
    assert [e for e in after.events if e.kind == "timer_fired"] == []


# --- who may act ---------------------------------------------------------------------------------


def test_only_the_right_role_in_the_right_office_may_start_or_act(world, published_processes):
    mefm = HAITI_HURRICANE["mefm"]
    with pytest.raises(PermissionDenied):
        start(world, "HTI", mefm, who=resources_management("HTI"))  # the office, not the role
    with pytest.raises(PermissionDenied):
        start(world, "HTI", mefm, who=EFP)  # sees Haiti from the region, but does not start requests
    with pytest.raises(NotFound):
        start(world, "HTI", mefm, who=chief_of_mission("PAN"))  # the role, not the office

    instance = start(world, "HTI", mefm)
    budget = only_task(world, resources_management("HTI"), instance.id)
    assert open_tasks(world, resources_management("PAN"), instance.id) == []
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(resources_management("PAN")), budget.id, mefm["mefm_budget_check"])
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("HTI")), budget.id, mefm["mefm_budget_check"])
    with pytest.raises(PermissionDenied):
        tasks.claim_task(world.uow(), world.user(FINANCE), budget.id)
    tasks.complete_task(world.uow(), world.user(resources_management("HTI")), budget.id, mefm["mefm_budget_check"])
    complete(world, chief_of_mission("HTI"), instance.id, mefm["mefm_com_submission"])

    regional = only_task(world, EFP, instance.id)
    for who in (DIRECTOR, PRD, chief_of_mission("HTI")):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), regional.id, mefm["mefm_regional_review"])
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("PAN")), regional.id, mefm["mefm_regional_review"])
    tasks.complete_task(world.uow(), world.user(EFP), regional.id, mefm["mefm_regional_review"])
    complete(world, PRD, instance.id, mefm["mefm_prd_review"])

    decision = only_task(world, APPROVER, instance.id)
    for who in (PRD, FINANCE, DIRECTOR):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), decision.id, mefm["mefm_decision"])
        assert open_tasks(world, who, instance.id) == []
    assert [t.id for t in view(world, instance.id).tasks] == [decision.id]


# --- the approving authority (decision table mefm_approval_authority) ----------------------------

# Just below, at and just above each threshold: USD 250,000 and 1,000,000 on the amount requested,
# USD 500,000 on the office's outstanding balance (invented placeholders, domain.md D3).
AUTHORITY_BOUNDARIES = [
    (249_999.99, 0, "director_doe"),
    (250_000, 0, "director_doe"),
    (250_000.01, 0, "director_doe_ddg"),
    (999_999.99, 0, "director_doe_ddg"),
    (1_000_000, 0, "director_doe_ddg"),
    (1_000_000.01, 0, "director_general"),
    (100_000, 499_999.99, "director_doe"),
    (100_000, 500_000, "director_doe"),
    (100_000, 500_000.01, "director_general_exception"),
    (2_000_000, 650_000, "director_general_exception"),
]


@pytest.mark.parametrize("amount, balance, level", AUTHORITY_BOUNDARIES)
def test_the_approving_authority_at_each_threshold_through_the_engine(
    world, published_processes, amount, balance, level
):
    mefm = HAITI_HURRICANE["mefm"]
    prd_review = {**mefm["mefm_prd_review"], "outstanding_balance_usd": balance}
    instance = to_decision(world, "HTI", mefm, prd_review=prd_review, requested_amount_usd=amount)
    done = complete(world, APPROVER, instance.id, {"decision": "reject", "comments": "Boundary check."})
    assert (done.data["approval_level"], done.data["approver_title"]) == (level, TITLES[level])


def matching_rules(requested_amount_usd, outstanding_balance_usd) -> list[dict]:
    """The outputs of every rule of the decision table that matches, evaluated by SpiffWorkflow alone
    with the engine's restricted evaluator. SpiffWorkflow stops at the first match of a UNIQUE table
    without checking that no other rule matches, so the table is asked as COLLECT here."""
    parser = DoeflowParser()
    parser.add_dmn_file(str(DECISION_TABLE))
    table = parser.get_engine("mefm_approval_authority", None)
    table.decision_table.hit_policy = "COLLECT"
    data = {"requested_amount_usd": requested_amount_usd, "outstanding_balance_usd": outstanding_balance_usd}
    task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=make_script_engine()))
    return [rule.output_as_dict(task) for rule in table.decide(task)]


@pytest.mark.parametrize(
    "amount, balance, level",
    AUTHORITY_BOUNDARIES
    + [
        (1_000, 0, "director_doe"),
        (5_000_000, 500_000, "director_general"),
        (250_000, 500_000, "director_doe"),
        (250_000.01, 500_000, "director_doe_ddg"),
        (1_000_000.01, 500_000.01, "director_general_exception"),
        (1_000, 50_000_000, "director_general_exception"),
    ],
)
def test_the_decision_table_gives_exactly_one_authority_per_amount_and_balance(amount, balance, level):
    assert matching_rules(amount, balance) == [{"approval_level": level, "approver_title": TITLES[level]}]


def test_the_decision_table_covers_every_amount_and_balance_the_forms_accept_with_one_rule():
    for amount in (1_000, 250_000, 250_000.01, 1_000_000, 1_000_000.01, 5_000_000):
        for balance in (0, 500_000, 500_000.01, 50_000_000):
            assert len(matching_rules(amount, balance)) == 1, (amount, balance)


# --- the forms -----------------------------------------------------------------------------------


SUBMISSIONS = [
    (key, scenario["scenario"], scenario["mefm"][key])
    for scenario in [*SCENARIOS.values(), {"scenario": "E", "mefm": HIGH_BALANCE}]
    for key in FORM_KEYS
    if key in scenario["mefm"]
] + [
    ("mefm_escalated_decision", "C", GUATEMALA_FLOODS["mefm"]["mefm_decision"]),
    ("mefm_request_prepare", "A", HAITI_PREPARED),
    ("mefm_decision", "C", GUATEMALA_FLOODS["mefm"]["mefm_decision_return"]),
    (
        "mefm_request_revise",
        "C",
        {**GUATEMALA_FLOODS["mefm"]["mefm_request_start"], **GUATEMALA_FLOODS["mefm"]["revise_changes"]},
    ),
]


@pytest.mark.parametrize("key, scenario, data", SUBMISSIONS, ids=[f"{k}-{s}" for k, s, _ in SUBMISSIONS])
def test_every_form_accepts_the_scenario_data(key, scenario, data):
    assert field_errors(form(key), data) == {}


def test_the_diagram_names_exactly_the_mefm_forms():
    named = set(etree.parse(str(DIAGRAM)).xpath("//*[local-name()='property'][@name='formKey']/@value"))
    assert named == set(FORM_KEYS)


def test_the_revise_form_is_the_start_form_under_its_own_title():
    start_form, revise = form("mefm_request_start"), form("mefm_request_revise")
    assert revise["title"] != start_form["title"]
    for part in ("properties", "required", "allOf", "x-order", "additionalProperties"):
        assert revise[part] == start_form[part], part


@pytest.mark.parametrize("field, value, message", VALIDATION_FAILURES["mefm"]["refused_start_fields"])
def test_the_start_form_refuses_out_of_range_and_wrongly_typed_data_per_field(field, value, message):
    data = {**HAITI_HURRICANE["mefm"]["mefm_request_start"], field: value}
    assert field_errors(form("mefm_request_start"), data) == {field: message}


def test_the_start_form_names_every_missing_field_and_each_bad_activity_line():
    errors = field_errors(form("mefm_request_start"), {"title": "Fl", "activities": [{"sector": "roads"}]})
    assert errors["title"] == "Must be at least 5 characters."
    assert errors["activities.0.sector"].startswith("Choose one of: cccm, shelter_nfi")
    assert errors["activities.0.activity"] == errors["activities.0.cost_usd"] == "This field is required."
    required = form("mefm_request_start")["required"]
    assert {f for f in required if f not in ("title", "activities")} <= set(errors)
    assert all(errors[f] == "This field is required." for f in required if f not in ("title", "activities"))

    donor = {**PANAMA_DARIEN["mefm"]["mefm_request_start"]}
    del donor["repayment_source_name"]
    assert field_errors(form("mefm_request_start"), donor) == {"repayment_source_name": "This field is required."}
    assert field_errors(
        form("mefm_request_start"), {**donor, "linked_eppe_id": "EPPE 14", "repayment_source": "cerf"}
    ) == {"linked_eppe_id": "'EPPE 14' does not match '^EPPE-[A-Z]{3}-[0-9]{4}-[0-9]{3,}$'"}
    assert field_errors(form("mefm_request_start"), {**donor, "repayment_source_name": "x", "budget": 1}) == {
        "repayment_source_name": "Must be at least 2 characters.",
        "": "Unexpected field: 'budget'",
    }


@pytest.mark.parametrize(
    "key, data, errors",
    [
        ("mefm_budget_check", {}, {"budget_check_result": "This field is required."}),
        (
            "mefm_budget_check",
            {"budget_check_result": "cleared_with_remarks"},
            {"budget_remarks": "This field is required."},
        ),
        ("mefm_com_submission", {}, {"com_confirmation": "This field is required."}),
        ("mefm_com_submission", {"com_confirmation": "yes"}, {"com_confirmation": "Must be yes or no."}),
        (
            "mefm_regional_review",
            {"regional_recommendation": "recommend_rejection"},
            {"regional_comments": "This field is required."},
        ),
        (
            "mefm_regional_review",
            {"regional_recommendation": "endorse"},
            {"regional_recommendation": "Choose one of: recommend, return, recommend_rejection."},
        ),
        (
            "mefm_prd_review",
            {
                "outstanding_balance_usd": "none",
                "fund_available_usd": -1,
                "prd_recommendation": "recommend_reduced_amount",
            },
            {
                "outstanding_balance_usd": "Must be a number.",
                "fund_available_usd": "Must be at least 0.",
                "prd_recommended_amount_usd": "This field is required.",
            },
        ),
        ("mefm_decision", {}, {"decision": "This field is required."}),
        ("mefm_decision", {"decision": "return"}, {"comments": "This field is required."}),
        (
            "mefm_decision",
            {"decision": "approve_reduced", "approved_amount_usd": 5_000_001},
            {"approved_amount_usd": "Must be at most 5000000."},
        ),
        (
            "mefm_escalated_decision",
            {"decision": "approve_reduced"},
            {"approved_amount_usd": "This field is required."},
        ),
        (
            "mefm_finance_allocation",
            {"project_code": "PX", "allocated_amount_usd": 500, "allocation_date": "17/09/2025"},
            {
                "project_code": "Must be at least 3 characters.",
                "allocated_amount_usd": "Must be at least 1000.",
                "allocation_date": "Must be a valid date.",
            },
        ),
        (
            "mefm_finance_allocation",
            {},
            {
                "project_code": "This field is required.",
                "allocated_amount_usd": "This field is required.",
                "allocation_date": "This field is required.",
            },
        ),
        (
            "mefm_repayment",
            {
                "repaid_amount_usd": 0,
                "repayment_date": "2025-12-32",
                "repayment_source": "bank",
                "repayment_reference": 7,
            },
            {
                "repaid_amount_usd": "Must be at least 1.",
                "repayment_date": "Must be a valid date.",
                "repayment_source": "Choose one of: donor, cerf, appeal, other.",
                "repayment_reference": "Must be text.",
            },
        ),
        (
            "mefm_request_prepare",
            {**HAITI_PREPARED, "requested_amount_usd": 999, "bridge_duration_days": "sixty"},
            {"requested_amount_usd": "Must be at least 1000.", "bridge_duration_days": "Must be a whole number."},
        ),
    ],
)
def test_the_review_forms_refuse_missing_out_of_range_and_wrongly_typed_data_per_field(key, data, errors):
    assert field_errors(form(key), data) == errors


# --- the diagram ---------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}


def test_the_lanes_are_the_seven_roles():
    """Naming, drawing and lanes of every diagram are checked in test_hygiene.py."""
    tree = etree.parse(str(DIAGRAM))
    assert tree.xpath("//bpmn:lane/@name", namespaces=NS) == [
        "Chief of Mission",
        "Resources Management",
        "Emergency Focal Point",
        "Regional Director",
        "PRD",
        "MEFM Approver",
        "Finance",
    ]


def test_the_48_hour_clock_is_a_reminder_and_an_escalation_on_the_review_sub_process():
    tree = etree.parse(str(DIAGRAM))
    timers = {
        event.get("id"): (
            event.get("attachedToRef"),
            event.get("cancelActivity", "true"),
            event.findtext(".//bpmn:timeDuration", namespaces=NS).strip(),
        )
        for event in tree.xpath("//bpmn:boundaryEvent[bpmn:timerEventDefinition]", namespaces=NS)
    }
    assert timers == {
        "remind_after_24h": ("review_and_decide", "false", "PT24H"),
        "escalate_after_48h": ("review_and_decide", "true", "PT48H"),
    }
    notify = tree.xpath(
        "//bpmn:boundaryEvent[@id='escalate_after_48h']//*[local-name()='property'][@name='notifyRoles']/@value",
        namespaces=NS,
    )
    assert notify == ["Regional Director, PRD"]
    inside = tree.xpath("//bpmn:subProcess[@id='review_and_decide']/*/@id", namespaces=NS)
    assert {"regional_review", "prd_review", "determine_approval_authority", "decide_request"} <= set(inside)


# --- linked to the other processes: started by an endorsed EPPE, repaid by a CERF disbursement ------


def test_an_endorsed_eppe_needing_a_bridge_starts_a_request_for_its_office_filled_in_from_the_eppe(
    world, published_processes, mailbox
):
    com = chief_of_mission("HTI")
    message = send(world, "EPPEEndorsed", EPPE_BRIDGE)
    assert message.state == "delivered" and message.target_instance_id is not None
    instance = view(world, message.target_instance_id, com)
    assert (instance.process_id, instance.office, instance.title) == (PROCESS, "HTI", EPPE_BRIDGE["title"])
    assert instance.data["eppe_reference"] == "EPPE-HTI-2025-014" and instance.data["requested_amount_usd"] == 500_000

    prepare = only_task(world, com, instance.id)
    assert where(prepare) == (
        "Complete the request from the endorsed EPPE",
        "Chief of Mission",
        "HTI",
        "mefm_request_prepare",
    )
    assert prepare.due_at is None  # the 48 hours start at the submission
    assert open_tasks(world, chief_of_mission("PAN"), instance.id) == []
    assert mailbox() == [(com, "Task assigned")]

    # What came from the EPPE is shown read-only: a submission cannot change it.
    prepared = tasks.complete_task(
        world.uow(), world.user(com), prepare.id, {**HAITI_PREPARED, "title": "Another title", "emergency_level": "L3"}
    )
    assert prepared.data["title"] == EPPE_BRIDGE["title"] and prepared.data["emergency_level"] == "L2"
    assert [t.title for t in prepared.tasks] == ["Check the budget"]
    mefm = HAITI_HURRICANE["mefm"]
    complete(world, resources_management("HTI"), instance.id, mefm["mefm_budget_check"])
    complete(world, com, instance.id, mefm["mefm_com_submission"])
    allocated = decided_and_allocated(world, "HTI", instance.id, mefm)
    assert [t.title for t in allocated.tasks] == [REPAYMENT]
    assert allocated.data["eppe_reference"] == "EPPE-HTI-2025-014"


def test_the_cerf_disbursement_of_the_linked_eppe_repays_the_advance_and_no_other_does(world, published_processes):
    mefm = HAITI_HURRICANE["mefm"]
    instance = submit(world, "HTI", mefm)  # by hand, linked to EPPE-HTI-2025-014 in its form
    other = submit(world, "HTI", PANAMA_DARIEN["mefm"], linked_eppe_id="EPPE-HTI-2025-099")
    assert decided_and_allocated(world, "HTI", instance.id, mefm).status == "running"
    assert decided_and_allocated(world, "HTI", other.id, PANAMA_DARIEN["mefm"]).status == "running"

    stray = send(world, "CERFDisbursed", {**mefm["cerf_disbursement"], "eppe_reference": "EPPE-HTI-2025-777"})
    assert stray.state == "unmatched"  # kept, visible, for an advance that may yet appear
    assert stray.id in [m.id for m in messages.undelivered(world.db.unit_of_work())]
    assert [t.title for t in view(world, instance.id).tasks] == [REPAYMENT]

    disbursed = send(world, "CERFDisbursed", mefm["cerf_disbursement"])
    assert (disbursed.state, disbursed.target_instance_id) == ("delivered", instance.id)
    repaid = view(world, instance.id)
    assert repaid.status == "completed" and repaid.tasks == []
    assert (repaid.data["repayment_source"], repaid.data["repaid_amount_usd"]) == ("cerf", 500_000)  # what was owed
    assert (repaid.data["repayment_reference"], repaid.data["repayment_date"]) == ("25-RR-IOM-031", "2025-10-08")
    assert ("message_received", "CERFDisbursed") in [(e.kind, e.outcome) for e in repaid.events]
    assert open_tasks(world, FINANCE, instance.id) == []
    assert [t.title for t in view(world, other.id).tasks] == [REPAYMENT]  # another EPPE's advance still waits


def test_a_request_linked_to_no_eppe_is_never_repaid_by_a_cerf_disbursement(world, published_processes):
    mefm = GUATEMALA_FLOODS["mefm"]  # repaid from the flash appeal
    instance = submit(world, "GTM", mefm)
    decided_and_allocated(world, "GTM", instance.id, mefm)
    assert "linked_eppe_id" not in mefm["mefm_request_start"] and "linked_eppe_id" not in mefm
    anything = send(world, "CERFDisbursed", {**HAITI_HURRICANE["mefm"]["cerf_disbursement"], "office": "GTM"})
    assert anything.state == "unmatched" and [t.title for t in view(world, instance.id).tasks] == [REPAYMENT]
