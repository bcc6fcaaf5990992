"""The CERF application (workflows/bpmn/cerf_application.bpmn and its pre-check table cerf_precheck.dmn), path
by path through the engine API, acting as the people of the offices concerned; the countersignature reminder
is tested by moving the clock, never by sleeping. Every figure, code and name is INVENTED (domain.md, section 8;
tests/processes/scenarios_cerf.py)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree
from sqlalchemy import select

from engine.bpmn.parser import DoeflowParser
from engine.bpmn.scripting import make_script_engine
from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.messaging import delivery as messages
from engine.modeling import publishing
from engine.store.models import Message
from engine.work import instances, tasks
from forms.validation import field_errors
from tests.processes.conftest import (  # noqa: I001
    FORMS,
    WORKFLOWS,
    complete,
    form,
    only_task,
    open_tasks,
    proposal_on_record,
    tick_at,
    titles,
)
from tests.processes.scenarios_cerf import CERF_FAILURES, CERF_SCENARIOS, HAITI_RR, HONDURAS_UFE

PROCESS = "cerf_application"
DIAGRAM = WORKFLOWS / "cerf_application.bpmn"
PRECHECK = WORKFLOWS / "cerf_precheck.dmn"
ENDORSEMENT_FILES = [WORKFLOWS / "endorsement.bpmn", WORKFLOWS / "endorsement_routing.dmn"]
STUBS = Path(__file__).resolve().parent / "diagrams"
EPPE_STUB = STUBS / "eppe_endorsed_for_cerf_stub.bpmn"
MEFM_STUB = STUBS / "mefm_awaiting_cerf_stub.bpmn"

EFP = "emergency-focal-point@ro-americas.demo"
SPECIALIST = "thematic-specialist@ro-americas.demo"
DONOR_RELATIONS = "donor-relations@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
PRD = "prd@hq.demo"
FINANCE = "finance@hq.demo"
FORM_KEYS = {
    "cerf_call",
    "cerf_call_details",
    "cerf_agree_share",
    "cerf_draft",
    "cerf_not_endorsed",
    "cerf_submission",
    "cerf_secretariat_review",
    "cerf_resubmission",
    "cerf_erc_decision",
    "cerf_countersignature",
    "cerf_disbursement",
}
AGREE = "Agree the sector and the IOM share"
DRAFT = "Draft the CERF project proposal"
SCREEN = "Screen the submission for completeness"
SUBMIT = "Submit through the RC/HC office"
SECRETARIAT = "Record the secretariat's review"
RESUBMIT = "Revise and resubmit"
ERC = "Record the ERC decision"
COUNTERSIGN = "Countersign the approval letter"
DISBURSEMENT = "Record the disbursement"
NOT_ENDORSED = "Revise or withdraw the proposal"
OWN_TASKS = {AGREE, DRAFT, SUBMIT, SECRETARIAT, RESUBMIT, ERC, COUNTERSIGN, DISBURSEMENT, NOT_ENDORSED}


def chief_of_mission(office: str) -> str:
    return f"chief-of-mission@{office.lower()}.demo"


def project_developer(office: str) -> str:
    return f"project-developer@{office.lower()}.demo"


@pytest.fixture
def cerf(world) -> int:
    """The CERF application with the endorsement it calls and both tables, published with the real forms
    (only these files, so other processes still being built cannot break these tests): its version."""
    files = {path.name: path.read_bytes() for path in [DIAGRAM, PRECHECK, *ENDORSEMENT_FILES]}
    published = {p.process_id: p for p in publishing.publish(world.uow(), files, forms_dir=str(FORMS))}
    assert published[PROCESS].warnings == []
    return published[PROCESS].version


@pytest.fixture
def stubs(world, cerf) -> None:
    """Stand-ins for the other side of the two messages: an endorsed EPPE throwing EPPEEndorsedForCERF,
    and an MEFM advance waiting for CERFDisbursed (correlated on eppe_reference)."""
    files = {path.name: path.read_bytes() for path in (EPPE_STUB, MEFM_STUB)}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))


def view(world, instance_id: int, who: str = PRD):
    return instances.get_instance(world.uow(), world.user(who), instance_id)


def where(task) -> tuple:
    return task.title, task.lane, task.office, task.form_key


def message_rows(world) -> list[tuple]:
    with world.db.unit_of_work(write=False) as uow:
        return [
            (m.name, m.state, m.source_instance_id, m.target_instance_id, m.payload)
            for m in uow.session.scalars(select(Message).order_by(Message.id))
        ]


# --- getting through the steps ---------------------------------------------------------------------


def open_call(world, scenario: dict, **changes):
    office = scenario["office"]
    data = {**scenario["cerf_call"], **changes}
    proposal_on_record(world, office, data.get("eppe_reference"))  # the call names one of the office's EPPEs
    return instances.start_instance(world.uow(), world.user(chief_of_mission(office)), PROCESS, office, data)


def drafted(world, scenario: dict, draft: dict | None = None, share: dict | None = None, **call_changes):
    """Opened by hand, the share agreed and the proposal drafted: returns the instance after the pre-check."""
    office = scenario["office"]
    instance = open_call(world, scenario, **call_changes)
    complete(world, chief_of_mission(office), instance.id, share or scenario["cerf_agree_share"])
    return complete(world, project_developer(office), instance.id, draft or scenario["cerf_draft"])


def endorse(world, instance_id: int, *, regional: dict | None = None):
    """The endorsement process the application calls: screened complete, then the rest (`endorse_rest`)."""
    complete(world, EFP, instance_id, {"completeness_decision": "complete"})
    return endorse_rest(world, instance_id, regional=regional)


def endorse_rest(world, instance_id: int, *, regional: dict | None = None):
    """Every review the routing opened, cleared; the Regional Director endorses (or does what `regional` says)
    and, when the routing asks for it (a CERF proposal), PRD endorses at headquarters."""
    for who, data in (
        (EFP, {"technical_decision": "cleared"}),
        (SPECIALIST, {"thematic_decision": "cleared"}),
        (DONOR_RELATIONS, {"donor_relations_decision": "cleared"}),
    ):
        if open_tasks(world, who, instance_id):
            complete(world, who, instance_id, data)
    after = complete(
        world, DIRECTOR, instance_id, regional or {"regional_decision": "endorse", "regional_comments": "Endorsed."}
    )
    if [t.title for t in after.tasks] == ["Endorse at headquarters"]:
        after = complete(world, PRD, instance_id, {"hq_decision": "endorse", "hq_comments": "CERF focal point agrees."})
    return after


def submitted(world, scenario: dict):
    """Drafted, endorsed and submitted through the RC/HC office: the secretariat's review is open."""
    instance = drafted(world, scenario)
    endorse(world, instance.id)
    complete(world, chief_of_mission(scenario["office"]), instance.id, scenario["cerf_submission"])
    return instance


