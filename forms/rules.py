"""Cross-field rules (`x-rules`) and computed totals (`x-computed`) of a form: what JSON Schema
cannot say, checked and summed on the server from the submitted data and the case's data
(the vocabulary is in forms/README.md)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Collection, Iterator, Mapping
from datetime import date, timedelta
from typing import Any, Callable

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLACEHOLDER = "{expected}"
CENT = 0.005
LANGUAGES = ("en", "es")

# kind -> (the test the field's value must pass against the expected value, English, Spanish)
COMPARISONS: dict[str, tuple[Callable[[Any, Any], bool], str, str]] = {
    "at_most": (operator.le, "Must be at most {expected}.", "Debe ser como máximo {expected}."),
    "at_least": (operator.ge, "Must be at least {expected}.", "Debe ser al menos {expected}."),
    "less_than": (operator.lt, "Must be less than {expected}.", "Debe ser menor que {expected}."),
    "more_than": (operator.gt, "Must be more than {expected}.", "Debe ser mayor que {expected}."),
}
SUM_MESSAGES = ("Must equal the sum of its lines: {expected}.", "Debe ser igual a la suma de sus líneas: {expected}.")
KINDS = (*COMPARISONS, "equals_sum")


def rules_of(schema: Any) -> list[dict]:
    rules = schema.get("x-rules") if isinstance(schema, Mapping) else None
    return [rule for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []


def computed_fields(schema: Any) -> dict[str, str]:
    """Property name -> the path it sums (`activities[].cost_usd`), for the properties marked `x-computed`."""
    properties = (schema.get("properties") if isinstance(schema, Mapping) else None) or {}
    found = {}
    for name, spec in properties.items():
        how = spec.get("x-computed") if isinstance(spec, Mapping) else None
        if isinstance(how, Mapping) and isinstance(how.get("sum"), str):
            found[name] = how["sum"]
    return found


def with_totals(schema: Any, data: Any, context: Mapping | None = None) -> Any:
    """`data` with every computed total set by the server, whatever the client sent for it."""
    totals = computed_fields(schema)
    if not totals or not isinstance(data, dict):
        return data
    return {**data, **{name: total(schema, data, context, path) for name, path in totals.items()}}


def total(schema: Any, data: Mapping, context: Mapping | None, path: str) -> int | float:
    """The sum of the numbers at `path`; lines without a number count for nothing (their own field says why)."""
    head = path.split(".")[0].removesuffix("[]")
    root = {head: _lookup(schema, data, context, head)}
    numbers = [v for v in _values(root, path.split(".")) if _is_number(v)]
    if all(isinstance(n, int) for n in numbers):
        return sum(numbers)
    try:
        amount = round(math.fsum(numbers), 2)
    except OverflowError:  # a whole number too large for a float among decimals
        return math.inf
    return int(amount) if amount.is_integer() else amount


def rule_errors(
    schema: Any, data: Any, context: Mapping | None = None, invalid: Collection[str] = ()
) -> dict[str, str]:
    """Field name -> English message, for each rule of the form that the data breaks. A rule whose
    field is empty or not comparable, or that reads a field with its own error (`invalid`, paths
    as field_errors names them), is left to the schema's messages; a rule whose expected value is
    missing (nothing decided yet) holds."""
    if not isinstance(data, Mapping):
        return {}
    errors: dict[str, str] = {}
    broken_tops = {path.split(".")[0] for path in invalid}
    for rule in rules_of(schema):
        name, kind = rule.get("field"), _kind(rule)
        value = data.get(name) if isinstance(name, str) else None
        if kind is None or value is None or name in errors:
            continue
        if name in broken_tops or _reads(rule, kind) & broken_tops:
            continue  # the schema's own message says first what is wrong
        if kind == "equals_sum":
            expected: Any = total(schema, data, context, str(rule[kind]))
            broken = _is_number(value) and not _close(value, expected)
        else:
            expected = _operand(schema, data, context, rule[kind])
            broken = _comparable(value, expected) and not COMPARISONS[kind][0](value, expected)
        if broken:
            errors[name] = _message(rule, kind, "en").replace(PLACEHOLDER, _shown(expected, "en"))
    return errors


def fit(schema: Any, data: Any) -> Any:
    """`data` changed just enough to keep the form's rules, for sample answers (a dry run's, a
    test's): the first line takes what makes the lines add up to the field, and the value a field
    is compared with moves to the field (one more, one less, a day later or earlier)."""
    if not isinstance(data, dict):
        return data
    data = {**data}
    for rule in rules_of(schema):
        name, kind = rule.get("field"), _kind(rule)
        value = data.get(name) if isinstance(name, str) else None
        if kind is None or value is None or not rule_errors({"x-rules": [rule]}, data):
            continue
        if kind == "equals_sum":
            lines, _, column = str(rule[kind]).partition("[].")
            rows = data.get(lines)
            if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows) and "." not in column:
                rest = sum(r.get(column) for r in rows[1:] if _is_number(r.get(column)))
                data[lines] = [{**rows[0], column: value - rest}, *rows[1:]]
            continue
        names = [rule[kind]] if isinstance(rule[kind], str) else rule[kind]
        other = next((n for n in names if data.get(n) is not None), None)
        step = {"less_than": 1, "more_than": -1}.get(kind, 0)
        if other is not None and _is_number(value):
            data[other] = value + step
        elif other is not None and _is_date(value):
            data[other] = (date.fromisoformat(value) + timedelta(days=step)).isoformat()
    return data


def _reads(rule: Mapping, kind: str) -> set[str]:
    """The top-level names a rule compares its field with."""
    operand = rule[kind]
    names = [operand] if isinstance(operand, str) else operand if isinstance(operand, list) else []
    return {str(n).split(".")[0].removesuffix("[]") for n in names}


def spanish(message: str, schema: Any = None) -> str | None:
    """A rule's English message in Spanish (its own or the default of its kind), else None."""
    pairs = [(m["en"], m["es"]) for rule in rules_of(schema) if isinstance(m := rule.get("message"), Mapping)]
    pairs += [(english, es) for _, english, es in COMPARISONS.values()] + [SUM_MESSAGES]
    for english, es in pairs:
        if not isinstance(english, str) or not isinstance(es, str):
            continue
        pattern = re.escape(english).replace(re.escape(PLACEHOLDER), "(?P<expected>.+)")
        found = re.fullmatch(pattern, message)
        if found:
            expected = found.groupdict().get("expected") or ""
            return es.replace(PLACEHOLDER, _spanish_number(expected))
    return None


