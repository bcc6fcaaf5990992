"""Task forms as HTML: the fields of a form's JSON Schema (forms/README.md) in English or Spanish,
(web/answers.py shows earlier answers read-only; web/formparse.py reads a submission back).

Works without JavaScript: a repeated group grows with an "Add a line" submit button (`_add`) and
shrinks with "remove this line" checkboxes (`_remove`); the server parses and re-renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from forms.rules import with_totals

from .answers import shown
from .formparse import CONTROL_KEYS
from .formschema import (
    control_kind,
    description,
    enum_label,
    join_path,
    json_type,
    options,
    ordered,
    title,
    token,
    words,
)
from .html import tag

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HTML_NUMBER = re.compile(r"-?\d+(\.\d+)?")
ROW_INDEX = re.compile(r"\.\d+(?=\.|$)")


# --- Reading the schema -------------------------------------------------------------------------


def _dashed(path: str) -> str:
    return path.replace(".", "-")


def _id(path: str) -> str:
    return "field-" + _dashed(path)


# --- Rendering a form ---------------------------------------------------------------------------


@dataclass
class _Page:
    language: str
    errors: Mapping[str, str]
    extra_rows: Mapping[str, int]
    files: Mapping[int, tuple[str, str]] = field(default_factory=dict)  # attachment id -> (name, href)
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
            link = tag("a", {"href": "#" + _id(path)}, f"{label}: {message}")
            self.summary.append(tag("li", {}, link))
        return message


def render_form(
    schema: Mapping,
    values: Mapping | None,
    errors: Mapping[str, str] | None,
    language: str,
    extra_rows: Mapping[str, int] | None = None,
    files: Mapping[int, tuple[str, str]] | None = None,
    context: Mapping | None = None,
) -> Markup:
    """The HTML of every field of `schema` (no <form>, no buttons but "Add a line"), pre-filled from
    `values`, with the messages of `errors` (field_errors' dict) and an error summary on top.
    `extra_rows` maps a group's path to how many more blank lines to show (see added_row); `files`
    names the case's documents (id -> name and download link) that a file field shows; the
    computed totals are summed from `values`, else from the case's data `context`."""
    page = _Page(language, errors or {}, extra_rows or {}, files or {})
    values = with_totals(schema, dict(values) if isinstance(values, Mapping) else {}, context)
    fields = _fields(page, schema, "", values, True, [])
    problems = [tag("li", {}, page.errors[""])] if page.errors.get("") else []
    for path, message in page.errors.items():
        if path and path not in page.shown:
            problems.append(tag("li", {}, f"{_label_at(schema, path, language)}: {message}"))
    problems += page.summary
    if not problems:
        return fields
    heading = tag("h2", {"id": "error-summary-title"}, words(language, "problem"))
    box = tag(
        "div",
        {"class": "error-summary", "role": "alert", "aria-labelledby": "error-summary-title"},
        heading + tag("ul", {}, Markup("").join(problems)),
    )
    return box + fields


def _label_at(schema: Mapping, path: str, language: str) -> str:
    spec: Any = schema
    for part in path.split("."):
        if not isinstance(spec, Mapping):
            return path
        if part.isdigit() and json_type(spec) == "array":
            spec = spec.get("items") or {}
        else:
            spec = (spec.get("properties") or {}).get(part)
    return title(spec, language, path) if isinstance(spec, Mapping) else path


def _fields(page: _Page, schema: Mapping, prefix: str, values: Mapping, top: bool, trail: list[str]) -> Markup:
    required = set(schema.get("required") or [])
    out, readonly = [], []
    for name, spec in ordered(schema):
        if name in CONTROL_KEYS:
            continue
        value = values.get(name)
        if spec.get("x-readonly"):
            label = title(spec, page.language, name)
            readonly.append(tag("dt", {}, label) + tag("dd", {}, shown(spec, value, page.language, page.files)))
            continue
        if readonly:
            out.append(tag("dl", {"class": "readonly"}, Markup("").join(readonly)))
            readonly = []
        if spec.get("x-computed"):
            out.append(_computed(page, schema, join_path(prefix, name), spec, value))
            continue
        out.append(_field(page, spec, join_path(prefix, name), value, name in required, top, trail))
    if readonly:
        out.append(tag("dl", {"class": "readonly"}, Markup("").join(readonly)))
    return Markup("\n").join(out)


@dataclass
class _Chrome:
    """What every field shows around its control: label, help, error, and the attributes tying them."""

    label: Markup
    notes: Markup
    css: str
    attrs: dict[str, Any]


def _field(page: _Page, spec: Mapping, path: str, value: Any, required: bool, top: bool, trail: list[str]) -> Markup:
    language, kind = page.language, control_kind(spec)
    label = title(spec, language, path.rsplit(".", 1)[-1])
    message = page.error(path, [*trail, label], kind in ("choices", "file"))
    help_text, help_id = description(spec, language), f"help-{_dashed(path)}"
    # A group's help texts show on its first line only; the other lines point to them.
    first = page.help_ids.setdefault(ROW_INDEX.sub(".N", path), help_id)
    notes = Markup("")
    if help_text and first == help_id:
        notes += tag("p", {"class": "help", "id": help_id}, help_text)
    if message is not None:
        hidden = tag("span", {"class": "visually-hidden"}, words(language, "error"))
        notes += tag("p", {"class": "error", "id": f"error-{_dashed(path)}"}, hidden + " " + escape(message))
    marked = escape(label)
    if required:
        hidden = tag("span", {"class": "visually-hidden"}, words(language, "required"))
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
    if kind == "file":
        return _file_field(page, spec, value, chrome)
    if kind == "checkbox":
        box = tag("input", {"type": "checkbox", **attrs, "value": "true", "checked": value is True})
        return tag("div", {"class": chrome.css}, box + tag("label", {"for": attrs["id"]}, marked) + notes)
    label_tag = tag("label", {"for": attrs["id"]}, marked)
    return tag("div", {"class": chrome.css}, label_tag + notes + _control(page, spec, kind, attrs, value))


def _computed(page: _Page, schema: Mapping, path: str, spec: Mapping, value: Any) -> Markup:
    """A total the server computes (`x-computed`): shown, not typed. While its lines are typed on
    the same form, static/totals.js keeps it up to date; without JavaScript the next page does."""
    label, help_text = title(spec, page.language, path), description(spec, page.language)
    message = page.error(path, [label])
    lines = spec["x-computed"]["sum"]
    source = (schema.get("properties") or {}).get(lines.split("[]")[0]) or {}
    live = "[]." in lines and not source.get("x-readonly") and not source.get("x-computed")
    notes = tag("p", {"class": "help", "id": f"help-{_dashed(path)}"}, help_text) if help_text else Markup("")
    if message is not None:
        notes += tag("p", {"class": "error", "id": f"error-{_dashed(path)}"}, message)
    attrs = {"id": _id(path), "aria-live": "polite", "data-sum": lines if live else None}
    attrs["data-separator"] = "\u00a0" if page.language == "es" else ","
    css = "field computed field-error" if message is not None else "field computed"
    output = tag("output", attrs, shown(spec, value, page.language))
    return tag("div", {"class": css}, tag("label", {"for": _id(path)}, label) + notes + output)


def _fieldset(
    page: _Page, spec: Mapping, kind: str, path: str, value: Any, chrome: _Chrome, trail: list[str]
) -> Markup:
    if kind == "object":
        inner = _fields(page, spec, path, value if isinstance(value, Mapping) else {}, False, trail)
    else:
        inner = _rows(page, spec, path, value if isinstance(value, list) else [], trail)
    attrs = {"class": chrome.css.replace("field", "group", 1), "id": chrome.attrs["id"]}
    attrs["aria-describedby"] = chrome.attrs["aria-describedby"]
    return tag("fieldset", attrs, tag("legend", {}, chrome.label) + chrome.notes + inner)


def _choices(page: _Page, spec: Mapping, kind: str, value: Any, chrome: _Chrome) -> Markup:
    """Radio buttons for one answer, checkboxes for several, in a fieldset whose legend is the label."""
    items = (spec.get("items") or {}) if kind == "choices" else spec
    chosen = {token(v) for v in value} if kind == "choices" and isinstance(value, list) else {token(value)}
    boxes = []
    for i, option in enumerate(options(items)):
        ident = chrome.attrs["id"] if i == 0 else f"{chrome.attrs['id']}--{i}"
        attrs = {
            **chrome.attrs,
            "type": "checkbox" if kind == "choices" else "radio",
            "id": ident,
            "value": token(option),
            "checked": token(option) in chosen,
            "aria-describedby": None,
        }
        text = words(page.language, "yes" if option else "no") if json_type(items) == "boolean" else None
        label = tag("label", {"for": ident}, text or enum_label(items, option, page.language))
        boxes.append(tag("div", {"class": "option"}, tag("input", attrs) + label))
    attrs = {"class": chrome.css, "aria-describedby": chrome.attrs["aria-describedby"]}
    return tag("fieldset", attrs, tag("legend", {}, chrome.label) + chrome.notes + Markup("").join(boxes))


def _file_field(page: _Page, spec: Mapping, value: Any, chrome: _Chrome) -> Markup:
    """The documents the field holds (ticked: kept; untick to take one out) and a file input for
    more; the form is then posted as multipart/form-data."""
    ids = [v for v in value if isinstance(v, int)] if isinstance(value, list) else []
    kept = []
    for i, attachment_id in enumerate(ids):
        name, href = page.files.get(attachment_id, (f"#{attachment_id}", ""))
        ident = f"{chrome.attrs['id']}--kept-{i}"
        attrs = {"type": "checkbox", "id": ident, "name": chrome.attrs["name"], "value": attachment_id, "checked": True}
        box = tag("input", attrs)
        link = tag("a", {"href": href, "download": True}, name) if href else escape(name)
        kept.append(tag("li", {}, box + " " + tag("label", {"for": ident}, link)))
    attrs = {**chrome.attrs, "type": "file", "multiple": spec.get("maxItems") != 1}
    attrs["required"] = chrome.attrs["required"] and not ids
    listed = tag("ul", {"class": "kept"}, Markup("").join(kept)) if kept else Markup("")
    label = tag("label", {"for": chrome.attrs["id"]}, chrome.label)
    return tag("div", {"class": chrome.css + " field-file"}, label + chrome.notes + listed + tag("input", attrs))


def _control(page: _Page, spec: Mapping, kind: str, common: dict, value: Any) -> Markup:
    if kind == "select":
        chosen = token(value) if value is not None else ""
        options = [
            tag("option", {"value": token(v), "selected": token(v) == chosen}, enum_label(spec, v, page.language))
            for v in spec["enum"]
        ]
        if chosen not in {token(v) for v in spec["enum"]} or not common["required"]:
            options.insert(0, tag("option", {"value": ""}, words(page.language, "choose")))
        return tag("select", common, Markup("").join(options))
    text = _raw(value)
    if kind == "textarea":
        lengths = {"minlength": spec.get("minLength"), "maxlength": spec.get("maxLength"), "rows": 5}
        # The HTML parser drops a newline right after <textarea>: this one, not the user's.
        return tag("textarea", {**common, **lengths}, "\n" + text)
    attrs: dict[str, Any] = {"type": kind, **common, "value": text or None}
    if kind == "number":
        integer = json_type(spec) == "integer"
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
    return tag("input", attrs)


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
        return token(value)
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
        here, line = join_path(path, i), words(language, "line").format(i + 1)
        attrs: dict[str, Any] = {"class": "row"}
        if control_kind(item_spec) == "object":
            message = page.error(here, [*trail, line])
            inner = _fields(page, item_spec, here, item if isinstance(item, Mapping) else {}, False, [*trail, line])
            if message is not None:
                inner = tag("p", {"class": "error", "id": f"error-{_dashed(here)}"}, message) + inner
                attrs.update({"class": "row field-error", "aria-describedby": f"error-{_dashed(here)}"})
            attrs["id"] = _id(here)
        else:
            inner = _field(page, {**item_spec, "title": line, "x-title-es": line}, here, item, False, False, trail)
        remove = f"remove-{_dashed(here)}"
        drop = tag("input", {"type": "checkbox", "id": remove, "name": "_remove", "value": here})
        drop += tag("label", {"for": remove}, words(language, "remove"))
        body = tag("legend", {}, line) + inner + tag("div", {"class": "remove"}, drop)
        out.append(tag("fieldset", attrs, body))
    if limit is None or len(items) + blanks < int(limit):
        button = {"type": "submit", "name": "_add", "value": path, "formnovalidate": True, "class": "add"}
        out.append(tag("button", button, words(language, "add")))
    return Markup("\n").join(out)