def approved(world, scenario: dict):
    """Cleared by the secretariat and approved by the ERC: the countersignature is open."""
    instance = submitted(world, scenario)
    complete(world, project_developer(scenario["office"]), instance.id, scenario["cerf_secretariat_cleared"])
    complete(world, PRD, instance.id, scenario["cerf_erc_decision"])
    return instance


# --- the paths -------------------------------------------------------------------------------------


def test_honduras_ufe_round_goes_from_the_call_to_the_disbursement(world, cerf, mailbox):
    s, com, pd = HONDURAS_UFE, chief_of_mission("HND"), project_developer("HND")
    instance = open_call(world, s)
    assert (instance.status, instance.office, instance.title) == ("running", "HND", s["cerf_call"]["title"])
    agree = only_task(world, com, instance.id)
    assert where(agree) == (AGREE, "Chief of Mission", "HND", "cerf_agree_share")
    assert agree.due_at is None
    assert mailbox() == [(com, "Task assigned")]

    complete(world, com, instance.id, s["cerf_agree_share"])
    draft = only_task(world, pd, instance.id)
    assert where(draft) == (DRAFT, "Project Developer", "HND", "cerf_draft")
    checked = tasks.complete_task(world.uow(), world.user(pd), draft.id, s["cerf_draft"])
    assert {k: checked.data[k] for k in s["figures"]} == s["figures"]
    assert (checked.data["precheck_passed"], checked.data["precheck_reason"]) == (
        True,
        "The draft meets the CERF pre-check.",
    )
    # What the endorsement process reads from its caller.
    assert {k: checked.data[k] for k in ("title", "document_type", "donor", "multi_country", "budget_usd")} == {
        "title": s["cerf_draft"]["project_title"],
        "document_type": "cerf_proposal",
        "donor": "cerf",
        "multi_country": False,
        "budget_usd": 599_200,
    }
    screen = only_task(world, EFP, instance.id)
    assert (screen.title, screen.process_id, screen.office) == (SCREEN, PROCESS, "HND")
    mailbox()

    # Protection → Thematic Specialist; CERF → Donor Relations and PRD at headquarters.
    complete(world, EFP, instance.id, {"completeness_decision": "complete"})
    assert titles(view(world, instance.id)) == sorted(
        ["Review the technical and emergency aspects", "Review the thematic aspects", "Review donor compliance"]
    )
    endorsed = endorse_rest(world, instance.id)
    assert endorsed.data["endorsed"] is True
    assert endorsed.data["endorsement_comments"] == "Regional Director: Endorsed. | PRD: CERF focal point agrees."
    submit = only_task(world, com, instance.id)
    assert where(submit) == (SUBMIT, "Chief of Mission", "HND", "cerf_submission")

    complete(world, com, instance.id, s["cerf_submission"])
    review = only_task(world, pd, instance.id)
    assert where(review) == (SECRETARIAT, "Project Developer", "HND", "cerf_secretariat_review")
    complete(world, pd, instance.id, s["cerf_secretariat_cleared"])
    erc = only_task(world, PRD, instance.id)
    assert where(erc) == (ERC, "PRD", "HND", "cerf_erc_decision")

    world.clock.advance(hours=2)
    approval_recorded = world.clock.now()
    complete(world, PRD, instance.id, s["cerf_erc_decision"])
    countersign = only_task(world, PRD, instance.id)
    assert where(countersign) == (COUNTERSIGN, "PRD", "HND", "cerf_countersignature")
    assert countersign.due_at == approval_recorded + timedelta(hours=48)  # the reminder is its only clock

    world.clock.advance(hours=20)
    complete(world, PRD, instance.id, s["cerf_countersignature"])
    disbursement = only_task(world, FINANCE, instance.id)
    assert where(disbursement) == (DISBURSEMENT, "Finance", "HND", "cerf_disbursement")
    mailbox()
    done = complete(world, FINANCE, instance.id, s["cerf_disbursement"])
    assert done.status == "completed" and done.tasks == [] and not done.sla_breached
    assert done.data["cerf_project_code"] == "25-UF-IOM-007" and done.data["bridge_requested"] is False
    assert [e.kind for e in done.events if e.kind == "message_sent"] == []  # no MEFM advance to repay
    assert message_rows(world) == []
    assert tick_at(world, approval_recorded + timedelta(hours=100)).fired == 0  # countersigned in time
    assert mailbox() == []  # no reminder
    assert [(e.title, e.outcome) for e in done.events if e.kind == "completed_task" and e.title in OWN_TASKS] == [
        (AGREE, "agreed"),
        (DRAFT, None),
        (SUBMIT, None),
        (SECRETARIAT, "cleared"),
        (ERC, "approved"),
        (COUNTERSIGN, None),
        (DISBURSEMENT, None),
    ]


def test_haiti_rr_opened_by_the_endorsed_eppe_answers_the_secretariat_and_tells_mefm_of_the_disbursement(
    world, stubs, mailbox
):
    s, com, pd = HAITI_RR, chief_of_mission("HTI"), project_developer("HTI")
    eppe = {k: v for k, v in s["eppe_message"].items() if k != "office"}
    thrower = instances.start_instance(world.uow(), world.user(pd), "eppe_cerf_stub", "HTI", eppe)
    assert thrower.status == "completed"
    [(name, state, source, target, payload)] = message_rows(world)
    assert (name, state, source, payload) == ("EPPEEndorsedForCERF", "delivered", thrower.id, s["eppe_message"])

    started = view(world, target)
    assert (started.process_id, started.office, started.title) == (PROCESS, "HTI", s["eppe_message"]["title"])
    assert started.events[0].outcome == "message EPPEEndorsedForCERF"
    assert {k: started.data[k] for k in s["eppe_message"]} == s["eppe_message"]
    record = only_task(world, com, target)
    assert where(record) == ("Record the call for proposals", "Chief of Mission", "HTI", "cerf_call_details")
    assert mailbox() == [(com, "Task assigned")]

    recorded = complete(world, com, target, s["cerf_call_details"])
    # The EPPE's own figures are kept: the CERF proposal gets its own budget, people and sectors below.
    assert (recorded.data["eppe_budget_usd"], recorded.data["eppe_people_targeted"], recorded.data["eppe_sectors"]) == (
        3_424_000,
        46_000,
        ["shelter_nfi", "cccm", "protection"],
    )
    assert (recorded.data["cerf_window"], recorded.data["envelope_usd"]) == ("rr", 6_000_000)
    assert where(only_task(world, com, target))[:2] == (AGREE, "Chief of Mission")
    complete(world, com, target, s["cerf_agree_share"])
    checked = complete(world, pd, target, s["cerf_draft"])
    assert {k: checked.data[k] for k in s["figures"]} == s["figures"]
    assert checked.data["precheck_passed"] is True
    endorsed = endorse(world, target)
    assert endorsed.data["endorsed"] is True
    complete(world, com, target, s["cerf_submission"])

    # The secretariat comments: revised and resubmitted, then cleared.
    mailbox()
    commented = complete(world, pd, target, s["cerf_secretariat_comments"])
    resubmit = only_task(world, pd, target)
    assert where(resubmit) == (RESUBMIT, "Project Developer", "HTI", "cerf_resubmission")
    assert commented.data["secretariat_comments"].startswith("Justify the unit cost")
    assert mailbox() == [(com, "Returned for revision"), (pd, "Returned for revision")]
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(pd), resubmit.id, {"revision_summary": "Done."})
    assert refused.value.fields == {
        "revision_summary": "Must be at least 10 characters.",
        "resubmission_date": "This field is required.",
    }
    complete(world, pd, target, s["cerf_resubmission"])
    assert where(only_task(world, pd, target))[:2] == (SECRETARIAT, "Project Developer")
    complete(world, pd, target, s["cerf_secretariat_cleared"])
    complete(world, PRD, target, s["cerf_erc_decision"])
    complete(world, PRD, target, s["cerf_countersignature"])
    done = complete(world, FINANCE, target, s["cerf_disbursement"])
    assert done.status == "completed"
    assert [e.outcome for e in done.events if e.kind == "completed_task" and e.title == SECRETARIAT] == [
        "comments_received",
        "cleared",
    ]

    # CERFDisbursed carries exactly what the MEFM side reads; nobody waits for it yet, so it is kept.
    repayment = {
        "eppe_reference": "EPPE-HTI-2025-014",
        "office": "HTI",
        "disbursed_amount_usd": 1_199_470,
        "cerf_project_code": "25-RR-IOM-031",
        "disbursement_date": "2025-09-29",
    }
    assert [(e.outcome, e.data) for e in done.events if e.kind == "message_sent"] == [("CERFDisbursed", repayment)]
    assert message_rows(world)[1] == ("CERFDisbursed", "unmatched", target, None, repayment)
    [kept] = messages.undelivered(world.db.unit_of_work())
    assert (kept.name, kept.state, kept.payload) == ("CERFDisbursed", "unmatched", repayment)

    # The MEFM advance that waits for this EPPE's CERF funds takes it as soon as it appears.
    advance = instances.start_instance(
        world.uow(), world.user(FINANCE), "mefm_cerf_stub", "HTI", {"eppe_reference": "EPPE-HTI-2025-014"}
    )
    assert message_rows(world)[1][:4] == ("CERFDisbursed", "delivered", target, advance.id)
    repaid = view(world, advance.id)
    assert repaid.status == "completed" and {k: repaid.data[k] for k in repayment} == repayment
    assert messages.undelivered(world.db.unit_of_work()) == []


def test_cerf_disbursed_reaches_only_the_mefm_advance_of_the_same_eppe(world, stubs):
    """An application opened by hand with an MEFM advance to repay (its start form names the EPPE)."""
    waiting = {
        ref: instances.start_instance(
            world.uow(), world.user(FINANCE), "mefm_cerf_stub", "HTI", {"eppe_reference": ref}
        ).id
        for ref in ("EPPE-HTI-2025-014", "EPPE-HTI-2025-015")
    }
    instance = approved(world, HAITI_RR)
    complete(world, PRD, instance.id, HAITI_RR["cerf_countersignature"])
    done = complete(world, FINANCE, instance.id, HAITI_RR["cerf_disbursement"])
    assert done.status == "completed" and done.data["eppe_reference"] == "EPPE-HTI-2025-014"
    [(name, state, source, target, payload)] = message_rows(world)
    assert (name, state, source, target) == ("CERFDisbursed", "delivered", instance.id, waiting["EPPE-HTI-2025-014"])
    assert payload["cerf_project_code"] == "25-RR-IOM-031"
    assert view(world, waiting["EPPE-HTI-2025-014"]).status == "completed"
    assert view(world, waiting["EPPE-HTI-2025-015"]).status == "running"  # another EPPE's advance still waits


def test_a_draft_the_precheck_refuses_goes_back_with_the_reason_until_it_passes(world, cerf, mailbox):
    s, pd = HAITI_RR, project_developer("HTI")
    refused = drafted(world, s, draft=CERF_FAILURES["rr_eight_months"], bridge_requested=False)
    assert (refused.data["precheck_passed"], refused.data["duration_months"]) == (False, 8)
    assert refused.data["precheck_reason"] == "Rapid Response projects run at most 6 months: shorten the project."
    redraft = only_task(world, pd, refused.id)
    assert where(redraft) == (DRAFT, "Project Developer", "HTI", "cerf_draft")
    assert open_tasks(world, EFP, refused.id) == []
    assert (pd, "Task assigned") in mailbox()

    second = complete(world, pd, refused.id, CERF_FAILURES["rr_early_start_50_days"])
    assert (second.data["precheck_passed"], second.data["early_start_days"]) == (False, 50)
    assert second.data["precheck_reason"].startswith("The project starts more than 6 weeks (42 days)")

    fixed = complete(world, pd, refused.id, s["cerf_draft"])
    assert fixed.data["precheck_passed"] is True and fixed.data["early_start_days"] == 15
    assert [t.title for t in fixed.tasks] == [SCREEN]
    assert [e.title for e in fixed.events if e.kind == "completed_task"].count(DRAFT) == 3


