"""Issue 15, item 15: time travel is coherent. `timers tick --at` runs the cases at a simulated
instant (engine.clock.TravelledClock), but the emails its timers cause are due at the real now, so
`mail flush`, which runs on the real clock, sends them at once. The demo of the MEFM's 48-hour path
below (the shipped diagram, the CLI, the tests' real SMTP server) is the table of jumps; SQLite and
PostgreSQL (docs/reliability.md 8.7).

Before: those emails were queued due at the simulated instant, so `mail flush` sent neither the
reminder nor the escalation of a simulated 48 hours until the real clock got there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.store.models import OutboxEmail
from tests.processes import test_mefm
from tests.processes.scenarios import HAITI_HURRICANE

EFP = "emergency-focal-point@ro-americas.demo"
PRD, DIRECTOR, APPROVER = "prd@hq.demo", "regional-director@ro-americas.demo", test_mefm.APPROVER


@dataclass(frozen=True)
class Jump:
    after: timedelta  # `timers tick --at` the submission plus this
    fired: int
    emails: list[tuple[str, str]]  # what the next `mail flush` sends: (recipient, subject before the colon)
    id: str


THE_48_HOURS = [
    Jump(timedelta(hours=23, minutes=59), 0, [], "nothing before 24 h"),
    Jump(timedelta(hours=24, seconds=1), 1, [(EFP, "Reminder")], "the reminder at 24 h"),
    Jump(
        timedelta(hours=48, seconds=1),
        1,
        [(EFP, "Escalation"), (APPROVER, "Task assigned"), (PRD, "Escalation"), (DIRECTOR, "Escalation")],
        "the escalation at 48 h",
    ),
]


def _received(smtp_server, since: int) -> list[tuple[str, str]]:
    return sorted((r.to, r.subject.split(":")[0]) for r in smtp_server.received[since:])


def test_a_simulated_48_hours_sends_its_reminder_and_escalation_at_once(
    app, cli, world, published_processes, smtp_server
):
    app.config.update(
        ALLOW_TIME_TRAVEL=True, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, BASE_URL="https://doeflow.test"
    )
    submitted = world.clock.advance(seconds=(datetime.now(timezone.utc) - world.clock.now()).total_seconds())
    instance = test_mefm.submit(world, "HTI", HAITI_HURRICANE["mefm"])  # the 48-hour review opens now
    assert cli("mail", "flush").exit_code == 0  # the tasks assigned on the way
    seen = len(smtp_server.received)

    for jump in THE_48_HOURS:
        at = submitted + jump.after
        ticked = cli("timers", "tick", "--at", at.isoformat())
        assert ticked.output.startswith(f"{jump.fired} timer(s) fired"), (jump.id, ticked.output)
        flushed = cli("mail", "flush")
        assert flushed.exit_code == 0 and flushed.output.startswith(f"{len(jump.emails)} sent"), (
            jump.id,
            flushed.output,
        )
        assert _received(smtp_server, seen) == sorted(jump.emails), jump.id
        seen = len(smtp_server.received)

    assert test_mefm.view(world, instance.id).sla_breached
    with world.db.unit_of_work(world.clock, write=False) as tx:
        sent = tx.session.scalars(select(OutboxEmail).where(OutboxEmail.kind.in_(("reminder", "escalation"))))
        # Each carries the simulated instant that caused it (the case's time), and went out at the real one.
        assert sorted({(e.kind, e.created_at > e.sent_at) for e in sent}) == [("escalation", True), ("reminder", True)]
