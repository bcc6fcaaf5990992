"""Timer firing lateness: with 10,000 timers pending, how late do timers that fall due fire?

Runs the real ticker (APScheduler, system clock) against a scratch database. 10,000 far-future
timers are pending; 200 instances have a reminder falling due at staggered instants over the
next ~12 s. Lateness = when the ticker recorded the firing - the due time. Goal: p99 <= 1 s.

    python bench/timer_lateness.py [sqlite|postgresql] [--pending N] [--due N]
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

from common import ROOT, percentile, record, scratch_database
from sqlalchemy import insert, select

from engine.clock import FixedClock
from engine.modeling import publishing
from engine.scheduling.ticker import Ticker
from engine.store.models import Timer, User
from engine.work import instances, tasks

DIAGRAM = ROOT / "tests" / "engine" / "diagrams" / "funding_review_sla.bpmn"
FORMS = str(ROOT / "tests" / "engine" / "forms")
DRAFT = {"title": "Bench", "amount": 5000}
REMINDER = timedelta(seconds=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=200)
    args = parser.parse_args()

    database, cleanup = scratch_database(args.database)
    try:
        text = DIAGRAM.read_text().replace("PT24H", f"PT{int(REMINDER.total_seconds())}S")
        publishing.publish(database.unit_of_work(), {DIAGRAM.name: text.encode()}, forms_dir=FORMS)
        with database.unit_of_work(write=False) as uow:
            drafter = uow.session.scalar(select(User.id).where(User.email == "project-developer@hti.demo"))

        # Instances whose reminders fall due over 12 s, starting once all of them exist: the
        # clock of each start is set back so that its reminder falls due at its chosen instant.
        probe = time.monotonic()
        instances.start_instance(database.unit_of_work(), drafter, "funding_review_sla", "HTI")
        per_instance = time.monotonic() - probe
        base = datetime.now(timezone.utc) + timedelta(seconds=3 + 4 * per_instance * args.due)
        setup_started = time.monotonic()
        for i in range(args.due):
            due = base + timedelta(seconds=12 * i / args.due)
            clock = FixedClock(due - REMINDER)
            started = instances.start_instance(database.unit_of_work(clock), drafter, "funding_review_sla", "HTI")
            tasks.complete_task(database.unit_of_work(clock), drafter, started.tasks[0].id, DRAFT)
        setup_seconds = time.monotonic() - setup_started

        # Far-future pending timers, as a regional office accumulates them, on instances of their own.
        idle = [
            instances.start_instance(database.unit_of_work(), drafter, "funding_review_sla", "HTI").id
            for _ in range(20)
        ]
        with database.unit_of_work() as uow:
            instance_ids = idle
            far = datetime.now(timezone.utc) + timedelta(days=30)
            rows = [
                dict(
                    instance_id=instance_ids[i % len(instance_ids)],
                    task_id=str(uuid.uuid4()),
                    element_id="bench_far",
                    title="far",
                    interrupting=False,
                    due_at=far + timedelta(seconds=i),
                    state="pending",
                    attempts=0,
                )
                for i in range(args.pending)
            ]
            uow.session.execute(insert(Timer), rows)
            uow.commit()
        if base < datetime.now(timezone.utc):
            print(
                f"warning: setup took {setup_seconds:.1f} s; the first timers were already due when the ticker started"
            )

        ticker = Ticker(database, max_sleep=1.0)
        ticker.start()
        last_due = base + timedelta(seconds=12)
        deadline = time.monotonic() + max(0.0, (last_due - datetime.now(timezone.utc)).total_seconds()) + 10
        while time.monotonic() < deadline:
            with database.unit_of_work(write=False) as uow:
                pending = uow.session.scalar(
                    select(Timer.id).where(Timer.state == "pending", Timer.element_id == "remind_reviewer").limit(1)
                )
            if pending is None:
                break
            time.sleep(0.5)
        ticker.stop()

        with database.unit_of_work(write=False) as uow:
            fired = uow.session.execute(
                select(Timer.due_at, Timer.fired_at).where(Timer.element_id == "remind_reviewer")
            ).all()
        late = [(f - d).total_seconds() for d, f in fired if f is not None]
        missing = sum(1 for _, f in fired if f is None)
        record(
            f"Timer lateness, {args.database}",
            [
                f"{args.pending:,} pending far-future timers; {args.due} reminders falling due over 12 s;"
                f" real ticker (APScheduler, wake-up at the earliest due time, poll bound 1 s).",
                "",
                "| fired | not fired | p50 lateness | p99 lateness | max | goal p99 |",
                "| --- | --- | --- | --- | --- | --- |",
                f"| {len(late)} | {missing} | {percentile(late, 50) * 1000:.0f} ms"
                f" | {percentile(late, 99) * 1000:.0f} ms | {max(late) * 1000:.0f} ms | 1000 ms |",
            ],
        )
    finally:
        cleanup()


if __name__ == "__main__":
    main()
