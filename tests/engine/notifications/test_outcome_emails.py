"""Outcome emails: when a case reaches an outcome its diagram marks (approved, approved reduced,
rejected, endorsed, not endorsed, returned), whoever started it and its office's Chief of Mission
are emailed in the step's unit of work, with the reason and the amount, once each, in their
language; the "returned for revision" email carries the reason at the top."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.bpmn.outcomes import Reached
from engine.notifications import policy
from engine.store.models import OutboxEmail, ProcessInstance, User
from engine.work import tasks
from tests.processes.conftest import complete, only_task, published_processes  # noqa: F401 - the fixture
from tests.processes.scenarios import HAITI_HURRICANE, PANAMA_DARIEN
from tests.processes.test_endorsement import (
    CLEARED,
    DIRECTOR,
    DONOR_RELATIONS,
    HAITI_PROPOSAL,
    SPECIALIST,
    endorsement,  # noqa: F401 - the fixture
    project_developer,
    screened,
)
from tests.processes.test_endorsement import EFP as REGIONAL_EFP
from tests.processes.test_mefm import APPROVER, EFP, PRD, chief_of_mission, submit, to_decision

HAITI = HAITI_HURRICANE["mefm"]
PANAMA = PANAMA_DARIEN["mefm"]
COM_HTI = chief_of_mission("HTI")
COM_HTI_NAME = "Chief of Mission (HTI)"
PD_HTI = project_developer("HTI")


def told(world, instance_id: int) -> list[tuple[str, str, str, str]]:
    """(kind, recipient, subject, body) of the instance's outcome and returned emails, by recipient."""
    with world.db.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.instance_id == instance_id)
            .where(OutboxEmail.kind.like("outcome_%") | (OutboxEmail.kind == "returned"))
            .order_by(OutboxEmail.to_address, OutboxEmail.kind)
        )
        return [(r.kind, r.to_address, r.subject, r.body) for r in rows]


def decide(world, instance_id: int, data: dict):
    return tasks.complete_task(world.uow(), world.user(APPROVER), only_task(world, APPROVER, instance_id).id, data)


def test_an_approval_tells_the_chief_of_mission_who_started_it_once_with_the_amount_and_reason(
    world,
    published_processes,  # noqa: F811
):
    instance = to_decision(world, "HTI", HAITI)
    decide(world, instance.id, {"decision": "approve", "comments": "Fits the CERF RR timeline."})

    [(kind, to, subject, body)] = told(world, instance.id)  # the starter is the Chief of Mission: one email
    title = HAITI["mefm_request_start"]["title"]
    assert (kind, to) == ("outcome_approved", COM_HTI)
    assert subject == f"Approved: {instance.reference} {title} (USD 500,000)"  # the reference first
    assert "Your request was approved.\nReason: Fits the CERF RR timeline." in body
    assert "Amount approved: USD 500,000" in body and "Decided by:      MEFM Approver (HQ)" in body
    assert f"{{base_url}}/instances/{instance.id}" in body


def test_an_approval_of_a_reduced_amount_names_the_reduced_amount(world, published_processes):  # noqa: F811
    instance = to_decision(world, "PAN", PANAMA)
    decide(world, instance.id, PANAMA["mefm_decision"])

    [(kind, to, subject, body)] = told(world, instance.id)
    assert (kind, to) == ("outcome_approved_reduced", chief_of_mission("PAN"))
    assert subject.startswith(f"Approved with a reduced amount: {instance.reference} Darién") and subject.endswith(
        "(USD 240,000)"
    )
    assert "Amount approved: USD 240,000" in body and "Reason: Reduced as PRD recommends." in body
    assert "300,000" not in body  # the amount requested is not the one approved


