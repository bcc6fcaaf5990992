"""Case references: readable, unique, per process kind, office and year, given when a case is
created and given back when its start fails (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.bpmn import execution
from engine.errors import ProcessFailure
from engine.runtime import references
from engine.store.models import ProcessInstance
from tests.engine.work.test_instances import start


def _references(world) -> list[str]:
    with world.uow() as tx:
        return list(tx.session.scalars(select(ProcessInstance.reference).order_by(ProcessInstance.id)))


def test_each_case_gets_the_next_number_of_its_kind_office_and_year(world, funding_review):
    year = world.clock.now().year
    first, second = start(world), start(world)
    other_office = start(world, who="project-developer@pan.demo", office="PAN")
    assert (first.reference, second.reference, other_office.reference) == (
        f"FUNDING-HTI-{year}-0001",
        f"FUNDING-HTI-{year}-0002",
        f"FUNDING-PAN-{year}-0001",
    )
    assert references.REFERENCE.match(first.reference)


def test_a_start_that_fails_gives_its_number_back(world, funding_review, monkeypatch):
    start(world)
    with monkeypatch.context() as failing:
        failing.setattr(execution, "advance", _fail)
        with pytest.raises(ProcessFailure):
            start(world)  # fails after its number was taken
    year = world.clock.now().year
    assert start(world).reference == f"FUNDING-HTI-{year}-0002"
    assert _references(world) == [f"FUNDING-HTI-{year}-0001", f"FUNDING-HTI-{year}-0002"]


def _fail(workflow, now):
    raise ProcessFailure("draft", "a script failed")


def test_the_year_is_the_year_the_case_starts(world, funding_review):
    world.clock.advance(days=400)
    assert start(world).reference == f"FUNDING-HTI-{world.clock.now().year}-0001"


@pytest.mark.parametrize(
    "process_id, declared, kind",
    [
        ("mefm_request", None, "MEFM"),
        ("cerf_application", None, "CERF"),
        ("eppe", None, "EPPE"),
        ("surge_request", None, "SURGE"),
        ("endorsement", "END", "END"),
        ("a.b", None, "A"),
        ("x" * 40, None, "X" * 12),
        ("--", None, "CASE"),
    ],
)
def test_the_kind_is_the_declared_prefix_or_the_first_word_of_the_process_id(process_id, declared, kind):
    assert references.kind_of(process_id, declared) == kind
