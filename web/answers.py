"""Earlier answers as a reader sees them, read-only: labels for options, grouped numbers, long
dates, tables for repeated groups; on the task and instance pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from engine.clock import written_date

from .formschema import control_kind, enum_label, ordered, title, words
from .html import lines, tag

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EMPTY = "—"


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
    """An ISO day in the one date format of the language (15 Sep 2025 / 15 sept 2025, as the
    pages and emails write every date); anything else as it is."""
    try:
        day = date.fromisoformat(value) if ISO_DATE.fullmatch(value) else None
    except ValueError:
        day = None
    return value if day is None else written_date(day, language)


def shown(spec: Mapping, value: Any, language: str, files: Mapping[int, tuple[str, str]] | None = None) -> Markup:
    """A value as a reader sees it: labels for enums, grouped numbers, long dates, tables for groups,
    the documents of a file field as download links (`files`: attachment id -> name and href)."""
    if value is None or value == "" or value == []:
        return Markup(EMPTY)
    kind = control_kind(spec)
    if kind == "file":
        return _file_links(value if isinstance(value, list) else [value], files or {})
    if kind == "group" and isinstance(value, list):
        return _table(spec["items"], value, language)
    if kind == "object" and isinstance(value, dict):
        return _answers(spec, value, language, "")
    if isinstance(value, list):
        items = spec.get("items") or {}
        return Markup(", ").join(shown(items, item, language) for item in value)
    if "enum" in spec:
        return escape(enum_label(spec, value, language))
    if isinstance(value, bool):
        return escape(words(language, "yes" if value else "no"))
    if isinstance(value, (int, float)):
        return escape(format_number(value, language))
    if spec.get("format") == "date" and isinstance(value, str):
        return escape(format_date(value, language))
    return lines(value) if isinstance(value, str) else escape(str(value))


def _file_links(ids: list, files: Mapping[int, tuple[str, str]]) -> Markup:
    links = []
    for attachment_id in ids:
        name, href = files.get(attachment_id, (f"#{attachment_id}", ""))
        links.append(tag("a", {"href": href, "download": True}, name) if href else escape(name))
    return Markup(", ").join(links)


def _table(items: Mapping, rows: list, language: str) -> Markup:
    columns = ordered(items)
    head = Markup("").join(tag("th", {"scope": "col"}, title(s, language, n)) for n, s in columns)
    body = Markup("").join(
        tag(
            "tr",
            {},
            Markup("").join(
                tag("td", {}, shown(s, row.get(n) if isinstance(row, dict) else None, language)) for n, s in columns
            ),
        )
        for row in rows
    )
    return tag("table", {"class": "group"}, tag("thead", {}, tag("tr", {}, head)) + tag("tbody", {}, body))


def _answers(schema: Mapping, data: Mapping, language: str, css: str, files: Mapping | None = None) -> Markup:
    pairs = [
        tag("dt", {}, title(spec, language, name)) + tag("dd", {}, shown(spec, data[name], language, files))
        for name, spec in ordered(schema)
        if name in data
    ]
    return tag("dl", {"class": css or None}, Markup("").join(pairs)) if pairs else Markup("")


def display_answers(
    schema: Mapping, data: Mapping, language: str, files: Mapping[int, tuple[str, str]] | None = None
) -> Markup:
    """A compact read-only summary (a definition list) of submitted data; keys the schema lacks are
    skipped. `files` names the case's documents for its file fields (id -> name and href)."""
    if not isinstance(data, Mapping):
        return Markup("")
    return _answers(schema, data, language, "answers", files)


def as_text(spec: Mapping, value: Any, language: str) -> str:
    """A value as plain text, for the API and emails: option labels, grouped numbers, long dates;
    a repeated group as its lines ("Sector: Health, Cost (USD): 12,000; ...")."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = control_kind(spec)
    if kind in ("group", "object") and isinstance(value, (list, dict)):
        items = spec["items"] if kind == "group" else spec
        rows = value if isinstance(value, list) else [value]
        return "; ".join(
            ", ".join(f"{title(s, language, n)}: {as_text(s, row.get(n), language)}" for n, s in ordered(items))
            for row in rows
            if isinstance(row, dict)
        )
    if isinstance(value, list):
        return ", ".join(as_text(spec.get("items") or {}, item, language) for item in value)
    if "enum" in spec:
        return enum_label(spec, value, language)
    if isinstance(value, bool):
        return words(language, "yes" if value else "no")
    if isinstance(value, (int, float)):
        return format_number(value, language)
    if spec.get("format") == "date" and isinstance(value, str):
        return format_date(value, language)
    return str(value)


def summary_rows(facts, language: str) -> list[tuple[str, Markup, bool]]:
    """The case summary as (label, value, wide) in the reader's language; `wide`: a table of lines
    or a long text, which takes the summary's whole width."""
    return [
        (
            title(fact.spec, language, fact.name),
            shown(fact.spec, fact.value, language),
            control_kind(fact.spec) in ("group", "object") or fact.spec.get("x-widget") == "textarea",
        )
        for fact in facts
    ]


def summary_text(facts, language: str) -> list[dict[str, str]]:
    return [{"label": title(f.spec, language, f.name), "value": as_text(f.spec, f.value, language)} for f in facts]