def test_a_proposal_not_endorsed_is_returned_for_revision_and_endorsed_the_second_time(world, cerf, mailbox):
    s, com, pd = HONDURAS_UFE, chief_of_mission("HND"), project_developer("HND")
    instance = drafted(world, s)
    declined = endorse(
        world,
        instance.id,
        regional={"regional_decision": "decline", "regional_comments": "Add the referral pathway for children."},
    )
    assert declined.data["endorsed"] is False
    decide = only_task(world, com, instance.id)
    assert where(decide) == (NOT_ENDORSED, "Chief of Mission", "HND", "cerf_not_endorsed")
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(com), decide.id, {"not_endorsed_decision": "return"})
    assert refused.value.fields == {"not_endorsed_comments": "This field is required."}
    mailbox()

    returned = complete(world, com, instance.id, CERF_FAILURES["not_endorsed_return"])
    assert [t.title for t in returned.tasks] == [DRAFT]
    assert returned.data["endorsement_comments"] == "Regional Director: Add the referral pathway for children."
    assert mailbox() == [(pd, "Returned for revision")]

    revised = {**s["cerf_draft"], "summary": s["cerf_draft"]["summary"] + " Children are referred to DINAF."}
    again = complete(world, pd, instance.id, revised)
    assert again.data["precheck_passed"] is True and [t.title for t in again.tasks] == [SCREEN]
    endorsed = endorse(world, instance.id)
    assert endorsed.data["endorsed"] is True and endorsed.data["summary"].endswith("DINAF.")
    assert where(only_task(world, com, instance.id))[:2] == (SUBMIT, "Chief of Mission")


def test_a_proposal_not_endorsed_can_be_withdrawn(world, cerf):
    s, com = HAITI_RR, chief_of_mission("HTI")
    instance = drafted(world, s)
    endorse(world, instance.id, regional={"regional_decision": "decline", "regional_comments": "ECHO covers it."})
    done = complete(world, com, instance.id, CERF_FAILURES["not_endorsed_withdraw"])
    assert done.status == "completed" and done.tasks == []
    assert done.data["not_endorsed_decision"] == "withdraw" and "disbursed_amount_usd" not in done.data
    assert message_rows(world) == []


def test_the_erc_not_approving_ends_the_application(world, cerf):
    s = HONDURAS_UFE
    instance = submitted(world, s)
    complete(world, project_developer("HND"), instance.id, s["cerf_secretariat_cleared"])
    erc = only_task(world, PRD, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(
            world.uow(), world.user(PRD), erc.id, {"erc_decision": "not_approved", "erc_decision_date": "2025-03-12"}
        )
    assert refused.value.fields == {"erc_comments": "This field is required."}
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(
            world.uow(), world.user(PRD), erc.id, {"erc_decision": "approved", "erc_decision_date": "2025-03-12"}
        )
    assert refused.value.fields == {"approved_amount_usd": "This field is required."}

    done = tasks.complete_task(world.uow(), world.user(PRD), erc.id, CERF_FAILURES["erc_not_approved"])
    assert done.status == "completed" and done.tasks == []
    assert open_tasks(world, FINANCE, instance.id) == []
    assert [e.outcome for e in done.events if e.kind == "completed_task"][-1] == "not_approved"


def test_no_share_for_iom_ends_the_application_before_anything_is_drafted(world, cerf):
    s, com = HONDURAS_UFE, chief_of_mission("HND")
    instance = open_call(world, s)
    agree = only_task(world, com, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(com), agree.id, {"share_decision": "agreed"})
    assert refused.value.fields == {
        "agreed_share_usd": "This field is required.",
        "sectors": "This field is required.",
        "agreement_date": "This field is required.",
    }
    done = tasks.complete_task(world.uow(), world.user(com), agree.id, CERF_FAILURES["no_share"])
    assert done.status == "completed" and done.tasks == []
    assert open_tasks(world, project_developer("HND"), instance.id) == []


# --- the countersignature reminder -----------------------------------------------------------------


def test_a_countersignature_still_open_after_48_hours_reminds_prd_and_the_chief_of_mission(world, cerf, mailbox):
    s, com = HAITI_RR, chief_of_mission("HTI")
    approval_recorded = world.clock.now()
    instance = approved(world, s)
    countersign = only_task(world, PRD, instance.id)
    assert countersign.due_at == approval_recorded + timedelta(hours=48)
    mailbox()

    assert tick_at(world, approval_recorded + timedelta(hours=47, minutes=59)).fired == 0
    assert mailbox() == []
    assert tick_at(world, approval_recorded + timedelta(hours=48, seconds=1)).fired == 1
    assert mailbox() == [(com, "Reminder"), (PRD, "Reminder")]
    reminded = view(world, instance.id)
    assert [t.id for t in reminded.tasks] == [countersign.id]  # still PRD's to countersign
    assert not reminded.sla_breached  # a reminder, not an escalation
    assert [e.data["element_id"] for e in reminded.events if e.kind == "timer_fired"] == ["remind_countersign"]
    assert tick_at(world, approval_recorded + timedelta(hours=96, seconds=2)).fired == 0  # it reminds once
    assert mailbox() == []

    complete(world, PRD, instance.id, s["cerf_countersignature"])
    done = complete(world, FINANCE, instance.id, s["cerf_disbursement"])
    assert done.status == "completed" and not done.sla_breached
    # Opened by hand with an MEFM advance to repay: CERFDisbursed goes out (unmatched: nobody waits).
    [(name, state, *_)] = message_rows(world)
    assert (name, state) == ("CERFDisbursed", "unmatched")


# --- offices and roles -----------------------------------------------------------------------------


def test_people_of_another_office_or_role_are_refused(world, cerf):
    s = HONDURAS_UFE
    with pytest.raises(NotFound):
        instances.start_instance(world.uow(), world.user(chief_of_mission("GTM")), PROCESS, "HND", s["cerf_call"])
    for who in (project_developer("HND"), EFP, PRD):
        with pytest.raises(PermissionDenied):
            instances.start_instance(world.uow(), world.user(who), PROCESS, "HND", s["cerf_call"])

    instance = open_call(world, s)
    agree = only_task(world, chief_of_mission("HND"), instance.id)
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("GTM")), agree.id, s["cerf_agree_share"])
    with pytest.raises(NotFound):
        view(world, instance.id, who=chief_of_mission("GTM"))
    for who in (project_developer("HND"), DIRECTOR):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), agree.id, s["cerf_agree_share"])
    tasks.complete_task(world.uow(), world.user(chief_of_mission("HND")), agree.id, s["cerf_agree_share"])

    draft = only_task(world, project_developer("HND"), instance.id)
    assert open_tasks(world, project_developer("GTM"), instance.id) == []
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), world.user(project_developer("GTM")), draft.id, s["cerf_draft"])
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), world.user(chief_of_mission("HND")), draft.id, s["cerf_draft"])
    tasks.complete_task(world.uow(), world.user(project_developer("HND")), draft.id, s["cerf_draft"])
    endorse(world, instance.id)
    complete(world, chief_of_mission("HND"), instance.id, s["cerf_submission"])
    complete(world, project_developer("HND"), instance.id, s["cerf_secretariat_cleared"])

    erc = only_task(world, PRD, instance.id)
    for who in (FINANCE, DIRECTOR, chief_of_mission("HND")):
        with pytest.raises(PermissionDenied):
            tasks.complete_task(world.uow(), world.user(who), erc.id, s["cerf_erc_decision"])
    complete(world, PRD, instance.id, s["cerf_erc_decision"])
    complete(world, PRD, instance.id, s["cerf_countersignature"])
    disbursement = only_task(world, FINANCE, instance.id)
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), world.user(PRD), disbursement.id, s["cerf_disbursement"])
    assert [t.id for t in view(world, instance.id).tasks] == [disbursement.id]


