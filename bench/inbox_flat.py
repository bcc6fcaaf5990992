"""Inbox flatness: `tasks.inbox` for one user with 1k vs 100k instances in the database.

Two scratch databases of the same kind are filled side by side with SQLAlchemy core bulk inserts:
1,000 instances (200 open tasks) and 100,000 instances (20,000 open tasks), each instance with two
completed tasks of history. Instances and tasks are spread over the six country offices and the
lanes of the catalogue (country roles in the instance's office, regional roles at RO-AMERICAS,
headquarters roles at HQ), a third of the open ones held by someone. The measured user,
chief-of-mission@hti.demo, has the same 40 claimable and 10 assigned open tasks in both databases,
so what grows is the rest of the table only (their completed history grows with it).
`process_instance.state` is a constant small JSON text: the inbox never reads it.

The two inboxes are timed alternately; each round gives big/small of the medians, the figure is
the median over the rounds. Goal: <= 1.5x. The plan of the inbox's SQL is printed and recorded.

    python bench/inbox_flat.py [sqlite|postgresql|both] [--rounds N] [--calls N]
"""

from __future__ import annotations

import argparse
import random
import time
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

from engine.org import offices as org
from engine.store.models import HumanTask, ProcessInstance, ProcessVersion
from engine.store.uow import Database
from engine.work import tasks

USER = "chief-of-mission@hti.demo"
COUNTRIES = [code for code, _name, kind, _parent, _tz in org.OFFICES if kind == "country"]
LANES = [role for role in org.ROLES if role not in ("Admin", "Process Manager")]
USER_CLAIMABLE, USER_ASSIGNED = 40, 10
CHUNK = 10_000
EXPLAIN = {"sqlite": "EXPLAIN QUERY PLAN", "postgresql": "EXPLAIN (ANALYZE, BUFFERS)"}


def fill(database: Database, instance_count: int, open_count: int, seed: int) -> int:
    """Bulk-insert the instances and tasks; returns the measured user's id."""
    publish_test_diagram(database, "funding_review.bpmn")
    users = user_ids(database)
    user = users[USER]
    others = [i for email, i in users.items() if email != USER]
    with database.unit_of_work(write=False) as uow:
        version_id = uow.session.scalar(select(ProcessVersion.id))
        first_id = (uow.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc())) or 0) + 1
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    user_tasks = USER_CLAIMABLE + USER_ASSIGNED

    def task(instance_id: int, office: str, state: str, number: int) -> dict:
        lane = rng.choice(LANES)
        scope = org.ROLES[lane]
        candidate_office = office if scope == "country" else ("RO-AMERICAS" if scope == "regional" else "HQ")
        if state == "open" and number < user_tasks:  # the measured user's own open work
            lane, office, candidate_office = "Chief of Mission", "HTI", "HTI"
        elif state == "open" and lane == "Chief of Mission" and office == "HTI":
            lane = "Chief of Mission"
            office = candidate_office = rng.choice([c for c in COUNTRIES if c != "HTI"])
        created = now - timedelta(minutes=rng.randrange(1, 600_000))
        if state == "open" and number < user_tasks:
            assignee = user if number >= USER_CLAIMABLE else None
        else:
            assignee = rng.choice(others) if (state != "open" or rng.random() < 1 / 3) else None
        return dict(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            instance_id=instance_id,
            process_id="funding_review",
            element_id=f"task_{lane.lower().replace(' ', '_')}",
            title=f"Work for {lane}",
            lane=lane,
            form_key=None,
            office_code=office,
            candidate_role=lane,
            candidate_office=candidate_office,
            assignee_id=assignee,
            state=state,
            created_at=created,
            due_at=None if rng.random() < 0.5 else now + timedelta(hours=rng.randrange(-200, 2000)),
            completed_at=None if state == "open" else created + timedelta(hours=1),
            completed_by_id=None if state == "open" else assignee,
        )

    opened = 0
    with database.engine.begin() as connection:
        for start in range(0, instance_count, CHUNK):
            ids = range(first_id + start, first_id + min(start + CHUNK, instance_count))
            instances, human_tasks = [], []
            for instance_id in ids:
                office = rng.choice(COUNTRIES)
                running = opened < open_count and rng.random() < open_count / instance_count * 1.05
                started = now - timedelta(minutes=rng.randrange(1, 600_000))
                instances.append(
                    dict(
                        id=instance_id,
                        process_version_id=version_id,
                        process_id="funding_review",
                        office_code=office,
                        title=f"Request {instance_id}",
                        status="running" if running else "completed",
                        state='{"bench": true}',
                        sla_breached=False,
                        started_by_id=rng.choice(others),
                        started_at=started,
                        updated_at=started,
                        completed_at=None if running else started + timedelta(days=2),
                        revision=1,
                    )
                )
                human_tasks += [task(instance_id, office, "completed", -1) for _ in range(2)]
                if running:
                    human_tasks.append(task(instance_id, office, "open", opened))
                    opened += 1
            connection.execute(insert(ProcessInstance.__table__), instances)
            connection.execute(insert(HumanTask.__table__), human_tasks)
        if database.dialect == "postgresql":
            connection.execute(text("ANALYZE"))
    return user


