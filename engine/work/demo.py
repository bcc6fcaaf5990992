"""Demo instances: the invented scenarios of workflows/demo/instances.json started and moved on
through the engine API, as the demo users, so a new installation shows a living inbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ..errors import NotFound
from ..store.models import ProcessInstance, User
from ..store.uow import Database
from . import instances, tasks

DEMO_FILE = Path(__file__).resolve().parents[2] / "workflows" / "demo" / "instances.json"


@dataclass(frozen=True)
class Loaded:
    name: str
    instance_id: int
    waiting_at: list[str]


def load_instances(database: Database, clock, path: Path = DEMO_FILE) -> list[Loaded]:
    """Start every demo instance; does nothing when the database already holds instances."""
    with database.unit_of_work(clock, write=False) as tx:
        if tx.session.scalar(select(func.count()).select_from(ProcessInstance)):
            return []
        people = dict(tx.session.execute(select(User.email, User.id)).all())
    loaded = []
    for entry in json.loads(path.read_text(encoding="utf-8"))["instances"]:
        actor = _person(people, entry["by"])
        view = instances.start_instance(
            database.unit_of_work(clock), actor, entry["process"], entry["office"], entry["data"]
        )
        for step in entry["steps"]:
            who = _person(people, step["by"])
            task = next(t for t in tasks.inbox(database.unit_of_work(clock), who) if t.instance_id == view.id)
            view = tasks.complete_task(database.unit_of_work(clock), who, task.id, step["data"])
        loaded.append(Loaded(entry["name"], view.id, [t.title for t in view.tasks]))
    return loaded


def _person(people: dict[str, int], email: str) -> int:
    if email not in people:
        raise NotFound(f"no demo user {email}: run `demo load` first")
    return people[email]