def test_a_rejection_says_why_and_names_no_amount(world, published_processes):  # noqa: F811
    instance = to_decision(world, "HTI", HAITI)
    decide(world, instance.id, {"decision": "reject", "comments": "Not eligible: development activities."})

    [(kind, to, subject, body)] = told(world, instance.id)
    assert (kind, to, subject) == (
        "outcome_rejected",
        COM_HTI,
        f"Rejected: {instance.reference} {HAITI['mefm_request_start']['title']}",
    )
    assert "Your request was rejected.\nReason: Not eligible: development activities." in body
    assert "USD" not in body and "Amount" not in body


def test_a_return_tells_the_chief_of_mission_once_with_the_reason_at_the_top(world, published_processes):  # noqa: F811
    instance = to_decision(world, "HTI", HAITI)
    decide(world, instance.id, {"decision": "return", "comments": "Add the repayment letter from ECHO."})

    # The Chief of Mission revises it: the "returned for revision" email is theirs, and the outcome
    # is not emailed to them a second time.
    [(kind, to, subject, body)] = told(world, instance.id)
    assert (kind, to, subject) == (
        "returned",
        COM_HTI,
        f"Returned for revision: {instance.reference} {HAITI['mefm_request_start']['title']}",
    )
    assert body.startswith(
        f"Hello {COM_HTI_NAME},\n\nYour request was returned for revision.\nReason: Add the repayment letter from ECHO.\n"
    )
    assert "Returned by: MEFM Approver (HQ)" in body and "Next step:   Revise the request" in body


def test_a_regional_return_carries_the_regional_comments(world, published_processes):  # noqa: F811
    instance = submit(world, "HTI", HAITI)
    complete(
        world,
        EFP,
        instance.id,
        {"regional_recommendation": "return", "regional_comments": "Say how the CCCM sites are chosen."},
    )
    [(kind, to, _, body)] = told(world, instance.id)
    assert (kind, to) == ("returned", COM_HTI)
    assert "Reason: Say how the CCCM sites are chosen." in body and "Returned by: Emergency Focal Point" in body


def test_an_endorsement_tells_the_project_developer_who_started_it_and_the_chief_of_mission(world, endorsement):  # noqa: F811
    instance = screened(world, HAITI_PROPOSAL)
    complete(world, SPECIALIST, instance.id, CLEARED["thematic"])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    complete(world, REGIONAL_EFP, instance.id, CLEARED["technical"])
    complete(world, DIRECTOR, instance.id, {"regional_decision": "endorse", "regional_comments": "Endorsed for ECHO."})

    emails = told(world, instance.id)
    assert [(kind, to) for kind, to, _, _ in emails] == [("outcome_endorsed", COM_HTI), ("outcome_endorsed", PD_HTI)]
    for _, _, subject, body in emails:
        assert subject == f"Endorsed: {instance.reference} {HAITI_PROPOSAL['title']}"
        assert "Your proposal was endorsed.\nReason: Regional Director: Endorsed for ECHO." in body
        assert "Decided by" not in body  # the end event, not a person, reached it


def test_a_proposal_not_endorsed_says_why(world, endorsement):  # noqa: F811
    instance = screened(world, HAITI_PROPOSAL)
    for who, answer in [(SPECIALIST, "thematic"), (DONOR_RELATIONS, "donor_relations"), (REGIONAL_EFP, "technical")]:
        complete(world, who, instance.id, CLEARED[answer])
    complete(world, DIRECTOR, instance.id, {"regional_decision": "decline", "regional_comments": "No IOM access."})

    emails = told(world, instance.id)
    assert [(kind, to) for kind, to, _, _ in emails] == [
        ("outcome_not_endorsed", COM_HTI),
        ("outcome_not_endorsed", PD_HTI),
    ]
    assert all("Reason: Regional Director: No IOM access." in body for _, _, _, body in emails)


