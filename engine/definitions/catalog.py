"""The processes a user may start: the latest published version of each, the offices the user
may start it for, and its start form. Read by the API and the staff UI's start page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..bpmn.parser import form_key
from ..bpmn.xml import parse_xml
from ..errors import NotFound
from ..org import offices as org
from ..store.models import Office, ProcessVersion
from ..store.uow import Transaction, UnitOfWork
from . import versions as definitions
from .versions import LoadedVersion


@dataclass(frozen=True)
class StartableProcess:
    """A process as the person who may start it sees it."""

    process_id: str
    name: str
    documentation: str | None
    version: int
    published_at: datetime
    offices: tuple[str, ...]  # the office codes the actor may start it for, sorted
    form_key: str | None
    form: dict | None  # the start form's JSON Schema; None when the start event names no form


def startable(uow: UnitOfWork, actor_id: int) -> list[StartableProcess]:
    """Every process whose latest version the actor may start in at least one office, by process id."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        offices = _visible_offices(tx, actor)
        found = (_as_startable(tx, actor, version, offices) for version in definitions.latest_versions(tx))
        return [process for process in found if process is not None]


def get_startable(uow: UnitOfWork, actor_id: int, process_id: str) -> StartableProcess:
    """One process the actor may start; NotFound when it is unknown or the actor may not start it."""
    with uow as tx:
        return startable_process(tx, org.load_actor(tx.session, actor_id), process_id)


def startable_process(tx: Transaction, actor: org.Actor, process_id: str) -> StartableProcess:
    version = definitions.latest_version(tx, process_id)
    process = _as_startable(tx, actor, version, _visible_offices(tx, actor)) if version else None
    if process is None:
        raise NotFound(f"no process {process_id!r} that you may start")
    return process


def may_start(tx: Transaction, actor: org.Actor, loaded: LoadedVersion, office_code: str) -> bool:
    """May the actor start this version for an office: the start event's lane is a role the actor
    holds where it is held for that office (a start event in no lane: anyone who sees the office)."""
    start = loaded.start_event
    if start is None:
        return False
    if start.lane is None:
        return actor.sees_office(office_code)
    return actor.holds(start.lane, org.candidate_office(tx.session, start.lane, office_code))


def _visible_offices(tx: Transaction, actor: org.Actor) -> list[Office]:
    # start_instance refuses an office the actor does not see, whatever the lane says.
    return [
        office for office in tx.session.scalars(select(Office).order_by(Office.code)) if actor.sees_office(office.code)
    ]


def _as_startable(
    tx: Transaction, actor: org.Actor, version: ProcessVersion, offices: list[Office]
) -> StartableProcess | None:
    loaded = definitions.load_version(version)
    start = loaded.start_event
    if start is None:  # started only by messages
        return None
    allowed = tuple(office.code for office in offices if may_start(tx, actor, loaded, office.code))
    if not allowed:
        return None
    key = form_key(start)
    return StartableProcess(
        process_id=version.process_id,
        name=version.name,
        documentation=_documentation(version) or getattr(start, "documentation", None),
        version=version.version,
        published_at=version.published_at,
        offices=allowed,
        form_key=key,
        form=loaded.form(key),
    )


# SpiffWorkflow's parser keeps no process-level documentation, so it is read from the stored XML,
# once per version (its content hash): versions are immutable.
_documentation_by_version: dict[tuple[str, str], str | None] = {}


def _documentation(version: ProcessVersion) -> str | None:
    key = (version.process_id, version.content_hash)
    if key not in _documentation_by_version:
        _documentation_by_version[key] = _read_documentation(version)
    return _documentation_by_version[key]


def _read_documentation(version: ProcessVersion) -> str | None:
    tree = parse_xml(definitions.process_file(version, version.process_id).encode("utf-8"), version.process_id)
    found = tree.xpath(
        "//*[local-name()='process'][@id=$id]/*[local-name()='documentation']/text()", id=version.process_id
    )
    return " ".join(found).strip() or None
