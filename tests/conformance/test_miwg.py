"""Conformance with the OMG BPMN MIWG reference models (issue #6, point 6).

Each of the 21 models either validates or is refused with `file:line: element: message`, never a
traceback, in the engine and in `flask --app wsgi bpmn validate`. The executable ones that validate
publish, and C.9.1 runs: its daily reminder (R6/P1D) fires once a day and its escalation (P7D)
at seven days, on an injected clock."""

from __future__ import annotations

import functools
import re
import traceback
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

import config as settings
from engine.bpmn import loading as bpmn
from engine.bpmn import references
from engine.errors import Problem
from engine.messaging import delivery as messages
from engine.modeling import publishing
from engine.org import offices as org
from engine.scheduling import ticker
from engine.store.models import AuditEvent, ProcessInstance, Timer
from engine.work import instances, tasks
from tests.ci import in_ci
from tests.conformance.conftest import MIWG, MODELS, record
from tests.conftest import T0
from web import create_app

if not MODELS and in_ci():
    pytest.fail(f"no MIWG models in {MIWG}: CI copies ../shared beside the clone", pytrace=False)
pytestmark = pytest.mark.skipif(not MODELS, reason=f"no MIWG models in {MIWG}")

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ROLES = set(org.ROLES)  # what `bpmn validate` checks lanes against without a database
STARTER = "project-developer@hti.demo"  # works for HTI; a task in no lane goes to whoever started
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _ids(path: Path) -> set[str]:
    return {e.get("id") for e in etree.parse(str(path)).iter(etree.Element) if e.get("id")}


def _executable(path: Path) -> bool:
    """The engine's rule (engine.bpmn.load_definitions): isExecutable absent or "true"."""
    processes = etree.parse(str(path)).getroot().findall(f"{{{BPMN_NS}}}process")
    return any(p.get("isExecutable", "true") == "true" for p in processes)


def _located(problem: Problem, path: Path, ids: set[str]) -> bool:
    """A line, and the element's id (or its tag, for an element that has no id)."""
    if problem.file != str(path) or not problem.line or problem.line < 1 or not problem.element:
        return False
    return problem.element in ids or bool(_TAG.fullmatch(problem.element)) or problem.element == "DOCTYPE"


@functools.cache
def classify(path: Path) -> dict:
    """The verdict of the validation `bpmn validate` runs: accepted, refused or failed."""
    try:
        problems = bpmn.validate_paths([str(path)], known_roles=ROLES)
    except Exception:  # noqa: BLE001 - the point is that nothing escapes
        return {"verdict": "failed", "problems": [], "traceback": traceback.format_exc()}
    errors = [p for p in problems if p.severity == "error"]
    ids = _ids(path)
    unlocated = [str(p) for p in errors if not _located(p, path, ids)]
    verdict = "failed" if unlocated else "refused" if errors else "accepted"
    entry = {
        "verdict": verdict,
        "problems": [_short(p, path) for p in errors],
        "warnings": [_short(p, path) for p in problems if p.severity != "error"],
        "executable": _executable(path),
    }
    if unlocated:
        entry["unlocated"] = unlocated
    if errors and entry["executable"]:
        # Checked without roles: do only the lane names stand between this model and publishing?
        again = bpmn.validate_paths([str(path)], known_roles=None)
        entry["refused_only_for_lanes"] = not [p for p in again if p.severity == "error"]
    return entry


def _short(problem: Problem, path: Path) -> str:
    return str(problem).replace(str(path), path.name, 1)


def _ids_of(models):
    return [m.name for m in models]


@pytest.mark.parametrize("path", MODELS, ids=_ids_of(MODELS))
def test_each_model_is_accepted_or_refused_with_file_line_element_messages(path):
    entry = classify(path)
    record(path.name, **{k: v for k, v in entry.items() if k != "traceback"})
    assert entry["verdict"] != "failed", entry.get("traceback") or entry.get("unlocated")
    for line in entry["problems"]:
        assert re.fullmatch(rf"{re.escape(path.name)}:[1-9]\d*: \S+: .+", line), line


def test_the_set_is_complete_and_nothing_failed():
    assert len(MODELS) == 21, [m.name for m in MODELS]
    verdicts = [classify(m)["verdict"] for m in MODELS]
    assert verdicts.count("failed") == 0
    assert verdicts.count("accepted") + verdicts.count("refused") == 21


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runner(sqlite_url):
    config = settings.load("test")
    config.DATABASE_URL = sqlite_url  # not migrated: lanes are checked against the role catalogue
    app = create_app(config)
    yield app.test_cli_runner()
    app.extensions["doeflow.db"].engine.dispose()


@pytest.mark.parametrize("path", MODELS, ids=_ids_of(MODELS))
def test_bpmn_validate_command_refuses_or_accepts_without_a_traceback(cli_runner, path):
    result = cli_runner.invoke(args=["bpmn", "validate", str(path)])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    # The command checks the file with what it uses from beside it (C.9.0 and C.9.2 call C.9.1's process).
    beside = references.files_beside([str(path)])
    errors = [p for p in bpmn.validate_paths([str(path), *beside], known_roles=ROLES) if p.severity == "error"]
    if not errors:
        assert result.exit_code == 0, output
        assert f"{1 + len(beside)} file(s) valid" in output
    else:
        assert result.exit_code == 1, output
        for problem in errors:
            assert str(problem) in output
    record(path.name, cli_exit_code=result.exit_code)


# --- publishing and running ------------------------------------------------------------------------

ACCEPTED_EXECUTABLE = [m for m in MODELS if classify(m)["verdict"] == "accepted" and classify(m)["executable"]]
LANES_ONLY = [m for m in MODELS if classify(m).get("refused_only_for_lanes")]


