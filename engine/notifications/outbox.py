"""The email outbox: rows queued inside the unit of work that caused them (engine.notifications.emails),
sent over SMTP by the worker with retries and backoff, or parked as dead letters for an admin.

At least once, and twice only across a crash in the instant between the SMTP server's "250 OK" and
the commit that records it; such a resend carries the same Message-ID, so mail clients show one
message. On PostgreSQL that instant is the COMMIT itself: the row is marked sent (and locked) before
the SMTP exchange. SQLite has one writer for the whole database, so there the row is marked after
the exchange rather than holding every writer back while a mail server answers.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import case, func, select

from .. import clock as clocks
from ..store import leases
from ..store.leases import FIRST_RETRY, retry_delay
from ..store.models import OutboxEmail
from ..store.uow import Database, UnitOfWork
from .emails import BASE_URL_MARK

log = logging.getLogger("doeflow.outbox")

MAX_ATTEMPTS = 12  # with the backoff capped at an hour: about 5 hours of failures before a dead letter
SMTP_TIMEOUT = 10  # seconds, for connecting and for each SMTP command
DEV_FOLDER = Path(__file__).resolve().parents[2] / "instance" / "mail"


@dataclass(frozen=True)
class MailSettings:
    host: str | None  # None: write .eml files into dev_folder instead of sending
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str
    base_url: str
    dev_folder: str | None = None
    first_retry: timedelta = FIRST_RETRY  # the backoff's first wait; it doubles after each failure

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        """From a `config.Config` object, or a mapping of the same names (Flask's `app.config`)."""
        get = config.get if isinstance(config, Mapping) else (lambda name: getattr(config, name, None))
        return cls(
            host=get("SMTP_HOST") or None,
            port=int(get("SMTP_PORT") or 25),
            user=get("SMTP_USER") or None,
            password=get("SMTP_PASSWORD") or None,
            starttls=bool(get("SMTP_STARTTLS")),
            sender=get("MAIL_FROM") or "doeflow@localhost",
            base_url=(get("BASE_URL") or "").rstrip("/"),
            dev_folder=get("MAIL_DEV_FOLDER") or None,
            first_retry=timedelta(seconds=float(get("MAIL_RETRY_SECONDS") or FIRST_RETRY.total_seconds())),
        )


@dataclass
class FlushResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class DeadLetter:
    """An email given up on, for the administrators' page."""

    id: int
    kind: str
    to_address: str
    subject: str
    instance_id: int | None
    task_id: str | None
    attempts: int
    last_error: str | None
    created_at: datetime


def flush(
    database: Database,
    clock: clocks.Clock,
    settings: MailSettings,
    *,
    owner: str,
    limit: int = 100,
    lease_seconds: int = 120,
    stop: threading.Event | None = None,
) -> FlushResult:
    """Send every email due at the clock's now, in claimed batches of `limit`, over one connection.
    Once `stop` is set, the email in hand is finished and the rest of the batch is given back."""
    result = FlushResult()
    lease = timedelta(seconds=lease_seconds)
    stop = stop or threading.Event()
    with _transport(settings) as transport:
        while not stop.is_set():
            claimed = _claim(database, clock, owner, limit, lease)
            for position, email_id in enumerate(claimed):
                if stop.is_set():
                    with database.unit_of_work(clock) as tx:
                        leases.release(tx, OutboxEmail, owner, claimed[position:])
                        tx.commit()
                    return result
                outcome = _send_one(database, clock, transport, email_id, owner)
                if outcome is not None:
                    setattr(result, outcome, getattr(result, outcome) + 1)
            if len(claimed) < limit:
                break
    return result


def next_attempt_at(uow: UnitOfWork) -> datetime | None:
    """The earliest moment a pending email may be claimed, for the scheduler's next wake-up."""
    # A row held by another worker becomes claimable only when its lease runs out.
    free_at = case(
        (OutboxEmail.claim_expires_at > OutboxEmail.next_attempt_at, OutboxEmail.claim_expires_at),
        else_=OutboxEmail.next_attempt_at,
    )
    with uow as tx:
        return tx.session.scalar(select(func.min(free_at)).where(OutboxEmail.state == "pending"))


def dead_letters(uow: UnitOfWork) -> list[DeadLetter]:
    """Emails given up on, newest first."""
    with uow as tx:
        rows = tx.session.scalars(
            select(OutboxEmail).where(OutboxEmail.state == "dead").order_by(OutboxEmail.id.desc())
        )
        return [
            DeadLetter(
                r.id, r.kind, r.to_address, r.subject, r.instance_id, r.task_id, r.attempts, r.last_error, r.created_at
            )
            for r in rows
        ]


def _claim(database: Database, clock: clocks.Clock, owner: str, limit: int, lease: timedelta) -> list[int]:
    with database.unit_of_work(clock) as tx:
        due = (OutboxEmail.state == "pending") & (OutboxEmail.next_attempt_at <= tx.now())
        order = (OutboxEmail.next_attempt_at, OutboxEmail.id)
        claimed = leases.claim(tx, OutboxEmail, due, order_by=order, owner=owner, limit=limit, lease=lease)
        tx.commit()
        return claimed


def _send_one(database: Database, clock: clocks.Clock, transport: _Transport, email_id: int, owner: str) -> str | None:
    """Send one claimed email; returns the FlushResult field it counts in (None: no longer ours)."""
    hold_row = database.dialect == "postgresql"
    with database.unit_of_work(clock, write=hold_row) as tx:
        query = select(OutboxEmail).where(
            OutboxEmail.id == email_id, OutboxEmail.state == "pending", OutboxEmail.claimed_by == owner
        )
        row = tx.session.scalar(query.with_for_update() if hold_row else query)
        if row is None:
            return None
        message = compose(row, transport.settings)
        if hold_row:
            _mark_sent(row, tx.now())
            tx.session.flush()
        try:
            transport.send(message)
        except smtplib.SMTPRecipientsRefused as error:
            failure = (_describe(error), all(code >= 500 for code, _ in error.recipients.values()))
        except (smtplib.SMTPException, OSError) as error:
            failure = (_describe(error), False)
        else:
            if hold_row:
                tx.commit()
                return "sent"
            failure = None
    if failure is not None:
        return _record_failure(
            database,
            clock,
            email_id,
            owner,
            failure[0],
            permanent=failure[1],
            first_retry=transport.settings.first_retry,
        )
    with database.unit_of_work(clock) as tx:
        row = tx.session.scalar(select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.claimed_by == owner))
        if row is not None:
            _mark_sent(row, tx.now())
            tx.commit()
    return "sent"


