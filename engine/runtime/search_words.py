"""The words a case is found by in the case list's search (the `case_word` table): its title, its
reference, its emergency's name and the short answers of its summary (the start form's fields and
those later forms mark `x-summary`, as the data stands now). Kept at the end of every step."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import delete, insert, select

from ..definitions.versions import LoadedVersion
from ..store.models import CaseWord, Emergency, ProcessInstance
from ..store.uow import Transaction

WORD_LENGTH = 40  # longer words are cut (CaseWord.word)
MAX_WORDS = 160  # per case: the title and reference first, then the summary in form order
MAX_VALUE_CHARACTERS = 200  # longer answers (a justification, comments) are prose, not key facts


def words(text: str) -> list[str]:
    """The words of a text as the index keeps them and as a search splits its query: lower case,
    accents taken off (Haití -> haiti), runs of letters and digits (MEFM-HTI-2026-0007 -> mefm,
    hti, 2026, 0007)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [w[:WORD_LENGTH] for w in re.findall(r"[a-z0-9]+", folded)]


def case_words(
    instance: ProcessInstance, loaded: LoadedVersion, data: Mapping[str, Any], emergency: str | None = None
) -> list[str]:
    """The distinct words of a case, the most telling first, at most MAX_WORDS."""
    found: dict[str, None] = {}
    texts = [instance.title, instance.reference or "", emergency or ""]
    texts += [text for name in _summary_fields(loaded) if name in data for text in _texts(data[name])]
    for text in texts:
        for word in words(text):
            found.setdefault(word)
    return list(found)[:MAX_WORDS]


def index_case(tx: Transaction, instance: ProcessInstance, loaded: LoadedVersion, data: Mapping[str, Any]) -> None:
    """Bring the case's rows of `case_word` in line with its words now (helper: inside the step's
    unit of work). Only the difference is written."""
    emergency = tx.session.get(Emergency, instance.emergency_id) if instance.emergency_id else None
    wanted = set(case_words(instance, loaded, data, emergency.name if emergency else None))
    held = set(tx.session.scalars(select(CaseWord.word).where(CaseWord.instance_id == instance.id)))
    gone = held - wanted
    if gone:
        tx.session.execute(delete(CaseWord).where(CaseWord.instance_id == instance.id, CaseWord.word.in_(gone)))
    new = sorted(wanted - held)
    if new:
        tx.session.execute(insert(CaseWord), [{"word": w, "instance_id": instance.id} for w in new])


def _summary_fields(loaded: LoadedVersion) -> Iterator[str]:
    """The fields the case summary shows (engine.work.summary): every field of the start form, then
    those later forms mark `x-summary`; read-only and computed copies never count."""
    seen: set[str] = set()
    schemas = [(loaded.start_form, False), *((form, True) for form in loaded.element_forms.values())]
    for schema, marked_only in schemas:
        if not isinstance(schema, Mapping):
            continue
        for name, spec in (schema.get("properties") or {}).items():
            if not isinstance(spec, Mapping) or name in seen or spec.get("x-readonly") or spec.get("x-computed"):
                continue
            if marked_only and not spec.get("x-summary"):
                continue
            seen.add(name)
            yield name


def _texts(value: Any) -> Iterable[str]:
    """The short texts of an answer: a text, a number, or those of a group's lines."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, str):
        return [value] if len(value) <= MAX_VALUE_CHARACTERS else []
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []
