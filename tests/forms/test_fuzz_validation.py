"""Fuzzing field_errors with every shipped form: whatever a client submits, the answer is a dict
of field path to message, never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.validation import field_errors

FORMS = sorted(Path(__file__).resolve().parents[2].joinpath("forms").glob("*.json"))
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "typename",
        "__class__",
        "_private",
        "\x00",
        "🙂" * 50,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "9" * 400,
        "NaN",
        "-0",
        "1e309",
        "2026-02-30",
        "\ud800",
    ]
)
KEYS = st.one_of(st.text(max_size=12), HOSTILE_TEXT)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    HOSTILE_TEXT,
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=30,
)
# Deeper than validation.MAX_DEPTH, to reach the depth guard.
DEEP = st.integers(min_value=15, max_value=60).map(lambda depth: _nest(depth))


def _nest(depth: int) -> dict[str, Any]:
    value: Any = "leaf"
    for level in range(depth):
        value = {"x": value} if level % 2 else [value]
    return {"deep": value}


def near_valid(spec: Any, depth: int = 0) -> st.SearchStrategy:
    """Values shaped by the schema (right types, enum members, bounds ± a little), spiked with junk."""
    if not isinstance(spec, dict) or depth > 6:
        return JSON_LIKE
    if "enum" in spec:
        return st.one_of(st.sampled_from(list(spec["enum"])), SCALARS)
    if "const" in spec:
        return st.one_of(st.just(spec["const"]), SCALARS)
    kind = spec.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    low, high = spec.get("minimum"), spec.get("maximum")
    if kind == "integer":
        lo = int(low) - 2 if isinstance(low, (int, float)) else None
        hi = int(high) + 2 if isinstance(high, (int, float)) else None
        return st.one_of(st.integers(min_value=lo, max_value=hi), SCALARS)
    if kind == "number":
        lo = low - 1.5 if isinstance(low, (int, float)) else None
        hi = high + 1.5 if isinstance(high, (int, float)) else None
        return st.one_of(st.floats(min_value=lo, max_value=hi, allow_nan=False), st.integers(), SCALARS)
    if kind == "boolean":
        return st.one_of(st.booleans(), SCALARS)
    if kind == "string":
        if spec.get("format") == "date":
            return st.one_of(st.dates().map(str), HOSTILE_TEXT)
        if spec.get("format") in ("email", "date-time"):
            return st.one_of(st.emails(), st.datetimes().map(lambda d: d.isoformat() + "Z"), HOSTILE_TEXT)
        return st.one_of(st.text(max_size=int(spec.get("maxLength", 50)) + 2), HOSTILE_TEXT)
    if kind == "array":
        items = near_valid(spec.get("items"), depth + 1)
        return st.one_of(st.lists(items, max_size=int(spec.get("maxItems", 4)) + 1), SCALARS)
    if kind == "object" or "properties" in spec:
        return form_data(spec, depth + 1)
    return JSON_LIKE


def form_data(schema: dict, depth: int = 0) -> st.SearchStrategy:
    properties = schema.get("properties") or {}
    fields = {name: near_valid(spec, depth) for name, spec in properties.items()}
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda data: st.dictionaries(KEYS, JSON_LIKE, max_size=2).map(lambda extra: {**data, **extra})
    )


def assert_messages(errors: Any) -> None:
    assert isinstance(errors, dict)
    assert all(isinstance(path, str) and isinstance(message, str) for path, message in errors.items())


def test_every_shipped_form_is_fuzzed():
    assert len(FORMS) >= 40


@pytest.mark.parametrize("form", FORMS, ids=lambda path: path.stem)
def test_field_errors_answers_messages_for_any_json_like_data(form):
    schema = json.loads(form.read_text())

    @FUZZ
    @given(data=st.one_of(JSON_LIKE, DEEP, form_data(schema)))
    def check(data):
        assert_messages(field_errors(schema, data))

    check()


@pytest.mark.parametrize("form", FORMS, ids=lambda path: path.stem)
def test_field_errors_answers_messages_for_data_near_the_form(form):
    schema = json.loads(form.read_text())

    @FUZZ
    @given(data=form_data(schema))
    def check(data):
        assert_messages(field_errors(schema, data))

    check()
