"""JSON bodies read as JSON is defined (RFC 8259), for the API and the pages' JSON endpoints alike:
Python's json module also takes NaN, Infinity and -Infinity, which no JSON parser of a browser reads
back and PostgreSQL's jsonb refuses, so a body holding one is not valid JSON here."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (numbers must be finite)")


def loads(text: str | bytes) -> Any:
    """`json.loads`, refusing NaN, Infinity and -Infinity with ValueError."""
    return json.loads(text, parse_constant=_not_a_number)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with `loads` above: `request.get_json()` refuses what it refuses."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s, **{"parse_constant": _not_a_number, **kwargs})
