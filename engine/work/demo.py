"""Demo instances: the invented scenarios of workflows/demo/instances.json started and moved on
through the engine API, as the demo users, so a new installation shows a living inbox; each
scenario's emergency is declared first and its cases belong to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ..errors import NotFound
from ..store.models import ProcessInstance, User
from ..store.uow import Database
from . import emergencies, instances, tasks

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
    scenarios = json.loads(path.read_text(encoding="utf-8"))
    declared = _declare(database, clock, people, scenarios.get("emergencies", []))
    for entry in scenarios["instances"]:
        actor = _person(people, entry["by"])
        emergency = declared[entry["emergency"]] if entry.get("emergency") else None
        view = instances.start_instance(
            database.unit_of_work(clock),
            actor,
            entry["process"],
            entry["office"],
            entry["data"],
            emergency_id=emergency,
        )
        for step in entry["steps"]:
            who = _person(people, step["by"])
            task = next(t for t in tasks.inbox(database.unit_of_work(clock), who) if t.instance_id == view.id)
            view = tasks.complete_task(database.unit_of_work(clock), who, task.id, step["data"])
        loaded.append(Loaded(entry["name"], view.id, [t.title for t in view.tasks]))
    return loaded


def _declare(database: Database, clock, people: dict[str, int], entries: list[dict]) -> dict[str, int]:
    """The scenarios' emergencies, declared (and their level changed) by the regional demo users:
    key -> emergency id."""
    declared = {}
    for entry in entries:
        facts = {name: entry[name] for name in ("name", "crisis_type", "level", "onset_date")}
        made = emergencies.declare_emergency(
            database.unit_of_work(clock), _person(people, entry["by"]), entry["office"], **facts
        )
        for change in entry.get("changes", []):
            who = _person(people, change["by"])
            changes = {name: change.get(name) for name in ("level", "status", "note")}
            emergencies.change_emergency(database.unit_of_work(clock), who, made.id, **changes)
        declared[entry["key"]] = made.id
    return declared


def _person(people: dict[str, int], email: str) -> int:
    if email not in people:
        raise NotFound(f"no demo user {email}: run `demo load` first")
    return people[email]
