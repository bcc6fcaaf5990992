"""The forms a version freezes, checked before it is stored: a JSON Schema, and cross-field rules
and totals that name fields the form has (forms/rules.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from forms.validation import check_schema

from ..errors import InvalidDiagram, Problem

FORMS_PREFIX = "forms/"


def form_problems(stored: Mapping[str, str]) -> list[Problem]:
    """One problem per broken form among the stored files (`forms/<key>.json` -> JSON text)."""
    problems = []
    for name, text in sorted(stored.items()):
        if not name.startswith(FORMS_PREFIX):
            continue
        try:
            why = check_schema(json.loads(text))
        except ValueError as error:
            why = f"not JSON: {error}"
        if why:
            problems.append(Problem(name, None, None, why))
    return problems


def refuse_broken_forms(stored: Mapping[str, str]) -> None:
    problems = form_problems(stored)
    if problems:
        raise InvalidDiagram(problems)
