"""Helpers for tests/e2e/test_faults.py: a dump of every row, the figures file, a subprocess
stopped at a chosen point of a unit of work, a private PostgreSQL cluster, a consistency check."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text

from engine.bpmn import execution
from engine.definitions import versions as definitions
from engine.runtime import steps as runtime
from engine.runtime import timers
from engine.store.db import Base
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, Timer
from engine.store.uow import Database

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "faults.json"
HANG_SCRIPT = Path(__file__).resolve().parent / "faults_scripts" / "complete_then_hang.py"
MARK = "KILL-POINT"


# --- the figures ---------------------------------------------------------------------------------


def record(section: str, figures: dict) -> None:
    """Merge one test's figures into test-artifacts/faults.json under `section`."""
    ARTIFACT.parent.mkdir(exist_ok=True)
    try:
        existing = json.loads(ARTIFACT.read_text())
    except (OSError, ValueError):
        existing = {}
    existing[section] = figures
    ARTIFACT.write_text(json.dumps(existing, indent=2, sort_keys=True, default=str))


# --- dumps ---------------------------------------------------------------------------------------


def dump(database: Database) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, every column as its repr, in primary-key order, read on a new
    connection (a fresh engine, so nothing of the pool or the session cache is reused)."""
    url = database.engine.url.render_as_string(hide_password=False)
    fresh = Database.connect(url)
    try:
        with fresh.engine.connect() as connection:
            result = {}
            for table in Base.metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                result[table.name] = [tuple(repr(value) for value in row) for row in rows]
            return result
    finally:
        fresh.engine.dispose()


def digest(snapshot: dict) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()[:16]


def size(snapshot: dict) -> tuple[int, int]:
    """(rows, cells) in a dump."""
    rows = sum(len(r) for r in snapshot.values())
    cells = sum(len(row) for r in snapshot.values() for row in r)
    return rows, cells


# --- a subprocess stopped inside a unit of work --------------------------------------------------


class Hung:
    """The script, started and waited for until it reports that it stands at its kill point."""

    def __init__(self, url: str, point: str, actor_id: int, task_id: str, data: dict, at, timeout: float = 45):
        self.process = subprocess.Popen(
            [sys.executable, str(HANG_SCRIPT), url, point, str(actor_id), task_id, json.dumps(data), at.isoformat()],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        try:
            self.marker = lines.get(timeout=timeout).strip()
        except queue.Empty:
            self.kill()
            raise AssertionError(f"no {MARK} within {timeout}s: {self.process.stderr.read()}") from None
        if not self.marker.startswith(f"{MARK} {point}"):
            self.kill()
            raise AssertionError(f"unexpected output {self.marker!r}: {self.process.stderr.read()}")

    def kill(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
        code = self.process.wait(30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass
        return code


def wait_until(condition, timeout: float, what: str, step: float = 0.05):
    """Poll `condition` until it returns a true value (polling for a state, not a timed wait)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


# --- a private PostgreSQL cluster ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    """initdb into a temporary folder as the `postgres` OS user, run on a free port; restartable.
    Raises RuntimeError when that is impossible here (no binaries, no postgres user, not root)."""

    mode = "private cluster, pg_ctl restart -m fast"

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins or os.geteuid() != 0:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql or not running as root")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as error:
            raise RuntimeError("no postgres OS user") from error
        self.bin = Path(bins[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="doeflow-faults-pg-"))
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.restarts = 0
        try:
            self._as_postgres(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
            )
            options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        except BaseException:
            self.remove()
            raise

    def _as_postgres(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        admin = create_engine(
            self.url().replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every session is terminated, the server stops and starts."""
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")
        self.restarts += 1

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except Exception:  # noqa: BLE001 - removal goes on whatever the server says
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# --- consistency ---------------------------------------------------------------------------------


def projection_mismatches(database: Database) -> tuple[int, list[str]]:
    """Reload every instance's workflow and compare it with its projections: ready human tasks
    against open human_task rows, waiting timers against pending timer rows, completed human_task
    rows against `completed_task` audit events. Returns (instances checked, mismatches)."""
    problems = []
    with database.unit_of_work(write=False) as uow:
        s = uow.session
        instances = s.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
        for instance in instances:
            workflow = runtime.load_workflow(instance, definitions.load_version(instance.process_version))
            ready = {str(t.id) for t in execution.ready_human_tasks(workflow)}
            open_rows = set(
                s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open"))
            )
            if ready != open_rows:
                problems.append(f"instance {instance.id}: ready {sorted(ready)} but open rows {sorted(open_rows)}")
            waiting = {str(t.id) for t in timers.waiting_timers(workflow)}
            pending = set(
                s.scalars(select(Timer.task_id).where(Timer.instance_id == instance.id, Timer.state == "pending"))
            )
            if waiting != pending:
                problems.append(
                    f"instance {instance.id}: waiting timers {sorted(waiting)} but pending {sorted(pending)}"
                )
            completed_rows = set(
                s.scalars(
                    select(HumanTask.id).where(
                        HumanTask.instance_id == instance.id,
                        HumanTask.state == "completed",
                        HumanTask.completed_by_id.is_not(None),
                    )
                )
            )
            audited = list(
                s.scalars(
                    select(AuditEvent.task_id).where(
                        AuditEvent.instance_id == instance.id, AuditEvent.kind == "completed_task"
                    )
                )
            )
            if sorted(audited) != sorted(completed_rows):
                problems.append(f"instance {instance.id}: completed rows {sorted(completed_rows)} audit {audited}")
            if (instance.status == "completed") != workflow.is_completed():
                problems.append(f"instance {instance.id}: status {instance.status} vs workflow")
        return len(instances), problems


class TerminatedBackends:
    """The fallback where no private cluster can run: a throwaway database on the shared test
    server whose every connection is ended with pg_terminate_backend (the server itself is never
    restarted, and the database named in the URL, `test`, is never touched)."""

    mode = "fallback: pg_terminate_backend of every connection to a throwaway database"

    def __init__(self, server_url: str) -> None:
        import uuid

        from engine.store.db import normalize_url

        self.admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
        self.name = f"doeflow_faults_{uuid.uuid4().hex[:10]}"
        self.restarts = 0

    def create_database(self, _name: str) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.admin.url.set(database=self.name).render_as_string(hide_password=False)

    def restart(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": self.name},
            )
        self.restarts += 1

    def remove(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
