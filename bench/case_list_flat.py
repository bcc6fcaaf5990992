"""Case list flatness: `case_list.case_list` with a text search for one user, 1k vs 100k cases.

Two scratch databases of the same kind are filled side by side with SQLAlchemy core bulk inserts
(never through the engine): 1,000 and 100,000 cases over the six country offices, a fifth running
with one open task (a third of them due within days), and the search words of each case as
engine.runtime.search_words keeps them (its reference's words, and 12 words of a 3,000-word
vocabulary for its title and summary). In both databases exactly 20 Haiti cases and 20 cases of
other offices carry the word "marisol". The measured user, chief-of-mission@hti.demo, searches for
"marisol" (and for one reference); what grows is the rest of the tables only.

The two lists are timed alternately; each round gives big/small of the medians, the figure is the
median over the rounds. Goal: <= 1.5x. The plan of the page's SQL is printed and recorded.

    python bench/case_list_flat.py [sqlite|postgresql|both] [--rounds N] [--calls N]
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
from sqlalchemy import func, insert, select, text

from engine.org import offices as org
from engine.runtime.search_words import words
from engine.store.models import CaseWord, HumanTask, ProcessInstance, ProcessVersion
from engine.store.uow import Database
from engine.work import case_list
from engine.work.case_filter import CaseFilter

USER = "chief-of-mission@hti.demo"
COUNTRIES = [code for code, _name, kind, _parent, _tz in org.OFFICES if kind == "country"]
VOCABULARY = [f"w{n:04d}" for n in range(3000)]
MARKED = 20  # Haiti cases with the searched word, and as many elsewhere, in both databases
CHUNK = 10_000
EXPLAIN = {"sqlite": "EXPLAIN QUERY PLAN", "postgresql": "EXPLAIN (ANALYZE, BUFFERS)"}


def fill(database: Database, count: int, seed: int) -> tuple[int, str]:
    """Bulk-insert the cases, their open tasks and their words; returns the measured user's id and
    the reference of one marked Haiti case."""
    publish_test_diagram(database, "funding_review.bpmn")
    users = user_ids(database)
    others = [i for email, i in users.items() if email != USER]
    with database.unit_of_work(write=False) as uow:
        version_id = uow.session.scalar(select(ProcessVersion.id))
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    marked_haiti = set(rng.sample(range(0, count, 6), MARKED))  # ids whose office is forced to HTI
    marked_other = set(rng.sample([n for n in range(3, count, 6)], MARKED))
    numbers: dict[str, int] = {}
    wanted_reference = ""
    with database.engine.begin() as connection:
        for start in range(0, count, CHUNK):
            cases, open_tasks, case_words = [], [], []
            for n in range(start, min(start + CHUNK, count)):
                instance_id = n + 1
                office = "HTI" if n in marked_haiti else rng.choice(COUNTRIES)
                if n in marked_other and office == "HTI":
                    office = "PAN"
                prefix = f"FR-{office}-2026"
                numbers[prefix] = numbers.get(prefix, 0) + 1
                reference = f"{prefix}-{numbers[prefix]:04d}"
                running = rng.random() < 0.2
                started = now - timedelta(minutes=rng.randrange(1, 600_000))
                vocabulary = rng.sample(VOCABULARY, 12)
                if n in marked_haiti or n in marked_other:
                    vocabulary[0] = "marisol"
                    if n in marked_haiti and not wanted_reference:
                        wanted_reference = reference
                cases.append(
                    dict(
                        id=instance_id,
                        process_version_id=version_id,
                        process_id="funding_review",
                        office_code=office,
                        title=" ".join(vocabulary[:4]),
                        status="running" if running else "completed",
                        state='{"bench": true}',
                        sla_breached=rng.random() < 0.05,
                        started_by_id=rng.choice(others),
                        started_at=started,
                        updated_at=started + timedelta(hours=1),
                        completed_at=None if running else started + timedelta(days=2),
                        revision=1,
                        reference=reference,
                    )
                )
                for word in dict.fromkeys(words(reference) + vocabulary):
                    case_words.append(dict(word=word, instance_id=instance_id))
                if running:
                    created = started + timedelta(minutes=5)
                    open_tasks.append(
                        dict(
                            id=str(uuid.UUID(int=rng.getrandbits(128))),
                            instance_id=instance_id,
                            process_id="funding_review",
                            element_id="review",
                            title="Review the request",
                            lane="Emergency Focal Point",
                            form_key=None,
                            office_code=office,
                            candidate_role="Emergency Focal Point",
                            candidate_office="RO-AMERICAS",
                            assignee_id=None,
                            state="open",
                            created_at=created,
                            due_at=now + timedelta(hours=rng.randrange(-48, 96)) if rng.random() < 1 / 3 else None,
                            completed_at=None,
                            completed_by_id=None,
                        )
                    )
            connection.execute(insert(ProcessInstance.__table__), cases)
            connection.execute(insert(CaseWord.__table__), case_words)
            if open_tasks:
                connection.execute(insert(HumanTask.__table__), open_tasks)
        if database.dialect == "postgresql":
            connection.execute(text("ANALYZE"))
    return users[USER], wanted_reference


def measure(kind: str, rounds: int, calls: int) -> list[str]:
    small, cleanup_small = scratch_database(kind)
    big, cleanup_big = scratch_database(kind)
    try:
        note_postgresql_version(big)
        fill_seconds, users, references = {}, {}, {}
        for name, database, size in (("small", small, 1_000), ("big", big, 100_000)):
            started = time.perf_counter()
            users[name], references[name] = fill(database, size, seed=size)
            fill_seconds[name] = time.perf_counter() - started

        def search(database: Database, user: int, q: str) -> case_list.CaseList:
            return case_list.case_list(database.unit_of_work(write=False), user, CaseFilter(q=q))

        lines_of_table = []
        plan: list[str] = []
        sql = ""
        for label, query in (("marisol", {"small": "marisol", "big": "marisol"}), ("a reference", references)):
            found = {n: search(db, users[n], query[n]).total for n, db in (("small", small), ("big", big))}
            for _ in range(20):  # warm-up: caches, statement cache, connection pool
                search(small, users["small"], query["small"])
                search(big, users["big"], query["big"])
            per_round = []
            for _ in range(rounds):
                small_times, big_times = [], []
                for _ in range(calls):
                    small_times.append(seconds(search, small, users["small"], query["small"]))
                    big_times.append(seconds(search, big, users["big"], query["big"]))
                per_round.append((median(small_times), median(big_times)))
            small_ms = median([r[0] for r in per_round]) * 1000
            big_ms = median([r[1] for r in per_round]) * 1000
            ratio = median([r[1] / r[0] for r in per_round])
            each = ", ".join(f"{r[1] / r[0]:.2f}x" for r in per_round)
            lines_of_table.append(
                f"| `{label}` | {found['small']} / {found['big']} | {small_ms:.2f} ms | {big_ms:.2f} ms"
                f" | {ratio:.2f}x | {each} | <= 1.5x |"
            )
            if not sql:
                with captured_statements(big) as statements:
                    search(big, users["big"], query["big"])
                [(sql, parameters)] = [(s, p) for s, p in statements if "LIMIT" in s.upper() and "case_word" in s]
                plan = query_plan(big, sql, parameters)
        with big.unit_of_work(write=False) as uow:
            word_rows = uow.session.scalar(select(func.count()).select_from(CaseWord))
        return [
            "1,000 vs 100,000 cases (a fifth running with one open task), spread over the country offices;"
            f" {MARKED} Haiti cases and {MARKED} others carry the word searched in both; measured user {USER}"
            f" (sees Haiti only). {rounds} rounds x {calls} calls per size, alternating. One call is the whole"
            " page read model: the actor, the count, the page and the filter form's choices."
            f" Filling took {fill_seconds['small']:.1f} s and {fill_seconds['big']:.1f} s"
            + (" (then ANALYZE)." if kind == "postgresql" else " (no ANALYZE: nothing runs it in production)."),
            "",
            f"Big database: {word_rows:,} case_word rows.",
            "",
            "| search | cases found (1k / 100k) | 1k cases | 100k cases | big / small | per round | goal |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *lines_of_table,
            "",
            "The page's SQL for `marisol` (captured with a before_cursor_execute listener):",
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
    finally:
        cleanup_small()
        cleanup_big()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"Case list with a text search, flatness, {kind}", measure(kind, args.rounds, args.calls))


if __name__ == "__main__":
    main()
