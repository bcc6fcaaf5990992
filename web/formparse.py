"""A browser's submission of a task or start form read back into task data, without JavaScript:
a repeated group grows with an "Add a line" submit button (`_add`) and shrinks with "remove this
line" checkboxes (`_remove`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from math import isfinite
from typing import Any

from werkzeug.datastructures import MultiDict

from .formschema import control_kind, join_path, json_type, ordered, token

# Names the page posts besides the fields; none of them ever becomes task data.
CONTROL_KEYS = frozenset({"csrf_token", "_add", "_remove", "_action"})
# Plain digits, a leading minus, one decimal point: no thousands separators, no exponent.
NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")


def added_row(form: MultiDict) -> str | None:
    """The path of the group whose "Add a line" button was pressed, if one was."""
    return form.get("_add") or None


def parse_submission(schema: Mapping, form: MultiDict, files: Mapping[str, list] | None = None) -> dict:
    """The task data of a browser's submission: numbers converted (anything else kept as typed, for
    field_errors to refuse), booleans, enum lists, groups re-indexed without blank or removed lines,
    empty fields left out. Read-only, unknown and control fields are ignored. A file field
    (`x-widget: file`, top level) holds the ids of the documents kept, then the files chosen
    (`files`: field name -> uploads), which the engine stores."""
    removed = set(form.getlist("_remove"))
    data = _object(schema, "", form, removed)
    for name, spec in ordered(schema):
        chosen = list((files or {}).get(name) or [])
        if control_kind(spec) == "file" and chosen and not spec.get("x-readonly"):
            data[name] = [*(data.get(name) or []), *chosen]
    return data


def _object(schema: Mapping, prefix: str, form: MultiDict, removed: set[str]) -> dict:
    data = {}
    for name, spec in ordered(schema):
        if spec.get("x-readonly") or spec.get("x-computed") or name in CONTROL_KEYS:
            continue
        value = _value(spec, join_path(prefix, name), form, removed)
        if value is not None:
            data[name] = value
    return data


def _value(spec: Mapping, path: str, form: MultiDict, removed: set[str]) -> Any:
    kind = control_kind(spec)
    if kind == "object":
        return _object(spec, path, form, removed) or None
    if kind == "file":  # the documents already attached that stay ticked
        kept = [raw.strip() for raw in form.getlist(path)]
        return [int(raw) for raw in kept if raw.isdigit() and len(raw) < 10] or None
    if kind == "choices":
        items = spec.get("items") or {}
        chosen = [_scalar(items, raw) for raw in form.getlist(path)]
        return [v for v in chosen if v is not None] or None
    if kind in ("group", "list"):
        items = spec.get("items") or {}
        rows = []
        for i in _indexes(form, path):
            here = join_path(path, i)
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
        return next((v for v in spec["enum"] if token(v) == text), text)
    kind = json_type(spec)
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
