"""Process definitions: publishing diagrams as versions, and the parsed specs of a version.

A version freezes every file its process needs: its BPMN file, the files of the processes it
calls (transitively), the DMN files of the decisions it uses and the JSON forms its tasks name.
Publishing identical content is a no-op; changed content makes version N+1.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence

from sqlalchemy import func, select

from ..bpmn import events
from ..bpmn.loading import load_definitions
from ..bpmn.parser import form_key
from ..bpmn.references import FileIndex, index_file
from ..errors import InvalidDiagram, NotFound, Problem
from ..org.offices import known_roles
from ..store.models import ProcessVersion
from ..store.uow import Transaction
from .form_checks import refuse_broken_forms

FORMS_PREFIX = "forms/"


def form_file(key: str) -> str:
    """The name a form is stored under in a version's or a draft's files."""
    return f"{FORMS_PREFIX}{key}.json"


def form_key_of(name: str) -> str | None:
    """The form key of a stored file name (`forms/<key>.json`), or None for a diagram or table."""
    if name.startswith(FORMS_PREFIX) and name.endswith(".json"):
        return name[len(FORMS_PREFIX) : -len(".json")]
    return None


def form_texts(files: Mapping[str, str]) -> dict[str, str]:
    """The forms of a stored file set: key -> JSON text."""
    return {key: text for name, text in files.items() if (key := form_key_of(name)) is not None}


def diagram_files(files: Mapping[str, str]) -> dict[str, bytes]:
    """The BPMN and DMN files of a stored file set, as the parser takes them."""
    return {name: text.encode("utf-8") for name, text in files.items() if name.endswith((".bpmn", ".dmn"))}


@dataclass
class Published:
    process_id: str
    version: int
    created: bool
    warnings: list[Problem] = field(default_factory=list)


def read_paths(paths: Sequence[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in paths:
        with open(path, "rb") as handle:
            files[os.path.basename(path)] = handle.read()
    return files


def store_versions(
    tx: Transaction,
    files: Mapping[str, bytes],
    *,
    published_by: int | None = None,
    forms_dir: str | None = None,
    forms: Mapping[str, str] | None = None,
) -> list[Published]:
    """Validate `files` (BPMN and DMN, by name) and store every process they define as a version,
    inside the caller's unit of work. A form is taken from `forms` (key -> JSON text, e.g. a
    draft's), else from `forms_dir`, else from the published version that already has it."""
    session = tx.session
    batch = dict(files)
    index = _index_files(batch)
    extra_diagrams, extra_forms = _dependencies_from_database(tx, index)
    diagrams = {**extra_diagrams, **batch}
    index.update(_index_files(extra_diagrams))
    definitions = load_definitions(diagrams, known_roles=known_roles(session))
    if definitions.errors():
        raise InvalidDiagram(definitions.errors())
    warnings = [p for p in definitions.problems if p.severity != "error"]
    given = {form_file(key): text for key, text in (forms or {}).items()}
    results = []
    for name in batch:
        for process_id in index[name].processes:
            if process_id in definitions.process_ids:
                stored = _closure(process_id, index, diagrams, {**extra_forms, **given}, forms_dir, given)
                refuse_broken_forms(stored)
                results.append(_store_version(tx, process_id, definitions, stored, published_by, warnings))
    return results


def _index_files(files: Mapping[str, bytes]) -> dict[str, FileIndex]:
    index, problems = {}, []
    for name, content in files.items():
        try:
            index[name] = index_file(name, content)
        except InvalidDiagram as error:
            problems += error.problems
    if problems:
        raise InvalidDiagram(problems)
    return index