def problems(schema: Any) -> list[str]:
    """Why the form's rules and totals cannot be checked: an unknown kind, a name the form does not
    have, a message missing a language. Every name a rule reads is a property of the form (a value
    from the case is shown on it read-only), so the person sees what their entry is checked against."""
    if not isinstance(schema, Mapping):
        return []
    found: list[str] = []
    rules = schema.get("x-rules")
    if rules is not None and not isinstance(rules, list):
        return ["x-rules must be a list of rules"]
    properties = schema.get("properties") or {}
    for i, rule in enumerate(rules or []):
        where = f"x-rules[{i}]"
        if not isinstance(rule, dict):
            found.append(f"{where}: a rule is an object")
            continue
        kinds = [k for k in KINDS if k in rule]
        unknown = sorted(set(rule) - {"field", "message", *KINDS})
        if len(kinds) != 1 or unknown:
            found.append(f"{where}: a rule has one of {', '.join(KINDS)} (and field, message); got {sorted(rule)}")
            continue
        name = rule.get("field")
        spec = properties.get(name) if isinstance(name, str) else None
        if not isinstance(spec, Mapping):
            found.append(f"{where}: the form has no field {name!r}")
        elif spec.get("x-readonly") or spec.get("x-computed"):
            found.append(f"{where}: {name!r} is not typed on this form (read-only or computed)")
        found += _operand_problems(schema, where, kinds[0], rule[kinds[0]])
        found += _message_problems(where, rule.get("message"))
    for name, spec in properties.items():
        how = spec.get("x-computed") if isinstance(spec, Mapping) else None
        if how is None:
            continue
        if not isinstance(how, Mapping) or set(how) != {"sum"} or not isinstance(how["sum"], str):
            found.append(f'{name}: x-computed is {{"sum": "lines[].field"}}')
        elif _spec_at(schema, how["sum"]) is None:
            found.append(f"{name}: the form has no number field {how['sum']!r} to sum")
    return found


# --- Reading values -----------------------------------------------------------------------------


