"""SLA emails end to end: timers fire on an injected clock, the outbox sends to a real SMTP
server, and who receives what is decided by the diagram (lanes and notifyRoles)."""

from __future__ import annotations

from datetime import timedelta

from engine.scheduling import ticker
from engine.work import tasks
from tests.conftest import T0
from tests.engine.conftest import diagram, publish
from tests.engine.scheduling.test_timers import start_review
from tests.engine.work.test_instances import EFP, PD_HTI, only_task

DIRECTOR = "regional-director@ro-americas.demo"
APPROVER = "mefm-approver@hq.demo"
NOTIFY = {
    '<bpmn:boundaryEvent id="escalate_review" name="48 hours without a review" attachedToRef="review">': '<bpmn:boundaryEvent id="escalate_review" name="48 hours without a review" attachedToRef="review">'
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="notifyRoles" value="Regional Director, MEFM Approver"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>",
}


def tick_at(world, **delta):
    world.clock.set(T0 + timedelta(**delta))
    return ticker.tick(world.db, world.clock)


def test_reminder_at_24_hours_and_escalation_at_48_reach_the_right_people_once(world, mailbox, smtp_server):  # noqa: F811
    publish(world, diagram("funding_review_sla.bpmn", **NOTIFY))
    start_review(world)
    assert mailbox() == [(EFP, "Task assigned"), (PD_HTI, "Task assigned")]

    tick_at(world, hours=23)
    assert mailbox() == []
    tick_at(world, hours=24, seconds=1)
    assert mailbox() == [(EFP, "Reminder")]
    tick_at(world, hours=30)
    assert mailbox() == []

    tick_at(world, hours=48, seconds=1)
    assert mailbox() == [
        (EFP, "Escalation"),
        (APPROVER, "Escalation"),
        (DIRECTOR, "Escalation"),
        (DIRECTOR, "Task assigned"),
    ]
    tick_at(world, hours=72)
    assert mailbox() == []
    ids = smtp_server.message_ids()
    assert len(ids) == len(set(ids)) == 7


def test_a_decision_before_24_hours_cancels_both_timers_and_nothing_is_sent(world, mailbox):
    publish(world, diagram("funding_review_sla.bpmn", **NOTIFY))
    instance = start_review(world)
    mailbox()
    world.clock.set(T0 + timedelta(hours=5))
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "reject"})
    for hours in (24, 48, 100):
        tick_at(world, hours=hours, seconds=1)
    assert mailbox() == []


def test_work_returned_for_revision_tells_the_drafter_so(world, mailbox):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    mailbox()
    tasks.complete_task(
        world.uow(),
        world.user(EFP),
        only_task(world, EFP, instance.id).id,
        {"decision": "return", "comments": "add the shelter line"},
    )
    assert mailbox() == [(PD_HTI, "Returned for revision")]


def test_the_email_links_to_the_task_in_the_recipients_language(world, mailbox, smtp_server):  # noqa: F811
    from engine.store.models import User

    with world.db.unit_of_work() as uow:
        uow.session.query(User).filter(User.email == EFP).update({"language": "es", "timezone": "America/Panama"})
        uow.commit()
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    mailbox()
    tick_at(world, hours=24, seconds=1)
    assert mailbox() == [(EFP, "Recordatorio")]
    reminder = smtp_server.received[-1]
    review = only_task(world, EFP, instance.id)
    assert f"https://doeflow.test/tasks/{review.id}" in reminder.body


def test_an_sla_on_a_sub_process_covers_every_task_inside_it(world, mailbox):
    from engine.store.models import ProcessInstance
    from engine.work import instances

    publish(world, diagram("subprocess_sla.bpmn"))
    com = world.user("chief-of-mission@hti.demo")
    instance = instances.start_instance(world.uow(), com, "subprocess_sla", "HTI", {})
    regional = only_task(world, EFP, instance.id)
    assert regional.due_at == T0 + timedelta(hours=48)  # the clock of the sub-process around it
    assert mailbox() == [(EFP, "Task assigned")]

    world.clock.set(T0 + timedelta(hours=3))
    tasks.complete_task(world.uow(), world.user(EFP), regional.id, {})
    hq = only_task(world, "prd@hq.demo", instance.id)
    assert hq.due_at == T0 + timedelta(hours=48)  # the same clock, not restarted by the next step
    assert mailbox() == [("prd@hq.demo", "Task assigned")]

    tick_at(world, hours=24, seconds=1)
    assert mailbox() == [("prd@hq.demo", "Reminder")]  # whoever holds the work now

    tick_at(world, hours=48, seconds=1)
    assert mailbox() == [("prd@hq.demo", "Escalation"), (DIRECTOR, "Escalation"), (DIRECTOR, "Task assigned")]
    with world.db.unit_of_work(write=False) as uow:
        assert uow.session.get(ProcessInstance, instance.id).sla_breached
    assert only_task(world, DIRECTOR, instance.id).title == "Decide the overdue request"
