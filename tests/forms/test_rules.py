"""Cross-field rules (`x-rules`) and computed totals (`x-computed`), kind by kind: the message on
the field, the value from the case's data, Spanish, and the check that refuses a rule naming a
field the form does not have."""

from __future__ import annotations

import pytest

from forms.rules import fit, problems, with_totals
from forms.validation import accepted, check_schema, field_errors, localize

NUMBER = {"type": "number", "minimum": 0, "maximum": 10_000_000}
LINES = {"type": "array", "items": {"type": "object", "properties": {"cost": NUMBER}}}
SCHEMA = {
    "type": "object",
    "properties": {
        "amount": NUMBER,
        "ceiling": NUMBER,
        "approved": {"type": "number", "x-readonly": True},
        "requested": {"type": "number", "x-readonly": True},
        "total": {**NUMBER, "x-computed": {"sum": "lines[].cost"}},
        "lines": LINES,
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
    },
}


def rules(*rules: dict) -> dict:
    return {**SCHEMA, "x-rules": list(rules)}


@pytest.mark.parametrize(
    ("kind", "amount", "ceiling", "message"),
    [
        ("at_most", 1_500, 1_000, "Must be at most 1,000."),
        ("at_least", 500, 1_000, "Must be at least 1,000."),
        ("less_than", 1_000, 1_000, "Must be less than 1,000."),
        ("more_than", 1_000, 1_000, "Must be more than 1,000."),
    ],
)
def test_each_comparison_puts_its_message_on_the_field_and_holds_otherwise(kind, amount, ceiling, message):
    schema = rules({"field": "amount", kind: "ceiling"})
    assert field_errors(schema, {"amount": amount, "ceiling": ceiling}) == {"amount": message}
    fine = {"at_most": 1_000, "at_least": 1_000, "less_than": 999.99, "more_than": 1_000.01}[kind]
    assert field_errors(schema, {"amount": fine, "ceiling": ceiling}) == {}


def test_dates_compare_too():
    schema = rules({"field": "end", "more_than": "start"})
    assert field_errors(schema, {"start": "2025-09-14", "end": "2025-09-14"}) == {
        "end": "Must be more than 2025-09-14."
    }
    assert field_errors(schema, {"start": "2025-09-14", "end": "2025-11-30"}) == {}


def test_a_total_must_equal_the_sum_of_its_lines_to_the_cent():
    schema = rules({"field": "amount", "equals_sum": "lines[].cost"})
    lines = [{"cost": 0.1}, {"cost": 0.2}, {"cost": 1000}]
    assert field_errors(schema, {"amount": 1000.3, "lines": lines}) == {}  # 0.1 + 0.2 is not 0.3 in floats
    assert field_errors(schema, {"amount": 1000.31, "lines": lines}) == {
        "amount": "Must equal the sum of its lines: 1,000.3."
    }


def test_a_value_not_typed_on_the_form_comes_from_the_case_and_the_first_one_decided_counts():
    schema = rules({"field": "amount", "at_most": ["approved", "requested"]})
    assert field_errors(schema, {"amount": 450_000}, {"approved": 400_000, "requested": 500_000}) == {
        "amount": "Must be at most 400,000."
    }
    assert field_errors(schema, {"amount": 450_000}, {"requested": 500_000}) == {}  # approved in full
    assert field_errors(schema, {"amount": 450_000}, {}) == {}  # nothing to compare with yet


def test_a_field_typed_on_the_form_is_never_taken_from_the_case():
    schema = rules({"field": "amount", "at_most": "ceiling"})
    assert field_errors(schema, {"amount": 5_000}, {"ceiling": 1_000}) == {}


def test_a_field_with_its_own_error_is_not_also_compared():
    schema = rules({"field": "amount", "at_most": "ceiling"})
    assert field_errors(schema, {"amount": 5_000, "ceiling": -1}) == {"ceiling": "Must be at least 0."}
    assert field_errors(schema, {"amount": "lots", "ceiling": 1}) == {"amount": "Must be a number."}


