"""Start forms kept without starting: one draft per person, process and office, not validated
(only bounded: never more lines or longer text than the form allows), filled in again when the
start form is opened, and deleted when the case is started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from forms.validation import draft_errors

from ..definitions import catalog
from ..definitions.catalog import StartableProcess
from ..errors import InvalidData
from ..org import offices as org
from ..store.models import StartDraft
from ..store.uow import Transaction, UnitOfWork
from . import case_links
from .emergencies import EmergencyView, active_emergencies

OFFICE_ERROR = "Choose the office this is for."


@dataclass(frozen=True)
class StartPage:
    """The start form of a process the actor may start, for `office` ("" until one is chosen),
    with the entries to fill in: the draft saved for that office, else none. `saved` is true when
    this call kept the entries; `errors` (per field) say why it did not."""

    process: StartableProcess
    office: str
    values: dict[str, Any] = field(default_factory=dict)
    saved_at: datetime | None = None
    saved: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    emergencies: tuple[EmergencyView, ...] = ()  # the active ones of the offices it may be started for


def start_page(uow: UnitOfWork, actor_id: int, process_id: str, office_code: str | None = None) -> StartPage:
    """The start form with the actor's draft: for `office_code`, else for the only office the actor
    may start it for, else the office of the actor's latest draft of this process."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        process = catalog.startable_process(tx, actor, process_id)
        office = office_code or (process.offices[0] if len(process.offices) == 1 else "")
        offices = [office] if office in process.offices else list(process.offices)
        process = replace(process, form=case_links.with_reference_choices(tx, process.form, offices))
        draft = _latest_draft(tx, actor.id, process, office)
        offered = tuple(active_emergencies(tx, process.offices))
        if draft is None:
            return StartPage(process, office, emergencies=offered)
        return StartPage(process, draft.office_code, dict(draft.data), saved_at=draft.updated_at, emergencies=offered)


def save_start_draft(
    uow: UnitOfWork, actor_id: int, process_id: str, office_code: str, read: Callable[[dict | None], Any]
) -> StartPage:
    """Keep the entries `read(start form)` gives, unvalidated, as the actor's draft for the office
    (replacing the one kept before). Only who may start the process there may keep one: another
    process is NotFound; an office the actor may not start it for is refused per field, nothing kept."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        process = catalog.startable_process(tx, actor, process_id)
        data = read(process.form)
        if not isinstance(data, dict):
            raise InvalidData("a draft is a group of fields", {"": "Must be a group of fields."})
        if office_code not in process.offices:
            return StartPage(process, office_code, data, errors={"office": OFFICE_ERROR})
        errors = draft_errors(process.form, data)  # unchecked, but never bigger than the form allows
        if errors:
            return StartPage(process, office_code, data, errors=errors)
        draft = tx.session.scalar(
            select(StartDraft)
            .where(
                StartDraft.user_id == actor.id,
                StartDraft.process_id == process_id,
                StartDraft.office_code == office_code,
            )
            .with_for_update()
        )
        if draft is None:
            draft = StartDraft(user_id=actor.id, process_id=process_id, office_code=office_code)
            tx.session.add(draft)
        draft.data, draft.updated_at = data, tx.now()
        tx.commit()
        return StartPage(process, office_code, data, saved_at=draft.updated_at, saved=True)


def discard_start_draft(tx: Transaction, user_id: int, process_id: str, office_code: str) -> None:
    """The case is started: the draft it came from goes, in the same unit of work."""
    tx.session.execute(
        delete(StartDraft).where(
            StartDraft.user_id == user_id, StartDraft.process_id == process_id, StartDraft.office_code == office_code
        )
    )


def _latest_draft(tx: Transaction, user_id: int, process: StartableProcess, office: str) -> StartDraft | None:
    # Only offices the actor may still start the process for: a draft for a lost role stays unseen.
    offices = [office] if office in process.offices else [] if office else list(process.offices)
    if not offices:
        return None
    return tx.session.scalar(
        select(StartDraft)
        .where(
            StartDraft.user_id == user_id,
            StartDraft.process_id == process.process_id,
            StartDraft.office_code.in_(offices),
        )
        .order_by(StartDraft.updated_at.desc(), StartDraft.id.desc())
        .limit(1)
    )
