"""SLA report flatness: `reports.sla_report` (the whole /reports page) for a Regional Director,
1k vs 100k cases, and the API's rows alone.

Two scratch databases of the same kind are filled with SQLAlchemy core bulk inserts (never through
the engine). Both hold the same recent history: 1,000 cases decided in the report's default period
(this month and the five before), each with its `case_decision` row and three completed steps, and
200 cases running now (an open step each, a third overdue, a tenth escalated; 50 MEFM advances
waiting for their repayment with their answers in the audit, 50 CERF applications at various steps).
The big one adds 99,000 cases decided over the eight years before, with their steps: what grows
is the history only, as it does in production. The figures say whether the report stays flat in
history (goal: <= 1.5x, and under 300 ms at 100k). A last row reads the whole history (a 5-year
period) on the big database, which is not flat and has no goal: it reads every row of the period.

    python bench/report_flat.py [sqlite|postgresql|both] [--rounds N] [--calls N]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from common import median, note_postgresql_version, publish_test_diagram, record, scratch_database, seconds, user_ids
from sqlalchemy import insert, select, text

from engine.org import offices as org
from engine.store.models import AuditEvent, CaseDecision, HumanTask, ProcessInstance, ProcessVersion
from engine.store.uow import Database
from engine.work import reports
from engine.work.report_filter import ReportFilter

USER = "regional-director@ro-americas.demo"
COUNTRIES = [code for code, _name, kind, _parent, _tz in org.OFFICES if kind == "country"]
PROCESSES = {
    "mefm_request": ["Check the budget", "Review the request for the region", "Decide the request"],
    "eppe": ["Draft the proposal", "Check the budget", "Approve the proposal for endorsement"],
    "cerf_application": ["Record the call for proposals", "Draft the CERF project proposal", "Countersign"],
    "endorsement": ["Screen the submission", "Review the thematic aspects", "Endorse for the region"],
}
RECENT, RUNNING = 1_000, 200
CHUNK = 10_000


def _task(rng, instance_id, process, office, title, created, completed, state="completed", element="step"):
    return dict(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        instance_id=instance_id,
        process_id=process,
        element_id=element,
        title=title,
        lane="Emergency Focal Point",
        form_key=None,
        office_code=office,
        candidate_role="Emergency Focal Point",
        candidate_office="RO-AMERICAS",
        assignee_id=None,
        state=state,
        created_at=created,
        due_at=None,
        completed_at=completed,
        completed_by_id=None,
    )


def fill(database: Database, count: int, seed: int) -> int:
    """Bulk-insert `count` decided cases (RECENT of them in the default period) and RUNNING open ones."""
    publish_test_diagram(database, "funding_review.bpmn")
    users = user_ids(database)
    with database.unit_of_work(write=False) as uow:
        version_id = uow.session.scalar(select(ProcessVersion.id))
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with database.engine.begin() as connection:
        for start in range(0, count + RUNNING, CHUNK):
            cases, decisions, steps, events = [], [], [], []
            for n in range(start, min(start + CHUNK, count + RUNNING)):
                instance_id, process = n + 1, rng.choice(list(PROCESSES))
                office = rng.choice(COUNTRIES)
                running = n >= count
                if running:
                    started = now - timedelta(hours=rng.randrange(1, 24 * 60))
                elif n < RECENT:
                    started = now - timedelta(hours=rng.randrange(150, 24 * 140))
                else:
                    started = now - timedelta(days=rng.randrange(200, 8 * 365))
                hours = rng.lognormvariate(3.0, 0.8)
                breached = hours > 48 or (running and rng.random() < 0.1)
                cases.append(
                    dict(
                        id=instance_id,
                        process_version_id=version_id,
                        process_id=process,
                        office_code=office,
                        title=f"Case {instance_id}",
                        status="running" if running else "completed",
                        state='{"bench": true}',
                        sla_breached=breached,
                        started_by_id=None,
                        started_at=started,
                        updated_at=started,
                        completed_at=None if running else started + timedelta(hours=hours),
                        revision=1,
                        reference=f"B-{office}-{instance_id:07d}",
                    )
                )
                if running:
                    steps.append(_open_step(rng, instance_id, process, office, started, now, n - count, events))
                    continue
                decisions.append(
                    dict(
                        instance_id=instance_id,
                        process_id=process,
                        office_code=office,
                        decided_at=started + timedelta(hours=hours),
                        hours=hours,
                        breached=breached,
                        outcome="approved",
                    )
                )
                at = started
                for title in PROCESSES[process]:
                    done = at + timedelta(hours=hours / 3)
                    steps.append(_task(rng, instance_id, process, office, title, at, done))
                    at = done
            connection.execute(insert(ProcessInstance.__table__), cases)
            if decisions:
                connection.execute(insert(CaseDecision.__table__), decisions)
            connection.execute(insert(HumanTask.__table__), steps)
            if events:
                connection.execute(insert(AuditEvent.__table__), events)
        if database.dialect == "postgresql":
            connection.execute(text("ANALYZE"))
    return users[USER]


def _open_step(rng, instance_id, process, office, started, now, k, events) -> dict:
    """The open step of a running case: an MEFM advance waiting for its repayment (its answers in
    the audit), a CERF application at one of its steps, or another step, a third of them overdue."""
    if k < 50:
        process, title, element = "mefm_request", "Record the repayment of the advance", "record_repayment"
        repay = (date.today() + timedelta(days=rng.randrange(-60, 60))).isoformat()
        for kind, data in (
            ("started", {"expected_repayment_date": repay}),
            ("completed_task", {"allocated_amount_usd": 250_000}),
        ):
            events.append(dict(instance_id=instance_id, at=started, actor_id=None, kind=kind, data=data))
    elif k < 100:
        process, title, element = "cerf_application", rng.choice(PROCESSES["cerf_application"]), "cerf_step"
    else:
        title, element = PROCESSES[process][0], "step"
    step = _task(rng, instance_id, process, office, title, started, None, state="open", element=element)
    step["due_at"] = now - timedelta(hours=2) if k % 3 == 0 else now + timedelta(hours=30)
    return step


def measure(kind: str, rounds: int, calls: int) -> list[str]:
    small, cleanup_small = scratch_database(kind)
    big, cleanup_big = scratch_database(kind)
    try:
        note_postgresql_version(big)
        fill_seconds, users = {}, {}
        for name, database, size in (("small", small, RECENT), ("big", big, 100_000)):
            started = time.perf_counter()
            users[name] = fill(database, size, seed=size)
            fill_seconds[name] = time.perf_counter() - started

        def page(database: Database, user: int, wanted: ReportFilter):
            return reports.sla_report(database.unit_of_work(write=False), user, wanted)

        def api(database: Database, user: int, wanted: ReportFilter):
            return reports.sla_rows(database.unit_of_work(write=False), user, wanted)

        lines, found = [], {}
        for label, call in (("the page (`sla_report`)", page), ("the API's rows (`sla_rows`)", api)):
            wanted = ReportFilter()
            for _ in range(10):  # warm-up: caches, statement cache, connection pool
                call(small, users["small"], wanted)
                call(big, users["big"], wanted)
            per_round = []
            for _ in range(rounds):
                small_times, big_times = [], []
                for _ in range(calls):
                    small_times.append(seconds(call, small, users["small"], wanted))
                    big_times.append(seconds(call, big, users["big"], wanted))
                per_round.append((median(small_times), median(big_times)))
            small_ms = median([r[0] for r in per_round]) * 1000
            big_ms = median([r[1] for r in per_round]) * 1000
            ratio = median([r[1] / r[0] for r in per_round])
            each = ", ".join(f"{r[1] / r[0]:.2f}x" for r in per_round)
            lines.append(
                f"| {label} | {small_ms:.1f} ms | {big_ms:.1f} ms | {ratio:.2f}x | {each} | <= 1.5x, < 300 ms |"
            )
        report = page(big, users["big"], ReportFilter())
        found = (sum(r.decided for r in report.rows), len(report.now.open_breaches), len(report.now.advances))
        whole = ReportFilter(date.today() - timedelta(days=5 * 365), date.today())
        whole_ms = median([seconds(page, big, users["big"], whole) for _ in range(5)]) * 1000
        return [
            f"{RECENT:,} cases decided in the default period and {RUNNING} running in both databases; the big one"
            " adds 99,000 decided over the eight years before (three completed steps per decided case)."
            f" Measured user {USER} (the region: every country office). {rounds} rounds x {calls} calls per"
            f" size, alternating. The big database's page shows {found[0]:,} decided, {found[1]} open breaches,"
            f" {found[2]} advances. Filling took {fill_seconds['small']:.1f} s and {fill_seconds['big']:.1f} s"
            + (" (then ANALYZE)." if kind == "postgresql" else "."),
            "",
            "| call | 1k cases | 100k cases | big / small | per round | goal |",
            "| --- | --- | --- | --- | --- | --- |",
            *lines,
            "",
            f"Not flat, no goal: the page over five years of the big database's history: {whole_ms:.0f} ms.",
        ]
    finally:
        cleanup_small()
        cleanup_big()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"SLA report, flatness in history, {kind}", measure(kind, args.rounds, args.calls))


if __name__ == "__main__":
    main()
