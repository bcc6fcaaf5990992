"""Review and endorsement (workflows/bpmn/endorsement.bpmn and its routing table endorsement_routing.dmn),
path by path through the engine API, acting as the people of the offices concerned; SLAs are tested by
moving the clock, never by sleeping. Every document, figure and name below is INVENTED (domain.md, section 8)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from engine.bpmn.parser import DoeflowParser
from engine.bpmn.scripting import make_script_engine
from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.modeling import publishing
from engine.scheduling import ticker
from engine.work import instances, tasks
from forms.validation import field_errors
from tests.conftest import T0
from tests.processes.conftest import complete, form, only_task, open_tasks, titles

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "workflows" / "bpmn" / "endorsement.bpmn"
ROUTING = ROOT / "workflows" / "bpmn" / "endorsement_routing.dmn"
FORMS = ROOT / "forms"
PROCESS = "endorsement"

EFP = "emergency-focal-point@ro-americas.demo"
SPECIALIST = "thematic-specialist@ro-americas.demo"
DONOR_RELATIONS = "donor-relations@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
PRD = "prd@hq.demo"
FORM_KEYS = {
    "endorsement_start",
    "endorsement_completeness",
    "endorsement_complete_submission",
    "endorsement_technical_review",
    "endorsement_thematic_review",
    "endorsement_donor_relations_review",
    "endorsement_revise",
    "endorsement_regional",
    "endorsement_hq",
}
TECHNICAL = "Review the technical and emergency aspects"
THEMATIC = "Review the thematic aspects"
DONOR_REVIEW = "Review donor compliance"
REGIONAL = "Endorse for the region"
HQ = "Endorse at headquarters"

# --- INVENTED documents (scenarios A, B and C of domain.md section 8) ----------------------------

HAITI_PROPOSAL = {  # protection → Thematic Specialist; ECHO and USD 3.4 M → Donor Relations; L2 → no HQ
    "title": "Emergency Shelter, NFI and CCCM support to hurricane-affected populations in Sud and Grand'Anse",
    "document_type": "proposal",
    "emergency_level": "L2",
    "budget_usd": 3_424_000,
    "duration_months": 6,
    "donor": "echo",
    "sectors": ["shelter_nfi", "cccm", "protection"],
    "multi_country": False,
    "summary": (
        "Hurricane Marisol (fictional) displaced 68,500 people; 31,200 live in 212 collective centres. Shelter "
        "repair kits, NFI and site management for 46,000 people in Sud and Grand'Anse for six months."
    ),
}
HAITI_CERF = {  # CERF proposal → PRD at HQ; CERF and USD 1.2 M → Donor Relations; no thematic sector
    "title": "CERF Rapid Response: shelter and NFI for hurricane-displaced families in Sud",
    "document_type": "cerf_proposal",
    "emergency_level": "L2",
    "budget_usd": 1_200_000,
    "duration_months": 6,
    "donor": "cerf",
    "sectors": ["shelter_nfi"],
    "multi_country": False,
    "summary": "IOM's share of the CERF Rapid Response envelope for Hurricane Marisol (fictional): 5,000 NFI kits.",
}
GUATEMALA_CONCEPT_NOTE = {  # L1, no donor yet, USD 780,000, no thematic sector → technical review only
    "title": "Shelter support after the floods in Alta Verapaz and Izabal",
    "document_type": "concept_note",
    "emergency_level": "L1",
    "budget_usd": 780_000,
    "duration_months": 4,
    "donor": "none",
    "sectors": ["cccm", "shelter_nfi"],
    "multi_country": False,
    "summary": "14,600 people in 96 shelters after the tropical storm (fictional): site management and NFI.",
}
PANAMA_DARIEN = {  # health and protection → Thematic Specialist; several countries and USAID/BHA → Donor Relations
    "title": "Life-saving assistance and protection for migrants in transit at Migrant Reception Stations in Darién",
    "document_type": "proposal",
    "emergency_level": "L2",
    "budget_usd": 2_150_000,
    "duration_months": 6,
    "donor": "usaid_bha",
    "sectors": ["wash", "health", "protection", "cccm", "dtm"],
    "multi_country": True,
    "summary": "3,100 arrivals a day (fictional); both stations at nearly twice their capacity. WASH, health care "
    "and protection desks for the people in transit through Panama, Costa Rica and Colombia.",
}
CLEARED = {
    "technical": {"technical_decision": "cleared"},
    "thematic": {"thematic_decision": "cleared"},
    "donor_relations": {"donor_relations_decision": "cleared"},
}


def project_developer(office: str) -> str:
    return f"project-developer@{office.lower()}.demo"


@pytest.fixture
def endorsement(world) -> int:
    """The endorsement process and its routing table, published with the real forms: its version."""
    files = {DIAGRAM.name: DIAGRAM.read_bytes(), ROUTING.name: ROUTING.read_bytes()}
    [published] = publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    assert published.warnings == []
    return published.version


def start(world, document: dict, office: str = "HTI", **changes):
    return instances.start_instance(
        world.uow(), world.user(project_developer(office)), PROCESS, office, {**document, **changes}
    )


def view(world, instance_id: int, who: str = DIRECTOR):
    return instances.get_instance(world.uow(), world.user(who), instance_id)


def screened(world, document: dict, office: str = "HTI", **changes):
    """Started and found complete by the Emergency Focal Point: the routed reviews are open."""
    instance = start(world, document, office, **changes)
    complete(world, EFP, instance.id, {"completeness_decision": "complete"})
    return instance


def tick_at(world, **delta):
    world.clock.set(T0 + timedelta(**delta))
    return ticker.tick(world.db, world.clock)


def fired_timers(world, instance_id: int) -> list[str]:
    return [e.data["element_id"] for e in view(world, instance_id).events if e.kind == "timer_fired"]


# --- the paths -----------------------------------------------------------------------------------


def test_an_incomplete_submission_goes_back_to_the_project_developer_and_once_complete_is_routed(
    world, endorsement, mailbox
):
    pd = project_developer("PAN")
    instance = start(world, PANAMA_DARIEN, "PAN")
    assert instance.title == PANAMA_DARIEN["title"]
    screen = only_task(world, EFP, instance.id)
    assert (screen.title, screen.lane, screen.office, screen.form_key) == (
        "Screen the submission for completeness",
        "Emergency Focal Point",
        "PAN",
        "endorsement_completeness",
    )
    assert screen.due_at is None  # the SLAs are on the reviews
    assert mailbox() == [(EFP, "Task assigned")]

    missing = {"completeness_decision": "incomplete", "missing_items": "The budget lines of the health component."}
    returned = complete(world, EFP, instance.id, missing)
    back = only_task(world, pd, instance.id)
    assert [t.title for t in returned.tasks] == ["Complete the submission"]
    assert (back.lane, back.office, back.form_key) == ("Project Developer", "PAN", "endorsement_complete_submission")
    assert [who for who, _ in mailbox()] == [pd]

    complete(world, pd, instance.id, {"completion_notes": "Added the health budget lines (USD 410,000)."})
    assert titles(view(world, instance.id)) == ["Screen the submission for completeness"]
    routed = complete(world, EFP, instance.id, {"completeness_decision": "complete"})

    assert titles(routed) == sorted([TECHNICAL, THEMATIC, DONOR_REVIEW])
    assert (routed.data["needs_thematic_review"], routed.data["needs_donor_relations_review"]) == (True, True)
    assert routed.data["needs_hq_endorsement"] is False
    assert routed.data["routing_reasons"] == [
        "Emergency Focal Point: technical review of every document",
        "Protection among the sectors: Thematic Specialist (migrant protection and assistance)",
        "Health or MHPSS among the sectors: Thematic Specialist (migration and health)",
        "A donor is targeted: Donor Relations checks the donor's rules",
        "Budget of USD 1,000,000 or more: Donor Relations reviews",
        "Several countries: Donor Relations coordinates the approach to donors",
    ]
    for who, title, lane, form_key in [
        (EFP, TECHNICAL, "Emergency Focal Point", "endorsement_technical_review"),
        (SPECIALIST, THEMATIC, "Thematic Specialist", "endorsement_thematic_review"),
        (DONOR_RELATIONS, DONOR_REVIEW, "Donor Relations", "endorsement_donor_relations_review"),
    ]:
        review = only_task(world, who, instance.id)
        assert (review.title, review.lane, review.office, review.form_key) == (title, lane, "PAN", form_key)
        assert review.due_at == T0 + timedelta(hours=96)  # L2: escalation at twice the 48-hour reminder
    assert mailbox() == sorted(
        [
            (EFP, "Task assigned"),
            (EFP, "Task assigned"),
            (SPECIALIST, "Task assigned"),
            (DONOR_RELATIONS, "Task assigned"),
        ]
    )


def test_a_concept_note_with_nothing_special_gets_the_technical_review_only(world, endorsement):
    instance = screened(world, GUATEMALA_CONCEPT_NOTE, "GTM")
    assert titles(view(world, instance.id)) == [TECHNICAL]
    assert open_tasks(world, SPECIALIST, instance.id) == open_tasks(world, DONOR_RELATIONS, instance.id) == []
    complete(world, EFP, instance.id, {"technical_decision": "cleared"})
    done = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"}, REGIONAL)
    assert done.status == "completed"
    assert (done.data["endorsed"], done.data["endorsement_comments"]) == (True, "")
    assert done.data["review_decisions"] == ["cleared"]


def test_all_reviewers_clear_and_the_regional_director_endorses_without_headquarters(world, endorsement, mailbox):
    instance = screened(world, HAITI_PROPOSAL)
    mailbox()
    world.clock.advance(hours=5)
    complete(world, SPECIALIST, instance.id, {"thematic_decision": "cleared"})
    complete(
        world,
        DONOR_RELATIONS,
        instance.id,
        {
            "donor_relations_decision": "cleared_with_comments",
            "donor_relations_comments": "Follow ECHO's visibility rules for the NFI kits.",
        },
    )
    assert mailbox() == []  # the Regional Director waits for the last review
    after_reviews = complete(world, EFP, instance.id, {"technical_decision": "cleared"})
    assert [t.title for t in after_reviews.tasks] == [REGIONAL]
    endorse = only_task(world, DIRECTOR, instance.id)
    assert (endorse.lane, endorse.office, endorse.form_key) == ("Regional Director", "HTI", "endorsement_regional")
    assert endorse.due_at is None
    assert mailbox() == [(DIRECTOR, "Task assigned")]

    done = complete(
        world, DIRECTOR, instance.id, {"regional_decision": "endorse", "regional_comments": "Endorsed for ECHO."}
    )
    assert done.status == "completed" and not done.sla_breached
    assert done.data["endorsed"] is True
    assert done.data["endorsement_comments"] == "Regional Director: Endorsed for ECHO."
    assert done.data["needs_hq_endorsement"] is False and done.data["revision_number"] == 0
    assert sorted(done.data["review_decisions"]) == ["cleared", "cleared", "cleared_with_comments"]
    assert open_tasks(world, PRD, instance.id) == []
    assert [(e.title, e.outcome) for e in done.events if e.kind == "completed_task"] == [
        ("Screen the submission for completeness", "complete"),
        (THEMATIC, "cleared"),
        (DONOR_REVIEW, "cleared_with_comments"),
        (TECHNICAL, "cleared"),
        (REGIONAL, "endorse"),
    ]
    # The outcome, with its reason, to whoever started the case and the office's Chief of Mission.
    assert mailbox() == [("chief-of-mission@hti.demo", "Endorsed"), (project_developer("HTI"), "Endorsed")]


def test_a_cerf_proposal_is_endorsed_by_the_regional_director_and_then_by_prd_at_headquarters(
    world, endorsement, mailbox
):
    instance = screened(world, HAITI_CERF)
    assert titles(view(world, instance.id)) == sorted([TECHNICAL, DONOR_REVIEW])
    complete(world, EFP, instance.id, CLEARED["technical"])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    mailbox()
    regional = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse", "regional_comments": "Agreed."})
    assert regional.status == "running" and [t.title for t in regional.tasks] == [HQ]
    hq = only_task(world, PRD, instance.id)
    assert (hq.lane, hq.office, hq.form_key) == ("PRD", "HTI", "endorsement_hq")
    assert mailbox() == [(PRD, "Task assigned")]

    done = complete(world, PRD, instance.id, {"hq_decision": "endorse", "hq_comments": "CERF focal point agrees."})
    assert done.status == "completed"
    assert done.data["endorsed"] is True
    assert done.data["endorsement_comments"] == "Regional Director: Agreed. | PRD: CERF focal point agrees."


def test_prd_declining_an_l3_proposal_leaves_it_not_endorsed(world, endorsement):
    instance = screened(world, HAITI_PROPOSAL, emergency_level="L3")
    for who, review in [(EFP, "technical"), (SPECIALIST, "thematic"), (DONOR_RELATIONS, "donor_relations")]:
        complete(world, who, instance.id, CLEARED[review])
    complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"})
    with pytest.raises(InvalidData) as refused:
        complete(world, PRD, instance.id, {"hq_decision": "decline"})
    assert refused.value.fields == {"hq_comments": "This field is required."}
    done = complete(
        world, PRD, instance.id, {"hq_decision": "decline", "hq_comments": "Merge it into the L3 flash appeal."}
    )
    assert done.status == "completed"
    assert (done.data["endorsed"], done.data["endorsement_comments"]) == (
        False,
        "PRD: Merge it into the L3 flash appeal.",
    )


def test_the_regional_director_declining_ends_it_not_endorsed_without_headquarters(world, endorsement):
    instance = screened(world, GUATEMALA_CONCEPT_NOTE, "GTM", emergency_level="L3")  # L3 would need PRD
    complete(world, EFP, instance.id, CLEARED["technical"])
    done = complete(
        world,
        DIRECTOR,
        instance.id,
        {"regional_decision": "decline", "regional_comments": "Covered by the national flood appeal."},
    )
    assert done.status == "completed" and done.tasks == []
    assert done.data["endorsed"] is False
    assert done.data["endorsement_comments"] == "Regional Director: Covered by the national flood appeal."
    assert open_tasks(world, PRD, instance.id) == []


def test_a_revision_required_sends_the_document_back_and_every_review_runs_again(world, endorsement, mailbox):
    pd = project_developer("HTI")
    instance = screened(world, HAITI_PROPOSAL)
    complete(world, EFP, instance.id, CLEARED["technical"])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    mailbox()
    returned = complete(
        world,
        SPECIALIST,
        instance.id,
        {"thematic_decision": "revision_required", "thematic_comments": "Add child protection in the centres."},
    )
    assert [t.title for t in returned.tasks] == ["Revise the document"]
    assert returned.data["revision_number"] == 1 and returned.data["revision_required"] is True
    revise = only_task(world, pd, instance.id)
    assert (revise.lane, revise.form_key) == ("Project Developer", "endorsement_revise")
    assert mailbox() == [("chief-of-mission@hti.demo", "Returned for revision"), (pd, "Returned for revision")]

    again = complete(world, pd, instance.id, {"revision_summary": "Child protection desks in the 20 largest centres."})
    assert titles(again) == sorted([TECHNICAL, THEMATIC, DONOR_REVIEW])
    # The reviewer who asked for the revision clears first: the branches that arrive later must not
    # bring back the old "revision required".
    complete(world, SPECIALIST, instance.id, CLEARED["thematic"])
    assert titles(view(world, instance.id)) == sorted([TECHNICAL, DONOR_REVIEW])
    complete(world, EFP, instance.id, CLEARED["technical"])
    assert titles(view(world, instance.id)) == [DONOR_REVIEW]
    cleared = complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    assert [t.title for t in cleared.tasks] == [REGIONAL]
    assert cleared.data["review_decisions"] == ["cleared", "cleared", "cleared"]

    done = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"})
    assert done.data["endorsed"] is True and done.data["revision_number"] == 1
    reviews = [e.title for e in done.events if e.kind == "completed_task" and e.title.startswith("Review")]
    assert len(reviews) == 6  # two rounds of three reviews


def test_a_revision_that_lowers_the_budget_is_routed_again_without_donor_relations(world, endorsement):
    pd = project_developer("GTM")
    instance = screened(world, GUATEMALA_CONCEPT_NOTE, "GTM", budget_usd=1_050_000)
    assert titles(view(world, instance.id)) == sorted([TECHNICAL, DONOR_REVIEW])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    complete(
        world,
        EFP,
        instance.id,
        {"technical_decision": "revision_required", "technical_comments": "Too large for an L1 response."},
    )
    second_round = complete(
        world, pd, instance.id, {"revision_summary": "Cut the NFI component by a third.", "budget_usd": 950_000}
    )
    assert [t.title for t in second_round.tasks] == [TECHNICAL]
    assert second_round.data["needs_donor_relations_review"] is False
    complete(world, EFP, instance.id, CLEARED["technical"])
    done = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"})
    assert done.data["endorsed"] is True and done.data["budget_usd"] == 950_000
    assert done.data["review_decisions"] == ["cleared"]


# --- SLAs: reminder and escalation per emergency level -------------------------------------------

SLA_HOURS = [("L3", 24, 48), ("L2", 48, 96), ("L1", 72, 144)]


@pytest.mark.parametrize("level, reminder, escalation", SLA_HOURS)
def test_overdue_reviewers_are_reminded_then_the_regional_director_reviews_in_their_place(
    world, endorsement, mailbox, level, reminder, escalation
):
    instance = screened(world, HAITI_PROPOSAL, emergency_level=level)
    mailbox()
    world.clock.set(T0 + timedelta(hours=2))
    complete(world, SPECIALIST, instance.id, CLEARED["thematic"])  # on time: no reminder for this one
    assert only_task(world, EFP, instance.id).due_at == T0 + timedelta(hours=escalation)

    tick_at(world, hours=reminder, minutes=-1)
    assert fired_timers(world, instance.id) == []
    tick_at(world, hours=reminder, seconds=1)
    assert sorted(fired_timers(world, instance.id)) == ["remind_donor_relations", "remind_technical"]
    assert mailbox() == [(DONOR_RELATIONS, "Reminder"), (EFP, "Reminder")]
    assert titles(view(world, instance.id)) == sorted([TECHNICAL, DONOR_REVIEW])  # still theirs
    assert not view(world, instance.id).sla_breached

    tick_at(world, hours=escalation, minutes=-1)
    assert len(fired_timers(world, instance.id)) == 2 and mailbox() == []
    tick_at(world, hours=escalation, seconds=1)
    assert sorted(fired_timers(world, instance.id)[2:]) == ["escalate_donor_relations", "escalate_technical"]
    escalated = view(world, instance.id)
    assert escalated.sla_breached
    assert open_tasks(world, EFP, instance.id) == open_tasks(world, DONOR_RELATIONS, instance.id) == []
    in_place = sorted(open_tasks(world, DIRECTOR, instance.id), key=lambda t: t.title)
    assert [(t.title, t.form_key, t.office) for t in in_place] == [
        ("Review in place of the overdue Donor Relations", "endorsement_donor_relations_review", "HTI"),
        ("Review in place of the overdue Emergency Focal Point", "endorsement_technical_review", "HTI"),
    ]
    assert mailbox() == sorted(
        [
            (EFP, "Escalation"),
            (DONOR_RELATIONS, "Escalation"),
            (DIRECTOR, "Escalation"),
            (DIRECTOR, "Escalation"),
            (DIRECTOR, "Task assigned"),
            (DIRECTOR, "Task assigned"),
        ]
    )

    complete(world, DIRECTOR, instance.id, CLEARED["technical"], "Review in place of the overdue Emergency Focal Point")
    assert titles(view(world, instance.id)) == ["Review in place of the overdue Donor Relations"]
    after = complete(
        world,
        DIRECTOR,
        instance.id,
        {"donor_relations_decision": "cleared_with_comments", "donor_relations_comments": "ECHO visibility."},
        "Review in place of the overdue Donor Relations",
    )
    assert [t.title for t in after.tasks] == [REGIONAL]  # the endorsement goes on with the reviews taken over
    done = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"}, REGIONAL)
    if level == "L3":  # an L3 document also needs headquarters
        done = complete(world, PRD, instance.id, {"hq_decision": "endorse"})
    assert done.status == "completed" and done.data["endorsed"] is True and done.sla_breached
    assert tick_at(world, days=30).fired == 0


def test_an_overdue_thematic_specialist_is_reminded_then_the_regional_director_reviews_in_their_place(
    world, endorsement, mailbox
):
    instance = screened(world, HAITI_PROPOSAL, emergency_level="L2")  # L2: reminder at 48 h, escalation at 96 h
    mailbox()
    world.clock.set(T0 + timedelta(hours=1))
    complete(world, EFP, instance.id, CLEARED["technical"])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    assert titles(view(world, instance.id)) == [THEMATIC]

    tick_at(world, hours=48, seconds=1)
    assert fired_timers(world, instance.id) == ["remind_thematic"]
    assert mailbox() == [(SPECIALIST, "Reminder")]
    tick_at(world, hours=96, seconds=1)
    assert fired_timers(world, instance.id)[1:] == ["escalate_thematic"]
    assert open_tasks(world, SPECIALIST, instance.id) == []
    assert sorted(mailbox()) == [(DIRECTOR, "Escalation"), (DIRECTOR, "Task assigned"), (SPECIALIST, "Escalation")]

    in_place = "Review in place of the overdue Thematic Specialist"
    after = complete(world, DIRECTOR, instance.id, {"thematic_decision": "cleared"}, in_place)
    assert [t.title for t in after.tasks] == [REGIONAL] and after.sla_breached


def test_a_revision_asked_for_by_the_regional_director_in_place_loops_like_any_other(world, endorsement):
    instance = screened(world, GUATEMALA_CONCEPT_NOTE, "GTM", emergency_level="L3")
    tick_at(world, hours=48, seconds=1)
    returned = complete(
        world,
        DIRECTOR,
        instance.id,
        {"technical_decision": "revision_required", "technical_comments": "Say who manages the shelters."},
    )
    assert [t.title for t in returned.tasks] == ["Revise the document"]
    complete(world, project_developer("GTM"), instance.id, {"revision_summary": "The municipality manages them."})
    review = only_task(world, EFP, instance.id)  # a new round, with a new clock
    assert review.due_at == world.clock.now() + timedelta(hours=48)


# --- offices and roles ---------------------------------------------------------------------------


def test_people_of_another_office_or_role_are_refused(world, endorsement):
    with pytest.raises(NotFound):
        instances.start_instance(world.uow(), world.user(project_developer("PAN")), PROCESS, "HTI", HAITI_PROPOSAL)
    with pytest.raises(PermissionDenied):
        instances.start_instance(world.uow(), world.user(DIRECTOR), PROCESS, "HTI", HAITI_PROPOSAL)

    instance = start(world, HAITI_PROPOSAL)
    screen = only_task(world, EFP, instance.id)
    with pytest.raises(NotFound):
        tasks.complete_task(
            world.uow(), world.user(project_developer("PAN")), screen.id, {"completeness_decision": "complete"}
        )
    with pytest.raises(NotFound):
        view(world, instance.id, who=project_developer("PAN"))
    for who in (SPECIALIST, DIRECTOR, PRD, project_developer("HTI")):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), screen.id, {"completeness_decision": "complete"})

    tasks.complete_task(world.uow(), world.user(EFP), screen.id, {"completeness_decision": "complete"})
    thematic = only_task(world, SPECIALIST, instance.id)
    for who in (EFP, DONOR_RELATIONS, DIRECTOR):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), thematic.id, CLEARED["thematic"])
    assert open_tasks(world, project_developer("PAN"), instance.id) == []
    assert titles(view(world, instance.id)) == sorted([TECHNICAL, THEMATIC, DONOR_REVIEW])


# --- called by another process -------------------------------------------------------------------

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="endorsement_caller_defs" targetNamespace="https://doeflow.test/endorsement-caller">
  <bpmn:process id="endorsement_caller" name="Proposal needing endorsement (test)" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_pd" name="Project Developer">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>endorse</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>outcome</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>submit_to_donor</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>archived</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Proposal drafted"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="endorse" name="Review and endorsement" calledElement="endorsement">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:exclusiveGateway id="outcome" name="Endorsed?" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="submit_to_donor" name="Submit to the donor">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>submitted_with = endorsement_comments</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="archived" name="Done"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="endorse"/>
    <bpmn:sequenceFlow id="f2" sourceRef="endorse" targetRef="outcome"/>
    <bpmn:sequenceFlow id="f3" sourceRef="outcome" targetRef="submit_to_donor">
      <bpmn:conditionExpression>endorsed</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="outcome" targetRef="archived"/>
    <bpmn:sequenceFlow id="f5" sourceRef="submit_to_donor" targetRef="archived"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_calling_process_passes_its_data_in_and_reads_endorsed_and_the_comments_back(world, endorsement):
    files = {
        "endorsement_caller.bpmn": CALLER.encode(),
        DIAGRAM.name: DIAGRAM.read_bytes(),
        ROUTING.name: ROUTING.read_bytes(),
    }
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    eppe = {**PANAMA_DARIEN, "eppe_id": "EPPE-PAN-2025-006"}  # whatever else the caller holds comes back untouched
    instance = instances.start_instance(
        world.uow(), world.user(project_developer("PAN")), "endorsement_caller", "PAN", eppe
    )
    screen = only_task(world, EFP, instance.id)
    assert (screen.process_id, screen.office, screen.lane) == ("endorsement_caller", "PAN", "Emergency Focal Point")
    complete(world, EFP, instance.id, {"completeness_decision": "complete"})
    for who, review in [(EFP, "technical"), (SPECIALIST, "thematic")]:
        complete(world, who, instance.id, CLEARED[review])
    tick_at(world, hours=96, seconds=1)  # L2: the SLAs run inside the called process too
    assert fired_timers(world, instance.id) == ["remind_donor_relations", "escalate_donor_relations"]
    complete(world, DIRECTOR, instance.id, CLEARED["donor_relations"], "Review in place of the overdue Donor Relations")
    done = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse", "regional_comments": "Go ahead."})
    assert done.status == "completed" and done.sla_breached
    assert (done.data["endorsed"], done.data["endorsement_comments"]) == (True, "Regional Director: Go ahead.")
    assert done.data["submitted_with"] == "Regional Director: Go ahead."
    assert done.data["eppe_id"] == "EPPE-PAN-2025-006" and done.data["office"] == "PAN"


# --- the routing table (endorsement_routing.dmn) --------------------------------------------------

BASELINE = {  # nothing that adds a review: the technical review only
    "emergency_level": "L1",
    "budget_usd": 500_000,
    "donor": "none",
    "document_type": "concept_note",
    "multi_country": False,
    "sectors": ["cccm"],
}


def route(**changes) -> tuple[bool, bool, bool]:
    """(thematic review, Donor Relations review, HQ endorsement) as the table answers for the baseline
    with `changes`, evaluated by SpiffWorkflow's DMN engine alone with the engine's restricted evaluator."""
    parser = DoeflowParser()
    parser.add_dmn_file(str(ROUTING))
    table = parser.get_engine("endorsement_routing", None)
    task = SimpleNamespace(data={**BASELINE, **changes}, workflow=SimpleNamespace(script_engine=make_script_engine()))
    result = table.result(task)
    assert result["routing_reason"][0] == "Emergency Focal Point: technical review of every document"
    return (
        any(result["needs_thematic_review"]),
        any(result["needs_donor_relations_review"]),
        any(result["needs_hq_endorsement"]),
    )


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, (False, False, False)),
        # Donor Relations from USD 1,000,000 (invented placeholder): just below, at, just above.
        ({"budget_usd": 999_999.99}, (False, False, False)),
        ({"budget_usd": 1_000_000}, (False, True, False)),
        ({"budget_usd": 1_000_000.01}, (False, True, False)),
        # Headquarters above USD 5,000,000 (invented placeholder): just below, at, just above.
        ({"budget_usd": 4_999_999.99}, (False, True, False)),
        ({"budget_usd": 5_000_000}, (False, True, False)),
        ({"budget_usd": 5_000_000.01}, (False, True, True)),
        # The emergency level: only L3 needs headquarters.
        ({"emergency_level": "L2"}, (False, False, False)),
        ({"emergency_level": "L3"}, (False, False, True)),
        # The document type: only a CERF proposal needs headquarters.
        ({"document_type": "proposal"}, (False, False, False)),
        ({"document_type": "cerf_proposal"}, (False, False, True)),
        # Several countries: Donor Relations.
        ({"multi_country": True}, (False, True, False)),
    ],
)
def test_the_routing_table_just_below_at_and_just_above_each_threshold(changes, expected):
    assert route(**changes) == expected


@pytest.mark.parametrize(
    "donor, expected",
    [
        ("none", (False, False, False)),
        ("", (False, False, False)),
        (None, (False, False, False)),
        ("echo", (False, True, False)),
        ("usaid_bha", (False, True, False)),
        ("japan", (False, True, False)),
        ("other", (False, True, False)),
        ("cerf", (False, True, True)),
    ],
)
def test_any_donor_adds_donor_relations_and_cerf_also_headquarters(donor, expected):
    assert route(donor=donor) == expected


THEMATIC_SECTORS = {"protection", "health", "mhpss", "climate_environment", "border_management"}


@pytest.mark.parametrize(
    "sector", json.loads((FORMS / "endorsement_start.json").read_text())["properties"]["sectors"]["items"]["enum"]
)
def test_each_thematic_sector_and_only_those_adds_a_thematic_specialist(sector):
    assert route(sectors=["cccm", sector]) == (sector in THEMATIC_SECTORS, False, False)


def test_everything_at_once_collects_every_review():
    assert route(
        emergency_level="L3",
        budget_usd=6_000_000,
        donor="cerf",
        document_type="cerf_proposal",
        multi_country=True,
        sectors=["health", "protection"],
    ) == (True, True, True)


@pytest.mark.parametrize(
    "budget, donor_relations, headquarters",
    [
        (999_999.99, False, False),
        (1_000_000, True, False),
        (1_000_000.01, True, False),
        (4_999_999.99, True, False),
        (5_000_000, True, False),
        (5_000_000.01, True, True),
    ],
)
def test_the_budget_thresholds_route_the_review_through_the_engine(
    world, endorsement, budget, donor_relations, headquarters
):
    instance = screened(world, GUATEMALA_CONCEPT_NOTE, "GTM", budget_usd=budget)
    expected = sorted([TECHNICAL] + ([DONOR_REVIEW] if donor_relations else []))
    assert titles(view(world, instance.id)) == expected
    complete(world, EFP, instance.id, CLEARED["technical"])
    if donor_relations:
        complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    after = complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse"})
    assert after.data["needs_hq_endorsement"] is headquarters
    assert [t.title for t in after.tasks] == ([HQ] if headquarters else [])


# --- the diagram ---------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def test_each_review_has_a_reminder_and_an_escalation_to_the_regional_director_at_twice_the_time():
    tree = etree.parse(str(DIAGRAM))
    for review in ("technical_review", "thematic_review", "donor_relations_review"):
        timers = {
            b.get("cancelActivity", "true"): b
            for b in tree.iterfind(f".//bpmn:boundaryEvent[@attachedToRef='{review}']", NS)
        }
        assert set(timers) == {"true", "false"}, review
        reminder = timers["false"].findtext(".//bpmn:timeDuration", namespaces=NS)
        escalation = timers["true"].findtext(".//bpmn:timeDuration", namespaces=NS)
        engine = make_script_engine()
        for level, hours, twice in SLA_HOURS:
            task = SimpleNamespace(data={"emergency_level": level})
            assert engine.environment.evaluate(reminder, task.data) == f"PT{hours}H"
            assert engine.environment.evaluate(escalation, task.data) == f"PT{twice}H"
        notify = timers["true"].xpath(".//spiffworkflow:property[@name='notifyRoles']/@value", namespaces=NS)
        assert notify == ["Regional Director"], review


# --- the forms -----------------------------------------------------------------------------------


VALID = {
    "endorsement_start": HAITI_PROPOSAL,
    "endorsement_completeness": {"completeness_decision": "incomplete", "missing_items": "The budget lines."},
    "endorsement_complete_submission": {"completion_notes": "Added the budget lines.", "budget_usd": 3_500_000},
    "endorsement_technical_review": {"technical_decision": "cleared"},
    "endorsement_thematic_review": {
        "thematic_decision": "cleared_with_comments",
        "thematic_comments": "Add a referral pathway for unaccompanied children.",
    },
    "endorsement_donor_relations_review": {
        "donor_relations_decision": "revision_required",
        "donor_relations_comments": "ECHO needs the results matrix in its template.",
    },
    "endorsement_revise": {
        "revision_summary": "Referral pathway added; results matrix in ECHO's template.",
        "budget_usd": 3_390_000,
        "sectors": ["shelter_nfi", "cccm", "protection", "mhpss"],
        "donor": "echo",
    },
    "endorsement_regional": {"regional_decision": "decline", "regional_comments": "Merge it with the CERF proposal."},
    "endorsement_hq": {"hq_decision": "endorse"},
}
REFUSED = [  # (form key, submitted changes to the valid data, per-field messages)
    ("endorsement_start", {"budget_usd": 999}, {"budget_usd": "Must be at least 1000."}),
    ("endorsement_start", {"budget_usd": 100_000_001}, {"budget_usd": "Must be at most 100000000."}),
    ("endorsement_start", {"budget_usd": "3.4 million"}, {"budget_usd": "Must be a number."}),
    ("endorsement_start", {"duration_months": 0}, {"duration_months": "Must be at least 1."}),
    ("endorsement_start", {"duration_months": 37}, {"duration_months": "Must be at most 36."}),
    ("endorsement_start", {"duration_months": 6.5}, {"duration_months": "Must be a whole number."}),
    ("endorsement_start", {"emergency_level": "L4"}, {"emergency_level": "Choose one of: L1, L2, L3."}),
    (
        "endorsement_start",
        {"document_type": "report"},
        {"document_type": "Choose one of: concept_note, proposal, cerf_proposal."},
    ),
    ("endorsement_start", {"donor": "ECHO"}, {"donor": "Choose one of: none, cerf, echo, usaid_bha, japan, other."}),
    ("endorsement_start", {"sectors": []}, {"sectors": "Give at least 1."}),
    ("endorsement_start", {"sectors": "protection"}, {"sectors": "Must be a list."}),
    ("endorsement_start", {"multi_country": "no"}, {"multi_country": "Must be yes or no."}),
    ("endorsement_start", {"title": "Aid"}, {"title": "Must be at least 5 characters."}),
    ("endorsement_start", {"summary": "Shelter."}, {"summary": "Must be at least 20 characters."}),
    (
        "endorsement_start",
        {"typename": "x"},
        {"typename": "'typename' is a reserved name and cannot be used as a field", "": "Unexpected field: 'typename'"},
    ),
    ("endorsement_completeness", {"missing_items": None}, {"missing_items": "Must be text."}),
    (
        "endorsement_completeness",
        {"completeness_decision": "maybe"},
        {"completeness_decision": "Choose one of: complete, incomplete."},
    ),
    (
        "endorsement_complete_submission",
        {"completion_notes": "ok"},
        {"completion_notes": "Must be at least 3 characters."},
    ),
    ("endorsement_complete_submission", {"budget_usd": 500}, {"budget_usd": "Must be at least 1000."}),
    (
        "endorsement_technical_review",
        {"technical_decision": "approved"},
        {"technical_decision": "Choose one of: cleared, cleared_with_comments, revision_required."},
    ),
    ("endorsement_technical_review", {"technical_comments": 42}, {"technical_comments": "Must be text."}),
    (
        "endorsement_thematic_review",
        {"thematic_comments": "x" * 4001},
        {"thematic_comments": "Must be at most 4000 characters."},
    ),
    (
        "endorsement_donor_relations_review",
        {"donor_relations_decision": True},
        {"donor_relations_decision": "Must be text."},
    ),
    ("endorsement_revise", {"revision_summary": "Done."}, {"revision_summary": "Must be at least 10 characters."}),
    (
        "endorsement_revise",
        {"sectors": ["roads"]},
        {
            "sectors.0": "Choose one of: cccm, shelter_nfi, wash, health, mhpss, protection, dtm, cash, logistics, climate_environment, border_management, other."
        },
    ),
    ("endorsement_revise", {"budget_usd": 200_000_000}, {"budget_usd": "Must be at most 100000000."}),
    (
        "endorsement_regional",
        {"regional_decision": "endorse_with_comments"},
        {"regional_decision": "Choose one of: endorse, decline."},
    ),
    ("endorsement_hq", {"hq_decision": "endorse", "extra": 1}, {"": "Unexpected field: 'extra'"}),
    ("endorsement_completeness", {"missing_items": "x" * 4001}, {"missing_items": "Must be at most 4000 characters."}),
    (
        "endorsement_complete_submission",
        {"completion_notes": {"added": "budget"}},
        {"completion_notes": "Must be text."},
    ),
    ("endorsement_thematic_review", {"thematic_decision": ["cleared"]}, {"thematic_decision": "Must be text."}),
    ("endorsement_revise", {"donor": 7}, {"donor": "Must be text."}),
    ("endorsement_regional", {"regional_comments": 5}, {"regional_comments": "Must be text."}),
    ("endorsement_hq", {"hq_decision": None}, {"hq_decision": "Must be text."}),
]
CONDITIONALLY_REQUIRED = [  # (form key, submission without the comment, the field it then needs)
    ("endorsement_completeness", {"completeness_decision": "incomplete"}, "missing_items"),
    ("endorsement_technical_review", {"technical_decision": "revision_required"}, "technical_comments"),
    ("endorsement_thematic_review", {"thematic_decision": "cleared_with_comments"}, "thematic_comments"),
    (
        "endorsement_donor_relations_review",
        {"donor_relations_decision": "revision_required"},
        "donor_relations_comments",
    ),
    ("endorsement_regional", {"regional_decision": "decline"}, "regional_comments"),
    ("endorsement_hq", {"hq_decision": "decline"}, "hq_comments"),
]


def test_the_diagram_names_exactly_the_endorsement_forms():
    named = set(etree.parse(str(DIAGRAM)).xpath("//*[local-name()='property'][@name='formKey']/@value"))
    assert named == FORM_KEYS == {p.stem for p in FORMS.glob("endorsement_*.json")}


@pytest.mark.parametrize("key", sorted(VALID))
def test_every_form_accepts_realistic_data_and_names_each_missing_field(key):
    assert field_errors(form(key), VALID[key]) == {}
    assert field_errors(form(key), {}) == {name: "This field is required." for name in form(key)["required"]}


@pytest.mark.parametrize("key, changes, errors", REFUSED, ids=[f"{k}-{'-'.join(c)}" for k, c, _ in REFUSED])
def test_every_form_refuses_out_of_range_and_wrongly_typed_data_per_field(key, changes, errors):
    assert field_errors(form(key), {**VALID[key], **changes}) == errors


@pytest.mark.parametrize("key, data, needed", CONDITIONALLY_REQUIRED)
def test_sending_back_asking_for_changes_or_declining_needs_comments(key, data, needed):
    assert field_errors(form(key), data) == {needed: "This field is required."}


def test_what_a_form_shows_read_only_cannot_be_changed_by_a_submission(world, endorsement):
    instance = start(world, HAITI_PROPOSAL)
    complete(world, EFP, instance.id, {"completeness_decision": "complete", "budget_usd": 1, "title": "Changed"})
    assert view(world, instance.id).data["budget_usd"] == HAITI_PROPOSAL["budget_usd"]
    assert view(world, instance.id).data["title"] == HAITI_PROPOSAL["title"]