def test_a_message_naming_no_known_office_starts_nothing_and_is_kept(world, cerf):
    with world.db.unit_of_work(world.clock) as uow:
        uow.session.add(
            Message(
                name="EPPEEndorsedForCERF",
                payload={**HAITI_RR["eppe_message"], "office": "XYZ"},
                state="pending",
                created_at=uow.now(),
            )
        )
        uow.commit()
    assert messages.deliver_pending(world.db, world.clock) == messages.DeliveryResult(unmatched=1)
    [kept] = messages.undelivered(world.db.unit_of_work())
    assert kept.state == "unmatched" and "names no office" in kept.last_error

    with world.db.unit_of_work(world.clock) as uow:
        uow.session.add(
            Message(
                name="EPPEEndorsedForCERF",
                payload=HONDURAS_UFE["eppe_message"],
                state="pending",
                created_at=uow.now(),
            )
        )
        uow.commit()
    assert messages.deliver_pending(world.db, world.clock) == messages.DeliveryResult(started=1)
    [(_, _, _, _, _), (_, state, _, target, _)] = message_rows(world)
    started = view(world, target, who=chief_of_mission("HND"))
    assert (state, started.process_id, started.office, started.started_by_id) == ("delivered", PROCESS, "HND", None)
    assert [where(t) for t in started.tasks] == [
        ("Record the call for proposals", "Chief of Mission", "HND", "cerf_call_details")
    ]


# --- the pre-check table (cerf_precheck.dmn) ---------------------------------------------------------

DISBURSEMENT_DAY = date(2025, 9, 29)


def before_disbursement(days: int) -> str:
    return (DISBURSEMENT_DAY - timedelta(days=days)).isoformat()


BASE = {"cerf_window": "rr", "duration_months": 6, "early_start_days": 15, "budget_usd": 1_000_000}
SHARE = 1_200_000


def precheck(**changes) -> tuple[bool, str]:
    """(precheck_passed, precheck_reason) as the table answers, evaluated by SpiffWorkflow's DMN engine alone
    with the engine's restricted evaluator."""
    parser = DoeflowParser()
    parser.add_dmn_file(str(PRECHECK))
    table = parser.get_engine("cerf_precheck", None)
    data = {**BASE, "agreed_share_usd": SHARE, **changes}
    task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=make_script_engine()))
    result = table.result(task)
    return result["precheck_passed"], result["precheck_reason"]


RR_TOO_LONG = "Rapid Response projects run at most 6 months: shorten the project."
UFE_TOO_LONG = "Underfunded Emergencies projects run at most 9 months: shorten the project."
TOO_EARLY = (
    "The project starts more than 6 weeks (42 days) before the expected disbursement: move the start date later."
)
ABOVE_SHARE = "The total requested is above the IOM share agreed with the RC/HC office: reduce the budget."
PASSED = "The draft meets the CERF pre-check."

# Just below, at and just above each limit (invented placeholders, domain.md D4).
BOUNDARIES = [
    ({"duration_months": 5}, (True, PASSED)),
    ({"duration_months": 6}, (True, PASSED)),
    ({"duration_months": 7}, (False, RR_TOO_LONG)),
    ({"cerf_window": "ufe", "duration_months": 8}, (True, PASSED)),
    ({"cerf_window": "ufe", "duration_months": 9}, (True, PASSED)),
    ({"cerf_window": "ufe", "duration_months": 10}, (False, UFE_TOO_LONG)),
    ({"early_start_days": 41}, (True, PASSED)),
    ({"early_start_days": 42}, (True, PASSED)),
    ({"early_start_days": 43}, (False, TOO_EARLY)),
    ({"early_start_days": -30}, (True, PASSED)),  # starts a month after the disbursement
    ({"budget_usd": SHARE - 0.01}, (True, PASSED)),
    ({"budget_usd": SHARE}, (True, PASSED)),
    ({"budget_usd": SHARE + 0.01}, (False, ABOVE_SHARE)),
]


@pytest.mark.parametrize("changes, expected", BOUNDARIES, ids=[str(c) for c, _ in BOUNDARIES])
def test_the_precheck_table_just_below_at_and_just_above_each_limit(changes, expected):
    assert precheck(**changes) == expected


@pytest.mark.parametrize(
    "changes, expected",
    [
        # The early start is checked for Rapid Response only (the template asks it for RR only).
        ({"cerf_window": "ufe", "early_start_days": 43}, (True, PASSED)),
        # An RR project may run 7 to 9 months only as UFE, and 10 months never.
        ({"cerf_window": "ufe", "duration_months": 7}, (True, PASSED)),
        # Several rules broken: the first in the table's order gives the reason.
        ({"duration_months": 8, "early_start_days": 50, "budget_usd": 2_000_000}, (False, RR_TOO_LONG)),
        ({"early_start_days": 50, "budget_usd": 2_000_000}, (False, TOO_EARLY)),
        ({"cerf_window": "ufe", "duration_months": 12, "budget_usd": 2_000_000}, (False, UFE_TOO_LONG)),
    ],
)
def test_the_precheck_table_applies_each_rule_to_its_window_and_gives_the_first_reason(changes, expected):
    assert precheck(**changes) == expected


# The same limits through the engine: the drafted dates and budget lines, not the figures, go in.
ENGINE_BOUNDARIES = [
    ("rr", {"duration_months": 5}, True),
    ("rr", {"duration_months": 6}, True),
    ("rr", {"duration_months": 7}, False),
    ("ufe", {"duration_months": 8}, True),
    ("ufe", {"duration_months": 9}, True),
    ("ufe", {"duration_months": 10}, False),
    ("rr", {"project_start_date": before_disbursement(41)}, True),
    ("rr", {"project_start_date": before_disbursement(42)}, True),
    ("rr", {"project_start_date": before_disbursement(43)}, False),
    ("ufe", {"project_start_date": before_disbursement(43)}, True),
    # 1,121,495.32 direct + 7 % = 1,199,999.99; .33 gives 1,200,000.00, the agreed share; .34 gives a cent more.
    ("rr", {"budget_lines": [{"category": "supplies", "description": "NFI kits", "amount_usd": 1_121_495.32}]}, True),
    ("rr", {"budget_lines": [{"category": "supplies", "description": "NFI kits", "amount_usd": 1_121_495.33}]}, True),
    ("rr", {"budget_lines": [{"category": "supplies", "description": "NFI kits", "amount_usd": 1_121_495.34}]}, False),
]
ENGINE_IDS = [
    f"{window}-" + "-".join(str(v["budget_lines"][0]["amount_usd"] if k == "budget_lines" else v[k]) for k in v)
    for window, v, _ in ENGINE_BOUNDARIES
]


@pytest.mark.parametrize("window, changes, passed", ENGINE_BOUNDARIES, ids=ENGINE_IDS)
def test_the_precheck_limits_through_the_engine(world, cerf, window, changes, passed):
    draft = {**HAITI_RR["cerf_draft"], "disbursement_expected_date": DISBURSEMENT_DAY.isoformat(), **changes}
    checked = drafted(world, HAITI_RR, draft=draft, cerf_window=window)
    assert checked.data["precheck_passed"] is passed
    assert [t.title for t in checked.tasks] == [SCREEN if passed else DRAFT]


def figures(draft: dict) -> dict:
    """What the script task work_out_figures computes, run from the diagram with the restricted evaluator."""
    script = etree.parse(str(DIAGRAM)).xpath(
        "//bpmn:scriptTask[@id='work_out_figures']/bpmn:script/text()", namespaces=NS
    )
    data = dict(draft)
    make_script_engine().environment.execute(script[0], data)
    return data


@pytest.mark.parametrize(
    "start, disbursement",
    [
        ("2025-09-14", "2025-09-29"),
        ("2024-02-28", "2024-03-01"),  # over a leap day
        ("2025-02-28", "2025-03-01"),
        ("2023-12-20", "2024-01-31"),  # over a new year
        ("1999-12-31", "2000-03-01"),  # a century leap year
        ("2100-02-28", "2100-03-01"),  # a century that is not
        ("2025-10-01", "2025-09-29"),  # after the disbursement: negative
    ],
)
def test_the_early_start_is_counted_in_calendar_days(start, disbursement):
    data = figures({**HAITI_RR["cerf_draft"], "project_start_date": start, "disbursement_expected_date": disbursement})
    assert data["early_start_days"] == (date.fromisoformat(disbursement) - date.fromisoformat(start)).days
    assert "day_number" not in data  # the helper function is not kept in the task data


@pytest.mark.parametrize("scenario", sorted(CERF_SCENARIOS))
def test_the_budget_total_and_people_are_added_up_from_the_lines(scenario):
    s = CERF_SCENARIOS[scenario]
    data = figures(s["cerf_draft"])
    assert {k: data[k] for k in s["figures"]} == s["figures"]


# --- the diagram -----------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def test_the_lanes_are_the_four_roles():
    """Naming, drawing and lanes of every diagram are checked in test_hygiene.py."""
    tree = etree.parse(str(DIAGRAM))
    assert tree.xpath("//bpmn:lane/@name", namespaces=NS) == ["Chief of Mission", "Project Developer", "PRD", "Finance"]


def test_the_sequence_flows_run_left_to_right_except_the_loops_back():
    tree = etree.parse(str(DIAGRAM))
    loops = {"f_precheck_failed", "f_return_for_revision", "f_resubmitted", "f_comments"}
    for edge in tree.iterfind(".//bpmndi:BPMNEdge", NS):
        xs = [float(p.get("x")) for p in edge.findall("di:waypoint", NS)]
        if edge.get("bpmnElement") not in loops:
            assert xs == sorted(xs), edge.get("bpmnElement")


def test_the_countersignature_has_a_non_interrupting_48_hour_reminder_that_also_tells_the_chief_of_mission():
    tree = etree.parse(str(DIAGRAM))
    [timer] = tree.xpath("//bpmn:boundaryEvent", namespaces=NS)
    assert (timer.get("attachedToRef"), timer.get("cancelActivity")) == ("countersign", "false")
    assert timer.findtext(".//bpmn:timeDuration", namespaces=NS).strip() == "PT48H"
    notify = timer.xpath(".//spiffworkflow:property[@name='notifyRoles']/@value", namespaces=NS)
    assert notify == ["Chief of Mission"]
    assert tree.xpath("//bpmn:lane[bpmn:flowNodeRef='countersign']/@name", namespaces=NS) == ["PRD"]
    assert tree.xpath("//bpmn:lane[bpmn:flowNodeRef='record_disbursement']/@name", namespaces=NS) == ["Finance"]


def test_the_messages_are_the_ones_the_eppe_and_mefm_processes_expect():
    tree = etree.parse(str(DIAGRAM))
    names = {m.get("id"): m.get("name") for m in tree.iterfind("bpmn:message", NS)}
    [start] = tree.xpath("//bpmn:startEvent[bpmn:messageEventDefinition]", namespaces=NS)
    assert names[start.find("bpmn:messageEventDefinition", NS).get("messageRef")] == "EPPEEndorsedForCERF"
    [throw] = tree.xpath("//bpmn:endEvent[bpmn:messageEventDefinition]", namespaces=NS)
    definition = throw.find("bpmn:messageEventDefinition", NS)
    assert names[definition.get("messageRef")] == "CERFDisbursed"
    payload = definition.findtext(".//spiffworkflow:messagePayload", namespaces=NS)
    assert payload == (
        "{'eppe_reference': eppe_reference, 'office': office, 'disbursed_amount_usd': disbursed_amount_usd, "
        "'cerf_project_code': cerf_project_code, 'disbursement_date': disbursement_date}"
    )
    [call] = tree.xpath("//bpmn:callActivity", namespaces=NS)
    assert call.get("calledElement") == "endorsement"


def test_no_limit_of_the_precheck_is_written_in_the_diagram():
    """The limits live only in cerf_precheck.dmn: no condition holds a number, no script reads the duration or
    the window or names the 42 days."""
    tree = etree.parse(str(DIAGRAM))
    for condition in tree.xpath("//bpmn:conditionExpression/text()", namespaces=NS):
        assert not any(c.isdigit() for c in condition), condition
    for script in tree.xpath("//bpmn:script/text()", namespaces=NS):
        assert "duration_months" not in script and "cerf_window" not in script and "42" not in script


# --- the forms -------------------------------------------------------------------------------------


def test_the_diagram_names_exactly_the_cerf_forms():
    named = set(etree.parse(str(DIAGRAM)).xpath("//*[local-name()='property'][@name='formKey']/@value"))
    assert named == FORM_KEYS == {p.stem for p in FORMS.glob("cerf_*.json")}


