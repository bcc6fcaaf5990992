"""Task forms as HTML: the fields of a form's JSON Schema (forms/README.md) in English or Spanish, the
browser's submission read back into task data, and a read-only summary of earlier answers.

Works without JavaScript: a repeated group grows with an "Add a line" submit button (`_add`) and
shrinks with "remove this line" checkboxes (`_remove`); the server parses and re-renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from math import isfinite
from typing import Any

from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

# Names the page posts besides the fields; none of them ever becomes task data.
CONTROL_KEYS = frozenset({"csrf_token", "_add", "_remove", "_action"})

TEXT = {
    "en": {
        "required": "required",
        "choose": "Choose…",
        "add": "Add a line",
        "remove": "Remove this line",
        "line": "Line {}",
        "yes": "Yes",
        "no": "No",
        "problem": "There is a problem",
        "error": "Error:",
        "months": "January February March April May June July August September October November December",
    },
    "es": {
        "required": "obligatorio",
        "choose": "Elija…",
        "add": "Añadir una línea",
        "remove": "Quitar esta línea",
        "line": "Línea {}",
        "yes": "Sí",
        "no": "No",
        "problem": "Hay un problema",
        "error": "Error:",
        "months": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    },
}
# Plain digits, a leading minus, one decimal point: no thousands separators, no exponent.
NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HTML_NUMBER = re.compile(r"-?\d+(\.\d+)?")
ROW_INDEX = re.compile(r"\.\d+(?=\.|$)")
EMPTY = "—"


# --- Reading the schema -------------------------------------------------------------------------


def _text(language: str, key: str) -> str:
    return TEXT.get(language, TEXT["en"])[key]


def title(spec: Mapping, language: str, default: str = "") -> str:
    """The label of a form or a field in `language`, falling back to English."""
    return str((language == "es" and spec.get("x-title-es")) or spec.get("title") or default)


def description(spec: Mapping, language: str) -> str:
    """The help text of a form or a field in `language`, falling back to English."""
    return str((language == "es" and spec.get("x-description-es")) or spec.get("description") or "")


def _token(value: Any) -> str:
    """How an enum value travels in HTML (`true`, `3`, `L2`)."""
    return "true" if value is True else "false" if value is False else "" if value is None else str(value)


def _enum_label(spec: Mapping, value: Any, language: str) -> str:
    labels = spec.get("x-enum-labels") or {}
    token = _token(value)
    return str((labels.get(language) or {}).get(token) or (labels.get("en") or {}).get(token) or token)


def _type(spec: Mapping) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind or ("string" if "enum" in spec else "")


def _kind(spec: Mapping) -> str:
    """Which control shows the field: group, list, choices, object, radio, select, checkbox, number,
    date, email, textarea or text."""
    kind, widget = _type(spec), spec.get("x-widget")
    if kind == "array":
        items = spec.get("items") or {}
        if _type(items) == "object":
            return "group"
        return "choices" if "enum" in items else "list"
    if kind == "object":
        return "object"
    if "enum" in spec:
        return "select" if widget == "select" or (widget != "radio" and len(spec["enum"]) > 4) else "radio"
    if kind == "boolean":
        return "radio" if widget == "radio" else "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if spec.get("format") in ("date", "email"):
        return spec["format"]
    return "textarea" if widget == "textarea" or (spec.get("maxLength") or 0) > 300 else "text"


def _options(spec: Mapping) -> list:
    return list(spec["enum"]) if "enum" in spec else [True, False]


def _ordered(schema: Mapping) -> list[tuple[str, dict]]:
    """The properties in `x-order`, then the others in schema order."""
    properties = schema.get("properties") or {}
    names = [n for n in schema.get("x-order") or [] if n in properties]
    names += [n for n in properties if n not in names]
    return [(n, properties[n]) for n in dict.fromkeys(names) if isinstance(properties[n], dict)]


def _join(prefix: str, name: Any) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _dashed(path: str) -> str:
    return path.replace(".", "-")


def _id(path: str) -> str:
    return "field-" + _dashed(path)


# --- HTML ---------------------------------------------------------------------------------------


def _tag(name: str, attrs: Mapping[str, Any], content: Any = None) -> Markup:
    """An element; attributes that are None or False are left out, True ones are bare."""
    parts = [
        Markup(" {}").format(key) if value is True else Markup(' {}="{}"').format(key, value)
        for key, value in attrs.items()
        if value is not None and value is not False
    ]
    head = Markup("<{}{}>").format(name, Markup("").join(parts))
    return head if content is None else head + escape(content) + Markup("</{}>").format(name)


def _lines(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in str(text).split("\n"))


def format_number(value: int | float, language: str) -> str:
    """Thousands grouped: 1,234,567.5 in English, 1 234 567.5 (no-break spaces) in Spanish."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = repr(value)
    if "e" in text or "n" in text:
        return text
    whole, point, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", "," if language != "es" else "\u00a0")
    return ("-" if text.startswith("-") else "") + grouped + point + fraction


