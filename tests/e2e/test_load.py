"""The production web process under load: scripts/serve.sh (gunicorn, 4 workers, DOEFLOW_SCHEDULER=off)
on a throwaway PostgreSQL database takes 200 concurrent completions of 100 open tasks, two per task,
over the API. Exactly one of each pair wins (200), the other gets 409, and no instance is corrupted:
its open human_task rows are the workflow's ready human tasks and each task completed exactly once.

The figures (throughput, p50/p95 latency) go to test-artifacts/load.json.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bpmn import execution
from engine.definitions import versions as definitions
from engine.modeling import publishing
from engine.org import demo as demo_org
from engine.org import users
from engine.runtime import steps as runtime
from engine.store import schema
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, User
from engine.store.uow import Database
from engine.work import instances, tasks
from tests.ci import in_ci
from tests.conftest import _postgres_database
from tests.processes.conftest import FORMS, shipped_files
from tests.processes.scenarios import HAITI_HURRICANE

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = 100
THREADS = 64
WEB_WORKERS = 4
EFP = "emergency-focal-point@ro-americas.demo"
MEFM = HAITI_HURRICANE["mefm"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"scripts/serve.sh exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)  # polling a server that is starting, not waiting for a timer
    raise AssertionError(f"/health did not answer within {seconds} s")


@pytest.fixture
def throwaway_pg():
    try:
        url, cleanup = _postgres_database()
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same here
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    database = Database.connect(url)
    yield database, url
    database.engine.dispose()
    cleanup()


def prepare(database: Database) -> tuple[list[str], str]:
    """Migrated, demo users, shipped diagrams published; INSTANCES MEFM requests each waiting at the
    regional review. Returns the ids of those review tasks and an API token of the focal point."""
    schema.upgrade(database)
    demo_org.load_demo(database.unit_of_work(), "load-test-password")
    publishing.publish(database.unit_of_work(), shipped_files(), forms_dir=str(FORMS))
    with database.unit_of_work(write=False) as uow:
        ids = {email: id_ for email, id_ in uow.session.execute(select(User.email, User.id))}
    com, rm, efp = ids["chief-of-mission@hti.demo"], ids["resources-management@hti.demo"], ids[EFP]

    def drive(_: int) -> str:
        instance = instances.start_instance(
            database.unit_of_work(), com, "mefm_request", "HTI", MEFM["mefm_request_start"]
        )
        for who, form in ((rm, "mefm_budget_check"), (com, "mefm_com_submission")):
            (task,) = [t for t in tasks.inbox(database.unit_of_work(), who) if t.instance_id == instance.id]
            tasks.complete_task(database.unit_of_work(), who, task.id, MEFM[form])
        (review,) = [t for t in tasks.inbox(database.unit_of_work(), efp) if t.instance_id == instance.id]
        assert review.form_key == "mefm_regional_review"
        return review.id

    with ThreadPoolExecutor(8) as pool:
        task_ids = list(pool.map(drive, range(INSTANCES)))
    return task_ids, users.issue_token(database.unit_of_work(), EFP)


def complete_over_http(port: int, token: str, task_id: str) -> tuple[int, float, str]:
    body = json.dumps({"data": MEFM["mefm_regional_review"]})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", f"/api/v1/tasks/{task_id}/complete", body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, time.perf_counter() - started, text
    finally:
        connection.close()


def corrupted_instances(database: Database, task_ids: list[str]) -> list[str]:
    """Instances whose open human_task rows differ from the workflow's ready human tasks, or whose
    review task was not completed exactly once."""
    problems = []
    with database.unit_of_work(write=False) as uow:
        session = uow.session
        completions = Counter(
            session.scalars(
                select(AuditEvent.task_id).where(AuditEvent.kind == "completed_task", AuditEvent.task_id.in_(task_ids))
            )
        )
        for task_id in task_ids:
            row = session.get(HumanTask, task_id)
            instance = session.get(ProcessInstance, row.instance_id)
            workflow = runtime.load_workflow(instance, definitions.load_version(instance.process_version))
            ready = {str(t.id) for t in execution.ready_human_tasks(workflow)}
            open_rows = set(
                session.scalars(
                    select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
                )
            )
            if row.state != "completed" or completions[task_id] != 1 or ready != open_rows or not ready:
                problems.append(
                    f"instance {instance.id}: review {row.state}, completed {completions[task_id]}x, "
                    f"ready {sorted(ready)} vs open rows {sorted(open_rows)}"
                )
    return problems


def test_200_concurrent_completions_of_100_tasks_on_gunicorn(throwaway_pg, tmp_path):
    database, url = throwaway_pg
    prepare_started = time.monotonic()
    task_ids, token = prepare(database)
    prepare_seconds = time.monotonic() - prepare_started

    port = free_port()
    env = {
        **os.environ,
        "DOEFLOW_ENV": "production",
        "DOEFLOW_SECRET_KEY": "load-test-secret-key",
        "DOEFLOW_DATABASE_URL": url,
        "DOEFLOW_HOST": "127.0.0.1",
        "DOEFLOW_PORT": str(port),
        "DOEFLOW_WEB_WORKERS": str(WEB_WORKERS),
        "DOEFLOW_MAIL_DEV_FOLDER": str(tmp_path / "mail"),
    }
    log = open(tmp_path / "serve.log", "w+")
    server = subprocess.Popen(
        ["bash", "scripts/serve.sh", "--backlog", "512", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_health(port, server)
        requests = [task_id for task_id in task_ids for _ in range(2)]
        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda task_id: complete_over_http(port, token, task_id), requests))
        wall_seconds = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.seek(0)
        server_log = log.read()
        log.close()

    statuses = Counter(status for status, _, _ in results)
    others = [(status, text[:200]) for status, _, text in results if status not in (200, 409)]
    latencies = sorted(seconds for _, seconds, _ in results)
    per_task = Counter((task_id, status) for task_id, (status, _, _) in zip(requests, results, strict=True))
    problems = corrupted_instances(database, task_ids)
    with database.unit_of_work(write=False) as uow:
        prd_open = uow.session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.state == "open", HumanTask.form_key == "mefm_prd_review")
        )
    figures = {
        "instances": INSTANCES,
        "requests": len(requests),
        "client_threads": THREADS,
        "gunicorn_workers": WEB_WORKERS,
        "succeeded_200": statuses[200],
        "conflict_409": statuses[409],
        "other_statuses": len(others),
        "corrupted_instances": len(problems),
        "prd_reviews_opened": prd_open,
        "wall_seconds": round(wall_seconds, 3),
        "requests_per_second": round(len(requests) / wall_seconds, 1),
        "completions_per_second": round(statuses[200] / wall_seconds, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "latency_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "latency_max_ms": round(latencies[-1] * 1000, 1),
        "prepare_seconds": round(prepare_seconds, 1),
    }
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))

    assert others == [], (others[:5], server_log[-3000:])
    assert (statuses[200], statuses[409]) == (INSTANCES, INSTANCES), figures
    # One winner and one 409 for every task, never two winners of one task.
    assert all(per_task[(task_id, 200)] == 1 and per_task[(task_id, 409)] == 1 for task_id in task_ids)
    assert problems == [], problems[:5]
    assert prd_open == INSTANCES
