"""Fixtures for the shipped processes: every diagram of workflows/bpmn published with the real forms,
and the helpers a path test needs to act as the right person and move time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from engine import definitions, outbox, tasks, ticker
from engine.outbox import MailSettings
from engine.views import TaskView
from tests.smtp import smtp_server  # noqa: F401 - the fixture `mailbox` needs

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows" / "bpmn"
FORMS = ROOT / "forms"


def shipped_files() -> dict[str, bytes]:
    """Every BPMN diagram and DMN table of workflows/bpmn, by file name."""
    return {path.name: path.read_bytes() for path in sorted(WORKFLOWS.iterdir()) if path.suffix in (".bpmn", ".dmn")}


@pytest.fixture
def published_processes(world) -> dict[str, int]:
    """Every shipped process published together with the real forms: process id -> version."""
    published = definitions.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    return {p.process_id: p.version for p in published}


def open_tasks(world, who: str, instance_id: int) -> list[TaskView]:
    """The open tasks of one instance in a person's inbox (assigned to them or theirs to claim)."""
    return [t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance_id]


def only_task(world, who: str, instance_id: int) -> TaskView:
    found = open_tasks(world, who, instance_id)
    assert len(found) == 1, f"{who} has {[t.title for t in found]}"
    return found[0]


def complete(world, who: str, instance_id: int, data: dict):
    """`who` completes their one open task of the instance with `data`; returns the instance view."""
    return tasks.complete_task(world.uow(), world.user(who), only_task(world, who, instance_id).id, data)


def tick_at(world, at: datetime):
    """Move the clock to `at` and fire what is due, as the worker would."""
    world.clock.set(at)
    return ticker.tick(world.db, world.clock)


@pytest.fixture
def mailbox(world, smtp_server):  # noqa: F811
    """Sends the outbox to a real SMTP server; each call returns the sorted (recipient, subject
    before the colon) pairs received since the previous call."""
    settings = MailSettings(
        host="127.0.0.1",
        port=smtp_server.port,
        user=None,
        password=None,
        starttls=False,
        sender="doeflow@test.example",
        base_url="https://doeflow.test",
    )
    seen = 0

    def new_mail() -> list[tuple[str, str]]:
        nonlocal seen
        outbox.flush(world.db, world.clock, settings, owner="test")
        received = smtp_server.received[seen:]
        seen = len(smtp_server.received)
        return sorted((r.to, r.subject.split(":")[0]) for r in received)

    return new_mail