def format_date(value: str, language: str) -> str:
    """15 September 2025 / 15 de septiembre de 2025; anything else as it is."""
    try:
        day = date.fromisoformat(value) if ISO_DATE.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        return value
    month = _text(language, "months").split()[day.month - 1]
    return f"{day.day} de {month} de {day.year}" if language == "es" else f"{day.day} {month} {day.year}"


def _format(spec: Mapping, value: Any, language: str) -> Markup:
    """A value as a reader sees it: labels for enums, grouped numbers, long dates, tables for groups."""
    if value is None or value == "" or value == []:
        return Markup(EMPTY)
    kind = _kind(spec)
    if kind == "group" and isinstance(value, list):
        return _table(spec["items"], value, language)
    if kind == "object" and isinstance(value, dict):
        return _answers(spec, value, language, "")
    if isinstance(value, list):
        items = spec.get("items") or {}
        return Markup(", ").join(_format(items, item, language) for item in value)
    if "enum" in spec:
        return escape(_enum_label(spec, value, language))
    if isinstance(value, bool):
        return escape(_text(language, "yes" if value else "no"))
    if isinstance(value, (int, float)):
        return escape(format_number(value, language))
    if spec.get("format") == "date" and isinstance(value, str):
        return escape(format_date(value, language))
    return _lines(value) if isinstance(value, str) else escape(str(value))


def _table(items: Mapping, rows: list, language: str) -> Markup:
    columns = _ordered(items)
    head = Markup("").join(_tag("th", {"scope": "col"}, title(s, language, n)) for n, s in columns)
    body = Markup("").join(
        _tag(
            "tr",
            {},
            Markup("").join(
                _tag("td", {}, _format(s, row.get(n) if isinstance(row, dict) else None, language)) for n, s in columns
            ),
        )
        for row in rows
    )
    return _tag("table", {"class": "group"}, _tag("thead", {}, _tag("tr", {}, head)) + _tag("tbody", {}, body))


def _answers(schema: Mapping, data: Mapping, language: str, css: str) -> Markup:
    pairs = [
        _tag("dt", {}, title(spec, language, name)) + _tag("dd", {}, _format(spec, data[name], language))
        for name, spec in _ordered(schema)
        if name in data
    ]
    return _tag("dl", {"class": css or None}, Markup("").join(pairs)) if pairs else Markup("")


def display_answers(schema: Mapping, data: Mapping, language: str) -> Markup:
    """A compact read-only summary (a definition list) of submitted data; keys the schema lacks are
    skipped."""
    if not isinstance(data, Mapping):
        return Markup("")
    return _answers(schema, data, language, "answers")


# --- Rendering a form ---------------------------------------------------------------------------


@dataclass
class _Page:
    language: str
    errors: Mapping[str, str]
    extra_rows: Mapping[str, int]
    shown: set[str] = field(default_factory=set)
    summary: list[Markup] = field(default_factory=list)
    help_ids: dict[str, str] = field(default_factory=dict)

    def error(self, path: str, trail: list[str], choices: bool = False) -> str | None:
        """The message of `path`, noted for the error summary with a link to the field. A set of
        checkboxes also takes the messages of its items (`sectors.2`), which have no control."""
        keys = [path] + [k for k in self.errors if choices and ROW_INDEX.fullmatch(k[len(path) :])]
        found = [k for k in keys if path and k.startswith(path) and k in self.errors]
        message = " ".join(dict.fromkeys(self.errors[k] for k in found)) if found else None
        if message is not None:
            self.shown.update(found)
            label = " – ".join(trail)
            link = _tag("a", {"href": "#" + _id(path)}, f"{label}: {message}")
            self.summary.append(_tag("li", {}, link))
        return message


