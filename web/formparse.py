"""A browser's submission of a task or start form read back into task data, without JavaScript:
a repeated group grows with an "Add a line" submit button (`_add`) and shrinks with "remove this
line" checkboxes (`_remove`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from math import isfinite
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine.errors import InvalidData
from forms.validation import MAX_DEPTH

from .formschema import control_kind, join_path, json_type, ordered, token

# Names the page posts besides the fields; none of them ever becomes task data.
CONTROL_KEYS = frozenset({"csrf_token", "_add", "_remove", "_action"})
PAGE_FIELDS = frozenset({"office"})  # the start page's office, beside its form
# The lines a repeated group without maxItems may be sent with (field_bound).
UNBOUNDED_ROWS = 200
# A field's name has at most two parts (a name, a line number) per level of nesting.
MAX_PARTS = 2 * MAX_DEPTH + 2
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
    (`files`: field name -> uploads), which the engine stores. A submission with more names than the
    form can post (`field_bound`) is refused before it is read (InvalidData)."""
    posted = sum(len(values) for _, values in form.lists())
    if posted > field_bound(schema):
        raise InvalidData(_("The form was sent with %(n)s fields, more than it has: nothing was saved.", n=posted))
    data = _object(schema, "", _Posted(form))
    for name, spec in ordered(schema):
        chosen = list((files or {}).get(name) or [])
        if control_kind(spec) == "file" and chosen and not spec.get("x-readonly"):
            data[name] = [*(data.get(name) or []), *chosen]
    return data


def field_bound(schema: Mapping) -> int:
    """How many names a browser's submission of this form may hold: each field once, each line of a
    repeated group up to maxItems, plus the one "Add a line" shows (UNBOUNDED_ROWS without a
    maxItems), with its "remove" box, each option of a choice, and the page's controls."""
    return len(CONTROL_KEYS) + len(PAGE_FIELDS) + _fields(schema)


def _fields(spec: Mapping) -> int:
    kind = control_kind(spec)
    if kind == "object":
        return sum(_fields(child) for _, child in ordered(spec))
    if kind == "choices":
        return len((spec.get("items") or {}).get("enum") or ()) or _rows(spec)
    if kind in ("group", "list", "file"):
        items = spec.get("items") or {}
        return _rows(spec) * ((_fields(items) if kind == "group" else 1) + 1)  # + its "remove" box
    return 1


def _rows(spec: Mapping) -> int:
    limit = spec.get("maxItems")
    return (limit if isinstance(limit, int) and not isinstance(limit, bool) else UNBOUNDED_ROWS) + 1


class _Posted:
    """The submission with its names indexed once, so that reading it is linear in its size: the
    line numbers posted under each path, and the paths with something typed at or below them.
    (Reading them by scanning every name for every line was quadratic: 10,000 lines, 76 s.)"""

    def __init__(self, form: MultiDict) -> None:
        self.form, self.removed = form, set(form.getlist("_remove"))
        self.rows: dict[str, set[int]] = {}
        self.filled: set[str] = set()
        for key, values in form.lists():
            if key is None:  # a multipart part without a name (Werkzeug's None): no field
                continue
            parts = key.split(".", MAX_PARTS)[:MAX_PARTS]  # deeper names are no field of any form
            typed = any(value.strip() for value in values)
            path = parts[0]
            self.filled.update([path] if typed else [])
            for part in parts[1:]:
                if part.isdigit() and len(part) < 6:
                    self.rows.setdefault(path, set()).add(int(part))
                path = f"{path}.{part}"
                self.filled.update([path] if typed else [])

    def indexes(self, path: str) -> list[int]:
        return sorted(self.rows.get(path, ()))

    def blank(self, path: str) -> bool:
        return path not in self.filled


def _object(schema: Mapping, prefix: str, posted: _Posted) -> dict:
    data = {}
    for name, spec in ordered(schema):
        if spec.get("x-readonly") or spec.get("x-computed") or name in CONTROL_KEYS:
            continue
        value = _value(spec, join_path(prefix, name), posted)
        if value is not None:
            data[name] = value
    return data


def _value(spec: Mapping, path: str, posted: _Posted) -> Any:
    kind, form = control_kind(spec), posted.form
    if kind == "object":
        return _object(spec, path, posted) or None
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
        for i in posted.indexes(path):
            here = join_path(path, i)
            if here in posted.removed or posted.blank(here):
                continue
            row = _object(items, here, posted) if kind == "group" else _scalar(items, form.get(here, ""))
            if row is not None:
                rows.append(row)
        return rows or None
    if kind == "checkbox":
        ticked = path in form
        # An unticked "I confirm" box reads as a missing answer ("This field is required.").
        return True if ticked else None if spec.get("const") is True else False
    return _scalar(spec, form.get(path, ""))


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