def _dependencies_from_database(
    tx: Transaction, index: dict[str, FileIndex]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Called processes not in the batch come from their latest published version, forms included."""
    diagrams: dict[str, bytes] = {}
    forms: dict[str, str] = {}
    defined = {p for entry in index.values() for p in entry.processes}
    wanted = {c for entry in index.values() for c in entry.called} - defined
    seen: set[str] = set()
    while wanted - seen:
        process_id = sorted(wanted - seen)[0]
        seen.add(process_id)
        version = latest_version(tx, process_id)
        if version is None:
            continue  # load_definitions reports the unresolved call activity
        for name, text in version.files.items():
            if name.startswith(FORMS_PREFIX):
                forms.setdefault(name, text)
            elif name not in index and name not in diagrams:
                diagrams[name] = text.encode("utf-8")
                sub = index_file(name, diagrams[name])
                wanted |= sub.called - defined
                defined |= set(sub.processes)
    return diagrams, forms


def _closure(
    process_id: str, index, diagrams, extra_forms: dict[str, str], forms_dir: str | None, given: dict | None = None
) -> dict[str, str]:
    by_process = {p: name for name, entry in index.items() for p in entry.processes}
    by_decision = {d: name for name, entry in index.items() for d in entry.decisions_defined}

    chosen: set[str] = set()
    todo = [by_process[process_id]]
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        chosen.add(name)
        entry = index[name]
        todo += [by_process[c] for c in entry.called if c in by_process]
        todo += [by_decision[d] for d in entry.decisions_used if d in by_decision]

    stored = {name: diagrams[name].decode("utf-8") for name in sorted(chosen)}
    for key in sorted(set().union(*(index[n].form_keys for n in chosen))):
        form_name = form_file(key)
        path = os.path.join(forms_dir, f"{key}.json") if forms_dir else None
        if given and form_name in given:
            stored[form_name] = given[form_name]
        elif path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                stored[form_name] = handle.read()
        elif form_name in extra_forms:
            stored[form_name] = extra_forms[form_name]
    return stored


def _content_hash(stored: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(stored):
        digest.update(name.encode() + b"\0" + stored[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def _store_version(tx: Transaction, process_id, definitions, stored, published_by, warnings) -> Published:
    content_hash = _content_hash(stored)
    latest = latest_version(tx, process_id)
    if latest is not None and latest.content_hash == content_hash:
        return Published(process_id, latest.version, created=False, warnings=warnings)
    spec, _ = definitions.spec(process_id)
    version = ProcessVersion(
        process_id=process_id,
        version=(latest.version + 1) if latest else 1,
        name=spec.description or process_id,
        files=dict(stored),
        content_hash=content_hash,
        published_by_id=published_by,
        published_at=tx.now(),
    )
    tx.session.add(version)
    tx.session.flush()
    return Published(process_id, version.version, created=True, warnings=warnings)


def latest_version(tx: Transaction, process_id: str) -> ProcessVersion | None:
    return tx.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )


def latest_versions(tx: Transaction) -> list[ProcessVersion]:
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    return list(
        tx.session.scalars(
            select(ProcessVersion)
            .join(
                newest,
                (ProcessVersion.process_id == newest.c.process_id) & (ProcessVersion.version == newest.c.version),
            )
            .order_by(ProcessVersion.process_id)
        )
    )


@dataclass(frozen=True)
class LoadedVersion:
    """A version's parsed spec and forms, shared (read-only) by every instance that runs it."""

    process_id: str
    spec: Any
    subprocess_specs: dict
    forms: dict[str, dict]

    def form(self, key: str | None) -> dict | None:
        return self.forms.get(key) if key else None

    @property
    def start_event(self):
        """The none start event (the one a person starts), or None: started only by messages."""
        return events.none_start_event(self.spec)

    @property
    def start_form(self) -> dict | None:
        start = self.start_event
        return self.form(form_key(start)) if start is not None else None

    @cached_property
    def element_forms(self) -> dict[str, dict]:
        """Element id -> JSON Schema of every element (called processes included) that names a form."""
        found: dict[str, dict] = {}
        for spec in [self.spec, *self.subprocess_specs.values()]:
            for name, task_spec in spec.task_specs.items():
                form = self.form(form_key(task_spec))
                if form is not None:
                    found.setdefault(name, form)
        return found


_CACHE_SIZE = 128
_cache: OrderedDict[tuple[str, str], LoadedVersion] = OrderedDict()
_cache_lock = threading.Lock()


def load_version(version: ProcessVersion) -> LoadedVersion:
    """Parse a version's files once per process; later calls hit the cache."""
    key = (version.process_id, version.content_hash)
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is not None:
            _cache.move_to_end(key)
            return loaded
    definitions = load_definitions(diagram_files(version.files))
    if definitions.errors():
        raise InvalidDiagram(definitions.errors())
    spec, subprocess_specs = definitions.spec(version.process_id)
    forms = {key: json.loads(text) for key, text in form_texts(version.files).items()}
    loaded = LoadedVersion(version.process_id, spec, subprocess_specs, forms)
    with _cache_lock:
        _cache[key] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def process_file(version: ProcessVersion, process_id: str) -> str:
    """The text of the BPMN file of a version that defines `process_id` (for a diagram viewer)."""
    for name, text in version.files.items():
        if name.endswith(".bpmn") and process_id in index_file(name, text.encode("utf-8")).processes:
            return text
    raise NotFound(f"no diagram of {process_id!r} in version {version.version}")


def get_version(tx: Transaction, process_id: str, version: int | None = None) -> ProcessVersion:
    if version is None:
        found = latest_version(tx, process_id)
    else:
        found = tx.session.scalar(
            select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.version == version)
        )
    if found is None:
        raise NotFound(f"no published process {process_id!r}" + (f" version {version}" if version else ""))
    return found