def _lookup(schema: Any, data: Mapping, context: Mapping | None, name: str) -> Any:
    """A name's value: what was submitted, else (a read-only field, not typed here) the case's data."""
    if name in data:
        return data[name]
    spec = ((schema.get("properties") if isinstance(schema, Mapping) else None) or {}).get(name)
    typed = isinstance(spec, Mapping) and not spec.get("x-readonly") and not spec.get("x-computed")
    return None if typed or not isinstance(context, Mapping) else context.get(name)


def _operand(schema: Any, data: Mapping, context: Mapping | None, names: Any) -> Any:
    """The first of the names with a value (`["approved_amount_usd", "requested_amount_usd"]`)."""
    for name in [names] if isinstance(names, str) else names if isinstance(names, list) else []:
        value = _lookup(schema, data, context, name) if isinstance(name, str) else None
        if value is not None:
            return value
    return None


def _values(value: Any, parts: list[str]) -> Iterator[Any]:
    if not parts:
        yield value
        return
    head, rest = parts[0], parts[1:]
    inner = value.get(head.removesuffix("[]")) if isinstance(value, Mapping) else None
    if head.endswith("[]"):
        for item in inner if isinstance(inner, list) else []:
            yield from _values(item, rest)
    else:
        yield from _values(inner, rest)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _close(value: int | float, expected: int | float) -> bool:
    """Equal to the cent: decimal lines add up with float noise (0.1 + 0.2)."""
    try:
        return abs(value - expected) < CENT
    except OverflowError:
        return value == expected


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(ISO_DATE.fullmatch(value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _comparable(value: Any, expected: Any) -> bool:
    return (_is_number(value) and _is_number(expected)) or (_is_date(value) and _is_date(expected))


def _kind(rule: Mapping) -> str | None:
    kinds = [k for k in KINDS if k in rule]
    return kinds[0] if len(kinds) == 1 else None


# --- Messages -----------------------------------------------------------------------------------


def _message(rule: Mapping, kind: str, language: str) -> str:
    own = rule.get("message")
    if isinstance(own, Mapping) and isinstance(own.get(language), str):
        return own[language]
    english, es = SUM_MESSAGES if kind == "equals_sum" else COMPARISONS[kind][1:]
    return es if language == "es" else english


def _shown(value: Any, language: str) -> str:
    """A number grouped as the pages show it (1,234,567.5; in Spanish 1 234 567.5); a date as it is."""
    if not _is_number(value):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    whole, point, fraction = repr(abs(value)).partition(".")
    if not whole.isdigit():
        return repr(value)
    grouped = f"{int(whole):,}".replace(",", "\u00a0" if language == "es" else ",")
    return ("-" if value < 0 else "") + grouped + point + fraction


def _spanish_number(text: str) -> str:
    return text.replace(",", "\u00a0") if re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", text) else text


# --- Checking a form's rules --------------------------------------------------------------------


def _spec_at(schema: Mapping, path: str) -> Mapping | None:
    """The number property `path` (`lines[].amount_usd`) names in the form, else None."""
    spec: Any = schema
    for part in path.split("."):
        properties = spec.get("properties") if isinstance(spec, Mapping) else None
        spec = (properties or {}).get(part.removesuffix("[]"))
        if part.endswith("[]"):
            spec = spec.get("items") if isinstance(spec, Mapping) and spec.get("type") == "array" else None
        if not isinstance(spec, Mapping):
            return None
    return spec if spec.get("type") in ("number", "integer") else None


def _operand_problems(schema: Mapping, where: str, kind: str, operand: Any) -> list[str]:
    if kind == "equals_sum":
        if not isinstance(operand, str) or _spec_at(schema, operand) is None:
            return [f"{where}: the form has no number field {operand!r} to sum"]
        return []
    names = [operand] if isinstance(operand, str) else operand
    if not isinstance(names, list) or not names:
        return [f"{where}: {kind} names a field of the form, or a list of them"]
    properties = schema.get("properties") or {}
    return [f"{where}: the form has no field {n!r}" for n in names if not isinstance(n, str) or n not in properties]


def _message_problems(where: str, message: Any) -> list[str]:
    if message is None:
        return []
    if not isinstance(message, Mapping) or not all(isinstance(message.get(k), str) and message[k] for k in LANGUAGES):
        return [f'{where}: a message is {{"en": ..., "es": ...}}']
    return []
