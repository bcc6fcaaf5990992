"""The sequence-flow coverage measure itself: a flow counts as taken only when a test's workflow
really went along it, through gateways, boundary events and loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.modeling import publishing
from engine.runtime import steps as runtime
from engine.work import instances
from tests.processes.conftest import COVERAGE, WORKFLOWS, complete
from tests.processes.flow_coverage import FlowCoverage

DIAGRAMS = Path(__file__).resolve().parents[1] / "engine" / "diagrams"
PD, EFP, APPROVER = "project-developer@hti.demo", "emergency-focal-point@ro-americas.demo", "mefm-approver@hq.demo"
DRAFT = {"title": "Hurricane Marisol bridge", "amount": 50000, "justification": "shelter kits"}


@pytest.fixture
def measured(world, monkeypatch) -> FlowCoverage:
    """The test diagram funding_review published, and a coverage measure of it fed by every unit of work."""
    publishing.publish(
        world.uow(),
        {"funding_review.bpmn": (DIAGRAMS / "funding_review.bpmn").read_bytes()},
        forms_dir=str(DIAGRAMS.parent / "forms"),
    )
    coverage = FlowCoverage.of_diagrams([DIAGRAMS / "funding_review.bpmn"])
    persist = runtime.finish_step

    def recording(uow, instance, workflow, **options):
        coverage.record(workflow)
        return persist(uow, instance, workflow, **options)

    monkeypatch.setattr(runtime, "finish_step", recording)
    return coverage


def taken(coverage: FlowCoverage) -> set[str]:
    return {flow.id for flow in coverage.taken}


def test_a_flow_counts_only_once_the_path_went_along_it(world, measured):
    instance = instances.start_instance(world.uow(), world.user(PD), "funding_review", "HTI", {})
    assert taken(measured) == {"f_start_draft"}
    complete(world, PD, instance.id, DRAFT)
    complete(world, EFP, instance.id, {"decision": "return", "comments": "add the shelter line"})
    assert taken(measured) == {"f_start_draft", "f_draft_review", "f_review_gateway", "f_return"}

    complete(world, PD, instance.id, DRAFT)
    complete(world, EFP, instance.id, {"decision": "recommend"})
    done = complete(world, APPROVER, instance.id, {})
    assert done.status == "completed"
    assert {f.id for f in measured.missing()} == {"f_reject"}
    assert measured.report()["percent"] == round(100 * 7 / 8, 1)


def test_every_shipped_diagram_is_measured():
    assert {flow.file for flow in COVERAGE.flows.values()} == {p.name for p in WORKFLOWS.glob("*.bpmn")}