def _mark_sent(row: OutboxEmail, now: datetime) -> None:
    row.state, row.sent_at, row.attempts, row.last_error = "sent", now, row.attempts + 1, None
    row.claimed_by = row.claim_expires_at = None


def compose(row: OutboxEmail, settings: MailSettings) -> EmailMessage:
    """The email as it goes out; the same row always gives the same message."""
    message = EmailMessage()
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message["From"] = settings.sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the robot
    # Quoted-printable keeps accented text 7-bit safe through any relay.
    message.set_content(row.body.replace(BASE_URL_MARK, settings.base_url), cte="quoted-printable")
    message["Content-Language"] = row.language  # after set_content, which clears Content-* headers
    return message


def _record_failure(
    database: Database,
    clock: clocks.Clock,
    email_id: int,
    owner: str,
    error: str,
    *,
    first_retry: timedelta = FIRST_RETRY,
    permanent: bool,
) -> str | None:
    with database.unit_of_work(clock) as tx:
        row = tx.session.scalar(
            select(OutboxEmail)
            .where(OutboxEmail.id == email_id, OutboxEmail.state == "pending", OutboxEmail.claimed_by == owner)
            .with_for_update()
        )
        if row is None:
            return None
        row.attempts += 1
        row.last_error = error[:2000]
        row.claimed_by = row.claim_expires_at = None
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.state = "dead"
            outcome = "dead"
            log.error(
                "email %s to %s is a dead letter after %s attempt(s): %s", row.id, row.to_address, row.attempts, error
            )
        else:
            row.next_attempt_at = tx.now() + retry_delay(row.attempts, first_retry)
            outcome = "retried"
            log.warning(
                "email %s to %s failed (attempt %s), retry at %s: %s",
                row.id,
                row.to_address,
                row.attempts,
                row.next_attempt_at.isoformat(),
                error,
            )
        tx.commit()
        return outcome


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{to}: {code} {_text(reply)}" for to, (code, reply) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


# --- transports ---------------------------------------------------------------------------------


class _Transport:
    def __init__(self, settings: MailSettings):
        self.settings = settings

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Smtp(_Transport):
    """One connection for the whole flush, opened at the first send and again after it broke.

    If connecting fails, the rest of the flush fails with the same error at once rather than
    waiting out the timeout for every email.
    """

    connection: smtplib.SMTP | None = None
    unreachable: Exception | None = None

    def send(self, message: EmailMessage) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = error
                raise
        try:
            self.connection.send_message(message, from_addr=self.settings.sender, to_addrs=[message["To"]])
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close(polite=False)
            raise

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        # Port 465 speaks TLS from the first byte (RFC 8314); elsewhere STARTTLS when configured.
        kind = smtplib.SMTP_SSL if s.port == 465 else smtplib.SMTP
        connection = kind(s.host, s.port, timeout=SMTP_TIMEOUT)
        try:
            if s.starttls and kind is smtplib.SMTP:
                connection.starttls(context=ssl.create_default_context())
            if s.user:
                connection.login(s.user, s.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self, *, polite: bool = True) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        if not polite:
            connection.close()
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


class _DevFolder(_Transport):
    """Without an SMTP host, each email becomes an .eml file to open in any mail program."""

    def send(self, message: EmailMessage) -> None:
        folder = Path(self.settings.dev_folder or DEV_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        # Named by Message-ID: a resend replaces the same file.
        path = folder / f"{message['Message-ID'].strip('<>').split('@')[0]}.eml"
        path.write_bytes(bytes(message))
        log.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)


def _transport(settings: MailSettings) -> _Transport:
    return _Smtp(settings) if settings.host else _DevFolder(settings)