def test_a_revision_required_returns_it_to_the_developer_and_tells_the_chief_of_mission(world, endorsement):  # noqa: F811
    instance = screened(world, HAITI_PROPOSAL)
    complete(world, REGIONAL_EFP, instance.id, CLEARED["technical"])
    complete(world, DONOR_RELATIONS, instance.id, CLEARED["donor_relations"])
    # The last review clears nothing: the return is the diagram's, whatever the last answer was.
    complete(
        world,
        SPECIALIST,
        instance.id,
        {"thematic_decision": "revision_required", "thematic_comments": "Add child protection in the centres."},
    )
    emails = told(world, instance.id)
    assert [(kind, to) for kind, to, _, _ in emails] == [("outcome_returned", COM_HTI), ("returned", PD_HTI)]
    assert all("Reason: Add child protection in the centres." in body for _, _, _, body in emails)


def test_an_outcome_is_queued_once_per_recipient(world, published_processes):  # noqa: F811
    instance = to_decision(world, "HTI", HAITI)
    decision = only_task(world, APPROVER, instance.id)
    decide(world, instance.id, {"decision": "approve", "comments": "Fits."})
    again = Reached("approved", decision.id, "decide_request", "Fits.", 500_000)
    with world.uow() as tx:
        row = tx.session.get(ProcessInstance, instance.id)
        policy.queue_for_outcomes(tx, row, [again], already_told=set())  # a retry of the same step
        tx.commit()
    assert [(kind, to) for kind, to, _, _ in told(world, instance.id)] == [("outcome_approved", COM_HTI)]


@pytest.mark.usefixtures("published_processes")
def test_outcome_emails_reach_the_smtp_server_in_english_and_in_spanish(world, mailbox, smtp_server):
    with world.db.unit_of_work() as uow:
        uow.session.query(User).filter(User.email == chief_of_mission("PAN")).update({"language": "es"})
        uow.commit()
    haiti = to_decision(world, "HTI", HAITI)
    panama = to_decision(world, "PAN", PANAMA)
    mailbox()
    decide(world, haiti.id, {"decision": "approve", "comments": "Fits the CERF RR timeline."})
    decide(world, panama.id, PANAMA["mefm_decision"])

    received = mailbox()
    assert (COM_HTI, "Approved") in received and (chief_of_mission("PAN"), "Aprobada con un monto reducido") in received
    by_to = {r.to: r for r in smtp_server.received if r.to in (COM_HTI, chief_of_mission("PAN"))}
    english, spanish = by_to[COM_HTI], by_to[chief_of_mission("PAN")]
    assert english.subject == f"Approved: MEFM-HTI-2026-0001 {HAITI['mefm_request_start']['title']} (USD 500,000)"
    assert f"https://doeflow.test/instances/{haiti.id}" in english.body
    assert (
        spanish.subject
        == f"Aprobada con un monto reducido: MEFM-PAN-2026-0001 {PANAMA['mefm_request_start']['title']} (USD 240\u00a0000)"
    )
    assert "Su solicitud fue aprobada con un monto reducido.\r\nMotivo: Reduced as PRD recommends." in spanish.body
    assert "Monto aprobado: USD 240\u00a0000" in spanish.body and "Decidió:        MEFM Approver (HQ)" in spanish.body
    assert f"https://doeflow.test/instances/{panama.id}" in spanish.body
    assert spanish.message["Content-Language"] == "es"


@pytest.mark.usefixtures("published_processes")
def test_a_returned_email_reaches_the_smtp_server_with_its_reason_in_spanish(world, mailbox, smtp_server):
    with world.db.unit_of_work() as uow:
        uow.session.query(User).filter(User.email == COM_HTI).update({"language": "es"})
        uow.commit()
    instance = to_decision(world, "HTI", HAITI)
    mailbox()
    decide(world, instance.id, {"decision": "return", "comments": "Falta la carta de ECHO."})

    assert mailbox() == [(COM_HTI, "Devuelto para revisión")]
    body = smtp_server.received[-1].body
    assert "Su solicitud fue devuelta para revisión.\r\nMotivo: Falta la carta de ECHO." in body
    assert PRD not in body
