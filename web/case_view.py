"""What the task and instance pages show of a case, worded for a reader: the summary of the
request, the earlier answers (the request's own first), the timeline in sentences, who holds
each open task and since when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from engine.views import EventView, InstanceView, TaskView

from . import answers
from .formschema import enum_label
from .html import lines


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    event: EventView
    text: Markup
    details: Markup | None = None  # the answers of a completed step


def earlier_answers(instance: InstanceView, forms: Mapping, start_form: Mapping | None, lang: str, files=None):
    """(event, answers) of the request itself and of every completed step, oldest first; `files`
    names the case's documents (answers.display_answers)."""
    found = []
    for event in instance.events:
        schema = _schema_of(event, forms, start_form)
        if schema is not None and event.data:
            found.append((event, answers.display_answers(schema, event.data, lang, files)))
    return found


def _schema_of(event: EventView, forms: Mapping, start_form: Mapping | None) -> Mapping | None:
    if event.kind == "started":
        return start_form or {}
    if event.kind == "completed_task":
        return forms.get(event.element_id or "") or {}
    return None


def outcome_label(event: EventView, forms: Mapping, lang: str) -> str | None:
    """The outcome of a completed step as its form words it ("Recommend approval", not a code)."""
    if not event.outcome:
        return None
    properties = (forms.get(event.element_id or "") or {}).get("properties") or {}
    for name, spec in properties.items():
        if isinstance(spec, Mapping) and "enum" in spec and str((event.data or {}).get(name)) == event.outcome:
            return enum_label(spec, (event.data or {})[name], lang)
    return event.outcome


def timeline(instance: InstanceView, forms: Mapping, start_form: Mapping | None, lang: str, files=None) -> list[Entry]:
    entries = []
    for event in instance.events:
        schema = _schema_of(event, forms, start_form)
        shown = schema is not None and event.data
        details = answers.display_answers(schema, event.data, lang, files) if shown else None
        entries.append(Entry(event, _sentence(event, outcome_label(event, forms, lang)), details or None))
    return entries


def _sentence(e: EventView, outcome: str | None) -> Markup:
    who, step, data = e.actor_name or _("the process"), e.title or "", e.data or {}
    if e.kind == "started":
        return _m(_("Started by %(who)s", who=who))
    if e.kind == "completed_task":
        text = _("“%(step)s” done by %(who)s", step=step, who=who)
        return _m(text) + (Markup(" → <strong>{}</strong>").format(outcome) if outcome else Markup(""))
    if e.kind == "claimed":
        return _m(_("%(who)s took “%(step)s”", who=who, step=step))
    if e.kind == "released":
        return _m(_("%(who)s released “%(step)s” for others with its role", who=who, step=step))
    if e.kind == "reassigned":
        return _m(_("%(who)s gave “%(step)s” to %(to)s", who=who, step=step, to=e.outcome or ""))
    if e.kind == "timer_fired":
        title = data.get("title") or ""
        if e.outcome == "escalated":
            return _m(_("Deadline passed: “%(timer)s” (SLA breached)", timer=title))
        return _m(_("Deadline reached: “%(timer)s”", timer=title))
    if e.kind == "notified":
        return _told(e.outcome, data)
    if e.kind == "commented":
        return _m(_("%(who)s commented:", who=who)) + Markup(" ") + _quote(data.get("text"))
    if e.kind == "attached":
        return _m(_("%(who)s attached “%(name)s”", who=who, name=data.get("name") or ""))
    if e.kind == "cancelled":
        return _m(_("%(who)s cancelled the case:", who=who)) + Markup(" ") + _quote(data.get("reason"))
    if e.kind == "message_sent":
        return _m(_("Message sent: %(name)s", name=e.outcome or ""))
    if e.kind == "message_received":
        return _m(_("Message received: %(name)s", name=e.outcome or ""))
    if e.kind == "completed":
        return _m(_("The process finished"))
    return _m(e.kind)


def _told(kind: str | None, data: Mapping) -> Markup:
    people = ", ".join(data.get("people") or []) or _("nobody (no one holds the role)")
    roles = data.get("roles") or []
    if kind == "escalation":
        if roles:
            return _m(_("Escalated: %(roles)s told (%(people)s)", roles=_and(roles), people=people))
        return _m(_("Escalated: %(people)s told", people=people))
    return _m(_("Reminder emailed to %(people)s", people=people))


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else _("%(some)s and %(last)s", some=", ".join(items[:-1]), last=items[-1])


def _quote(text) -> Markup:
    return Markup('<q class="said">{}</q>').format(lines(str(text or "")))


def _m(text: str) -> Markup:
    return escape(text)


def held_since(task: TaskView, events: list[EventView]):
    """Since when the task is where it is: its last claim or reassignment, else its opening."""
    moves = [e.at for e in events if e.task_id == task.id and e.kind in ("claimed", "reassigned", "released")]
    return moves[-1] if moves else task.created_at
