"""The emergency project proposal (workflows/bpmn/eppe.bpmn), path by path through the engine API, acting
as the people of the offices concerned: drafting, the budget check, the Chief of Mission's return and
revision loop, the called endorsement, the funding routes and the messages they throw, the archive when
not endorsed, and the drafter's reminder (moving the clock, never sleeping). Every proposal, figure and
name is INVENTED (domain.md, section 8; tests/processes/scenarios_eppe.py)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from engine.bpmn.messages import message_start_event
from engine.bpmn.scripting import make_script_engine
from engine.definitions import versions as definitions
from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.messaging import delivery as messages
from engine.modeling import publishing
from engine.store.models import Message
from engine.work import instances, tasks
from forms.validation import field_errors
from tests.conftest import T0
from tests.processes.conftest import FORMS, WORKFLOWS, complete, form, only_task, open_tasks, properties, tick_at
from tests.processes.scenarios_eppe import (
    CONDITIONALLY_REQUIRED,
    EPPE_SCENARIOS,
    GUATEMALA_EPPE,
    HAITI_EPPE,
    HONDURAS_EPPE,
    PANAMA_EPPE,
    REFUSED,
)

PROCESS = "eppe"
DIAGRAM = WORKFLOWS / "eppe.bpmn"
CALLED = [WORKFLOWS / "endorsement.bpmn", WORKFLOWS / "endorsement_routing.dmn"]
EFP = "emergency-focal-point@ro-americas.demo"
SPECIALIST = "thematic-specialist@ro-americas.demo"
DONOR_RELATIONS = "donor-relations@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
PRD = "prd@hq.demo"
FORM_KEYS = {
    "eppe_start",
    "eppe_draft",
    "eppe_budget_check",
    "eppe_com_approval",
    "eppe_revise",
    "eppe_funding_routes",
    "eppe_donor_submission",
}
DRAFT = "Draft the proposal"
BUDGET = "Check the budget"
APPROVAL = "Approve the proposal for endorsement"
REVISE = "Revise the proposal"
ROUTES = "Choose the funding routes"
DONOR = "Record the submission to the donor"
ENDORSED, FOR_CERF = "EPPEEndorsed", "EPPEEndorsedForCERF"


def project_developer(office: str) -> str:
    return f"project-developer@{office.lower()}.demo"


def resources_management(office: str) -> str:
    return f"resources-management@{office.lower()}.demo"


def chief_of_mission(office: str) -> str:
    return f"chief-of-mission@{office.lower()}.demo"


def start(world, eppe: dict, **changes):
    data = {**eppe["eppe_start"], **changes}
    return instances.start_instance(
        world.uow(), world.user(project_developer(eppe["office"])), PROCESS, eppe["office"], data
    )


def view(world, instance_id: int, who: str = PRD):
    return instances.get_instance(world.uow(), world.user(who), instance_id)


def where(task) -> tuple:
    return task.title, task.lane, task.office, task.form_key


def drafted(world, eppe: dict, **changes):
    """Opened and drafted: the budget check is open."""
    instance = start(world, eppe, **changes)
    complete(world, project_developer(eppe["office"]), instance.id, eppe["eppe_draft"])
    return instance


def approved(world, eppe: dict, **changes):
    """Drafted, budget-checked and approved by the Chief of Mission: the endorsement has begun."""
    instance = drafted(world, eppe, **changes)
    office = eppe["office"]
    complete(world, resources_management(office), instance.id, eppe["eppe_budget_check"])
    complete(world, chief_of_mission(office), instance.id, eppe["eppe_com_approval"])
    return instance


# The called endorsement: who does each of its tasks, and the answer that clears or endorses it.
ENDORSEMENT_STEPS = {
    "screen_completeness": (EFP, {"completeness_decision": "complete"}),
    "technical_review": (EFP, {"technical_decision": "cleared"}),
    "thematic_review": (SPECIALIST, {"thematic_decision": "cleared"}),
    "donor_relations_review": (DONOR_RELATIONS, {"donor_relations_decision": "cleared"}),
    "regional_endorsement": (DIRECTOR, {"regional_decision": "endorse", "regional_comments": "Endorsed."}),
    "hq_endorsement": (PRD, {"hq_decision": "endorse", "hq_comments": "Agreed at headquarters."}),
}


def endorse(world, instance_id: int, *, decline: bool = False) -> list[str]:
    """Drive the called endorsement to its end as its reviewers; returns the elements done, in order."""
    done = []
    for _ in range(12):
        open_now = [t for t in view(world, instance_id).tasks if t.element_id in ENDORSEMENT_STEPS]
        open_now.sort(key=lambda t: list(ENDORSEMENT_STEPS).index(t.element_id))
        if not open_now:
            return done
        for task in open_now:
            who, data = ENDORSEMENT_STEPS[task.element_id]
            if decline and task.element_id == "regional_endorsement":
                data = {"regional_decision": "decline", "regional_comments": "Merge it into the flash appeal."}
            tasks.complete_task(world.uow(), world.user(who), task.id, data)
            done.append(task.element_id)
    raise AssertionError(f"the endorsement did not end: {done}")


def thrown(world, instance_id: int) -> list[Message]:
    """The messages an instance threw, in order."""
    with world.db.unit_of_work(world.clock, write=False) as uow:
        rows = list(
            uow.session.scalars(select(Message).where(Message.source_instance_id == instance_id).order_by(Message.id))
        )
        uow.session.expunge_all()
        return rows


def starts_on(world, name: str) -> str | None:
    """The published process whose start event catches the message `name`, if any."""
    with world.db.unit_of_work(world.clock, write=False) as uow:
        for version in definitions.latest_versions(uow):
            if message_start_event(definitions.load_version(version).spec, name) is not None:
                return version.process_id
    return None


def bridge_payload(eppe: dict, amount: float, cerf: bool) -> dict:
    start_data, draft = eppe["eppe_start"], eppe["eppe_draft"]
    return {
        "eppe_reference": start_data["eppe_reference"],
        "linked_eppe_id": start_data["eppe_reference"],
        "office": eppe["office"],
        "title": start_data["title"],
        "crisis_type": start_data["crisis_type"],
        "emergency_level": start_data["emergency_level"],
        "onset_date": start_data["onset_date"],
        "people_affected": draft["people_affected"],
        "people_targeted": draft["people_targeted"],
        "requested_amount_usd": amount,
        "repayment_source": "cerf" if cerf else "donor",
    }


def cerf_payload(eppe: dict, bridge: bool) -> dict:
    start_data, draft = eppe["eppe_start"], eppe["eppe_draft"]
    return {
        "eppe_reference": start_data["eppe_reference"],
        "office": eppe["office"],
        "title": start_data["title"],
        "crisis_type": start_data["crisis_type"],
        "emergency_level": start_data["emergency_level"],
        "sectors": draft["sectors"],
        "budget_usd": eppe["totals"]["budget_usd"],
        "people_targeted": draft["people_targeted"],
        "bridge_requested": bridge,
    }


# The processes the two messages start (built beside this one): an MEFM request, a CERF application.
CATCHERS = {ENDORSED: "mefm_request", FOR_CERF: "cerf_application"}


def assert_started_in_the_office(world, message: Message, eppe: dict):
    """The message started the process that catches it, in the proposal's office, with the EPPE
    reference among its data; returns that instance."""
    assert starts_on(world, message.name) == CATCHERS[message.name]
    assert message.state == "delivered" and message.target_instance_id is not None
    started = view(world, message.target_instance_id)
    assert (started.process_id, started.office, started.status) == (CATCHERS[message.name], eppe["office"], "running")
    assert started.data["eppe_reference"] == eppe["eppe_start"]["eppe_reference"]
    assert open_tasks(world, chief_of_mission(eppe["office"]), started.id) or open_tasks(
        world, project_developer(eppe["office"]), started.id
    ), "nobody in the office has the new instance's first task"
    return started


# --- the paths -----------------------------------------------------------------------------------


def test_haiti_proposal_is_returned_revised_endorsed_and_launches_an_mefm_bridge_and_a_cerf_application(
    world, published_processes, mailbox
):
    eppe, pd, rm, com = HAITI_EPPE, project_developer("HTI"), resources_management("HTI"), chief_of_mission("HTI")
    instance = start(world, eppe)
    assert instance.status == "running" and instance.title == eppe["eppe_start"]["title"]
    draft = only_task(world, pd, instance.id)
    assert where(draft) == (DRAFT, "Project Developer", "HTI", "eppe_draft")
    assert draft.due_at == T0 + timedelta(hours=72)  # L2: the reminder is the only clock on the draft
    assert mailbox() == [(pd, "Task assigned")]

    world.clock.advance(hours=20)
    drafted_view = complete(world, pd, instance.id, eppe["eppe_draft"])
    assert {k: drafted_view.data[k] for k in eppe["totals"]} == eppe["totals"]  # totalled from the lines
    check = only_task(world, rm, instance.id)
    assert where(check) == (BUDGET, "Resources Management", "HTI", "eppe_budget_check")
    assert check.due_at is None
    complete(world, rm, instance.id, eppe["eppe_budget_check"])
    approval = only_task(world, com, instance.id)
    assert where(approval) == (APPROVAL, "Chief of Mission", "HTI", "eppe_com_approval")
    mailbox()

    # The Chief of Mission returns it: comments are required, the Project Developer revises.
    with pytest.raises(InvalidData) as refused:
        complete(world, com, instance.id, {"com_decision": "return"})
    assert refused.value.fields == {"com_comments": "This field is required."}
    returned = complete(world, com, instance.id, eppe["eppe_com_approval_return"])
    revise = only_task(world, pd, instance.id)
    assert [t.title for t in returned.tasks] == [REVISE]
    assert where(revise) == (REVISE, "Project Developer", "HTI", "eppe_revise")
    assert revise.due_at == world.clock.now() + timedelta(hours=72)
    assert mailbox() == [(pd, "Returned for revision")]

    revised = complete(world, pd, instance.id, eppe["eppe_revise"])
    assert [t.title for t in revised.tasks] == [BUDGET]  # the revision is checked again
    assert len(revised.data["locations"]) == 4 and revised.data["budget_usd"] == 3_424_000
    # Checked and decided afresh: the first round's remarks and return comments are not carried along.
    assert not {"budget_check_result", "budget_remarks", "com_decision", "com_comments"} & set(revised.data)
    complete(world, rm, instance.id, {"budget_check_result": "cleared"})
    in_endorsement = complete(world, com, instance.id, eppe["eppe_com_approval"])
    assert [t.title for t in in_endorsement.tasks] == ["Screen the submission for completeness"]
    screen = only_task(world, EFP, instance.id)
    assert (screen.lane, screen.office, screen.form_key) == ("Emergency Focal Point", "HTI", "endorsement_completeness")
    assert (in_endorsement.data["document_type"], in_endorsement.data["multi_country"]) == ("proposal", False)

    # ECHO and USD 3.4 M: Donor Relations reviews beside the Emergency Focal Point; L2: no headquarters.
    assert endorse(world, instance.id) == [
        "screen_completeness",
        "technical_review",
        "donor_relations_review",
        "regional_endorsement",
    ]
    choose = only_task(world, com, instance.id)
    assert where(choose) == (ROUTES, "Chief of Mission", "HTI", "eppe_funding_routes")
    endorsed = view(world, instance.id)
    assert endorsed.data["endorsed"] is True and endorsed.data["eppe_status"] == "endorsed"
    assert endorsed.data["endorsement_comments"] == "Regional Director: Endorsed."
    assert thrown(world, instance.id) == []

    with pytest.raises(InvalidData) as refused:
        complete(world, com, instance.id, {"funding_routes": ["mefm_bridge", "cerf"]})
    assert refused.value.fields == {"bridge_amount_usd": "This field is required."}
    done = complete(world, com, instance.id, eppe["eppe_funding_routes"])
    assert done.status == "completed" and done.tasks == []

    bridge, cerf = thrown(world, instance.id)
    assert (bridge.name, bridge.payload) == (ENDORSED, bridge_payload(eppe, 500_000, cerf=True))
    assert (cerf.name, cerf.payload) == (FOR_CERF, cerf_payload(eppe, bridge=True))
    assert_started_in_the_office(world, bridge, eppe)
    assert_started_in_the_office(world, cerf, eppe)
    assert [(e.title, e.outcome) for e in done.events if e.kind == "completed_task"] == [
        (DRAFT, None),
        (BUDGET, None),
        (APPROVAL, "return"),
        (REVISE, None),
        (BUDGET, None),
        (APPROVAL, "approve"),
        ("Screen the submission for completeness", "complete"),
        ("Review the technical and emergency aspects", "cleared"),
        ("Review donor compliance", "cleared"),
        ("Endorse for the region", "endorse"),
        (ROUTES, None),
    ]


def test_guatemala_bridge_alone_starts_an_mefm_request_in_guatemala_repaid_by_a_donor(world, published_processes):
    """Guatemala (scenario C, L1): a bridge alone, repaid by a donor since CERF is not asked for."""
    eppe = GUATEMALA_EPPE
    instance = approved(world, eppe)
    # CCCM, NFI and MHPSS: the Thematic Specialist reviews beside the Emergency Focal Point.
    assert endorse(world, instance.id) == [
        "screen_completeness",
        "technical_review",
        "thematic_review",
        "regional_endorsement",
    ]
    done = complete(world, chief_of_mission("GTM"), instance.id, eppe["eppe_funding_routes"])
    assert done.status == "completed"
    [bridge] = thrown(world, instance.id)
    assert (bridge.name, bridge.payload) == (ENDORSED, bridge_payload(eppe, 150_000, cerf=False))
    mefm = assert_started_in_the_office(world, bridge, eppe)
    assert (mefm.data["requested_amount_usd"], mefm.data["repayment_source"]) == (150_000, "donor")
    assert mefm.data["linked_eppe_id"] == "EPPE-GTM-2026-0001"  # the proposal's generated reference
    assert open_tasks(world, chief_of_mission("HTI"), mefm.id) == []  # another office's request
    with pytest.raises(NotFound):
        view(world, mefm.id, project_developer("HTI"))


def test_honduras_proposal_for_cerf_only_is_endorsed_at_headquarters_and_asks_for_no_bridge(world, published_processes):
    eppe = HONDURAS_EPPE
    instance = approved(world, eppe)
    # CERF as donor: Donor Relations and PRD at headquarters; protection: the Thematic Specialist.
    assert endorse(world, instance.id) == [
        "screen_completeness",
        "technical_review",
        "thematic_review",
        "donor_relations_review",
        "regional_endorsement",
        "hq_endorsement",
    ]
    done = complete(world, chief_of_mission("HND"), instance.id, eppe["eppe_funding_routes"])
    assert done.status == "completed"
    assert done.data["endorsement_comments"] == "Regional Director: Endorsed. | PRD: Agreed at headquarters."
    [cerf] = thrown(world, instance.id)
    assert (cerf.name, cerf.payload) == (FOR_CERF, cerf_payload(eppe, bridge=False))
    assert_started_in_the_office(world, cerf, eppe)


def test_panama_proposal_for_a_bilateral_donor_waits_for_the_submission_to_be_recorded(
    world, published_processes, mailbox
):
    eppe, pd = PANAMA_EPPE, project_developer("PAN")
    instance = approved(world, eppe)
    assert view(world, instance.id).data["multi_country"] is True  # Panama and Costa Rica
    endorse(world, instance.id)
    mailbox()
    routed = complete(world, chief_of_mission("PAN"), instance.id, eppe["eppe_funding_routes"])
    assert routed.status == "running" and [t.title for t in routed.tasks] == [DONOR]
    record = only_task(world, pd, instance.id)
    assert where(record) == (DONOR, "Project Developer", "PAN", "eppe_donor_submission")
    assert mailbox() == [(pd, "Task assigned")]
    assert thrown(world, instance.id) == []

    with pytest.raises(InvalidData) as refused:
        complete(world, pd, instance.id, {**eppe["eppe_donor_submission"], "submitted_to": "other"})
    assert refused.value.fields == {"donor_name": "This field is required."}
    done = complete(world, pd, instance.id, eppe["eppe_donor_submission"])
    assert done.status == "completed" and done.data["submitted_to"] == "usaid_bha"
    assert thrown(world, instance.id) == []


ROUTE_NAMES = ("mefm_bridge", "cerf", "bilateral_donor")
COMBINATIONS = [list(c) for n in (1, 2, 3) for c in itertools.combinations(ROUTE_NAMES, n)]


@pytest.mark.parametrize("routes", COMBINATIONS, ids=["+".join(c) for c in COMBINATIONS])
def test_each_combination_of_funding_routes_throws_exactly_its_messages(world, published_processes, routes):
    eppe, pd = HAITI_EPPE, project_developer("HTI")
    instance = approved(world, eppe)
    endorse(world, instance.id)
    choice = {"funding_routes": routes} | ({"bridge_amount_usd": 420_000} if "mefm_bridge" in routes else {})
    after = complete(world, chief_of_mission("HTI"), instance.id, choice)

    expected = []
    if "mefm_bridge" in routes:
        expected.append((ENDORSED, bridge_payload(eppe, 420_000, cerf="cerf" in routes)))
    if "cerf" in routes:
        expected.append((FOR_CERF, cerf_payload(eppe, bridge="mefm_bridge" in routes)))
    sent = thrown(world, instance.id)
    assert sorted(((m.name, m.payload) for m in sent), key=lambda e: e[0]) == expected
    for message in sent:
        assert_started_in_the_office(world, message, eppe)

    if "bilateral_donor" in routes:
        assert after.status == "running" and [t.title for t in after.tasks] == [DONOR]
        after = complete(world, pd, instance.id, eppe["eppe_donor_submission"])
    assert after.status == "completed" and after.tasks == []
    assert after.data["funding_routes"] == routes


def test_a_proposal_the_regional_director_declines_is_archived_and_launches_nothing(
    world, published_processes, mailbox
):
    eppe = GUATEMALA_EPPE
    instance = approved(world, eppe)
    mailbox()
    endorse(world, instance.id, decline=True)
    done = view(world, instance.id)
    assert done.status == "completed" and done.tasks == []
    assert done.data["endorsed"] is False and done.data["eppe_status"] == "archived_not_endorsed"
    assert done.data["endorsement_comments"] == "Regional Director: Merge it into the flash appeal."
    assert thrown(world, instance.id) == []
    assert open_tasks(world, chief_of_mission("GTM"), instance.id) == []
    assert (chief_of_mission("GTM"), "Task assigned") not in mailbox()


@pytest.fixture
def eppe_alone(world) -> int:
    """Only the EPPE and the endorsement it calls are published: nothing starts on their messages."""
    files = {path.name: path.read_bytes() for path in (DIAGRAM, *CALLED)}
    published = {p.process_id: p for p in publishing.publish(world.uow(), files, forms_dir=str(FORMS))}
    assert set(published) == {"eppe", "endorsement"} and published["eppe"].warnings == []
    return published["eppe"].version


def test_with_no_process_to_start_the_messages_are_kept_as_unmatched_never_dropped(world, eppe_alone):
    eppe = HAITI_EPPE
    instance = approved(world, eppe)
    endorse(world, instance.id)
    done = complete(world, chief_of_mission("HTI"), instance.id, eppe["eppe_funding_routes"])
    assert done.status == "completed"  # the proposal does not wait for the funding processes
    sent = thrown(world, instance.id)
    assert [(m.name, m.state, m.target_instance_id) for m in sent] == [
        (ENDORSED, "unmatched", None),
        (FOR_CERF, "unmatched", None),
    ]
    assert [m.payload for m in sent] == [bridge_payload(eppe, 500_000, cerf=True), cerf_payload(eppe, bridge=True)]
    assert [m.id for m in messages.undelivered(world.db.unit_of_work())] == [m.id for m in sent]


# --- the reminder to the drafter -----------------------------------------------------------------

REMINDER_HOURS = [("L3", 24), ("L2", 72), ("L1", 72)]


def fired_timers(world, instance_id: int) -> list[str]:
    return [e.data["element_id"] for e in view(world, instance_id).events if e.kind == "timer_fired"]


@pytest.mark.parametrize("level, hours", REMINDER_HOURS)
def test_the_drafter_is_reminded_after_24_hours_for_l3_and_72_hours_otherwise(
    world, published_processes, mailbox, level, hours
):
    eppe, pd = HAITI_EPPE, project_developer("HTI")
    instance = start(world, eppe, emergency_level=level)
    assert only_task(world, pd, instance.id).due_at == T0 + timedelta(hours=hours)
    mailbox()

    if hours > 24:
        assert tick_at(world, T0 + timedelta(hours=24, seconds=1)).fired == 0
    assert tick_at(world, T0 + timedelta(hours=hours, minutes=-1)).fired == 0
    assert mailbox() == []
    assert tick_at(world, T0 + timedelta(hours=hours, seconds=1)).fired == 1
    assert fired_timers(world, instance.id) == ["remind_drafter"]
    assert mailbox() == [(pd, "Reminder")]
    still = view(world, instance.id)
    assert [t.title for t in still.tasks] == [DRAFT] and not still.sla_breached  # the draft stays theirs
    assert tick_at(world, T0 + timedelta(days=30)).fired == 0  # one reminder, not a cycle

    complete(world, pd, instance.id, eppe["eppe_draft"])
    assert [t.title for t in view(world, instance.id).tasks] == [BUDGET]


def test_the_l3_drafter_is_not_reminded_before_24_hours_and_a_draft_in_time_cancels_the_reminder(
    world, published_processes, mailbox
):
    eppe, pd = HAITI_EPPE, project_developer("HTI")
    instance = start(world, eppe, emergency_level="L3")
    mailbox()
    assert tick_at(world, T0 + timedelta(hours=23, minutes=59)).fired == 0
    complete(world, pd, instance.id, eppe["eppe_draft"])
    assert tick_at(world, T0 + timedelta(hours=24, seconds=1)).fired == 0
    assert tick_at(world, T0 + timedelta(days=10)).fired == 0
    assert fired_timers(world, instance.id) == []
    assert mailbox() == [(resources_management("HTI"), "Task assigned")]


def test_a_revision_left_waiting_reminds_the_project_developer_24_hours_after_the_return_for_l3(
    world, published_processes, mailbox
):
    eppe, pd, com = HAITI_EPPE, project_developer("HTI"), chief_of_mission("HTI")
    instance = drafted(world, eppe, emergency_level="L3")
    complete(world, resources_management("HTI"), instance.id, eppe["eppe_budget_check"])
    returned_at = T0 + timedelta(hours=30)
    world.clock.set(returned_at)
    complete(world, com, instance.id, eppe["eppe_com_approval_return"])
    assert only_task(world, pd, instance.id).due_at == returned_at + timedelta(hours=24)
    mailbox()

    assert tick_at(world, returned_at + timedelta(hours=23, minutes=59)).fired == 0
    assert tick_at(world, returned_at + timedelta(hours=24, seconds=1)).fired == 1
    assert fired_timers(world, instance.id) == ["remind_reviser"]
    assert mailbox() == [(pd, "Reminder")]
    complete(world, pd, instance.id, eppe["eppe_revise"])
    assert [t.title for t in view(world, instance.id).tasks] == [BUDGET]


# --- who may act ---------------------------------------------------------------------------------


def test_only_the_project_developer_of_the_office_starts_and_another_office_sees_nothing(world, published_processes):
    eppe = HAITI_EPPE
    other = project_developer("PAN")
    with pytest.raises(NotFound):
        instances.start_instance(world.uow(), world.user(other), PROCESS, "HTI", eppe["eppe_start"])
    for who in (resources_management("HTI"), chief_of_mission("HTI"), EFP):
        with pytest.raises(PermissionDenied):
            instances.start_instance(world.uow(), world.user(who), PROCESS, "HTI", eppe["eppe_start"])
    with pytest.raises(InvalidData) as refused:
        start(world, eppe, emergency_level="L4")
    assert refused.value.fields == {"emergency_level": "Choose one of: L1, L2, L3."}

    instance = start(world, eppe)
    draft = only_task(world, project_developer("HTI"), instance.id)
    assert open_tasks(world, other, instance.id) == []
    with pytest.raises(NotFound):
        view(world, instance.id, other)
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(other), draft.id, eppe["eppe_draft"])
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("HTI")), draft.id, eppe["eppe_draft"])
    complete(world, project_developer("HTI"), instance.id, eppe["eppe_draft"])

    check = only_task(world, resources_management("HTI"), instance.id)
    assert open_tasks(world, resources_management("PAN"), instance.id) == []
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(resources_management("PAN")), check.id, eppe["eppe_budget_check"])
    complete(world, resources_management("HTI"), instance.id, eppe["eppe_budget_check"])
    approval = only_task(world, chief_of_mission("HTI"), instance.id)
    for who, error in [(chief_of_mission("PAN"), NotFound), (project_developer("HTI"), PermissionDenied)]:
        with pytest.raises(error):
            tasks.complete_task(world.uow(), world.user(who), approval.id, eppe["eppe_com_approval"])
    assert [t.id for t in view(world, instance.id).tasks] == [approval.id]


def test_what_a_form_shows_read_only_cannot_be_changed_by_a_submission(world, published_processes):
    eppe = HAITI_EPPE
    instance = drafted(world, eppe)
    changed = {**eppe["eppe_budget_check"], "budget_usd": 1, "eppe_reference": "EPPE-HTI-2025-999"}
    after = complete(world, resources_management("HTI"), instance.id, changed)
    assert after.data["budget_usd"] == 3_424_000 and after.data["eppe_reference"] == "EPPE-HTI-2026-0001"


# --- the diagram ---------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = (
    "startEvent endEvent boundaryEvent intermediateThrowEvent userTask scriptTask callActivity "
    "exclusiveGateway parallelGateway"
).split()


def test_lanes_are_the_country_office_roles_each_node_sits_in_one_lane_and_inside_it_left_to_right():
    tree = etree.parse(str(DIAGRAM))
    lanes = tree.xpath("//bpmn:lane", namespaces=NS)
    assert [lane.get("name") for lane in lanes] == ["Project Developer", "Resources Management", "Chief of Mission"]
    nodes = tree.xpath("|".join(f"//bpmn:process/bpmn:{tag}" for tag in FLOW_NODES), namespaces=NS)
    refs = tree.xpath("//bpmn:flowNodeRef/text()", namespaces=NS)
    assert sorted(refs) == sorted(n.get("id") for n in nodes)
    bounds = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}

    def box(element_id):
        return tuple(float(bounds[element_id].get(k)) for k in ("x", "y", "width", "height"))

    px, py, pw, ph = box(tree.find(".//bpmn:participant", NS).get("id"))
    for lane in lanes:
        lx, ly, lw, lh = box(lane.get("id"))
        assert px <= lx and lx + lw <= px + pw and py <= ly and ly + lh <= py + ph, lane.get("name")
        for ref in lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS):
            x, y, w, h = box(ref)
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{ref} outside {lane.get('name')}"
    # Left to right: every sequence flow but the two loops back to the budget check moves right or down/up.
    for flow in tree.xpath("//bpmn:sequenceFlow", namespaces=NS):
        source, target = box(flow.get("sourceRef")), box(flow.get("targetRef"))
        if flow.get("id") != "f_revised_budget":
            assert source[0] <= target[0], flow.get("id")


def test_the_reminders_are_non_interrupting_24_hours_for_l3_and_72_hours_for_l2_and_l1():
    tree = etree.parse(str(DIAGRAM))
    timers = {
        event.get("attachedToRef"): (event.get("cancelActivity"), event.findtext(".//bpmn:timeDuration", namespaces=NS))
        for event in tree.xpath("//bpmn:boundaryEvent", namespaces=NS)
    }
    assert set(timers) == {"draft_proposal", "revise_proposal"}
    engine = make_script_engine()
    for cancel, duration in timers.values():
        assert cancel == "false"
        for level, hours in REMINDER_HOURS:
            assert engine.environment.evaluate(duration, {"emergency_level": level}) == f"PT{hours}H"


def test_the_call_activity_calls_the_endorsement_and_the_messages_carry_their_payloads():
    tree = etree.parse(str(DIAGRAM))
    [call] = tree.xpath("//bpmn:callActivity", namespaces=NS)
    assert call.get("calledElement") == "endorsement"
    names = {m.get("id"): m.get("name") for m in tree.xpath("//bpmn:message", namespaces=NS)}
    throws = {
        names[d.get("messageRef")]: d.findtext(".//spiffworkflow:messagePayload", namespaces=NS)
        for d in tree.xpath("//bpmn:intermediateThrowEvent/bpmn:messageEventDefinition", namespaces=NS)
    }
    assert set(throws) == {ENDORSED, FOR_CERF}
    engine = make_script_engine()
    data = {
        **HAITI_EPPE["eppe_start"],
        **HAITI_EPPE["eppe_draft"],
        **HAITI_EPPE["totals"],
        "office": "HTI",
        "funding_routes": ["mefm_bridge"],
        "bridge_amount_usd": 500_000,
    }
    assert engine.environment.evaluate(throws[ENDORSED], data) == bridge_payload(HAITI_EPPE, 500_000, cerf=False)
    assert engine.environment.evaluate(throws[FOR_CERF], data) == cerf_payload(HAITI_EPPE, bridge=True)
    # The endorsement reads these; its own start form names the document types it knows.
    endorsement_start = json.loads((FORMS / "endorsement_start.json").read_text(encoding="utf-8"))
    assert "proposal" in endorsement_start["properties"]["document_type"]["enum"]
    assert form("eppe_draft")["properties"]["donor"]["enum"] == endorsement_start["properties"]["donor"]["enum"]
    assert form("eppe_draft")["properties"]["sectors"]["items"] == endorsement_start["properties"]["sectors"]["items"]


# --- the forms -----------------------------------------------------------------------------------


def test_the_diagram_names_exactly_the_eppe_forms_and_their_english_and_spanish_titles_differ():
    named = set(etree.parse(str(DIAGRAM)).xpath("//*[local-name()='property'][@name='formKey']/@value"))
    assert named == FORM_KEYS == {p.stem for p in FORMS.glob("eppe_*.json")}
    for key in FORM_KEYS:
        for path, prop in properties(form(key)):
            assert prop["title"] != prop["x-title-es"] or prop["title"] in ("Sector", "Sectores"), f"{key}: {path}"


SUBMISSIONS = [
    (key, eppe["scenario"], eppe[key]) for eppe in EPPE_SCENARIOS.values() for key in sorted(FORM_KEYS) if key in eppe
] + [
    ("eppe_com_approval", "A", HAITI_EPPE["eppe_com_approval_return"]),
    ("eppe_revise", "C", {"revision_notes": "Four months, not six.", **GUATEMALA_EPPE["eppe_draft"]}),
]


@pytest.mark.parametrize("key, scenario, data", SUBMISSIONS, ids=[f"{k}-{s}" for k, s, _ in SUBMISSIONS])
def test_every_form_accepts_the_scenario_data(key, scenario, data):
    assert field_errors(form(key), data) == {}


def test_every_form_has_scenario_data_from_haiti_and_guatemala_at_least():
    for key in FORM_KEYS - {"eppe_donor_submission", "eppe_revise"}:
        assert {"A", "C"} <= {s for k, s, _ in SUBMISSIONS if k == key}, key
    assert {s for k, s, _ in SUBMISSIONS if k == "eppe_revise"} == {"A", "C"}
    assert {s for k, s, _ in SUBMISSIONS if k == "eppe_donor_submission"} == {"A", "B"}


@pytest.mark.parametrize("key", sorted(FORM_KEYS))
def test_every_form_names_each_missing_required_field(key):
    assert field_errors(form(key), {}) == {name: "This field is required." for name in form(key)["required"]}


VALID = {key: HAITI_EPPE[key] for key in FORM_KEYS} | {"eppe_revise": HAITI_EPPE["eppe_revise"]}


@pytest.mark.parametrize("key, changes, errors", REFUSED, ids=[f"{k}-{'-'.join(c)}" for k, c, _ in REFUSED])
def test_every_form_refuses_out_of_range_and_wrongly_typed_data_per_field(key, changes, errors):
    assert field_errors(form(key), {**VALID[key], **changes}) == errors


def test_every_form_is_covered_by_refused_data():
    assert {key for key, _, _ in REFUSED} == FORM_KEYS


@pytest.mark.parametrize("key, data, needed", CONDITIONALLY_REQUIRED)
def test_returning_remarks_a_bridge_or_another_donor_need_the_field_that_explains_it(key, data, needed):
    assert field_errors(form(key), data) == {needed: "This field is required."}
