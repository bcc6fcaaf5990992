"""What the SLA report is asked for: a period (UTC days, both ends included), an office and a
process, read from request parameters (the page's query string and the API's alike), each wrong
one refused with a message on its name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import InvalidData

PARAMETERS = ("from", "to", "office", "process")
MAX_DAYS = 366 * 5  # a period of at most five years
DEFAULT_MONTHS = 6  # without a start: this month and the five before


@dataclass(frozen=True)
class ReportFilter:
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    office: str | None = None
    process_id: str | None = None

    def resolved(self, today: date) -> ReportFilter:
        """The period filled in: up to today, from the first day of the month five months before."""
        end = self.date_to or today
        start = self.date_from
        if start is None:
            month = end.year * 12 + end.month - 1 - (DEFAULT_MONTHS - 1)
            start = date(month // 12, month % 12 + 1, 1)
        return ReportFilter(start, end, self.office, self.process_id)

    def parameters(self) -> dict[str, str]:
        """The filter as the query string that asks for it (empty ones left out), for links."""
        values = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "office": self.office or "",
            "process": self.process_id or "",
        }
        return {name: value for name, value in values.items() if value}


def parse_report_filter(params: Mapping[str, str]) -> ReportFilter:
    """The filter the parameters ask for; InvalidData naming each wrong or unknown parameter."""
    errors: dict[str, str] = {}
    for name in params:
        if name not in PARAMETERS:
            errors[name] = f"Unknown parameter; known: {', '.join(PARAMETERS)}."

    def get(name: str) -> str:
        value = params.get(name) or ""
        return value.strip() if isinstance(value, str) else ""

    def day(name: str) -> date | None:
        value = get(name)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "A date as YYYY-MM-DD."
            return None

    for name in ("process", "office"):
        if len(get(name)) > 200:
            errors[name] = "At most 200 characters."
    found = ReportFilter(day("from"), day("to"), get("office") or None, get("process") or None)
    if found.date_from and found.date_to:
        if found.date_from > found.date_to:
            errors["to"] = "On or after the start of the period."
        elif found.date_to - found.date_from > timedelta(days=MAX_DAYS):
            errors["from"] = "A period of at most five years."
    if errors:
        said = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise InvalidData(f"the SLA report cannot be read with these parameters ({said})", errors)
    return found
