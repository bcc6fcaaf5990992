"""Issue 15, item 3: a process that calls itself is refused when it is checked, and every step that
runs a workflow (a start, a completion, a timer, a message, a whole dry run) has a step budget and a
time budget. Past either, the step fails with a clear error within the budget, nothing of it is
committed, the next write works and the ticker goes on. The cases are the tables below, under
data/budgets/, each on SQLite and PostgreSQL (docs/reliability.md 8.3).

Before: a call activity calling its own process published; on SQLite its start held the write lock
(every write 503 after 31 s) until the server was killed, and a dry run of it hung a worker.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select

import config as settings
from engine.bpmn import budget
from engine.bpmn.budget import StepBudget
from engine.bpmn.loading import validate_paths
from engine.errors import BudgetExceeded, InvalidDiagram
from engine.messaging import delivery
from engine.modeling import drafts, publishing
from engine.org.users import hash_password
from engine.scheduling import ticker
from engine.store.models import AuditEvent, HumanTask, Message, ProcessInstance, ProcessVersion, Timer, User
from tests.web.api_fixtures import Api
from tests.web.people import PASSWORD, Client
from web import create_app
from web import errors as web_errors

BUDGETS = Path(__file__).resolve().parent / "data" / "budgets"
PD_HTI = "project-developer@hti.demo"
MANAGER = "process-manager@hq.demo"
# What an answer may take beyond the time budget: the request's own work (sign-in, loading the version).
SLACK_SECONDS = 3.0


# --- recursion, refused when the diagrams are checked ------------------------------------------------


@dataclass(frozen=True)
class Recursion:
    files: tuple[str, ...]  # published together (under data/budgets/)
    published_before: tuple[str, ...]  # published first, in this order
    problems: tuple[tuple[str, str, str], ...]  # (file, call activity, the cycle the message names)
    id: str


RECURSIONS = [
    Recursion(
        ("calls_itself.bpmn",),
        (),
        (("calls_itself.bpmn", "call_again", "calls its own process (calls_itself calls calls_itself)"),),
        "a call activity that calls its own process",
    ),
    Recursion(
        ("ping.bpmn", "pong.bpmn"),
        (),
        (
            ("ping.bpmn", "call_pong", "(ping calls pong calls ping)"),
            ("pong.bpmn", "call_ping", "(pong calls ping calls pong)"),
        ),
        "two processes published together that call each other",
    ),
    Recursion(
        ("ping.bpmn",),
        ("before/ping.bpmn", "pong.bpmn"),
        (
            ("ping.bpmn", "call_pong", "(ping calls pong calls ping)"),
            ("pong.bpmn", "call_ping", "(pong calls ping calls pong)"),
        ),
        "a new version calling a published process that calls it",
    ),
]


def _files(names) -> dict[str, bytes]:
    return {os.path.basename(name): (BUDGETS / name).read_bytes() for name in names}


def _versions(world) -> list[tuple[str, int]]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        rows = tx.session.execute(select(ProcessVersion.process_id, ProcessVersion.version).order_by(ProcessVersion.id))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("case", RECURSIONS, ids=[c.id for c in RECURSIONS])
def test_a_process_that_calls_itself_is_refused_at_validation_and_publish(world, case):
    for name in case.published_before:
        publishing.publish(world.uow(), _files([name]))
    before = _versions(world)

    with pytest.raises(InvalidDiagram) as refused:
        publishing.publish(world.uow(), _files(case.files))

    found = {(p.file, p.element): p.message for p in refused.value.problems}
    for file, element, cycle in case.problems:
        assert cycle in found.get((file, element), ""), (file, element, found)
    assert "may not call itself" in found[case.problems[0][:2]]
    assert _versions(world) == before
    if not case.published_before:  # `bpmn validate` checks the files alone
        problems = validate_paths([str(BUDGETS / name) for name in case.files])
        assert {(os.path.basename(p.file), p.element) for p in problems} == {p[:2] for p in case.problems}


# --- the step budget and the time budget -------------------------------------------------------------

TIGHT_TASKS = StepBudget(tasks=300, seconds=60)
TIGHT_TIME = StepBudget(tasks=10**9, seconds=0.5)
SAYS = {TIGHT_TASKS: "the step ran 300 tasks, its budget", TIGHT_TIME: "the step ran longer than 0.5 s"}


@dataclass(frozen=True)
class Overrun:
    step: str  # which step runs the loop that never ends: start, task, timer, message, dry run
    budget: StepBudget
    id: str


OVERRUNS = [
    Overrun(step, limit, f"{step}: past the {kind}")
    for step in ("start", "task", "timer", "message", "dry run")
    for limit, kind in ((TIGHT_TASKS, "step budget"), (TIGHT_TIME, "time budget"))
]


@pytest.fixture
def step_budget():
    """Sets the process's step budget for one test (after the app factory set its own), then puts
    the one before back."""
    before = budget.current()
    yield budget.configure
    budget.configure(before)


def _endless(rounds: int = 0, when: str = "start") -> dict:
    return {"when": when, "rounds": rounds}  # rounds 0: the loop has no exit


def _timed(action: Callable):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def _instances(world) -> list[tuple[int, str, str]]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        rows = tx.session.execute(
            select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.state).order_by(ProcessInstance.id)
        )
        return [tuple(row) for row in rows]


def _count(world, model) -> int:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(model))


def _the_next_write_works(api: Api) -> None:
    """A case of the same process that ends: started and completed at once (on SQLite, the write lock
    is free again)."""
    response = api.start(PD_HTI, "HTI", _endless(rounds=3), "endless")
    assert response.status_code == 201, response.json
    assert response.json["status"] == "completed"


def _overrun_at_start(api: Api, world, case: Overrun) -> None:
    before = _instances(world), _count(world, AuditEvent)
    response, took = _timed(lambda: api.start(PD_HTI, "HTI", _endless(), "endless"))
    assert response.status_code == 422 and SAYS[case.budget] in response.json["error"], response.json
    assert took < case.budget.seconds + SLACK_SECONDS
    assert (_instances(world), _count(world, AuditEvent)) == before
    _the_next_write_works(api)


def _overrun_at_task(api: Api, world, case: Overrun) -> None:
    started = api.start(PD_HTI, "HTI", _endless(when="task"), "endless").json
    task_id = started["tasks"][0]["id"]
    before = _instances(world), _count(world, AuditEvent)
    response, took = _timed(lambda: api.complete(PD_HTI, task_id, {"note": "go"}))
    assert response.status_code == 422 and SAYS[case.budget] in response.json["error"], response.json
    assert took < case.budget.seconds + SLACK_SECONDS
    assert (_instances(world), _count(world, AuditEvent)) == before
    with world.db.unit_of_work(world.clock, write=False) as tx:
        assert tx.session.get(HumanTask, task_id).state == "open"
    _the_next_write_works(api)


def _overrun_at_timer(api: Api, world, case: Overrun) -> None:
    endless = api.start(PD_HTI, "HTI", _endless(when="timer"), "endless").json["id"]
    ending = api.start(PD_HTI, "HTI", _endless(rounds=3, when="timer"), "endless").json["id"]
    world.clock.advance(hours=2)
    before = [row for row in _instances(world) if row[0] == endless]

    result, took = _timed(lambda: ticker.tick(world.db, world.clock))

    assert (result.failed, result.fired) == (1, 1)
    assert took < case.budget.seconds + SLACK_SECONDS
    rows = {row[0]: row for row in _instances(world)}
    assert [rows[endless]] == before and rows[ending][1] == "completed"  # the ticker went on
    with world.db.unit_of_work(world.clock, write=False) as tx:
        timer = tx.session.scalar(select(Timer).where(Timer.instance_id == endless))
        assert timer.state == "pending" and SAYS[case.budget] in timer.last_error  # retried later, then parked
    _the_next_write_works(api)


def _overrun_at_message(api: Api, world, case: Overrun) -> None:
    asked, took = _timed(lambda: delivery.send(world.uow(), "EndlessAsked", {"office": "HTI", **_endless()}))
    assert took < case.budget.seconds + SLACK_SECONDS
    assert _instances(world) == []
    delivery.send(world.uow(), "EndlessAsked", {"office": "HTI", **_endless(rounds=3)})  # the next one goes through
    with world.db.unit_of_work(world.clock, write=False) as tx:
        states = dict(tx.session.execute(select(Message.id, Message.state)).all())
        failed = tx.session.get(Message, asked)
        assert failed.state == "failed" and SAYS[case.budget] in failed.last_error  # kept, for an administrator
        assert sorted(states.values()) == ["delivered", "failed"]
    assert [row[1] for row in _instances(world)] == ["completed"]


def _overrun_in_a_dry_run(api: Api, world, case: Overrun) -> None:
    with world.uow() as tx:
        tx.session.scalar(select(User).where(User.email == MANAGER)).password_hash = hash_password(PASSWORD)
        tx.commit()
    draft = drafts.import_diagram(
        world.uow(), world.user(MANAGER), "endless.bpmn", _files(["endless.bpmn"])["endless.bpmn"]
    )
    manager = Client(api.app)
    manager.sign_in(MANAGER)
    manager.get(f"/modeler/drafts/{draft.id}")
    response, took = _timed(
        lambda: manager.http.post(
            f"/modeler/drafts/{draft.id}/dryrun",
            json={"start_data": _endless()},
            headers={"X-CSRFToken": manager.token},
        )
    )
    assert took < case.budget.seconds + SLACK_SECONDS
    assert response.status_code == 200 and response.get_json()["ended"] is False
    problems = [e["text"] for e in response.get_json()["events"] if e["kind"] == "problem"]
    assert len(problems) == 1 and SAYS[case.budget] in problems[0], problems
    _the_next_write_works(api)


STEPS = {
    "start": _overrun_at_start,
    "task": _overrun_at_task,
    "timer": _overrun_at_timer,
    "message": _overrun_at_message,
    "dry run": _overrun_in_a_dry_run,
}


@pytest.mark.parametrize("case", OVERRUNS, ids=[c.id for c in OVERRUNS])
def test_a_loop_that_never_ends_fails_its_step_within_the_budget_and_saves_nothing(app, world, step_budget, case):
    publishing.publish(world.uow(), _files(["endless.bpmn"]), forms_dir=str(BUDGETS / "forms"))
    app.extensions["doeflow.clock"] = world.clock
    step_budget(case.budget)
    STEPS[case.step](Api(app, world), world, case)


def test_the_budget_is_read_from_the_settings(db, monkeypatch, step_budget):
    monkeypatch.setenv("DOEFLOW_STEP_MAX_TASKS", "250")
    monkeypatch.setenv("DOEFLOW_STEP_MAX_SECONDS", "2.5")
    config = settings.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    try:
        assert budget.current() == StepBudget(tasks=250, seconds=2.5)
    finally:
        app.extensions["doeflow.db"].engine.dispose()


@pytest.mark.parametrize("language, says", [("en", "ran past what one step may do"), ("es", "superó lo que puede")])
def test_a_page_tells_the_overrun_in_the_users_language(app, language, says):
    over = BudgetExceeded("count", "the step ran 300 tasks, its budget", name="Count one round")
    with app.test_request_context("/tasks/1", headers={"Accept-Language": language}):
        body, status, _ = web_errors.engine_error(over)
    assert status == 422 and says in body and "Count one round" in body