def measure(kind: str, rounds: int, calls: int) -> list[str]:
    small, cleanup_small = scratch_database(kind)
    big, cleanup_big = scratch_database(kind)
    try:
        note_postgresql_version(big)
        fill_seconds, users = {}, {}
        for name, database, size in (("small", small, 1_000), ("big", big, 100_000)):
            started = time.perf_counter()
            users[name] = fill(database, size, size // 5, seed=size)
            fill_seconds[name] = time.perf_counter() - started

        def inbox(database: Database, user: int) -> list:
            return tasks.inbox(database.unit_of_work(write=False), user)

        found = {name: len(inbox(db, users[name])) for name, db in (("small", small), ("big", big))}
        for _ in range(20):  # warm-up: caches, statement cache, connection pool
            inbox(small, users["small"])
            inbox(big, users["big"])
        per_round = []
        for _ in range(rounds):
            small_times, big_times = [], []
            for _ in range(calls):
                small_times.append(seconds(inbox, small, users["small"]))
                big_times.append(seconds(inbox, big, users["big"]))
            per_round.append((median(small_times), median(big_times)))

        with captured_statements(big) as statements:
            inbox(big, users["big"])
        [(sql, parameters)] = [(s, p) for s, p in statements if "human_task" in s]
        plan = query_plan(big, sql, parameters)
        with big.unit_of_work(write=False) as uow:
            totals = uow.session.execute(
                select(HumanTask.state, text("count(*)")).group_by(HumanTask.state).order_by(HumanTask.state)
            ).all()

        small_ms = median([r[0] for r in per_round]) * 1000
        big_ms = median([r[1] for r in per_round]) * 1000
        ratio = median([r[1] / r[0] for r in per_round])
        lines = [
            "1,000 vs 100,000 instances (200 vs 20,000 open tasks, two completed tasks per instance), spread over"
            f" the country offices and lanes; measured user {USER} with {USER_CLAIMABLE} claimable and"
            f" {USER_ASSIGNED} assigned open tasks in both. {rounds} rounds x {calls} calls per size, alternating."
            f" Filling took {fill_seconds['small']:.1f} s and {fill_seconds['big']:.1f} s"
            + (" (then ANALYZE)." if kind == "postgresql" else " (no ANALYZE: nothing runs it in production)."),
            "",
            f"Big database: {', '.join(f'{n:,} {s}' for s, n in totals)} human_task rows.",
            "",
            "| inbox rows | 1k instances | 100k instances | big / small | goal |",
            "| --- | --- | --- | --- | --- |",
            f"| {found['small']} / {found['big']} | {small_ms:.2f} ms | {big_ms:.2f} ms | {ratio:.2f}x | <= 1.5x |",
            "",
            "Ratio per round: " + ", ".join(f"{r[1] / r[0]:.2f}x" for r in per_round),
            "",
            "The inbox's SQL (captured with a before_cursor_execute listener):",
            "",
            "```sql",
            " ".join(sql.split()),
            "```",
            "",
            f"Its plan on the big database ({EXPLAIN[kind]}):",
            "",
            "```",
            *plan,
            "```",
        ]
        return lines
    finally:
        cleanup_small()
        cleanup_big()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"Inbox flatness, {kind}", measure(kind, args.rounds, args.calls))


if __name__ == "__main__":
    main()