def render_form(
    schema: Mapping,
    values: Mapping | None,
    errors: Mapping[str, str] | None,
    language: str,
    extra_rows: Mapping[str, int] | None = None,
) -> Markup:
    """The HTML of every field of `schema` (no <form>, no buttons but "Add a line"), pre-filled from
    `values`, with the messages of `errors` (field_errors' dict) and an error summary on top.
    `extra_rows` maps a group's path to how many more blank lines to show (see added_row)."""
    page = _Page(language, errors or {}, extra_rows or {})
    fields = _fields(page, schema, "", values if isinstance(values, Mapping) else {}, True, [])
    problems = [_tag("li", {}, page.errors[""])] if page.errors.get("") else []
    for path, message in page.errors.items():
        if path and path not in page.shown:
            problems.append(_tag("li", {}, f"{_label_at(schema, path, language)}: {message}"))
    problems += page.summary
    if not problems:
        return fields
    heading = _tag("h2", {"id": "error-summary-title"}, _text(language, "problem"))
    box = _tag(
        "div",
        {"class": "error-summary", "role": "alert", "aria-labelledby": "error-summary-title"},
        heading + _tag("ul", {}, Markup("").join(problems)),
    )
    return box + fields


def _label_at(schema: Mapping, path: str, language: str) -> str:
    spec: Any = schema
    for part in path.split("."):
        if not isinstance(spec, Mapping):
            return path
        if part.isdigit() and _type(spec) == "array":
            spec = spec.get("items") or {}
        else:
            spec = (spec.get("properties") or {}).get(part)
    return title(spec, language, path) if isinstance(spec, Mapping) else path


def _fields(page: _Page, schema: Mapping, prefix: str, values: Mapping, top: bool, trail: list[str]) -> Markup:
    required = set(schema.get("required") or [])
    out, readonly = [], []
    for name, spec in _ordered(schema):
        if name in CONTROL_KEYS:
            continue
        value = values.get(name)
        if spec.get("x-readonly"):
            label = title(spec, page.language, name)
            readonly.append(_tag("dt", {}, label) + _tag("dd", {}, _format(spec, value, page.language)))
            continue
        if readonly:
            out.append(_tag("dl", {"class": "readonly"}, Markup("").join(readonly)))
            readonly = []
        out.append(_field(page, spec, _join(prefix, name), value, name in required, top, trail))
    if readonly:
        out.append(_tag("dl", {"class": "readonly"}, Markup("").join(readonly)))
    return Markup("\n").join(out)


@dataclass
class _Chrome:
    """What every field shows around its control: label, help, error, and the attributes tying them."""

    label: Markup
    notes: Markup
    css: str
    attrs: dict[str, Any]


def _field(page: _Page, spec: Mapping, path: str, value: Any, required: bool, top: bool, trail: list[str]) -> Markup:
    language, kind = page.language, _kind(spec)
    label = title(spec, language, path.rsplit(".", 1)[-1])
    message = page.error(path, [*trail, label], kind == "choices")
    help_text, help_id = description(spec, language), f"help-{_dashed(path)}"
    # A group's help texts show on its first line only; the other lines point to them.
    first = page.help_ids.setdefault(ROW_INDEX.sub(".N", path), help_id)
    notes = Markup("")
    if help_text and first == help_id:
        notes += _tag("p", {"class": "help", "id": help_id}, help_text)
    if message is not None:
        hidden = _tag("span", {"class": "visually-hidden"}, _text(language, "error"))
        notes += _tag("p", {"class": "error", "id": f"error-{_dashed(path)}"}, hidden + " " + escape(message))
    marked = escape(label)
    if required:
        hidden = _tag("span", {"class": "visually-hidden"}, _text(language, "required"))
        marked += Markup(' <span class="req"><span aria-hidden="true">*</span>{}</span>').format(hidden)
    described = " ".join([first] * bool(help_text) + [f"error-{_dashed(path)}"] * (message is not None))
    # `required` makes the browser refuse an empty answer: only for fields required whatever the answers.
    must = (
        required
        and top
        and (kind not in ("group", "list", "choices", "object", "checkbox") or spec.get("const") is True)
    )
    attrs = {
        "id": _id(path),
        "name": path,
        "required": must,
        "aria-invalid": "true" if message is not None else None,
        "aria-describedby": described or None,
    }
    chrome = _Chrome(marked, notes, "field field-error" if message is not None else "field", attrs)
    if kind in ("group", "list", "object"):
        return _fieldset(page, spec, kind, path, value, chrome, [*trail, label])
    if kind in ("radio", "choices"):
        return _choices(page, spec, kind, value, chrome)
    if kind == "checkbox":
        box = _tag("input", {"type": "checkbox", **attrs, "value": "true", "checked": value is True})
        return _tag("div", {"class": chrome.css}, box + _tag("label", {"for": attrs["id"]}, marked) + notes)
    label_tag = _tag("label", {"for": attrs["id"]}, marked)
    return _tag("div", {"class": chrome.css}, label_tag + notes + _control(page, spec, kind, attrs, value))


