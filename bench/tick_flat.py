"""Tick flatness: one `ticker.tick` with 100 vs 100,000 pending timers, none of them due.

Two scratch databases of the same kind, side by side; the timer rows are inserted directly (spread
over 1,000 instances, due between one hour and a year from now). A tick claims nothing and then
delivers pending messages (none). The ticks are timed alternately; each round gives big/small of
the medians, the figure is the median over the rounds. Goal: <= 2x.

    python bench/tick_flat.py [sqlite|postgresql|both] [--rounds N] [--calls N]
"""

from __future__ import annotations

import argparse
import random
import uuid
from datetime import datetime, timedelta, timezone

from common import (
    captured_statements,
    median,
    note_postgresql_version,
    publish_test_diagram,
    query_plan,
    record,
    scratch_database,
    seconds,
    user_ids,
)
from sqlalchemy import insert, select, text

from engine.clock import SYSTEM_CLOCK
from engine.scheduling import ticker
from engine.store.models import ProcessInstance, ProcessVersion, Timer
from engine.store.uow import Database

INSTANCES = 1_000
CHUNK = 10_000


def fill(database: Database, timer_count: int) -> None:
    publish_test_diagram(database, "funding_review_sla.bpmn")
    starter = user_ids(database)["project-developer@hti.demo"]
    with database.unit_of_work(write=False) as uow:
        version_id = uow.session.scalar(select(ProcessVersion.id))
    now = datetime.now(timezone.utc)
    rng = random.Random(timer_count)
    with database.engine.begin() as connection:
        connection.execute(
            insert(ProcessInstance.__table__),
            [
                dict(
                    id=i,
                    process_version_id=version_id,
                    process_id="funding_review_sla",
                    office_code="HTI",
                    title=f"Request {i}",
                    status="running",
                    state='{"bench": true}',
                    sla_breached=False,
                    started_by_id=starter,
                    started_at=now,
                    updated_at=now,
                    revision=1,
                )
                for i in range(1, INSTANCES + 1)
            ],
        )
        for start in range(0, timer_count, CHUNK):
            connection.execute(
                insert(Timer.__table__),
                [
                    dict(
                        instance_id=rng.randrange(1, INSTANCES + 1),
                        task_id=str(uuid.uuid4()),
                        element_id="remind_reviewer",
                        title="Reminder",
                        interrupting=False,
                        due_at=now + timedelta(seconds=rng.randrange(3_600, 365 * 86_400)),
                        state="pending",
                        attempts=0,
                    )
                    for _ in range(start, min(start + CHUNK, timer_count))
                ],
            )
        if database.dialect == "postgresql":
            connection.execute(text("ANALYZE"))


def measure(kind: str, rounds: int, calls: int) -> list[str]:
    small, cleanup_small = scratch_database(kind)
    big, cleanup_big = scratch_database(kind)
    try:
        note_postgresql_version(big)
        fill(small, 100)
        fill(big, 100_000)

        def tick(database: Database) -> None:
            result = ticker.tick(database, SYSTEM_CLOCK, owner="bench")
            assert result.fired == result.skipped == result.failed == 0

        for _ in range(10):
            tick(small)
            tick(big)
        per_round = []
        for _ in range(rounds):
            small_times, big_times = [], []
            for _ in range(calls):
                small_times.append(seconds(tick, small))
                big_times.append(seconds(tick, big))
            per_round.append((median(small_times), median(big_times)))

        with captured_statements(big) as statements:
            tick(big)
        [(sql, parameters)] = [(s, p) for s, p in statements if s.lstrip().upper().startswith("UPDATE TIMER")]
        plan = query_plan(big, sql, parameters) if kind == "sqlite" else query_plan_rolled_back(big, sql, parameters)

        small_ms = median([r[0] for r in per_round]) * 1000
        big_ms = median([r[1] for r in per_round]) * 1000
        ratio = median([r[1] / r[0] for r in per_round])
        return [
            f"100 vs 100,000 pending timers, none due (over {INSTANCES:,} instances); {rounds} rounds x {calls}"
            f" ticks per size, alternating. A tick sent {len(statements)} SQL statements.",
            "",
            "| 100 timers | 100,000 timers | big / small | goal |",
            "| --- | --- | --- | --- |",
            f"| {small_ms:.2f} ms | {big_ms:.2f} ms | {ratio:.2f}x | <= 2x |",
            "",
            "Ratio per round: " + ", ".join(f"{r[1] / r[0]:.2f}x" for r in per_round),
            "",
            "Plan of the claim on the big database:",
            "",
            "```",
            *plan,
            "```",
        ]
    finally:
        cleanup_small()
        cleanup_big()


def query_plan_rolled_back(database: Database, sql: str, parameters) -> list[str]:
    """EXPLAIN ANALYZE of an UPDATE runs it: do it in a transaction that is rolled back."""
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters).all()
        connection.rollback()
    return [row[0] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"Tick flatness, {kind}", measure(kind, args.rounds, args.calls))


if __name__ == "__main__":
    main()