def test_the_decision_fields_offer_exactly_what_the_gateways_read():
    conditions = " ".join(etree.parse(str(DIAGRAM)).xpath("//bpmn:conditionExpression/text()", namespaces=NS))
    for key, field, values in [
        ("cerf_agree_share", "share_decision", ["agreed", "no_share"]),
        ("cerf_not_endorsed", "not_endorsed_decision", ["return", "withdraw"]),
        ("cerf_secretariat_review", "secretariat_decision", ["comments_received", "cleared"]),
        ("cerf_erc_decision", "erc_decision", ["approved", "not_approved"]),
    ]:
        assert form(key)["properties"][field]["enum"] == values
        assert f"{field} == '{values[0]}'" in conditions  # the other value takes the gateway's default flow
    assert form("cerf_call")["properties"]["bridge_requested"]["type"] == "boolean"


SUBMISSIONS = [
    (key, s["scenario"], s[source])
    for s in CERF_SCENARIOS.values()
    for key, source in [
        ("cerf_call", "cerf_call"),
        ("cerf_call_details", "cerf_call_details"),
        ("cerf_agree_share", "cerf_agree_share"),
        ("cerf_draft", "cerf_draft"),
        ("cerf_submission", "cerf_submission"),
        ("cerf_secretariat_review", "cerf_secretariat_comments"),
        ("cerf_secretariat_review", "cerf_secretariat_cleared"),
        ("cerf_resubmission", "cerf_resubmission"),
        ("cerf_erc_decision", "cerf_erc_decision"),
        ("cerf_countersignature", "cerf_countersignature"),
        ("cerf_disbursement", "cerf_disbursement"),
    ]
    if source in s
] + [
    ("cerf_agree_share", "E", CERF_FAILURES["no_share"]),
    ("cerf_not_endorsed", "E", CERF_FAILURES["not_endorsed_return"]),
    ("cerf_not_endorsed", "E", CERF_FAILURES["not_endorsed_withdraw"]),
    ("cerf_erc_decision", "E", CERF_FAILURES["erc_not_approved"]),
    ("cerf_draft", "E", CERF_FAILURES["rr_eight_months"]),
    ("cerf_draft", "E", CERF_FAILURES["rr_early_start_50_days"]),
]


@pytest.mark.parametrize("key, scenario, data", SUBMISSIONS, ids=[f"{k}-{s}" for k, s, _ in SUBMISSIONS])
def test_every_form_accepts_the_scenario_data(key, scenario, data):
    assert field_errors(form(key), data) == {}


@pytest.mark.parametrize("key", sorted(FORM_KEYS))
def test_every_form_names_each_missing_required_field(key):
    assert field_errors(form(key), {}) == {name: "This field is required." for name in form(key)["required"]}


VALID = {
    "cerf_call": HAITI_RR["cerf_call"],
    "cerf_call_details": HAITI_RR["cerf_call_details"],
    "cerf_agree_share": HAITI_RR["cerf_agree_share"],
    "cerf_draft": HAITI_RR["cerf_draft"],
    "cerf_not_endorsed": CERF_FAILURES["not_endorsed_return"],
    "cerf_submission": HAITI_RR["cerf_submission"],
    "cerf_secretariat_review": HAITI_RR["cerf_secretariat_comments"],
    "cerf_resubmission": HAITI_RR["cerf_resubmission"],
    "cerf_erc_decision": HAITI_RR["cerf_erc_decision"],
    "cerf_countersignature": HAITI_RR["cerf_countersignature"],
    "cerf_disbursement": HAITI_RR["cerf_disbursement"],
}
LINE = HAITI_RR["cerf_draft"]["budget_lines"][0]
GROUP = HAITI_RR["cerf_draft"]["beneficiaries"][0]
REFUSED = [  # (form key, changes to the valid data, per-field messages)
    ("cerf_call", {"cerf_window": "loan"}, {"cerf_window": "Choose one of: rr, ufe."}),
    ("cerf_call", {"envelope_usd": 9_999}, {"envelope_usd": "Must be at least 10000."}),
    ("cerf_call", {"envelope_usd": 100_000_001}, {"envelope_usd": "Must be at most 100000000."}),
    ("cerf_call", {"envelope_usd": "6 million"}, {"envelope_usd": "Must be a number."}),
    ("cerf_call", {"indicative_share_usd": 999}, {"indicative_share_usd": "Must be at least 1000."}),
    ("cerf_call", {"deadline_date": "20/09/2025"}, {"deadline_date": "Must be a valid date."}),
    ("cerf_call", {"deadline_date": "2025-02-30"}, {"deadline_date": "Must be a valid date."}),
    ("cerf_call", {"emergency_level": "L4"}, {"emergency_level": "Choose one of: L1, L2, L3."}),
    ("cerf_call", {"bridge_requested": "yes"}, {"bridge_requested": "Must be yes or no."}),
    ("cerf_call", {"title": "RR"}, {"title": "Must be at least 5 characters."}),
    (
        "cerf_call",
        {"typename": "x"},
        {"typename": "'typename' is a reserved name and cannot be used as a field", "": "Unexpected field: 'typename'"},
    ),
    ("cerf_call_details", {"envelope_usd": -1}, {"envelope_usd": "Must be at least 10000."}),
    ("cerf_call_details", {"cerf_window": None}, {"cerf_window": "Must be text."}),
    ("cerf_agree_share", {"agreed_share_usd": 30_000_001}, {"agreed_share_usd": "Must be at most 30000000."}),
    ("cerf_agree_share", {"sectors": []}, {"sectors": "Give at least 1."}),
    ("cerf_agree_share", {"sectors": "shelter_nfi"}, {"sectors": "Must be a list."}),
    ("cerf_agree_share", {"share_decision": "maybe"}, {"share_decision": "Choose one of: agreed, no_share."}),
    ("cerf_agree_share", {"agreement_date": "yesterday"}, {"agreement_date": "Must be a valid date."}),
    ("cerf_draft", {"duration_months": 0}, {"duration_months": "Must be at least 1."}),
    ("cerf_draft", {"duration_months": 25}, {"duration_months": "Must be at most 24."}),
    ("cerf_draft", {"duration_months": 6.5}, {"duration_months": "Must be a whole number."}),
    ("cerf_draft", {"project_start_date": "2025-13-01"}, {"project_start_date": "Must be a valid date."}),
    ("cerf_draft", {"disbursement_expected_date": 20250929}, {"disbursement_expected_date": "Must be text."}),
    ("cerf_draft", {"psc_rate_percent": 7.5}, {"psc_rate_percent": "Must be at most 7."}),
    ("cerf_draft", {"psc_rate_percent": -1}, {"psc_rate_percent": "Must be at least 0."}),
    ("cerf_draft", {"budget_lines": []}, {"budget_lines": "Give at least 1."}),
    ("cerf_draft", {"budget_lines": [{**LINE, "amount_usd": 0}]}, {"budget_lines.0.amount_usd": "Must be at least 1."}),
    (
        "cerf_draft",
        {"budget_lines": [{**LINE, "category": "psc"}]},
        {
            "budget_lines.0.category": "Choose one of: staff, supplies, equipment, contractual_services, travel, transfers_grants, general_operating."
        },
    ),
    (
        "cerf_draft",
        {"budget_lines": [{"category": "staff"}]},
        {
            "budget_lines.0.description": "This field is required.",
            "budget_lines.0.amount_usd": "This field is required.",
        },
    ),
    ("cerf_draft", {"beneficiaries": [{**GROUP, "people": -5}]}, {"beneficiaries.0.people": "Must be at least 0."}),
    (
        "cerf_draft",
        {"beneficiaries": [{**GROUP, "people": 10.5}]},
        {"beneficiaries.0.people": "Must be a whole number."},
    ),
    (
        "cerf_draft",
        {"beneficiaries": [{**GROUP, "sex": "women"}]},
        {"beneficiaries.0.sex": "Choose one of: female, male."},
    ),
    (
        "cerf_draft",
        {"beneficiaries": [{**GROUP, "age_group": "teen"}]},
        {"beneficiaries.0.age_group": "Choose one of: under_18, adults_18_59, older_60_plus."},
    ),
    ("cerf_draft", {"beneficiaries": [GROUP] * 7}, {"beneficiaries": "Give at most 6."}),
    ("cerf_draft", {"summary": "Shelter."}, {"summary": "Must be at least 20 characters."}),
    (
        "cerf_not_endorsed",
        {"not_endorsed_decision": "revise"},
        {"not_endorsed_decision": "Choose one of: return, withdraw."},
    ),
    ("cerf_submission", {"submission_date": "2025-09-31"}, {"submission_date": "Must be a valid date."}),
    ("cerf_submission", {"rc_hc_reference": 7}, {"rc_hc_reference": "Must be text."}),
    (
        "cerf_secretariat_review",
        {"secretariat_decision": "approved"},
        {"secretariat_decision": "Choose one of: comments_received, cleared."},
    ),
    ("cerf_resubmission", {"revision_summary": "x" * 4001}, {"revision_summary": "Must be at most 4000 characters."}),
    ("cerf_erc_decision", {"approved_amount_usd": 999}, {"approved_amount_usd": "Must be at least 1000."}),
    ("cerf_erc_decision", {"approved_amount_usd": "1.2M"}, {"approved_amount_usd": "Must be a number."}),
    (
        "cerf_erc_decision",
        {"erc_decision": "approved_reduced"},
        {"erc_decision": "Choose one of: approved, not_approved."},
    ),
    (
        "cerf_countersignature",
        {"approval_letter_reference": "AB"},
        {"approval_letter_reference": "Must be at least 3 characters."},
    ),
    ("cerf_countersignature", {"countersignature_date": ""}, {"countersignature_date": "Must be a valid date."}),
    ("cerf_disbursement", {"disbursed_amount_usd": 30_000_001}, {"disbursed_amount_usd": "Must be at most 30000000."}),
    ("cerf_disbursement", {"disbursed_amount_usd": 999}, {"disbursed_amount_usd": "Must be at least 1000."}),
    ("cerf_disbursement", {"cerf_project_code": "RR"}, {"cerf_project_code": "Must be at least 5 characters."}),
    ("cerf_disbursement", {"disbursement_date": "29.09.2025"}, {"disbursement_date": "Must be a valid date."}),
    ("cerf_disbursement", {"extra": 1}, {"": "Unexpected field: 'extra'"}),
]