def _fieldset(
    page: _Page, spec: Mapping, kind: str, path: str, value: Any, chrome: _Chrome, trail: list[str]
) -> Markup:
    if kind == "object":
        inner = _fields(page, spec, path, value if isinstance(value, Mapping) else {}, False, trail)
    else:
        inner = _rows(page, spec, path, value if isinstance(value, list) else [], trail)
    attrs = {"class": chrome.css.replace("field", "group", 1), "id": chrome.attrs["id"]}
    attrs["aria-describedby"] = chrome.attrs["aria-describedby"]
    return _tag("fieldset", attrs, _tag("legend", {}, chrome.label) + chrome.notes + inner)


def _choices(page: _Page, spec: Mapping, kind: str, value: Any, chrome: _Chrome) -> Markup:
    """Radio buttons for one answer, checkboxes for several, in a fieldset whose legend is the label."""
    items = (spec.get("items") or {}) if kind == "choices" else spec
    chosen = {_token(v) for v in value} if kind == "choices" and isinstance(value, list) else {_token(value)}
    boxes = []
    for i, option in enumerate(_options(items)):
        ident = chrome.attrs["id"] if i == 0 else f"{chrome.attrs['id']}--{i}"
        attrs = {
            **chrome.attrs,
            "type": "checkbox" if kind == "choices" else "radio",
            "id": ident,
            "value": _token(option),
            "checked": _token(option) in chosen,
            "aria-describedby": None,
        }
        text = _text(page.language, "yes" if option else "no") if _type(items) == "boolean" else None
        label = _tag("label", {"for": ident}, text or _enum_label(items, option, page.language))
        boxes.append(_tag("div", {"class": "option"}, _tag("input", attrs) + label))
    attrs = {"class": chrome.css, "aria-describedby": chrome.attrs["aria-describedby"]}
    return _tag("fieldset", attrs, _tag("legend", {}, chrome.label) + chrome.notes + Markup("").join(boxes))


def _control(page: _Page, spec: Mapping, kind: str, common: dict, value: Any) -> Markup:
    if kind == "select":
        chosen = _token(value) if value is not None else ""
        options = [
            _tag("option", {"value": _token(v), "selected": _token(v) == chosen}, _enum_label(spec, v, page.language))
            for v in spec["enum"]
        ]
        if chosen not in {_token(v) for v in spec["enum"]} or not common["required"]:
            options.insert(0, _tag("option", {"value": ""}, _text(page.language, "choose")))
        return _tag("select", common, Markup("").join(options))
    text = _raw(value)
    if kind == "textarea":
        lengths = {"minlength": spec.get("minLength"), "maxlength": spec.get("maxLength"), "rows": 5}
        # The HTML parser drops a newline right after <textarea>: this one, not the user's.
        return _tag("textarea", {**common, **lengths}, "\n" + text)
    attrs: dict[str, Any] = {"type": kind, **common, "value": text or None}
    if kind == "number":
        integer = _type(spec) == "integer"
        low, high = spec.get("minimum"), spec.get("maximum")
        attrs["inputmode"] = ("numeric" if integer else "decimal") if low is not None and low >= 0 else None
        if text and not HTML_NUMBER.fullmatch(text):
            # A browser empties a number input holding "240k": show it back as text to be corrected.
            attrs["type"] = "text"
        else:
            attrs.update({"min": low, "max": high, "step": "1" if integer else "any"})
    elif kind == "date":
        if text and not _is_date(text):
            attrs["type"] = "text"
    else:
        attrs.update({"minlength": spec.get("minLength"), "maxlength": spec.get("maxLength")})
        attrs["pattern"] = spec.get("pattern")
    return _tag("input", attrs)


def _is_date(text: str) -> bool:
    try:
        return bool(ISO_DATE.fullmatch(text)) and bool(date.fromisoformat(text))
    except ValueError:
        return False


