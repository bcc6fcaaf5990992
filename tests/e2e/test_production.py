"""The production deployment, end to end on a throwaway PostgreSQL database: scripts/serve.sh
(`db upgrade`, then gunicorn with several workers and DOEFLOW_SCHEDULER=off) beside one separate
`flask --app wsgi worker`. /health answers, every log line is a JSON object, the session cookie is
Secure and HttpOnly, a timer due in two seconds is fired by the worker (never by the web workers)
and its email sent, and both stop cleanly."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from engine.store.models import AuditEvent, OutboxEmail, Timer
from engine.store.uow import Database
from tests.ci import in_ci
from tests.conftest import _postgres_database

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "tests" / "engine" / "diagrams" / "wait_with_reminder.bpmn"
ADMIN, PASSWORD = "ops@doeflow.example", "a long production password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def poll(condition, seconds: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.1)  # polling a server or the database, not waiting for a timer's due time
    raise AssertionError(f"{what}: not within {seconds} s")


def json_lines(text: str) -> list[dict]:
    """Every non-empty line as a JSON object with the structured log fields; fails on any other line."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)  # a line that is not JSON fails here, with the line in the message
        assert isinstance(entry, dict) and {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    return entries


@pytest.fixture
def throwaway_pg():
    try:
        url, cleanup = _postgres_database()
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same here
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    yield url
    cleanup()


def test_serve_script_and_a_separate_worker_run_doeflow_in_production(throwaway_pg, tmp_path):
    url, port = throwaway_pg, free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOEFLOW_")},
        "DOEFLOW_ENV": "production",
        "DOEFLOW_SECRET_KEY": "production-smoke-test-secret",
        "DOEFLOW_DATABASE_URL": url,
        "DOEFLOW_HOST": "127.0.0.1",
        "DOEFLOW_PORT": str(port),
        "DOEFLOW_WEB_WORKERS": "3",
        "DOEFLOW_BASE_URL": f"http://127.0.0.1:{port}",
        "DOEFLOW_MAIL_DEV_FOLDER": str(tmp_path / "mail"),
    }

    def flask(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    serve_log = open(tmp_path / "serve.log", "w+")
    server = subprocess.Popen(
        ["bash", "scripts/serve.sh", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = None
    try:
        status, _, body = poll(lambda: request(port, "GET", "/health"), 60, "/health", server)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        database = Database.connect(url)
        try:
            # serve.sh ran `db upgrade`: the schema is there, at the newest migration.
            assert {"alembic_version", "process_instance", "timer"} <= set(inspect(database.engine).get_table_names())

            flask(
                "users",
                "add",
                ADMIN,
                "--name",
                "Ops",
                "--office",
                "HTI",
                "--roles",
                "Project Developer",
                stdin=PASSWORD + "\n",
            )
            token = flask("users", "token", ADMIN).strip()
            diagram = tmp_path / "wait_with_reminder.bpmn"
            diagram.write_bytes(DIAGRAM.read_bytes().replace(b"PT1M", b"PT2S"))  # a reminder due in two seconds
            assert "wait_with_reminder" in flask("bpmn", "publish", str(diagram))

            worker_out, worker_err = open(tmp_path / "worker.out", "w+"), open(tmp_path / "worker.err", "w+")
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                cwd=ROOT,
                env=env,
                stdout=worker_out,
                stderr=worker_err,
                start_new_session=True,
            )
            status, _, body = request(
                port,
                "POST",
                "/api/v1/processes/wait_with_reminder/instances",
                json.dumps({"office": "HTI"}).encode(),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            assert status == 201, body
            instance_id = json.loads(body)["id"]

            def fired():
                with database.unit_of_work(write=False) as uow:
                    states = list(uow.session.scalars(select(Timer.state).where(Timer.instance_id == instance_id)))
                    events = uow.session.scalar(
                        select(func.count())
                        .select_from(AuditEvent)
                        .where(AuditEvent.instance_id == instance_id, AuditEvent.kind == "timer_fired")
                    )
                    return states == ["fired"] and events == 1

            poll(fired, 30, "the worker fires the timer", worker)

            def mail_sent():
                with database.unit_of_work(write=False) as uow:
                    states = list(uow.session.scalars(select(OutboxEmail.state)))
                    return len(states) >= 2 and set(states) == {"sent"}  # "task assigned" and the reminder

            poll(mail_sent, 30, "the worker sends the outbox", worker)
            assert len(list((tmp_path / "mail").glob("*.eml"))) >= 2

            # Signing in: the session cookie is Secure and HttpOnly (production settings).
            status, headers, page = request(port, "GET", "/login")
            cookie = next(v for k, v in headers if k.lower() == "set-cookie").split(";", 1)[0]
            csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
            form = urllib.parse.urlencode({"email": ADMIN, "password": PASSWORD, "csrf_token": csrf}).encode()
            status, headers, _ = request(
                port,
                "POST",
                "/login",
                form,
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            assert status == 302, "the login did not redirect"
            session_cookie = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("session="))
            attributes = {part.strip().split("=")[0].lower() for part in session_cookie.split(";")[1:]}
            assert {"secure", "httponly"} <= attributes, session_cookie
        finally:
            database.engine.dispose()
    finally:
        stops = {}
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)  # as systemd or docker stop it: a clean exit
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn's graceful shutdown
        stops["serve"] = server.wait(30)
        if worker is not None:
            stops["worker"] = worker.wait(30)

    assert stops == {"serve": 0, "worker": 0}
    serve_log.seek(0)
    served = json_lines(serve_log.read())
    assert any(e["logger"] == "doeflow.deploy" and "database is up to date" in e["message"] for e in served)
    health = [e for e in served if e.get("path") == "/health"]
    assert health and health[0]["method"] == "GET" and health[0]["status"] == 200 and "duration_ms" in health[0]
    assert any(e.get("path") == "/login" and e.get("status") == 302 for e in served)
    assert sum("Booting worker" in e["message"] for e in served) == 3
    # DOEFLOW_SCHEDULER=off: no ticker in any web worker; the separate worker has one and fired the timer.
    assert not any(e["logger"] == "doeflow.ticker" for e in served)
    worker_err.seek(0)
    worker_logs = json_lines(worker_err.read())
    assert any(e["logger"] == "doeflow.ticker" and e["message"].startswith("ticker ") for e in worker_logs)
    assert any(e["logger"] == "doeflow.ticker" and e["message"].startswith("tick: 1 fired") for e in worker_logs)
