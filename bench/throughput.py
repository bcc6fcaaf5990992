"""Throughput: MEFM requests started and driven to completion through the engine API, on one core.

The shipped diagrams are published with the real forms; each request follows scenario A of
tests/processes/scenarios.py (Hurricane Marisol, Haiti) as test_mefm.py does: the Chief of Mission
of HTI starts it, Resources Management checks the budget, the Chief of Mission signs, the Emergency
Focal Point reviews for the region, PRD recommends, the MEFM Approver approves, Finance allocates
and records the repayment: 1 start + 7 completed tasks per request, each its own unit of work.
The next task's id comes from the view each call returns (no inbox query). The Python process is
pinned to one core (the PostgreSQL server runs on its own). Figure: median over rounds of
instances per second. Goal: >= 100/s on SQLite.

    python bench/throughput.py [sqlite|postgresql|both] [--rounds N] [--instances N]
"""

from __future__ import annotations

import argparse
import os

from common import (
    median,
    note_postgresql_version,
    profile_tables,
    profiled,
    publish_shipped,
    record,
    scratch_database,
    seconds,
    user_ids,
)

from engine.store.uow import Database
from engine.work import instances, tasks
from tests.processes.scenarios import HAITI_HURRICANE

MEFM = HAITI_HURRICANE["mefm"]
REPAYMENT = {
    "repaid_amount_usd": 500_000,
    "repayment_date": "2025-11-30",
    "repayment_source": "cerf",
    "repayment_reference": "25-RR-IOM-031",
}
STEPS = [
    ("resources-management@hti.demo", MEFM["mefm_budget_check"]),
    ("chief-of-mission@hti.demo", MEFM["mefm_com_submission"]),
    ("emergency-focal-point@ro-americas.demo", MEFM["mefm_regional_review"]),
    ("prd@hq.demo", MEFM["mefm_prd_review"]),
    ("mefm-approver@hq.demo", MEFM["mefm_decision"]),
    ("finance@hq.demo", MEFM["mefm_finance_allocation"]),
    ("finance@hq.demo", REPAYMENT),
]


def drive(database: Database, people: dict[str, int]) -> None:
    view = instances.start_instance(
        database.unit_of_work(), people["chief-of-mission@hti.demo"], "mefm_request", "HTI", MEFM["mefm_request_start"]
    )
    for who, data in STEPS:
        [task] = view.tasks
        view = tasks.complete_task(database.unit_of_work(), people[who], task.id, data)
    assert view.status == "completed", view.status


def measure(kind: str, rounds: int, count: int) -> list[str]:
    database, cleanup = scratch_database(kind)
    try:
        note_postgresql_version(database)
        publish_shipped(database)
        people = user_ids(database)
        for _ in range(3):
            drive(database, people)
        rates = []
        for _ in range(rounds):
            elapsed = seconds(lambda: [drive(database, people) for _ in range(count)])
            rates.append(count / elapsed)
        profiled_count = 10
        stats = profiled(lambda: [drive(database, people) for _ in range(profiled_count)])
        rate = median(rates)
        return [
            f"MEFM request, scenario A path (start + 7 tasks, 8 units of work), {rounds} rounds x {count} requests;"
            f" Python pinned to one core ({'yes' if hasattr(os, 'sched_setaffinity') else 'no'}).",
            "",
            "| requests/s | ms per request | ms per unit of work | goal |",
            "| --- | --- | --- | --- |",
            f"| {rate:.1f} | {1000 / rate:.1f} | {1000 / rate / 8:.1f} | >= 100/s on SQLite |",
            "",
            "Requests/s per round: " + ", ".join(f"{r:.1f}" for r in rates),
            "",
            *profile_tables(stats, profiled_count * 8),
        ]
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instances", type=int, default=20)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"Throughput, {kind}", measure(kind, args.rounds, args.instances))


if __name__ == "__main__":
    main()