def _raw(value: Any) -> str:
    """A value as the user typed it back in an input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _token(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(page: _Page, spec: Mapping, path: str, items: list, trail: list[str]) -> Markup:
    """The lines of a repeated group: the given ones, then blank ones up to minItems, at least one,
    plus any asked for with "Add a line"; never more than maxItems."""
    language, item_spec = page.language, spec.get("items") or {}
    limit = spec.get("maxItems")
    blanks = max(int(spec.get("minItems") or 0) - len(items), 1) + int(page.extra_rows.get(path, 0))
    if limit is not None:
        blanks = max(0, min(blanks, int(limit) - len(items)))
    out = []
    for i, item in enumerate([*items, *[None] * blanks]):
        here, line = _join(path, i), _text(language, "line").format(i + 1)
        attrs: dict[str, Any] = {"class": "row"}
        if _kind(item_spec) == "object":
            message = page.error(here, [*trail, line])
            inner = _fields(page, item_spec, here, item if isinstance(item, Mapping) else {}, False, [*trail, line])
            if message is not None:
                inner = _tag("p", {"class": "error", "id": f"error-{_dashed(here)}"}, message) + inner
                attrs.update({"class": "row field-error", "aria-describedby": f"error-{_dashed(here)}"})
            attrs["id"] = _id(here)
        else:
            inner = _field(page, {**item_spec, "title": line, "x-title-es": line}, here, item, False, False, trail)
        remove = f"remove-{_dashed(here)}"
        drop = _tag("input", {"type": "checkbox", "id": remove, "name": "_remove", "value": here})
        drop += _tag("label", {"for": remove}, _text(language, "remove"))
        body = _tag("legend", {}, line) + inner + _tag("div", {"class": "remove"}, drop)
        out.append(_tag("fieldset", attrs, body))
    if limit is None or len(items) + blanks < int(limit):
        button = {"type": "submit", "name": "_add", "value": path, "formnovalidate": True, "class": "add"}
        out.append(_tag("button", button, _text(language, "add")))
    return Markup("\n").join(out)


# --- Reading a submission -----------------------------------------------------------------------


def added_row(form: MultiDict) -> str | None:
    """The path of the group whose "Add a line" button was pressed, if one was."""
    return form.get("_add") or None


def parse_submission(schema: Mapping, form: MultiDict) -> dict:
    """The task data of a browser's submission: numbers converted (anything else kept as typed, for
    field_errors to refuse), booleans, enum lists, groups re-indexed without blank or removed lines,
    empty fields left out. Read-only, unknown and control fields are ignored."""
    removed = set(form.getlist("_remove"))
    return _object(schema, "", form, removed)


def _object(schema: Mapping, prefix: str, form: MultiDict, removed: set[str]) -> dict:
    data = {}
    for name, spec in _ordered(schema):
        if spec.get("x-readonly") or name in CONTROL_KEYS:
            continue
        value = _value(spec, _join(prefix, name), form, removed)
        if value is not None:
            data[name] = value
    return data


def _value(spec: Mapping, path: str, form: MultiDict, removed: set[str]) -> Any:
    kind = _kind(spec)
    if kind == "object":
        return _object(spec, path, form, removed) or None
    if kind == "choices":
        items = spec.get("items") or {}
        chosen = [_scalar(items, raw) for raw in form.getlist(path)]
        return [v for v in chosen if v is not None] or None
    if kind in ("group", "list"):
        items = spec.get("items") or {}
        rows = []
        for i in _indexes(form, path):
            here = _join(path, i)
            if here in removed or _blank(form, here):
                continue
            row = _object(items, here, form, removed) if kind == "group" else _scalar(items, form.get(here, ""))
            if row is not None:
                rows.append(row)
        return rows or None
    if kind == "checkbox":
        ticked = path in form
        # An unticked "I confirm" box reads as a missing answer ("This field is required.").
        return True if ticked else None if spec.get("const") is True else False
    return _scalar(spec, form.get(path, ""))


def _indexes(form: MultiDict, path: str) -> list[int]:
    found = set()
    for key in form.keys():
        if key.startswith(path + "."):
            head = key[len(path) + 1 :].split(".", 1)[0]
            if head.isdigit() and len(head) < 6:
                found.add(int(head))
    return sorted(found)


def _blank(form: MultiDict, row: str) -> bool:
    return all(
        not value.strip()
        for key in form.keys()
        if key == row or key.startswith(row + ".")
        for value in form.getlist(key)
    )


def _scalar(spec: Mapping, raw: str) -> Any:
    """One submitted string as data: None when blank; the typed value, or the raw text if it is not one."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not text:
        return None
    if "enum" in spec:
        return next((v for v in spec["enum"] if _token(v) == text), text)
    kind = _type(spec)
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("integer", "number") and NUMBER.fullmatch(text):
        return _number(text, kind == "integer")
    return text


def _number(text: str, integer: bool) -> int | float | str:
    if len(text) > 30:
        return text
    if "." not in text:
        return int(text)
    number = float(text)
    if not isfinite(number):
        return text
    return int(number) if integer and number.is_integer() else number
