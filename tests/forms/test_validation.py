"""Submitted form data: per-field messages, reserved names, read-only fields."""

from __future__ import annotations

from forms.validation import check_schema, editable, field_errors

SCHEMA = {
    "type": "object",
    "required": ["amount", "decision"],
    "properties": {
        "amount": {"type": "number", "minimum": 1000, "maximum": 5000000},
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "requested_amount_usd": {"type": "number", "x-readonly": True},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"cost": {"type": "number"}}}},
    },
}


def test_each_wrong_field_gets_its_own_message():
    errors = field_errors(SCHEMA, {"amount": 999, "decision": "maybe", "lines": [{"cost": "x"}]})
    assert errors == {
        "amount": "Must be at least 1000.",
        "decision": "Choose one of: approve, reject.",
        "lines.0.cost": "Must be a number.",
    }


def test_missing_fields_are_named():
    assert field_errors(SCHEMA, {}) == {"amount": "This field is required.", "decision": "This field is required."}


def test_names_the_serializer_reserves_are_refused_at_any_depth():
    errors = field_errors(None, {"lines": [{"typename": "UUID"}], "_private": 1})
    assert set(errors) == {"lines.0.typename", "_private"}


def test_a_submission_cannot_change_a_read_only_field():
    submitted = {"amount": 2000, "decision": "approve", "requested_amount_usd": 1}
    assert editable(SCHEMA, submitted) == {"amount": 2000, "decision": "approve"}


def test_valid_data_has_no_errors_and_the_schema_itself_is_checked():
    assert field_errors(SCHEMA, {"amount": 2000, "decision": "approve"}) == {}
    assert check_schema(SCHEMA) is None
    assert "not a valid JSON Schema" in check_schema({"type": "banana"})
