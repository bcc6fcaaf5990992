"""The emails that tell people about a step: rendered in the recipient's language from
engine/notifications/templates/ and queued in the outbox inside the caller's unit of work."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from ..bpmn.vocabulary import OUTCOMES
from ..clock import real_now, written_time
from ..store.models import Office, OutboxEmail, ProcessInstance, User
from ..store.uow import Transaction

KINDS = ("task_assigned", "reminder", "escalation", "returned", *(f"outcome_{outcome}" for outcome in OUTCOMES))
KINDS += ("commented", "cancelled")  # about the case as a whole (engine.notifications.case_emails)
LANGUAGES = ("en", "es")
TEMPLATES = Path(__file__).resolve().parent / "templates"
BASE_URL_MARK = "{base_url}"  # stored in bodies; replaced at send time by MailSettings.base_url
# Template values that may be missing; a template line that uses a missing one is left out.
OPTIONAL = ("due", "reason", "by", "amount", "case_reference")
_OPTIONAL_PART = re.compile(r"\[([^\]]*)\]")  # `[ (USD $amount)]` in a subject: kept only if its values are there


def queue(
    tx: Transaction,
    *,
    kind: str,
    recipients: Sequence[User],
    dedupe_key: str,
    instance: ProcessInstance,
    task_id: str | None,
    task_title: str | None,
    context: dict[str, Any] | None = None,
) -> int:
    """Queue one email per recipient in the caller's transaction; returns how many were new.

    A recipient's key is `{dedupe_key}:{user id}`; a key queued before (by this transaction, an
    earlier one or a concurrent one) is skipped without error. `context` may hold `due_at` (an
    aware datetime), `reason` (why the work was returned or the case decided so), `by` (who
    returned it) and `amount` (the amount approved).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}; known: {', '.join(KINDS)}")
    session = tx.session
    session.flush()  # a new instance gets its id
    # INSERT ... ON CONFLICT DO NOTHING: a duplicate neither raises nor aborts the transaction,
    # and on PostgreSQL a concurrent insert of the same key waits for the other to commit.
    insert = postgresql.insert if tx.database.dialect == "postgresql" else sqlite.insert
    office = session.get(Office, instance.office_code)
    now = tx.now()
    due = real_now(tx.clock)  # sent now even when the step ran at a simulated instant (TravelledClock)
    rows = []
    for user in recipients:
        key = f"{dedupe_key}:{user.id}"
        if len(key) > OutboxEmail.dedupe_key.type.length:
            raise ValueError(f"dedupe key too long: {key!r}")
        language = language_of(user)
        subject, body = render(kind, language, _values(user, instance, office, task_id, task_title, context or {}))
        rows.append(
            {
                "dedupe_key": key,
                "message_id": message_id(key),
                "kind": kind,
                "instance_id": instance.id,
                "task_id": task_id,
                "recipient_id": user.id,
                "to_address": user.email,
                "language": language,
                "subject": subject,
                "body": body,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
            }
        )
    if not rows:
        return 0
    # One statement for every recipient of this email.
    inserted = session.execute(
        insert(OutboxEmail).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxEmail.id)
    ).all()
    return len(inserted)


def message_id(dedupe_key: str) -> str:
    """Stable for a key, so every resend of an email carries the same Message-ID."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@doeflow>"


def language_of(user: User) -> str:
    language = (user.language or "en").split("-")[0].lower()
    return language if language in LANGUAGES else "en"


def render(kind: str, language: str, values: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of `kind` in `language`."""
    subject_line, body = _template(kind, language)
    missing = [name for name in OPTIONAL if not values.get(name)]
    body = "\n".join(line for line in body.splitlines() if not any(_uses(line, name) for name in missing))
    subject_line = _OPTIONAL_PART.sub(lambda m: "" if any(_uses(m[1], n) for n in missing) else m[1], subject_line)
    # One header line; no-break spaces (grouped numbers) are kept.
    subject = re.sub(r"[ \t\r\n\f\v]+", " ", Template(subject_line).substitute(values)).strip()
    return subject[: OutboxEmail.subject.type.length], Template(body).substitute(values).strip() + "\n"


def _values(
    user: User,
    instance: ProcessInstance,
    office: Office | None,
    task_id: str | None,
    task_title: str | None,
    context: dict[str, Any],
) -> dict[str, str]:
    instance_link = f"{BASE_URL_MARK}/instances/{instance.id}"
    return {
        "name": user.name,
        "task": task_title or instance.title,
        "instance": instance.title,
        "reference": instance.reference or str(instance.id),
        "case_reference": instance.reference or "",  # in subjects: MEFM-HTI-2026-0007, else nothing
        "process": instance.process_version.name,
        "office": f"{office.name} ({office.code})" if office is not None else instance.office_code,
        "task_link": f"{BASE_URL_MARK}/tasks/{task_id}" if task_id else instance_link,
        "instance_link": instance_link,
        "due": format_due(context.get("due_at"), user),
        "reason": str(context.get("reason") or "").strip(),
        "by": str(context.get("by") or "").strip(),
        "comment": str(context.get("comment") or "").strip(),
        "amount": format_amount(context.get("amount"), language_of(user)),
    }


def format_amount(value: int | float | None, language: str) -> str:
    """`USD 240,000` in English, `USD 240 000` (no-break spaces) in Spanish, as the pages group numbers."""
    if value is None:
        return ""
    whole, point, fraction = f"{value:.2f}".rstrip("0").rstrip(".").partition(".")
    return "USD " + f"{int(whole):,}".replace(",", "," if language != "es" else "\u00a0") + point + fraction


def format_due(at: datetime | None, user: User) -> str:
    """The recipient's wall-clock time, as the pages write it: `27 Nov 2026, 07:00 (UTC−05:00 America/Bogota)`."""
    return written_time(at, language_of(user), user.timezone) if at is not None else ""


def _uses(line: str, name: str) -> bool:
    return re.search(rf"\$(\{{{name}\}}|{name}\b)", line) is not None


@cache
def _template(kind: str, language: str) -> tuple[str, str]:
    """The template's subject line and body (its first line is `Subject: ...`, then a blank line)."""
    text = (TEMPLATES / language / f"{kind}.txt").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"{language}/{kind}.txt must start with 'Subject: '")
    return first.removeprefix("Subject: "), body.lstrip("\n")