@pytest.mark.parametrize("key, changes, errors", REFUSED, ids=[f"{k}-{'-'.join(c)}" for k, c, _ in REFUSED])
def test_every_form_refuses_out_of_range_missing_and_wrongly_typed_data_per_field(key, changes, errors):
    assert field_errors(form(key), {**VALID[key], **changes}) == errors


CONDITIONALLY_REQUIRED = [  # (form key, submission without the dependent field, the field it then needs)
    ("cerf_call", {**HAITI_RR["cerf_call"], "eppe_reference": None}, "eppe_reference"),
    ("cerf_agree_share", {"share_decision": "no_share"}, "share_comments"),
    ("cerf_not_endorsed", {"not_endorsed_decision": "return"}, "not_endorsed_comments"),
    ("cerf_not_endorsed", {"not_endorsed_decision": "withdraw"}, "not_endorsed_comments"),
    (
        "cerf_secretariat_review",
        {"secretariat_decision": "comments_received", "secretariat_review_date": "2025-09-22"},
        "secretariat_comments",
    ),
    ("cerf_erc_decision", {"erc_decision": "not_approved", "erc_decision_date": "2025-03-12"}, "erc_comments"),
    ("cerf_erc_decision", {"erc_decision": "approved", "erc_decision_date": "2025-03-12"}, "approved_amount_usd"),
]


@pytest.mark.parametrize(
    "key, data, needed", CONDITIONALLY_REQUIRED, ids=[f"{k}-{n}" for k, _, n in CONDITIONALLY_REQUIRED]
)
def test_returns_refusals_and_comments_need_their_explanation(key, data, needed):
    data = {k: v for k, v in data.items() if v is not None}
    assert field_errors(form(key), data) == {needed: "This field is required."}


def test_an_application_opened_by_hand_needs_no_eppe_unless_an_mefm_advance_is_to_be_repaid():
    call = HONDURAS_UFE["cerf_call"]
    assert "eppe_reference" not in call and field_errors(form("cerf_call"), call) == {}
    assert field_errors(form("cerf_call"), {**call, "eppe_reference": "EPPE-HND-2025-002"}) == {}


def test_what_a_form_shows_read_only_cannot_be_changed_by_a_submission(world, cerf):
    s, pd = HONDURAS_UFE, project_developer("HND")
    instance = open_call(world, s)
    complete(world, chief_of_mission("HND"), instance.id, s["cerf_agree_share"])
    changed = {**s["cerf_draft"], "agreed_share_usd": 5_000_000, "cerf_window": "rr", "sectors": ["wash"]}
    checked = complete(world, pd, instance.id, changed)
    assert (checked.data["agreed_share_usd"], checked.data["cerf_window"]) == (600_000, "ufe")
    assert checked.data["sectors"] == ["protection"] and checked.data["precheck_passed"] is True
