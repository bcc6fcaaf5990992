"""Surge deployment (workflows/bpmn/surge_request.bpmn and its decision table surge_source.dmn), path by path
through the engine API, acting as the people of the offices concerned; the screening SLA and the end of
the assignment are tested by moving the clock, never by sleeping. Every request, person and figure is
INVENTED (domain.md, section 8; tests/processes/scenarios_surge.py)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from types import SimpleNamespace

import pytest
from lxml import etree

from engine.bpmn.parser import DoeflowParser
from engine.bpmn.scripting import make_script_engine
from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.work import instances, tasks
from forms.validation import field_errors
from tests.processes.conftest import FORMS, WORKFLOWS, complete, form, only_task, open_tasks, properties, tick_at
from tests.processes.scenarios_surge import (
    DARIEN_IM_OFFICER,
    DARIEN_PROTECTION_OFFICER,
    HAITI_CCCM_COORDINATOR,
    HAITI_DTM_OFFICER,
    HAITI_SHELTER_ENGINEER,
    LONG_PARTNER_REQUEST,
    REFUSED_START_FIELDS,
    SURGE_REQUESTS,
)

PROCESS = "surge_request"
DIAGRAM = WORKFLOWS / "surge_request.bpmn"
DECISION_TABLE = WORKFLOWS / "surge_source.dmn"
EFP = "emergency-focal-point@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
PRD = "prd@hq.demo"

SCREEN = "Screen the request for the region"
SCREEN_IN_PLACE = "Screen in place of the overdue Emergency Focal Point"
CLARIFY = "Clarify the request"
APPROVE = "Approve the deployment"
ARRIVAL = "Record the arrival"
END_OF_ASSIGNMENT = "Extend the assignment or hand over"
EXTENSION = "Approve the extension"
HANDOVER = "Hand over and close the assignment"
IDENTIFY = {  # source -> (title, lane, form key)
    "regional_roster": (
        "Identify a candidate on the regional roster",
        "Emergency Focal Point",
        "surge_identify_regional",
    ),
    "global_roster": ("Identify a candidate on the global roster", "PRD", "surge_identify_global"),
    "standby_partner": ("Identify a candidate with a standby partner", "PRD", "surge_identify_partner"),
}
RELEASE = {  # source -> (title, lane, form key)
    "regional_roster": (
        "Release the staff member from the sending office",
        "Regional Director",
        "surge_release_regional",
    ),
    "global_roster": ("Confirm the release with the sending office or partner", "PRD", "surge_release_hq"),
    "standby_partner": ("Confirm the release with the sending office or partner", "PRD", "surge_release_hq"),
}
PRE_DEPLOYMENT = {  # step -> (who: "com" or "rm", title, form key)
    "security": ("com", "Obtain the security clearance", "surge_security_clearance"),
    "visa": ("rm", "Arrange the visa", "surge_visa"),
    "travel": ("rm", "Book the travel", "surge_travel"),
    "contract": ("rm", "Issue the contract or TDY authorisation", "surge_contract"),
}
FORM_KEYS = {
    "surge_request_start",
    "surge_screening",
    "surge_clarification",
    "surge_identify_regional",
    "surge_identify_global",
    "surge_identify_partner",
    "surge_release_regional",
    "surge_release_hq",
    "surge_approval",
    "surge_security_clearance",
    "surge_visa",
    "surge_travel",
    "surge_contract",
    "surge_arrival",
    "surge_end_of_assignment",
    "surge_extension_approval",
    "surge_handover",
}
# The screening SLA per level: (level, reminder, escalation). Proposals of domain.md D7: 24 h (L3),
# 48 h (L2), five working days (L1, 7 calendar days); the reminder comes halfway.
SCREENING_SLA = [
    ("L3", timedelta(hours=12), timedelta(hours=24)),
    ("L2", timedelta(hours=24), timedelta(hours=48)),
    ("L1", timedelta(hours=84), timedelta(days=7)),
]


def chief_of_mission(office: str) -> str:
    return f"chief-of-mission@{office.lower()}.demo"


def resources_management(office: str) -> str:
    return f"resources-management@{office.lower()}.demo"


def start(world, request: dict, *, who: str | None = None, office: str | None = None, **changes):
    office = office or request["office"]
    data = {**request["surge_request_start"], **changes}
    return instances.start_instance(world.uow(), world.user(who or chief_of_mission(office)), PROCESS, office, data)


def view(world, instance_id: int, who: str = DIRECTOR):
    return instances.get_instance(world.uow(), world.user(who), instance_id)


def where(task) -> tuple:
    return task.title, task.lane, task.office, task.form_key


def fired_timers(world, instance_id: int) -> list[str]:
    return [e.data["element_id"] for e in view(world, instance_id).events if e.kind == "timer_fired"]


def identifier(source: str) -> str:
    return EFP if source == "regional_roster" else PRD


def releaser(source: str) -> str:
    return DIRECTOR if source == "regional_roster" else PRD


def screened(world, request: dict, *, screening: dict | None = None, **changes):
    """Started and accepted by the Emergency Focal Point: the candidate is to be identified."""
    instance = start(world, request, **changes)
    complete(world, EFP, instance.id, screening or request["surge_screening"])
    return instance


def released(world, request: dict, **changes):
    """Screened, a candidate identified and released: the Regional Director approves next."""
    source = request["source"]
    instance = screened(world, request, **changes)
    complete(world, identifier(source), instance.id, request[IDENTIFY[source][2]])
    complete(world, releaser(source), instance.id, request[RELEASE[source][2]])
    return instance


def approved(world, request: dict, **changes):
    """Released and approved by the Regional Director: the pre-deployment steps are open."""
    instance = released(world, request, **changes)
    complete(world, DIRECTOR, instance.id, request["surge_approval"])
    return instance


def pre_deployment_data(request: dict, step: str) -> dict:
    return request.get(PRE_DEPLOYMENT[step][2]) or DARIEN_PROTECTION_OFFICER[PRE_DEPLOYMENT[step][2]]


def do_pre_deployment(world, request: dict, instance_id: int, step: str):
    who, title, _ = PRE_DEPLOYMENT[step]
    person = chief_of_mission(request["office"]) if who == "com" else resources_management(request["office"])
    return complete(world, person, instance_id, pre_deployment_data(request, step), title)


def arrived(world, request: dict, **changes):
    """Deployed and arrived: the end-of-assignment notice is waiting."""
    instance = approved(world, request, **changes)
    for step in PRE_DEPLOYMENT:
        do_pre_deployment(world, request, instance.id, step)
    complete(world, chief_of_mission(request["office"]), instance.id, DARIEN_PROTECTION_OFFICER["surge_arrival"])
    return instance


# --- the paths -----------------------------------------------------------------------------------


def test_darien_protection_officer_comes_from_the_regional_roster_is_extended_once_and_hands_over(
    world, published_processes, mailbox
):
    request, office = DARIEN_PROTECTION_OFFICER, "PAN"
    com, rm = chief_of_mission(office), resources_management(office)
    instance = start(world, request)
    assert instance.status == "running" and instance.title == request["surge_request_start"]["title"]
    screen = only_task(world, EFP, instance.id)
    assert where(screen) == (SCREEN, "Emergency Focal Point", office, "surge_screening")
    assert screen.due_at == world.clock.now() + timedelta(hours=48)  # L2: the screening SLA
    assert mailbox() == [(EFP, "Task assigned")]

    world.clock.advance(hours=6)
    identify = complete(world, EFP, instance.id, request["surge_screening"])
    assert (identify.data["surge_source"], identify.data["duration_days"]) == ("regional_roster", 70)
    assert identify.data["source_reason"].startswith("L2 or L3 for up to 84 days")
    assert [where(t) for t in identify.tasks] == [
        ("Identify a candidate on the regional roster", "Emergency Focal Point", office, "surge_identify_regional")
    ]
    assert identify.tasks[0].due_at is None  # the SLA is on the screening only
    complete(world, EFP, instance.id, request["surge_identify_regional"])
    release = only_task(world, DIRECTOR, instance.id)
    assert where(release) == (
        "Release the staff member from the sending office",
        "Regional Director",
        office,
        "surge_release_regional",
    )
    assert open_tasks(world, PRD, instance.id) == []
    complete(world, DIRECTOR, instance.id, request["surge_release_regional"])
    approval = only_task(world, DIRECTOR, instance.id)
    assert where(approval) == (APPROVE, "Regional Director", office, "surge_approval")
    assert mailbox() == [(EFP, "Task assigned"), (DIRECTOR, "Task assigned"), (DIRECTOR, "Task assigned")]

    pre = complete(world, DIRECTOR, instance.id, request["surge_approval"])
    assert sorted(where(t) for t in pre.tasks) == sorted(
        [
            ("Arrange the visa", "Resources Management", office, "surge_visa"),
            ("Book the travel", "Resources Management", office, "surge_travel"),
            ("Issue the contract or TDY authorisation", "Resources Management", office, "surge_contract"),
            ("Obtain the security clearance", "Chief of Mission", office, "surge_security_clearance"),
        ]
    )
    assert len(open_tasks(world, rm, instance.id)) == 3 and len(open_tasks(world, com, instance.id)) == 1
    assert mailbox() == sorted([(com, "Approved"), (com, "Task assigned")] + [(rm, "Task assigned")] * 3)
    for step in ("visa", "security", "contract", "travel"):
        do_pre_deployment(world, request, instance.id, step)
    arrival = only_task(world, com, instance.id)
    assert where(arrival) == (ARRIVAL, "Chief of Mission", office, "surge_arrival")

    arrived_at = world.clock.now()
    waiting = complete(world, com, instance.id, request["surge_arrival"])
    assert waiting.tasks == [] and waiting.status == "running"
    assert (waiting.data["assignment_days"], waiting.data["days_to_notice"]) == (70, 56)  # two weeks before the end
    mailbox()
    assert tick_at(world, arrived_at + timedelta(days=56, minutes=-1)).fired == 0
    assert tick_at(world, arrived_at + timedelta(days=56, seconds=1)).fired == 1
    decide = only_task(world, com, instance.id)
    assert where(decide) == (END_OF_ASSIGNMENT, "Chief of Mission", office, "surge_end_of_assignment")
    assert mailbox() == [(com, "Task assigned")]

    complete(world, com, instance.id, request["surge_end_of_assignment_extend"])
    extension = only_task(world, DIRECTOR, instance.id)
    assert where(extension) == (EXTENSION, "Regional Director", office, "surge_extension_approval")
    decided_at = world.clock.now()
    extended = complete(world, DIRECTOR, instance.id, request["surge_extension_approval"])
    assert extended.tasks == []
    assert (extended.data["assignment_days"], extended.data["extension_count"]) == (91, 1)
    assert tick_at(world, decided_at + timedelta(days=21, minutes=-1)).fired == 0
    assert tick_at(world, decided_at + timedelta(days=21, seconds=1)).fired == 1  # the notice again
    complete(world, com, instance.id, request["surge_end_of_assignment"])
    handover = only_task(world, com, instance.id)
    assert where(handover) == (HANDOVER, "Chief of Mission", office, "surge_handover")

    done = complete(world, com, instance.id, request["surge_handover"])
    assert done.status == "completed" and done.tasks == [] and not done.sla_breached
    assert done.data["candidate_name"] == "Mariela Solís Araya" and done.data["release_refusals"] == 0
    assert [(e.title, e.outcome) for e in done.events if e.kind == "completed_task"] == [
        (SCREEN, "accept"),
        ("Identify a candidate on the regional roster", None),
        ("Release the staff member from the sending office", "released"),
        (APPROVE, "approve"),
        ("Arrange the visa", None),
        ("Obtain the security clearance", None),
        ("Issue the contract or TDY authorisation", None),
        ("Book the travel", None),
        (ARRIVAL, None),
        (END_OF_ASSIGNMENT, "extend"),
        (EXTENSION, "approve"),
        (END_OF_ASSIGNMENT, "hand_over"),
        (HANDOVER, None),
    ]
    assert [e.data["element_id"] for e in done.events if e.kind == "timer_fired"] == ["end_notice", "end_notice"]


def test_darien_im_officer_not_on_the_regional_roster_comes_from_the_global_roster(world, published_processes, mailbox):
    request, office = DARIEN_IM_OFFICER, "PAN"
    instance = screened(world, request)
    identify = only_task(world, PRD, instance.id)
    assert where(identify) == ("Identify a candidate on the global roster", "PRD", office, "surge_identify_global")
    assert open_tasks(world, EFP, instance.id) == []
    after = view(world, instance.id)
    assert after.data["surge_source"] == "global_roster"
    assert after.data["source_reason"] == "Not on the regional roster for this level and length: the global roster"
    mailbox()

    complete(world, PRD, instance.id, request["surge_identify_global"])
    release = only_task(world, PRD, instance.id)
    assert where(release) == (
        "Confirm the release with the sending office or partner",
        "PRD",
        office,
        "surge_release_hq",
    )
    assert open_tasks(world, DIRECTOR, instance.id) == []
    assert mailbox() == [(PRD, "Task assigned")]
    complete(world, PRD, instance.id, request["surge_release_hq"])
    approval = complete(world, DIRECTOR, instance.id, request["surge_approval"])
    assert sorted(t.title for t in approval.tasks) == sorted(title for _, title, _ in PRE_DEPLOYMENT.values())
    assert approval.data["sending_office"] == "IOM Kenya (Nairobi)"


def test_haiti_shelter_engineer_for_20_weeks_comes_from_a_standby_partner(world, published_processes):
    request, office = HAITI_SHELTER_ENGINEER, "HTI"
    instance = screened(world, request)
    identify = only_task(world, PRD, instance.id)
    assert where(identify) == ("Identify a candidate with a standby partner", "PRD", office, "surge_identify_partner")
    assert view(world, instance.id).data["source_reason"] == "More than 84 days and up to 182 days: a standby partner"
    complete(world, PRD, instance.id, request["surge_identify_partner"])
    assert where(only_task(world, PRD, instance.id)) == RELEASE["standby_partner"][:2] + (office, "surge_release_hq")
    complete(world, PRD, instance.id, request["surge_release_hq"])
    complete(world, DIRECTOR, instance.id, request["surge_approval"])
    for step in ("contract", "visa", "travel", "security"):
        do_pre_deployment(world, request, instance.id, step)
    deployed = view(world, instance.id)
    assert [t.title for t in deployed.tasks] == [ARRIVAL]
    assert deployed.data["standby_partner"] == "redr_australia"
    assert deployed.data["contract_type"] == "sbp_agreement" and deployed.data["visa_reference"] == "HT-V-2025-118834"


def test_a_screening_returned_for_clarification_is_screened_again_and_may_change_the_source(
    world, published_processes, mailbox
):
    request, com = DARIEN_PROTECTION_OFFICER, chief_of_mission("PAN")
    instance = start(world, request)
    mailbox()
    screen = only_task(world, EFP, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(EFP), screen.id, {"screening_decision": "return"})
    assert refused.value.fields == {"screening_comments": "This field is required."}

    world.clock.advance(hours=10)
    returned = tasks.complete_task(
        world.uow(),
        world.user(EFP),
        screen.id,
        {
            "screening_decision": "return",
            "screening_comments": "Ten weeks is short: the recruitment takes four months.",
        },
    )
    assert [where(t) for t in returned.tasks] == [(CLARIFY, "Chief of Mission", "PAN", "surge_clarification")]
    assert returned.tasks[0].due_at is None
    assert mailbox() == [(com, "Returned for revision")]

    world.clock.advance(hours=20)
    again = complete(
        world,
        com,
        instance.id,
        {
            "clarification": "Agreed: four months, until the national officer is in post.",
            "duration_unit": "months",
            "duration_value": 4,
        },
    )
    rescreen = only_task(world, EFP, instance.id)
    assert rescreen.title == SCREEN and rescreen.id != screen.id
    assert rescreen.due_at == world.clock.now() + timedelta(hours=48)  # a new screening, a new deadline
    assert (again.data["duration_days"], again.data["screening_round"]) == (120, 2)
    assert mailbox() == [(EFP, "Task assigned")]

    routed = complete(world, EFP, instance.id, request["surge_screening"])
    assert routed.data["surge_source"] == "standby_partner"  # 120 days: longer than the regional roster takes
    assert [t.title for t in routed.tasks] == [IDENTIFY["standby_partner"][0]]
    assert [e.outcome for e in routed.events if e.kind == "completed_task" and e.title == SCREEN] == [
        "return",
        "accept",
    ]


def test_a_declined_request_ends_without_a_source(world, published_processes, mailbox):
    instance = start(world, HAITI_CCCM_COORDINATOR)
    mailbox()
    done = complete(
        world,
        EFP,
        instance.id,
        {"screening_decision": "decline", "screening_comments": "The CCCM cluster lead already deploys a coordinator."},
    )
    assert done.status == "completed" and done.tasks == []
    assert done.data["surge_source"] == "" and "duration_days" in done.data
    assert mailbox() == [("chief-of-mission@hti.demo", "Rejected")]  # who asked is told why
    assert tick_at(world, world.clock.now() + timedelta(days=30)).fired == 0  # the screening timers are gone


def test_a_refused_release_is_counted_and_another_candidate_is_identified(world, published_processes, mailbox):
    request, office = HAITI_DTM_OFFICER, "HTI"
    instance = screened(world, request)
    complete(world, EFP, instance.id, request["surge_identify_regional"])
    release = only_task(world, DIRECTOR, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(DIRECTOR), release.id, {"release_decision": "refused"})
    assert refused.value.fields == {"release_comments": "This field is required."}
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(DIRECTOR), release.id, {"release_decision": "released"})
    assert refused.value.fields == {"release_date": "This field is required."}
    mailbox()

    again = tasks.complete_task(world.uow(), world.user(DIRECTOR), release.id, request["surge_release_refused"])
    assert [where(t) for t in again.tasks] == [IDENTIFY["regional_roster"][:2] + (office, "surge_identify_regional")]
    assert again.data["release_refusals"] == 1
    assert again.data["refused_candidates"] == ["Claudette Augustin"]
    assert again.data["surge_source"] == "regional_roster"  # one refusal: still the regional roster
    assert mailbox() == [(EFP, "Task assigned")]

    complete(world, EFP, instance.id, request["surge_identify_regional_again"])
    complete(world, DIRECTOR, instance.id, request["surge_release_regional"])
    approval = complete(world, DIRECTOR, instance.id, request["surge_approval"])
    assert approval.data["candidate_name"] == "Marc-Henri Delva" and approval.data["release_refusals"] == 1
    assert [e.outcome for e in approval.events if e.title == RELEASE["regional_roster"][0]] == ["refused", "released"]


def test_a_second_refusal_on_the_regional_roster_moves_the_search_to_the_global_roster(world, published_processes):
    request = HAITI_DTM_OFFICER
    instance = screened(world, request)
    for candidate in ("surge_identify_regional", "surge_identify_regional_again"):
        complete(world, EFP, instance.id, request[candidate])
        after = complete(world, DIRECTOR, instance.id, request["surge_release_refused"])
    assert after.data["release_refusals"] == 2
    assert after.data["refused_candidates"] == ["Claudette Augustin", "Marc-Henri Delva"]
    assert (after.data["surge_source"], after.data["source_reason"]) == (
        "global_roster",
        "Two or more releases refused: the global roster",
    )
    assert [t.title for t in after.tasks] == [IDENTIFY["global_roster"][0]]
    # A third refusal, now by the global roster's sending office, stays on the global roster.
    complete(world, PRD, instance.id, DARIEN_IM_OFFICER["surge_identify_global"])
    third = complete(world, PRD, instance.id, {"release_decision": "refused", "release_comments": "Needed in Nairobi."})
    assert third.data["release_refusals"] == 3 and [t.title for t in third.tasks] == [IDENTIFY["global_roster"][0]]


def test_a_standby_partner_refusing_its_candidate_asks_the_partners_again(world, published_processes):
    request = HAITI_SHELTER_ENGINEER
    instance = screened(world, request)
    complete(world, PRD, instance.id, request["surge_identify_partner"])
    again = complete(
        world, PRD, instance.id, {"release_decision": "refused", "release_comments": "The engineer fell ill."}
    )
    assert again.data["surge_source"] == "standby_partner"
    assert [t.title for t in again.tasks] == [IDENTIFY["standby_partner"][0]]


def test_the_regional_director_rejecting_the_deployment_ends_the_request(world, published_processes, mailbox):
    request = DARIEN_IM_OFFICER
    instance = released(world, request)
    approval = only_task(world, DIRECTOR, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(DIRECTOR), approval.id, {"approval_decision": "reject"})
    assert refused.value.fields == {"approval_comments": "This field is required."}
    mailbox()
    done = tasks.complete_task(
        world.uow(),
        world.user(DIRECTOR),
        approval.id,
        {"approval_decision": "reject", "approval_comments": "The MEFM loan does not cover an international post."},
    )
    assert done.status == "completed" and done.tasks == []
    assert open_tasks(world, resources_management("PAN"), instance.id) == []
    assert mailbox() == [("chief-of-mission@pan.demo", "Rejected")]


@pytest.mark.parametrize(
    "order",
    [
        ("security", "visa", "travel", "contract"),
        ("contract", "travel", "visa", "security"),
        ("visa", "contract", "security", "travel"),
        ("travel", "security", "contract", "visa"),
    ],
)
def test_the_four_pre_deployment_steps_run_in_parallel_in_any_order(world, published_processes, order):
    request, com = HAITI_CCCM_COORDINATOR, chief_of_mission("HTI")
    instance = approved(world, request)
    remaining = set(PRE_DEPLOYMENT)
    for step in order:
        after = do_pre_deployment(world, request, instance.id, step)
        remaining.discard(step)
        if remaining:
            assert sorted(t.title for t in after.tasks) == sorted(PRE_DEPLOYMENT[s][1] for s in remaining)
            assert open_tasks(world, com, instance.id, ARRIVAL) == []
    assert [where(t) for t in after.tasks] == [(ARRIVAL, "Chief of Mission", "HTI", "surge_arrival")]
    for key in ("security_clearance_reference", "visa_required", "ticket_reference", "contract_reference"):
        assert key in after.data, key  # every branch's answers came through the join


def test_an_extension_the_regional_director_rejects_ends_in_the_handover(world, published_processes):
    request, com = HAITI_CCCM_COORDINATOR, chief_of_mission("HTI")
    instance = arrived(world, request)
    arrived_at = world.clock.now()
    assert view(world, instance.id).data["days_to_notice"] == 70  # 84 days, notice two weeks before the end
    tick_at(world, arrived_at + timedelta(days=70, seconds=1))
    with pytest.raises(InvalidData) as refused:
        complete(world, com, instance.id, {"end_decision": "extend"})
    assert refused.value.fields == {
        "extension_days": "This field is required.",
        "extension_justification": "This field is required.",
    }
    complete(
        world,
        com,
        instance.id,
        {"end_decision": "extend", "extension_days": 30, "extension_justification": "The centres are still full."},
    )
    with pytest.raises(InvalidData) as refused:
        complete(world, DIRECTOR, instance.id, {"extension_decision": "reject"})
    assert refused.value.fields == {"extension_comments": "This field is required."}
    handover = complete(
        world,
        DIRECTOR,
        instance.id,
        {"extension_decision": "reject", "extension_comments": "The national civil protection takes over."},
    )
    assert [where(t) for t in handover.tasks] == [(HANDOVER, "Chief of Mission", "HTI", "surge_handover")]
    assert (handover.data["assignment_days"], handover.data["extension_count"]) == (84, 0)
    done = complete(world, com, instance.id, DARIEN_PROTECTION_OFFICER["surge_handover"])
    assert done.status == "completed"
    assert tick_at(world, arrived_at + timedelta(days=400)).fired == 0


@pytest.mark.parametrize(
    "unit, value, notice_days",
    [("days", 7, 3), ("days", 28, 14), ("days", 29, 15), ("months", 1, 16), ("months", 2, 46), ("days", 84, 70)],
)
def test_the_end_of_assignment_notice_comes_two_weeks_before_the_end_but_never_before_half_of_it(
    world, published_processes, unit, value, notice_days
):
    request, com = DARIEN_PROTECTION_OFFICER, chief_of_mission("PAN")
    instance = arrived(world, request, duration_unit=unit, duration_value=value)
    arrived_at = world.clock.now()
    assert view(world, instance.id).data["days_to_notice"] == notice_days
    assert tick_at(world, arrived_at + timedelta(days=notice_days, minutes=-1)).fired == 0
    assert open_tasks(world, com, instance.id) == []
    assert tick_at(world, arrived_at + timedelta(days=notice_days, seconds=1)).fired == 1
    assert only_task(world, com, instance.id).title == END_OF_ASSIGNMENT


# --- the screening SLA ---------------------------------------------------------------------------


@pytest.mark.parametrize("level, reminder, escalation", SCREENING_SLA)
def test_an_overdue_screening_is_reminded_halfway_then_escalated_to_the_regional_director(
    world, published_processes, mailbox, level, reminder, escalation
):
    request = DARIEN_PROTECTION_OFFICER
    opened = world.clock.now()
    instance = start(world, request, emergency_level=level)
    screen = only_task(world, EFP, instance.id)
    assert screen.due_at == opened + escalation
    mailbox()

    assert tick_at(world, opened + reminder - timedelta(minutes=1)).fired == 0
    assert tick_at(world, opened + reminder + timedelta(seconds=1)).fired == 1
    assert fired_timers(world, instance.id) == ["remind_screening"]
    assert mailbox() == [(EFP, "Reminder")]
    assert only_task(world, EFP, instance.id).id == screen.id  # still the Emergency Focal Point's
    assert not view(world, instance.id).sla_breached

    assert tick_at(world, opened + escalation - timedelta(minutes=1)).fired == 0
    assert mailbox() == []
    assert tick_at(world, opened + escalation + timedelta(seconds=1)).fired == 1
    assert fired_timers(world, instance.id) == ["remind_screening", "escalate_screening"]
    escalated = view(world, instance.id)
    assert escalated.sla_breached
    assert open_tasks(world, EFP, instance.id) == []
    in_place = only_task(world, DIRECTOR, instance.id)
    assert where(in_place) == (SCREEN_IN_PLACE, "Regional Director", "PAN", "surge_screening")
    assert in_place.due_at is None
    assert mailbox() == sorted([(EFP, "Escalation"), (DIRECTOR, "Escalation"), (DIRECTOR, "Task assigned")])

    routed = complete(world, DIRECTOR, instance.id, request["surge_screening"])
    expected = "regional_roster" if level != "L1" else "global_roster"  # 70 days: above the L1 limit of 56
    assert routed.data["surge_source"] == expected
    assert [t.title for t in routed.tasks] == [IDENTIFY[expected][0]]
    assert tick_at(world, opened + timedelta(days=30)).fired == 0


def test_a_screening_in_time_cancels_the_reminder_and_the_escalation(world, published_processes, mailbox):
    opened = world.clock.now()
    instance = start(world, DARIEN_PROTECTION_OFFICER, emergency_level="L3")
    world.clock.set(opened + timedelta(hours=11))
    complete(world, EFP, instance.id, DARIEN_PROTECTION_OFFICER["surge_screening"])
    mailbox()
    for hours in (12, 24, 48, 200):
        assert tick_at(world, opened + timedelta(hours=hours, seconds=1)).fired == 0
    assert mailbox() == [] and not view(world, instance.id).sla_breached


def test_the_regional_director_screening_in_place_may_return_the_request_for_a_new_screening(
    world, published_processes
):
    opened = world.clock.now()
    instance = start(world, HAITI_CCCM_COORDINATOR, emergency_level="L3")
    tick_at(world, opened + timedelta(hours=24, seconds=1))
    returned = complete(
        world,
        DIRECTOR,
        instance.id,
        {"screening_decision": "return", "screening_comments": "Say which centres the coordinator covers."},
    )
    assert [t.title for t in returned.tasks] == [CLARIFY]
    complete(world, chief_of_mission("HTI"), instance.id, {"clarification": "The 120 largest centres of Sud."})
    rescreen = only_task(world, EFP, instance.id)  # back to the Emergency Focal Point, with a new clock
    assert rescreen.due_at == world.clock.now() + timedelta(hours=24)
    assert view(world, instance.id).sla_breached  # the earlier breach stays on record


# --- offices and roles ---------------------------------------------------------------------------


def test_people_of_another_office_or_role_are_refused_and_see_nothing(world, published_processes):
    request = DARIEN_PROTECTION_OFFICER
    with pytest.raises(NotFound):
        start(world, request, who=chief_of_mission("HTI"), office="PAN")  # the role, not the office
    for who in (resources_management("PAN"), EFP, DIRECTOR, PRD):
        with pytest.raises(PermissionDenied):
            start(world, request, who=who, office="PAN")  # the office, not the role

    instance = start(world, request)
    screen = only_task(world, EFP, instance.id)
    outsider = chief_of_mission("HTI")
    with pytest.raises(NotFound):
        view(world, instance.id, who=outsider)
    assert open_tasks(world, outsider, instance.id) == []
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(outsider), screen.id, request["surge_screening"])
    for who in (DIRECTOR, PRD, chief_of_mission("PAN"), resources_management("PAN")):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), screen.id, request["surge_screening"])

    complete(world, EFP, instance.id, request["surge_screening"])
    complete(world, EFP, instance.id, request["surge_identify_regional"])
    release = only_task(world, DIRECTOR, instance.id)
    for who in (EFP, PRD, chief_of_mission("PAN")):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), release.id, request["surge_release_regional"])
    complete(world, DIRECTOR, instance.id, request["surge_release_regional"])
    complete(world, DIRECTOR, instance.id, request["surge_approval"])

    visa = only_task(world, resources_management("PAN"), instance.id, "Arrange the visa")
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(resources_management("HTI")), visa.id, request["surge_visa"])
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("PAN")), visa.id, request["surge_visa"])
    assert open_tasks(world, resources_management("COL"), instance.id) == []
    assert len(view(world, instance.id).tasks) == 4


# --- the source (decision table surge_source) ----------------------------------------------------

BASELINE = {  # an L2 request for 70 days in Spanish, on the regional roster, nothing refused yet
    "emergency_level": "L2",
    "duration_days": 70,
    "regional_roster_available": True,
    "required_languages": ["es"],
    "release_refusals": 0,
    "surge_source": "",
}


def decide(**changes) -> list[tuple[str, str]]:
    """(rule id, source) of every rule of the table that matches the baseline with `changes`, in the
    table's order, evaluated by SpiffWorkflow's DMN engine alone with the engine's restricted evaluator.
    The hit policy is FIRST: the first of them answers."""
    parser = DoeflowParser()
    parser.add_dmn_file(str(DECISION_TABLE))
    table = parser.get_engine("surge_source", None)
    task = SimpleNamespace(data={**BASELINE, **changes}, workflow=SimpleNamespace(script_engine=make_script_engine()))
    matches = [(rule.id, rule.output_as_dict(task)["surge_source"]) for rule in table.decide(task)]
    assert table.result(task)["surge_source"] == matches[0][1]
    return matches


def source(**changes) -> str:
    return decide(**changes)[0][1]


# Just below, at and just above each threshold (INVENTED placeholders, domain.md D5 in days):
# 56 days for L1 and 84 for L2/L3 on the regional roster, 182 for a standby partner, two refusals.
SOURCE_BOUNDARIES = [
    ({"emergency_level": "L1", "duration_days": 55}, "regional_roster"),
    ({"emergency_level": "L1", "duration_days": 56}, "regional_roster"),
    ({"emergency_level": "L1", "duration_days": 57}, "global_roster"),
    ({"emergency_level": "L1", "duration_days": 84}, "global_roster"),
    ({"emergency_level": "L1", "duration_days": 85}, "standby_partner"),
    ({"emergency_level": "L2", "duration_days": 83}, "regional_roster"),
    ({"emergency_level": "L2", "duration_days": 84}, "regional_roster"),
    ({"emergency_level": "L2", "duration_days": 85}, "standby_partner"),
    ({"emergency_level": "L3", "duration_days": 83}, "regional_roster"),
    ({"emergency_level": "L3", "duration_days": 84}, "regional_roster"),
    ({"emergency_level": "L3", "duration_days": 85}, "standby_partner"),
    ({"duration_days": 181}, "standby_partner"),
    ({"duration_days": 182}, "standby_partner"),
    ({"duration_days": 183}, "global_roster"),
    ({"duration_days": 7}, "regional_roster"),
    ({"duration_days": 365}, "global_roster"),
    # Not on the regional roster: the global roster, unless Haitian Creole is needed (a partner).
    ({"regional_roster_available": False}, "global_roster"),
    ({"regional_roster_available": False, "emergency_level": "L3"}, "global_roster"),
    ({"regional_roster_available": False, "emergency_level": "L1", "duration_days": 20}, "global_roster"),
    ({"regional_roster_available": False, "required_languages": ["fr", "es"]}, "global_roster"),
    ({"regional_roster_available": False, "required_languages": ["fr", "ht"]}, "standby_partner"),
    ({"regional_roster_available": False, "required_languages": ["ht"], "duration_days": 182}, "standby_partner"),
    ({"regional_roster_available": False, "required_languages": ["ht"], "duration_days": 183}, "global_roster"),
    ({"regional_roster_available": True, "required_languages": ["fr", "ht"]}, "regional_roster"),
    # Refused releases: from two on, the regional roster gives way to the global roster.
    ({"release_refusals": 1, "surge_source": "regional_roster"}, "regional_roster"),
    ({"release_refusals": 2, "surge_source": "regional_roster"}, "global_roster"),
    ({"release_refusals": 3, "surge_source": "global_roster"}, "global_roster"),
    ({"release_refusals": 1, "surge_source": "global_roster", "regional_roster_available": False}, "global_roster"),
    ({"release_refusals": 2, "surge_source": "standby_partner", "duration_days": 140}, "standby_partner"),
    ({"release_refusals": 5, "surge_source": "standby_partner", "duration_days": 140}, "standby_partner"),
]


@pytest.mark.parametrize("changes, expected", SOURCE_BOUNDARIES)
def test_the_source_just_below_at_and_just_above_each_threshold(changes, expected):
    assert source(**changes) == expected


@pytest.mark.parametrize(
    "changes, rule, reason",
    [
        ({"release_refusals": 2, "surge_source": "regional_roster"}, "rule_global_after_refusals", "Two or more"),
        ({"emergency_level": "L1", "duration_days": 56}, "rule_regional_l1", "L1 for up to 56 days"),
        ({}, "rule_regional_l2_l3", "L2 or L3 for up to 84 days"),
        ({"duration_days": 100}, "rule_partner_long", "More than 84 days and up to 182 days"),
        ({"regional_roster_available": False, "required_languages": ["ht"]}, "rule_partner_creole", "Haitian Creole"),
        ({"duration_days": 200}, "rule_global_beyond_partner", "More than 182 days"),
        ({"regional_roster_available": False}, "rule_global_otherwise", "Not on the regional roster"),
    ],
)
def test_each_rule_answers_first_with_its_reason(changes, rule, reason):
    assert decide(**changes)[0][0] == rule
    parser = DoeflowParser()
    parser.add_dmn_file(str(DECISION_TABLE))
    task = SimpleNamespace(data={**BASELINE, **changes}, workflow=SimpleNamespace(script_engine=make_script_engine()))
    assert parser.get_engine("surge_source", None).result(task)["source_reason"].startswith(reason)


def test_the_table_answers_every_request_the_forms_accept_with_one_of_the_three_sources():
    for level in ("L1", "L2", "L3"):
        for days in (7, 56, 57, 84, 85, 182, 183, 365):
            for available in (True, False):
                for languages in (["es"], ["ht"], ["en", "fr", "ht", "pt", "es"]):
                    for refusals, previous in ((0, ""), (1, "regional_roster"), (2, "regional_roster"), (4, "x")):
                        found = decide(
                            emergency_level=level,
                            duration_days=days,
                            regional_roster_available=available,
                            required_languages=languages,
                            release_refusals=refusals,
                            surge_source=previous,
                        )
                        assert found[-1][0] == "rule_global_otherwise"  # the catch-all always matches last
                        assert found[0][1] in ("regional_roster", "global_roster", "standby_partner")


@pytest.mark.parametrize(
    "unit, value, level, available, expected",
    [
        ("days", 56, "L1", True, "regional_roster"),
        ("days", 57, "L1", True, "global_roster"),
        ("months", 2, "L1", True, "global_roster"),  # 60 days
        ("days", 84, "L2", True, "regional_roster"),
        ("days", 85, "L2", True, "standby_partner"),
        ("months", 3, "L3", True, "standby_partner"),  # 90 days
        ("days", 182, "L2", False, "standby_partner"),
        ("days", 183, "L2", False, "global_roster"),
        ("months", 6, "L2", True, "standby_partner"),  # 180 days
        ("months", 7, "L2", True, "global_roster"),  # 210 days
    ],
)
def test_the_source_at_the_thresholds_through_the_engine(
    world, published_processes, unit, value, level, available, expected
):
    instance = screened(
        world,
        DARIEN_PROTECTION_OFFICER,
        screening={"screening_decision": "accept", "regional_roster_available": available},
        duration_unit=unit,
        duration_value=value,
        emergency_level=level,
    )
    after = view(world, instance.id)
    assert after.data["surge_source"] == expected
    assert [(t.title, t.lane) for t in after.tasks] == [IDENTIFY[expected][:2]]


def test_a_standby_partner_asked_for_30_weeks_goes_to_the_global_roster_with_the_reason(world, published_processes):
    instance = screened(world, LONG_PARTNER_REQUEST)
    after = view(world, instance.id)
    assert (after.data["duration_days"], after.data["surge_source"]) == (210, "global_roster")
    assert after.data["source_reason"] == (
        "More than 182 days, longer than a standby partner assignment: the global roster"
    )
    assert [t.title for t in after.tasks] == [IDENTIFY["global_roster"][0]]


# --- the forms -----------------------------------------------------------------------------------


# Scenario entries that hold a second submission of a form, under their own name.
SECOND_SUBMISSIONS = {
    "surge_identify_regional_again": "surge_identify_regional",
    "surge_release_refused": "surge_release_regional",
    "surge_end_of_assignment_extend": "surge_end_of_assignment",
}
SUBMISSIONS = [
    (SECOND_SUBMISSIONS.get(key, key), name, data)
    for name, request in SURGE_REQUESTS.items()
    for key, data in request.items()
    if key.startswith("surge_")
] + [
    ("surge_screening", "return", {"screening_decision": "return", "screening_comments": "Say which stations."}),
    ("surge_screening", "decline", {"screening_decision": "decline", "screening_comments": "Covered by UNHCR."}),
    ("surge_clarification", "only", {"clarification": "The stations of Lajas Blancas and San Vicente."}),
    (
        "surge_clarification",
        "changes",
        {
            "clarification": "Four months, in Spanish and English.",
            "duration_unit": "months",
            "duration_value": 4,
            "required_languages": ["es", "en"],
            "emergency_level": "L3",
            "start_date": "2025-09-01",
            "duty_station": "Metetí, Darién, Panama",
            "justification": "Arrivals doubled since the request: 6,000 a day at both stations.",
        },
    ),
    ("surge_approval", "reject", {"approval_decision": "reject", "approval_comments": "No funds."}),
    ("surge_extension_approval", "reject", {"extension_decision": "reject", "extension_comments": "Hand over."}),
]


def test_the_diagram_names_exactly_the_surge_forms_with_data_for_each_and_their_dates_and_lists_are_strict():
    named = set(etree.parse(str(DIAGRAM)).xpath("//*[local-name()='property'][@name='formKey']/@value"))
    assert named == FORM_KEYS == {p.stem for p in FORMS.glob("surge_*.json")}
    assert {key for key, _, _ in SUBMISSIONS} == FORM_KEYS  # realistic data for every form
    for key in FORM_KEYS:
        for path, prop in properties(form(key)):
            if path.endswith(("_date", "_on", "_from", "_start", "_end")) and prop.get("type") == "string":
                assert prop["format"] == "date", f"{key}: {path}"
            if prop.get("type") == "array" and not prop.get("x-readonly"):
                assert prop.get("minItems") == 1 and prop.get("uniqueItems") is True, f"{key}: {path}"


@pytest.mark.parametrize("key, name, data", SUBMISSIONS, ids=[f"{k}-{n}" for k, n, _ in SUBMISSIONS])
def test_every_form_accepts_the_scenario_data(key, name, data):
    assert field_errors(form(key), data) == {}


@pytest.mark.parametrize("key", sorted(FORM_KEYS))
def test_every_form_names_each_missing_required_field(key):
    assert field_errors(form(key), {}) == {name: "This field is required." for name in form(key)["required"]}


@pytest.mark.parametrize("field, value, message", REFUSED_START_FIELDS)
def test_the_start_form_refuses_out_of_range_and_wrongly_typed_data_per_field(field, value, message):
    data = {**DARIEN_PROTECTION_OFFICER["surge_request_start"], field: value}
    assert field_errors(form("surge_request_start"), data) == {field: message}


@pytest.mark.parametrize(
    "key, changes, errors",
    [
        (
            "surge_request_start",
            {"duration_unit": "months", "duration_value": 13},
            {"duration_value": "Must be at most 12."},
        ),
        (
            "surge_request_start",
            {"duration_unit": "months", "duration_value": 0},
            {"duration_value": "Must be at least 1."},
        ),
        ("surge_request_start", {"duration_unit": "days", "duration_value": 7}, {}),
        ("surge_request_start", {"duration_unit": "months", "duration_value": 12}, {}),
        (
            "surge_request_start",
            {"required_languages": ["es", "qu"]},
            {"required_languages.1": "Choose one of: es, en, fr, ht, pt."},
        ),
        (
            "surge_request_start",
            {"funding_source": "sbp_in_kind", "funding_reference": "x"},
            {"funding_reference": "Must be at least 3 characters."},
        ),
        (
            "surge_request_start",
            {"typename": "x"},
            {
                "typename": "'typename' is a reserved name and cannot be used as a field",
                "": "Unexpected field: 'typename'",
            },
        ),
        (
            "surge_screening",
            {"screening_decision": "approve"},
            {"screening_decision": "Choose one of: accept, return, decline."},
        ),
        ("surge_screening", {"regional_roster_available": "yes"}, {"regional_roster_available": "Must be yes or no."}),
        (
            "surge_screening",
            {"screening_comments": "x" * 4001},
            {"screening_comments": "Must be at most 4000 characters."},
        ),
        ("surge_clarification", {"clarification": "Fine."}, {"clarification": "Must be at least 10 characters."}),
        ("surge_clarification", {"duration_value": 5}, {"duration_unit": "This field is required."}),
        ("surge_clarification", {"duration_unit": "days"}, {"duration_value": "This field is required."}),
        (
            "surge_clarification",
            {"duration_unit": "days", "duration_value": 3},
            {"duration_value": "Must be at least 7."},
        ),
        ("surge_clarification", {"emergency_level": "L0"}, {"emergency_level": "Choose one of: L1, L2, L3."}),
        (
            "surge_identify_regional",
            {"candidate_languages": ["es", "es"]},
            {"candidate_languages": "['es', 'es'] has non-unique elements"},
        ),
        ("surge_identify_regional", {"available_from": "soon"}, {"available_from": "Must be a valid date."}),
        ("surge_identify_global", {"sending_office": 7}, {"sending_office": "Must be text."}),
        (
            "surge_identify_partner",
            {"standby_partner": "unhcr"},
            {
                "standby_partner": "Choose one of: "
                + ", ".join(form("surge_identify_partner")["properties"]["standby_partner"]["enum"])
                + "."
            },
        ),
        ("surge_identify_partner", {"candidate_languages": []}, {"candidate_languages": "Give at least 1."}),
        (
            "surge_release_regional",
            {"release_decision": "maybe"},
            {"release_decision": "Choose one of: released, refused."},
        ),
        ("surge_release_hq", {"release_date": "2025-13-01"}, {"release_date": "Must be a valid date."}),
        ("surge_approval", {"approval_decision": "approve", "extra": 1}, {"": "Unexpected field: 'extra'"}),
        (
            "surge_security_clearance",
            {"security_briefing_arranged": 1},
            {"security_briefing_arranged": "Must be yes or no."},
        ),
        (
            "surge_visa",
            {"visa_required": True},
            {"visa_reference": "This field is required.", "visa_issued_on": "This field is required."},
        ),
        ("surge_travel", {"itinerary": "x" * 501}, {"itinerary": "Must be at most 500 characters."}),
        (
            "surge_contract",
            {"contract_type": "consultancy"},
            {"contract_type": "Choose one of: tdy_authorisation, temporary_contract, sbp_agreement."},
        ),
        ("surge_arrival", {"check_in_completed": False}, {"check_in_completed": "True was expected"}),
        (
            "surge_end_of_assignment",
            {"end_decision": "extend", "extension_days": 6, "extension_justification": "Still needed here."},
            {"extension_days": "Must be at least 7."},
        ),
        (
            "surge_end_of_assignment",
            {"end_decision": "extend", "extension_days": 91, "extension_justification": "Still needed here."},
            {"extension_days": "Must be at most 90."},
        ),
        (
            "surge_end_of_assignment",
            {"end_decision": "extend", "extension_days": "a month", "extension_justification": "Still needed here."},
            {"extension_days": "Must be a whole number."},
        ),
        ("surge_extension_approval", {"extension_decision": None}, {"extension_decision": "Must be text."}),
        ("surge_handover", {"debrief_completed": "done"}, {"debrief_completed": "Must be yes or no."}),
    ],
)
def test_every_form_refuses_out_of_range_missing_and_wrongly_typed_data_per_field(key, changes, errors):
    valid = next(data for k, _, data in SUBMISSIONS if k == key)
    assert field_errors(form(key), {**valid, **changes}) == errors


@pytest.mark.parametrize(
    "key, data, needed",
    [
        ("surge_screening", {"screening_decision": "accept"}, "regional_roster_available"),
        ("surge_screening", {"screening_decision": "return"}, "screening_comments"),
        ("surge_screening", {"screening_decision": "decline"}, "screening_comments"),
        ("surge_release_regional", {"release_decision": "refused"}, "release_comments"),
        ("surge_release_regional", {"release_decision": "released"}, "release_date"),
        ("surge_release_hq", {"release_decision": "refused"}, "release_comments"),
        ("surge_release_hq", {"release_decision": "released"}, "release_date"),
        ("surge_approval", {"approval_decision": "reject"}, "approval_comments"),
        ("surge_extension_approval", {"extension_decision": "reject"}, "extension_comments"),
    ],
)
def test_returning_declining_refusing_or_rejecting_needs_comments(key, data, needed):
    assert field_errors(form(key), data) == {needed: "This field is required."}


def test_a_funding_reference_is_needed_unless_a_standby_partner_pays_in_kind():
    start_form, data = form("surge_request_start"), dict(DARIEN_PROTECTION_OFFICER["surge_request_start"])
    del data["funding_reference"]
    for funding in ("project_code", "mefm", "other"):
        assert field_errors(start_form, {**data, "funding_source": funding}) == {
            "funding_reference": "This field is required."
        }
    assert field_errors(start_form, {**data, "funding_source": "sbp_in_kind"}) == {}


def test_what_a_form_shows_read_only_cannot_be_changed_by_a_submission(world, published_processes):
    instance = start(world, DARIEN_PROTECTION_OFFICER)
    complete(
        world,
        EFP,
        instance.id,
        {"screening_decision": "accept", "regional_roster_available": True, "duration_value": 300, "title": "Other"},
    )
    after = view(world, instance.id)
    assert (after.data["duration_value"], after.data["duration_days"]) == (70, 70)
    assert after.data["title"] == DARIEN_PROTECTION_OFFICER["surge_request_start"]["title"]
    assert after.data["surge_source"] == "regional_roster"


# --- the diagram ---------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def test_the_lanes_are_the_roles_and_the_flows_are_drawn_square_and_the_sub_process_holds_its_steps():
    """Naming, drawing and lanes of every diagram are checked in test_hygiene.py."""
    tree = etree.parse(str(DIAGRAM))
    process = tree.find("bpmn:process", NS)
    lanes = process.findall(".//bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == [
        "Chief of Mission",
        "Resources Management",
        "Emergency Focal Point",
        "Regional Director",
        "PRD",
    ]
    shapes = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e.findall("di:waypoint", NS) for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}

    def box(element_id):
        b = shapes[element_id]
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges.get(flow.get("id"), [])]
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(points)), flow.get("id")
    sub = box("pre_deployment")
    for child in tree.find(".//bpmn:subProcess", NS):
        if child.get("id") in shapes:
            x, y, w, h = box(child.get("id"))
            assert sub[0] < x and x + w < sub[0] + sub[2] and sub[1] < y and y + h < sub[1] + sub[3], child.get("id")


def test_the_parallel_pre_deployment_steps_run_in_a_sub_process():
    tree = etree.parse(str(DIAGRAM))
    inside = tree.xpath("//bpmn:subProcess[@id='pre_deployment']//bpmn:userTask/@id", namespaces=NS)
    assert sorted(inside) == ["arrange_visa", "book_travel", "issue_contract", "obtain_security_clearance"]
    assert len(tree.xpath("//bpmn:parallelGateway", namespaces=NS)) == 2
    assert tree.xpath("//bpmn:process/bpmn:parallelGateway", namespaces=NS) == []


def test_the_screening_has_a_reminder_halfway_and_an_escalation_to_the_regional_director_at_the_deadline():
    tree = etree.parse(str(DIAGRAM))
    timers = {
        b.get("cancelActivity", "true"): b
        for b in tree.iterfind(".//bpmn:boundaryEvent[@attachedToRef='screen_request']", NS)
    }
    assert set(timers) == {"true", "false"}
    assert len(tree.findall(".//bpmn:boundaryEvent", NS)) == 2
    reminder = timers["false"].findtext(".//bpmn:timeDuration", namespaces=NS)
    escalation = timers["true"].findtext(".//bpmn:timeDuration", namespaces=NS)
    engine = make_script_engine()
    expected = {"L3": ("PT12H", "PT24H"), "L2": ("PT24H", "PT48H"), "L1": ("PT84H", "P7D")}
    for level, (remind_at, escalate_at) in expected.items():
        data = {"emergency_level": level}
        assert engine.environment.evaluate(reminder, data) == remind_at
        assert engine.environment.evaluate(escalation, data) == escalate_at
    notify = timers["true"].xpath(".//spiffworkflow:property[@name='notifyRoles']/@value", namespaces=NS)
    assert notify == ["Regional Director"]
    notice = tree.find(".//bpmn:intermediateCatchEvent[@id='end_notice']", NS)
    assert (
        engine.environment.evaluate(notice.findtext(".//bpmn:timeDuration", namespaces=NS), {"days_to_notice": 56})
        == "P56D"
    )
