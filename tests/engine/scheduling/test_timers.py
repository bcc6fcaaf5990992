"""Durable timers: mirrored with due times, fired exactly once by the tick, time injected."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from engine.runtime import timers
from engine.scheduling import ticker
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, Timer
from engine.work import instances, tasks
from tests.conftest import T0
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task

DIRECTOR = "regional-director@ro-americas.demo"


def start_review(world, process="funding_review_sla"):
    """An instance waiting for the regional review, which opened at T0."""
    instance = instances.start_instance(world.uow(), world.user(PD_HTI), process, "HTI", {})
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    return instance


def timer_rows(world, instance_id):
    with world.db.unit_of_work(write=False) as uow:
        return [
            (t.element_id, t.state, t.due_at - T0, t.interrupting)
            for t in uow.session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at))
        ]


def fired_events(world, instance_id):
    with world.db.unit_of_work(write=False) as uow:
        return [
            (e.data["element_id"], e.outcome)
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.instance_id == instance_id, AuditEvent.kind == "timer_fired")
                .order_by(AuditEvent.id)
            )
        ]


def tick_at(world, **delta):
    world.clock.set(T0 + timedelta(**delta))
    return ticker.tick(world.db, world.clock)


def breached(world, instance_id) -> bool:
    with world.db.unit_of_work(write=False) as uow:
        return uow.session.get(ProcessInstance, instance_id).sla_breached


def test_waiting_timers_are_mirrored_and_give_the_task_its_due_time(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    assert timer_rows(world, instance.id) == [
        ("remind_reviewer", "pending", timedelta(hours=24), False),
        ("escalate_review", "pending", timedelta(hours=48), True),
    ]
    review = only_task(world, EFP, instance.id)
    assert review.due_at == T0 + timedelta(hours=48)


def test_reminder_fires_once_after_24_hours_and_escalation_after_48_marks_the_breach(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)

    assert tick_at(world, hours=23, minutes=59).fired == 0
    assert tick_at(world, hours=24, seconds=1).fired == 1
    assert fired_events(world, instance.id) == [("remind_reviewer", "reminded")]
    assert only_task(world, EFP, instance.id).title == "Review the request"  # still open
    assert not breached(world, instance.id)
    assert tick_at(world, hours=30).fired == 0  # ticking again sends nothing new

    assert tick_at(world, hours=48, seconds=1).fired == 1
    assert fired_events(world, instance.id)[-1] == ("escalate_review", "escalated")
    assert breached(world, instance.id)
    escalated = only_task(world, DIRECTOR, instance.id)
    assert (escalated.title, escalated.office) == ("Decide the overdue review", "HTI")
    assert [t for t in tasks.inbox(world.uow(), world.user(EFP)) if t.instance_id == instance.id] == []
    assert [s for _, s, _, _ in timer_rows(world, instance.id)] == ["fired", "fired"]
    assert tick_at(world, hours=100).fired == 0


def test_a_decision_before_24_hours_cancels_both_timers(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    world.clock.set(T0 + timedelta(hours=2))
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "reject"})
    assert timer_rows(world, instance.id) == []
    assert tick_at(world, hours=100).fired == 0
    assert fired_events(world, instance.id) == [] and not breached(world, instance.id)


def test_timers_due_while_everything_was_down_fire_once_at_the_next_tick(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    assert tick_at(world, days=9).fired == 2
    # Both occurrences passed: each is recorded once, the reminder before the escalation.
    assert fired_events(world, instance.id) == [("remind_reviewer", "reminded"), ("escalate_review", "escalated")]
    assert breached(world, instance.id)
    assert tick_at(world, days=10).fired == 0
    assert len(fired_events(world, instance.id)) == 2


def test_a_missed_reminder_cycle_fires_once_not_once_per_missed_interval(world):
    publish(
        world,
        diagram(
            "funding_review_sla.bpmn",
            **{
                "<bpmn:timeDuration>PT24H</bpmn:timeDuration>": "<bpmn:timeCycle>R/PT24H</bpmn:timeCycle>",
                "<bpmn:timeDuration>PT48H</bpmn:timeDuration>": "<bpmn:timeDuration>P30D</bpmn:timeDuration>",
            },
        ),
    )
    instance = start_review(world)
    assert tick_at(world, hours=24, seconds=1).fired == 1
    assert tick_at(world, hours=96, seconds=1).fired == 1  # three intervals passed unseen
    assert fired_events(world, instance.id) == [("remind_reviewer", "reminded")] * 2
    [(_, _, due, _)] = [r for r in timer_rows(world, instance.id) if r[:2] == ("remind_reviewer", "pending")]
    assert due == timedelta(hours=120)  # the next reminder is one interval ahead, not in the past
    assert tick_at(world, hours=120, seconds=1).fired == 1


def test_a_claim_whose_worker_died_is_taken_over_after_it_expires(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    world.clock.set(T0 + timedelta(hours=24, seconds=1))
    with world.db.unit_of_work(world.clock) as tx:
        assert len(timers.claim_due(tx, "dead-worker")) == 1  # and then it died
        tx.commit()
    assert ticker.tick(world.db, world.clock).fired == 0
    assert tick_at(world, hours=24, seconds=2 + timers.CLAIM_SECONDS).fired == 1
    assert fired_events(world, instance.id) == [("remind_reviewer", "reminded")]


def test_two_tickers_at_once_fire_each_timer_exactly_once(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    started = [start_review(world).id for _ in range(12)]
    world.clock.set(T0 + timedelta(hours=24, seconds=1))
    barrier, results = threading.Barrier(2), []

    def run(owner):
        barrier.wait()
        results.append(ticker.tick(world.db, world.clock, owner=owner, batch=3))

    threads = [threading.Thread(target=run, args=(f"worker-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.fired for r in results) == 12
    assert all(fired_events(world, i) == [("remind_reviewer", "reminded")] for i in started)


def test_a_task_completed_after_its_reminder_was_due_records_the_reminder_once(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    world.clock.set(T0 + timedelta(hours=25))  # nobody ticked: the completion itself sees the timer due
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "reject"})
    assert tick_at(world, hours=26).fired == 0
    with world.db.unit_of_work(write=False) as uow:
        states = set(uow.session.scalars(select(HumanTask.state).where(HumanTask.instance_id == instance.id)))
    assert states == {"completed"}
    assert len(fired_events(world, instance.id)) <= 1


def test_the_ticker_wakes_at_the_earliest_due_time_not_at_a_slow_poll(world):
    publish(
        world,
        diagram(
            "funding_review_sla.bpmn",
            **{"<bpmn:timeDuration>PT24H</bpmn:timeDuration>": "<bpmn:timeDuration>PT0.3S</bpmn:timeDuration>"},
        ),
    )
    idle = ticker.Ticker(world.db, clock=world.clock, max_sleep=1.0)
    assert idle.run_once() == T0 + timedelta(seconds=1.0)  # nothing pending: the poll bound

    instance = start_review(world)
    busy = ticker.Ticker(world.db, clock=world.clock, max_sleep=1.0)
    assert busy.run_once() == T0 + timedelta(seconds=0.3, milliseconds=1)  # just after the due time
    world.clock.set(T0 + timedelta(seconds=0.301))
    assert busy.run_once() == T0 + timedelta(seconds=1.301)  # fired; the 48 h escalation is far off
    assert fired_events(world, instance.id) == [("remind_reviewer", "reminded")]


def test_a_stopping_ticker_finishes_the_timer_in_hand_and_gives_the_rest_of_its_batch_back(world, monkeypatch):
    publish(world, diagram("funding_review_sla.bpmn"))
    for _ in range(5):
        start_review(world)
    world.clock.set(T0 + timedelta(hours=24, seconds=1))
    stop, fire = threading.Event(), ticker.fire_timer

    def fire_then_stop(*args):  # SIGTERM arrives while the first timer is being fired
        stop.set()
        return fire(*args)

    monkeypatch.setattr(ticker, "fire_timer", fire_then_stop)
    assert ticker.tick(world.db, world.clock, owner="stopping", stop=stop).fired == 1
    with world.db.unit_of_work(write=False) as uow:
        pending = uow.session.scalars(
            select(Timer).where(Timer.state == "pending", Timer.element_id == "remind_reviewer")
        )
        assert [(t.claimed_by, t.claim_expires_at) for t in pending] == [(None, None)] * 4  # free at once
    monkeypatch.setattr(ticker, "fire_timer", fire)
    assert ticker.tick(world.db, world.clock, owner="next").fired == 4
