"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it accepts, failing on demand.

A test module uses it with `smtp_server = smtp.smtp_server` (or imports the fixture by name).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    message_id: str
    mail_from: str
    to: str
    subject: str
    body: str
    message: EmailMessage


class SmtpServer:
    """`fail_next(n, code)` answers the next n DATA commands with `code`; `refuse(address, code)`
    refuses that recipient; `down()` / `up()` stop and restart the listener on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._refused: dict[str, int] = {}
        self._controller: Controller | None = None

    def up(self) -> None:
        if self._controller is None:
            # A stopped controller's event loop is closed, so each start needs a new one.
            self._controller = Controller(_Handler(self), hostname=HOST, port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, n: int, code: int = 451) -> None:
        with self._lock:
            self._failures.extend([code] * n)

    def refuse(self, address: str, code: int = 550) -> None:
        with self._lock:
            self._refused[address.lower()] = code

    def message_ids(self) -> list[str]:
        with self._lock:
            return [r.message_id for r in self.received]

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _refusal(self, address: str) -> int | None:
        with self._lock:
            return self._refused.get(address.lower())

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.server._refusal(address)
        if code is not None:
            return f"{code} 5.1.1 <{address}>: recipient refused (test)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        code = self.server._next_failure()
        if code is not None:
            return f"{code} try again later (test)"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.server._record(
            Received(
                message_id=message["Message-ID"],
                mail_from=envelope.mail_from,
                to=", ".join(envelope.rcpt_tos),
                subject=str(message["Subject"]).strip(),
                body=message.get_content(),
                message=message,
            )
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.up()
    yield server
    server.down()
