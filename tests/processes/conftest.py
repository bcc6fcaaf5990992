"""Fixtures for the shipped processes: every diagram of workflows/bpmn published with the real forms,
and the helpers a path test needs to act as the right person and move time.

The tests of this folder also measure which sequence flows of the shipped diagrams they take
(tests/processes/flow_coverage.py). When the whole folder runs, the figure is printed, written to
test-artifacts/flow-coverage.json, and a flow no test takes fails the run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.modeling import publishing
from engine.runtime import steps as runtime
from engine.scheduling import ticker
from engine.store.models import ProcessInstance, ProcessVersion
from engine.views import TaskView
from engine.work import tasks
from tests.processes.flow_coverage import FlowCoverage

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows" / "bpmn"
FORMS = ROOT / "forms"
HERE = Path(__file__).resolve().parent
COVERAGE_REPORT = ROOT / "test-artifacts" / "flow-coverage.json"
COVERAGE = FlowCoverage.of_diagrams(sorted(WORKFLOWS.glob("*.bpmn")))


def shipped_files() -> dict[str, bytes]:
    """Every BPMN diagram and DMN table of workflows/bpmn, by file name."""
    return {path.name: path.read_bytes() for path in sorted(WORKFLOWS.iterdir()) if path.suffix in (".bpmn", ".dmn")}


@pytest.fixture
def published_processes(world) -> dict[str, int]:
    """Every shipped process published together with the real forms: process id -> version."""
    published = publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    return {p.process_id: p.version for p in published}


def proposal_on_record(world, office: str, reference: str | None) -> None:
    """An EPPE case of `office` known by `reference`, for a CERF call or an MEFM request started by
    hand that links to it (engine.work.case_links: the link is one of the office's EPPE references).
    Kept as a case migrated with its reference would be: only its row, its process left aside."""
    if not reference:
        return
    with world.uow() as uow:
        session = uow.session
        if session.scalar(select(ProcessInstance.id).where(ProcessInstance.reference == reference)) is not None:
            return
        # Its own version when eppe is published, else any: the case list is not what these tests read.
        version = session.scalar(
            select(ProcessVersion).order_by((ProcessVersion.process_id == "eppe").desc(), ProcessVersion.id).limit(1)
        )
        now = world.clock.now()
        session.add(
            ProcessInstance(
                process_version_id=version.id,
                process_id="eppe",
                office_code=office,
                title=f"Proposal {reference}",
                status="completed",
                state="",
                started_at=now,
                updated_at=now,
                reference=reference,
            )
        )
        uow.commit()


def open_tasks(world, who: str, instance_id: int, title: str | None = None) -> list[TaskView]:
    """The open tasks of one instance in a person's inbox (assigned to them or theirs to claim),
    only those named `title` if given."""
    return [
        t
        for t in tasks.inbox(world.uow(), world.user(who))
        if t.instance_id == instance_id and (title is None or t.title == title)
    ]


def only_task(world, who: str, instance_id: int, title: str | None = None) -> TaskView:
    found = open_tasks(world, who, instance_id, title)
    assert len(found) == 1, f"{who} has {[t.title for t in open_tasks(world, who, instance_id)]}"
    return found[0]


def complete(world, who: str, instance_id: int, data: dict, title: str | None = None):
    """`who` completes their one open task of the instance (named `title` if given) with `data`;
    returns the instance view."""
    return tasks.complete_task(world.uow(), world.user(who), only_task(world, who, instance_id, title).id, data)


def titles(instance) -> list[str]:
    return sorted(t.title for t in instance.tasks)


def form(key: str) -> dict:
    """A shipped form's JSON Schema."""
    return json.loads((FORMS / f"{key}.json").read_text(encoding="utf-8"))


def properties(schema: dict, path: str = ""):
    """Every property of a form, nested ones (objects, array items) included: (path, schema)."""
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, prop
        yield from properties(prop, here)
        if isinstance(prop.get("items"), dict):
            yield from properties(prop["items"], f"{here}.0")


def tick_at(world, at: datetime):
    """Move the clock to `at` and fire what is due, as the worker would."""
    world.clock.set(at)
    return ticker.tick(world.db, world.clock)


# --- sequence-flow coverage ------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _record_flows():
    """Every workflow a unit of work stores during these tests is walked for the flows it took."""
    persist = runtime.finish_step

    def recording(uow, instance, workflow, **options):
        COVERAGE.record(workflow)
        return persist(uow, instance, workflow, **options)

    runtime.finish_step = recording
    yield
    runtime.finish_step = persist


_deselected: list = []


def pytest_deselected(items):
    _deselected.extend(items)


def _whole_folder_ran(session) -> bool:
    files = {Path(item.path) for item in session.items}
    wanted = set(HERE.glob("test_*.py"))
    return bool(files & wanted) and wanted <= files and not any(Path(i.path) in wanted for i in _deselected)


_checked: list[bool] = []
_whole_in_a_worker: list[bool] = []


# The end of the run, called by tests/conftest.py: under pytest-xdist each worker measures the
# tests it ran and hands its share to the controller, which sums them up and checks the whole.


def worker_output(session) -> dict:
    taken = [(flow.scope, flow.source, flow.target) for flow in COVERAGE.taken]
    return {"taken": taken, "whole": _whole_folder_ran(session)}


def merge(output: dict | None) -> None:
    if not output:
        return
    COVERAGE.taken.update(COVERAGE.flows[tuple(key)] for key in output["taken"])
    if output["whole"]:
        _whole_in_a_worker.append(True)


def finish(session, exitstatus) -> None:
    """A flow no test takes fails a run of the whole folder."""
    if not (_whole_folder_ran(session) or _whole_in_a_worker) or exitstatus != 0:
        return
    _checked.append(True)
    COVERAGE.write(COVERAGE_REPORT)
    if COVERAGE.missing():
        session.exitstatus = 1


def summary(terminalreporter) -> None:
    if not COVERAGE.taken:
        return
    report = COVERAGE.report()
    terminalreporter.section("sequence-flow coverage of workflows/bpmn")
    for name, entry in report["diagrams"].items():
        terminalreporter.write_line(f"{name}: {entry['taken']}/{entry['flows']} flows taken")
    terminalreporter.write_line(f"total: {report['taken']}/{report['flows']} = {report['percent']} %")
    if not _checked:
        terminalreporter.write_line("(a partial run: the check needs every test of tests/processes, passing)")
        return
    terminalreporter.write_line(f"report: {COVERAGE_REPORT.relative_to(ROOT)}")
    for flow in COVERAGE.missing():
        terminalreporter.write_line(f"NOT TAKEN: {flow.file}: {flow.id} ({flow.source} -> {flow.target})", red=True)
