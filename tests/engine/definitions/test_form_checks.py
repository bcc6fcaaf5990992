"""Publishing checks the forms a version freezes: a cross-field rule or a computed total that names
a field the form does not have is refused, on SQLite and PostgreSQL, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidDiagram
from engine.modeling import drafts, publishing
from engine.store.models import ProcessVersion
from tests.engine.conftest import FORMS, diagram

REVIEW = {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {"type": "string", "enum": ["recommend", "return", "reject"]},
        "amount_usd": {"type": "number", "minimum": 0, "maximum": 1000000},
        "budget_usd": {"type": "number", "x-readonly": True},
    },
}


def publish_with_review(world, review: dict):
    forms = {"test_review": json.dumps(review)}
    return publishing.publish(world.uow(), diagram("funding_review.bpmn"), forms_dir=FORMS, forms=forms)


def versions(world) -> int:
    with world.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_a_rule_naming_a_field_the_form_lacks_is_refused_at_publishing(world):
    broken = {**REVIEW, "x-rules": [{"field": "amount_usd", "at_most": "budget_total_usd"}]}
    with pytest.raises(InvalidDiagram) as refused:
        publish_with_review(world, broken)
    [problem] = refused.value.problems
    assert problem.file == "forms/test_review.json"
    assert problem.message == "x-rules[0]: the form has no field 'budget_total_usd'"
    assert versions(world) == 0

    fixed = {**REVIEW, "x-rules": [{"field": "amount_usd", "at_most": "budget_usd"}]}
    assert [p.version for p in publish_with_review(world, fixed)] == [1]


def test_a_total_of_lines_the_form_lacks_is_refused_by_the_modelers_validation():
    broken = {
        **REVIEW,
        "properties": {**REVIEW["properties"], "total": {"type": "number", "x-computed": {"sum": "lines[].cost"}}},
    }
    files = {
        "funding_review.bpmn": diagram("funding_review.bpmn")["funding_review.bpmn"].decode(),
        "forms/test_review.json": json.dumps(broken),
    }
    found = [(p.file, p.message) for p in drafts.validate(files, known_roles=None).problems]
    assert ("forms/test_review.json", "total: the form has no number field 'lines[].cost' to sum") in found
