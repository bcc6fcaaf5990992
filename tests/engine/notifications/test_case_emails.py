"""Comment and cancel emails end to end, through the outbox to the real SMTP server of the tests: to
the case's current holders (and, for a cancel, its starter and its office's Chief of Mission), never
to the author, in each recipient's language, with the text or the reason and a link to the case."""

from __future__ import annotations

from sqlalchemy import update

from engine.org import users
from engine.store.models import User
from engine.work import cancel, comments, tasks
from tests.engine.conftest import diagram, publish
from tests.engine.scheduling.test_timers import start_review
from tests.engine.work.test_instances import EFP, PD_HTI, only_task, start

COM_HTI = "chief-of-mission@hti.demo"
DIRECTOR = "regional-director@ro-americas.demo"
SECOND_PD = "second.pd@hti.example"


def speaks(world, email: str, language: str) -> None:
    with world.db.unit_of_work() as tx:
        tx.session.execute(update(User).where(User.email == email).values(language=language))
        tx.commit()


def comment(world, who, instance_id, text):
    return comments.add_comment(world.uow(), world.user(who), instance_id, text)


def test_a_comment_reaches_the_holders_of_the_open_task_but_not_its_author(world, funding_review, mailbox, smtp_server):
    users.add_user(world.uow(), SECOND_PD, name="Second PD", office="HTI", roles=["Project Developer"])
    instance = start(world)
    mailbox()  # the task assigned emails

    comment(world, COM_HTI, instance.id, "Please add the transport line.\nThanks.")
    assert mailbox() == [(PD_HTI, "Comment"), (SECOND_PD, "Comment")]  # unclaimed: its role's holders
    body = smtp_server.received[-1].body.replace("\r\n", "\n")
    assert "Please add the transport line.\nThanks." in body
    assert "Chief of Mission (HTI) commented" in body
    assert f"https://doeflow.test/instances/{instance.id}" in body

    comment(world, PD_HTI, instance.id, "Done.")
    assert mailbox() == [(SECOND_PD, "Comment")]  # the author is not told

    tasks.claim_task(world.uow(), world.user(SECOND_PD), only_task(world, SECOND_PD, instance.id).id)
    comment(world, COM_HTI, instance.id, "Thank you.")
    assert mailbox() == [(SECOND_PD, "Comment")]  # claimed: its holder only


def test_a_comment_email_is_in_the_recipients_language(world, funding_review, mailbox, smtp_server):
    speaks(world, PD_HTI, "es")
    instance = start(world)
    mailbox()
    comment(world, EFP, instance.id, "¿El monto está en USD?")
    assert mailbox() == [(PD_HTI, "Comentario")]
    received = smtp_server.received[-1]
    assert "comentó una solicitud" in received.body and "¿El monto está en USD?" in received.body
    assert f"https://doeflow.test/instances/{instance.id}" in received.body


def test_a_comment_on_a_case_nobody_holds_emails_nobody(world, funding_review, mailbox):
    instance = start(world)
    cancel.cancel_instance(world.uow(), world.user(PD_HTI), instance.id, "Not needed.")
    mailbox()
    comment(world, EFP, instance.id, "Noted.")
    assert mailbox() == []


def test_a_cancel_tells_the_holders_the_starter_and_the_chief_of_mission_with_the_reason(world, mailbox, smtp_server):
    publish(world, diagram("funding_review_sla.bpmn"))
    speaks(world, COM_HTI, "es")
    instance = start_review(world)  # the review waits for the regional focal point
    mailbox()

    cancel.cancel_instance(world.uow(), world.user(DIRECTOR), instance.id, "Funded by another donor.")
    assert mailbox() == [(COM_HTI, "Cancelada"), (EFP, "Cancelled"), (PD_HTI, "Cancelled")]
    by_address = {r.to: r for r in smtp_server.received[-3:]}
    assert "Reason: Funded by another donor." in by_address[EFP].body
    assert "cancelled by Regional Director (RO-AMERICAS)" in by_address[PD_HTI].body
    assert "Motivo: Funded by another donor." in by_address[COM_HTI].body
    assert f"https://doeflow.test/instances/{instance.id}" in by_address[COM_HTI].body


def test_who_cancels_is_not_told(world, funding_review, mailbox):
    instance = start(world)
    mailbox()
    cancel.cancel_instance(world.uow(), world.user(COM_HTI), instance.id, "Withdrawn by the office.")
    assert mailbox() == [(PD_HTI, "Cancelled")]  # the holder and starter once; the Chief of Mission cancelled