def test_a_rules_own_message_in_english_and_spanish_with_the_number_as_the_page_shows_it():
    message = {"en": "Within the approved USD {expected}, please.", "es": "Dentro de los USD {expected} aprobados."}
    schema = rules({"field": "amount", "at_most": "approved", "message": message})
    errors = field_errors(schema, {"amount": 1_500_000}, {"approved": 1_234_567.5})
    assert errors == {"amount": "Within the approved USD 1,234,567.5, please."}
    assert localize(errors["amount"], "es", schema) == "Dentro de los USD 1\u00a0234\u00a0567.5 aprobados."
    assert localize(errors["amount"], "en", schema) == errors["amount"]


def test_the_default_messages_are_in_spanish_without_the_form():
    assert localize("Must equal the sum of its lines: 1,000.3.", "es") == (
        "Debe ser igual a la suma de sus líneas: 1\u00a0000.3."
    )
    assert localize("Must be less than 2,500.", "es") == "Debe ser menor que 2\u00a0500."


def test_a_computed_total_is_the_servers_sum_whatever_the_client_sent():
    data, errors = accepted(SCHEMA, {"total": 1, "lines": [{"cost": 250}, {"cost": 1_250.5}]})
    assert data["total"] == 1_500.5 and errors == {}
    shown_lines = {**SCHEMA, "properties": {**SCHEMA["properties"], "lines": {**LINES, "x-readonly": True}}}
    data, _ = accepted(shown_lines, {"total": 99, "lines": []}, {"lines": [{"cost": 40}, {"cost": 60}]})
    assert data["total"] == 100  # the lines of the case, when the form only shows them
    data, _ = accepted(SCHEMA, {"total": 99}, {"lines": [{"cost": 40}, {"cost": 60}]})
    assert data["total"] == 0  # lines typed on the form come from the submission only
    assert with_totals(SCHEMA, {"lines": [{"cost": "x"}]})["total"] == 0  # the line's own error says why


def test_read_only_fields_are_dropped_and_totals_checked_like_any_field():
    data, errors = accepted(SCHEMA, {"approved": 1, "lines": [{"cost": 9_000_000}, {"cost": 2_000_000}]})
    assert "approved" not in data
    assert errors == {"total": "Must be at most 10000000."}


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ({"field": "amout", "at_most": "ceiling"}, "x-rules[0]: the form has no field 'amout'"),
        ({"field": "amount", "at_most": ["approved", "aproved"]}, "x-rules[0]: the form has no field 'aproved'"),
        (
            {"field": "amount", "equals_sum": "lines[].price"},
            "x-rules[0]: the form has no number field 'lines[].price'",
        ),
        ({"field": "amount", "equals_sum": "lines.cost"}, "x-rules[0]: the form has no number field 'lines.cost'"),
        ({"field": "approved", "at_most": "ceiling"}, "x-rules[0]: 'approved' is not typed on this form"),
        ({"field": "amount", "below": "ceiling"}, "x-rules[0]: a rule has one of at_most"),
        ({"field": "amount", "at_most": "ceiling", "message": {"en": "No."}}, "x-rules[0]: a message is"),
    ],
)
def test_a_rule_that_names_a_field_the_form_does_not_have_is_refused(rule, why):
    found = problems(rules(rule))
    assert len(found) == 1 and found[0].startswith(why), found
    assert check_schema(rules(rule)).startswith(why)


def test_a_total_of_lines_the_form_does_not_have_is_refused():
    schema = {
        **SCHEMA,
        "properties": {**SCHEMA["properties"], "total": {"type": "number", "x-computed": {"sum": "x[].y"}}},
    }
    assert problems(schema) == ["total: the form has no number field 'x[].y' to sum"]
    assert check_schema(rules({"field": "amount", "at_most": "ceiling"})) is None


def test_sample_answers_are_fitted_to_the_rules():
    schema = rules(
        {"field": "amount", "equals_sum": "lines[].cost"},
        {"field": "ceiling", "less_than": "requested"},
        {"field": "end", "more_than": "start"},
    )
    data = {"amount": 1_000, "lines": [{"cost": 1}, {"cost": 300}], "ceiling": 5, "requested": 5}
    data |= {"start": "2025-09-15", "end": "2025-09-15"}
    fitted = fit(schema, data)
    assert fitted["lines"] == [{"cost": 700}, {"cost": 300}] and fitted["requested"] == 6
    assert fitted["start"] == "2025-09-14" and field_errors(schema, fitted) == {}