def _with_roles_for_lanes(path: Path) -> bytes:
    """The model with each lane renamed to a doeflow role (the lane names are the only refusal)."""
    tree = etree.parse(str(path))
    roles = sorted(org.ROLES)
    for index, lane in enumerate(tree.getroot().iter(f"{{{BPMN_NS}}}lane")):
        lane.set("name", roles[index % len(roles)])
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("path", ACCEPTED_EXECUTABLE + LANES_ONLY, ids=_ids_of(ACCEPTED_EXECUTABLE + LANES_ONLY))
def test_executable_models_publish(world, path):
    lanes_renamed = path in LANES_ONLY
    content = _with_roles_for_lanes(path) if lanes_renamed else path.read_bytes()
    published = publishing.publish(world.uow(), {path.name: content})
    executable = [
        p.get("id")
        for p in etree.fromstring(content).findall(f"{{{BPMN_NS}}}process")
        if p.get("isExecutable", "true") == "true"
    ]
    assert sorted(p.process_id for p in published) == sorted(executable)
    assert all(p.created and p.version == 1 for p in published)
    record(path.name, published=True, **({"published_with_lanes_renamed": True} if lanes_renamed else {}))


# --- C.9.1: a document request with a daily reminder and an escalation after a week ----------------

C91 = MIWG / "C.9.1.bpmn"
PROCESS = "requestDocument_en"
REMINDER, ESCALATION = "BoundaryEvent_1", "BoundaryEvent_2"


@pytest.fixture
def document_request(world):
    """C.9.1 published as drawn and started at T0: it waits for the document (receive task)."""
    assert classify(C91)["verdict"] == "accepted", classify(C91)["problems"]
    publishing.publish(world.uow(), {C91.name: C91.read_bytes()})
    instance = instances.start_instance(world.uow(), world.user(STARTER), PROCESS, "HTI", {})
    return instance.id


def _fired(world, instance_id) -> list[tuple[str, str | None]]:
    with world.db.unit_of_work(write=False) as uow:
        return [
            (e.data["element_id"], e.outcome)
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.instance_id == instance_id, AuditEvent.kind == "timer_fired")
                .order_by(AuditEvent.id)
            )
        ]


def _instance(world, instance_id) -> ProcessInstance:
    with world.db.unit_of_work(write=False) as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        uow.session.expunge(instance)
        return instance


def _pending_timers(world, instance_id) -> list[tuple[str, timedelta]]:
    with world.db.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(
            select(Timer).where(Timer.instance_id == instance_id, Timer.state == "pending").order_by(Timer.due_at)
        )
        return [(t.element_id, t.due_at - T0) for t in rows]


def _tick(world, delta: timedelta) -> int:
    world.clock.set(T0 + delta)
    return ticker.tick(world.db, world.clock).fired


def _open_tasks(world, instance_id):
    return [t for t in tasks.inbox(world.uow(), world.user(STARTER)) if t.instance_id == instance_id]


def _elements(world, instance_id) -> list[str]:
    return [element for element, _ in _fired(world, instance_id)]


def test_c91_reminder_fires_once_a_day_and_escalation_at_seven_days(world, document_request):
    instance_id = document_request
    assert _pending_timers(world, instance_id) == [(REMINDER, timedelta(days=1)), (ESCALATION, timedelta(days=7))]
    assert _tick(world, timedelta(hours=23, minutes=59)) == 0

    for day in range(1, 7):
        assert _tick(world, timedelta(days=day, seconds=1)) == 1, f"day {day}"
        assert _tick(world, timedelta(days=day, hours=12)) == 0, f"day {day}, a second tick"
        assert _elements(world, instance_id) == [REMINDER] * day
        assert _instance(world, instance_id).status == "running"
        assert _open_tasks(world, instance_id) == []  # still waiting for the document

    assert _tick(world, timedelta(days=6, hours=23, minutes=59)) == 0
    assert _tick(world, timedelta(days=7, seconds=1)) == 1  # R6: the six reminders are spent
    assert _elements(world, instance_id) == [REMINDER] * 6 + [ESCALATION]
    assert _pending_timers(world, instance_id) == []  # the escalation interrupted the wait
    assert _tick(world, timedelta(days=10)) == 0

    [call] = _open_tasks(world, instance_id)  # "Call customer" (no lane: the starter's)
    assert call.title == "Call customer"
    view = tasks.complete_task(world.uow(), world.user(STARTER), call.id, {})
    assert view.status == "completed"
    record(C91.name, ran="6 daily reminders, escalation at 7 days, completed by the escalation path")


def test_c91_escalation_is_recorded_as_escalated_and_marks_the_breach(world, document_request):
    instance_id = document_request
    for day in range(1, 8):
        _tick(world, timedelta(days=day, seconds=1))
    assert _fired(world, instance_id) == [(REMINDER, "reminded")] * 6 + [(ESCALATION, "escalated")]
    assert _instance(world, instance_id).sla_breached


def test_c91_document_received_ends_the_request_and_cancels_its_timers(world, document_request):
    instance_id = document_request
    assert _tick(world, timedelta(days=1, seconds=1)) == 1
    assert _tick(world, timedelta(days=2, seconds=1)) == 1
    messages.send(world.uow(), "MESSAGE_documentReceived", {"documentReferenceId": "D-1"})
    assert _instance(world, instance_id).status == "completed"
    assert _pending_timers(world, instance_id) == []
    assert _tick(world, timedelta(days=8)) == 0
    assert _elements(world, instance_id) == [REMINDER] * 2
    assert not _instance(world, instance_id).sla_breached
    record(C91.name, ran_on_message="document received on day 3: completed, its timers cancelled")
