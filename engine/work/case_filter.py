"""What the case list is asked for: its filters, search, sort and page, read from request parameters
(the page's query string and the API's alike), each wrong one refused with a message on its name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from ..errors import InvalidData
from ..org import offices as org


class CaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SlaState(StrEnum):
    """A case's SLA at a glance: breached (an escalation fired, or an open step is past its due
    time), due soon (an open step in its last quarter or last 4 hours, as the inbox says), on time."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"


class CaseSort(StrEnum):
    DUE = "due"  # the soonest due open step first; cases with none last
    STARTED = "started"  # newest first
    CHANGED = "changed"  # last changed first


PER_PAGE = 25
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
MAX_QUERY = 200  # characters of a search
HOLDER_ME = "me"
PARAMETERS = (
    "q",
    "emergency",
    "process",
    "office",
    "status",
    "sla",
    "holder",
    "from",
    "to",
    "started_by_me",
    "done_by_me",
    "sort",
    "page",
    "per_page",
)


@dataclass(frozen=True)
class CaseFilter:
    q: str = ""
    emergency_id: int | None = None
    process_id: str | None = None
    office: str | None = None
    status: CaseStatus | None = None
    sla: SlaState | None = None
    holder: str | None = None  # "me", a role (lane) name, or a user id
    started_from: date | None = None
    started_to: date | None = None  # inclusive
    started_by_me: bool = False
    done_by_me: bool = False
    sort: CaseSort = CaseSort.STARTED
    page: int = 1
    per_page: int = PER_PAGE

    def at_page(self, page: int) -> CaseFilter:
        return replace(self, page=page)

    def parameters(self) -> dict[str, str]:
        """The filter as the query string that asks for it (empty ones left out), for links."""
        values = {
            "q": self.q,
            "emergency": str(self.emergency_id or ""),
            "process": self.process_id or "",
            "office": self.office or "",
            "status": self.status or "",
            "sla": self.sla or "",
            "holder": self.holder or "",
            "from": self.started_from.isoformat() if self.started_from else "",
            "to": self.started_to.isoformat() if self.started_to else "",
            "started_by_me": "1" if self.started_by_me else "",
            "done_by_me": "1" if self.done_by_me else "",
            "sort": "" if self.sort == CaseSort.STARTED else self.sort.value,
            "page": "" if self.page == 1 else str(self.page),
            "per_page": "" if self.per_page == PER_PAGE else str(self.per_page),
        }
        return {name: value for name, value in values.items() if value}


def parse_filter(params: Mapping[str, str]) -> CaseFilter:
    """The filter the parameters ask for; InvalidData naming each wrong or unknown parameter."""
    errors: dict[str, str] = {}
    for name in params:
        if name not in PARAMETERS:
            errors[name] = f"Unknown parameter; known: {', '.join(PARAMETERS)}."

    def get(name: str) -> str:
        value = params.get(name) or ""
        return value.strip() if isinstance(value, str) else ""

    def choice(name: str, kind):
        value = get(name)
        if not value:
            return None
        try:
            return kind(value)
        except ValueError:
            errors[name] = f"One of: {', '.join(item.value for item in kind)}."
            return None

    def number(name: str, default: int | None, low: int, high: int) -> int | None:
        value = get(name)
        if not value:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            errors[name] = f"A whole number from {low} to {high}."
            return default
        return int(value)

    def day(name: str) -> date | None:
        value = get(name)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "A date as YYYY-MM-DD."
            return None

    def flag(name: str) -> bool:
        value = get(name).lower()
        if value not in ("", "0", "1", "true", "false", "on"):
            errors[name] = "1 or 0."
        return value in ("1", "true", "on")

    q = get("q")
    if len(q) > MAX_QUERY:
        errors["q"] = f"At most {MAX_QUERY} characters."
    holder = get("holder") or None
    if holder and holder != HOLDER_ME and holder not in org.ROLES and not (holder.isdigit() and len(holder) < 10):
        errors["holder"] = "me, a role's name or a user's id."
    for name in ("process", "office"):
        if len(get(name)) > 200:
            errors[name] = "At most 200 characters."
    found = CaseFilter(
        q=q,
        emergency_id=number("emergency", None, 1, 2**31 - 1),
        process_id=get("process") or None,
        office=get("office") or None,
        status=choice("status", CaseStatus),
        sla=choice("sla", SlaState),
        holder=holder,
        started_from=day("from"),
        started_to=day("to"),
        started_by_me=flag("started_by_me"),
        done_by_me=flag("done_by_me"),
        sort=choice("sort", CaseSort) or CaseSort.STARTED,
        page=number("page", 1, 1, MAX_PAGE),
        per_page=number("per_page", PER_PAGE, 1, MAX_PER_PAGE),
    )
    if found.started_from and found.started_to and found.started_from > found.started_to:
        errors["to"] = "On or after the start of the range."
    if errors:
        said = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise InvalidData(f"the case list cannot be read with these parameters ({said})", errors)
    return found
