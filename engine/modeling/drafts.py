"""Process managers' drafts: a published process (or a new or uploaded diagram) opened for editing,
saved and validated on every save, tried in memory, and published as the next version.

Only holders of the role Process Manager may do any of it. A draft keeps its files as a version
does ({name: text}: .bpmn, .dmn and forms/<key>.json), so publishing it is publishing those files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ..bpmn.loading import load_definitions
from ..bpmn.xml import parse_xml
from ..definitions import versions as definitions
from ..definitions.form_checks import form_problems
from ..errors import Conflict, InvalidData, InvalidDiagram, NotFound, PermissionDenied, Problem
from ..org import offices as org
from ..store.models import ProcessDraft, ProcessVersion, User
from ..store.uow import Transaction, UnitOfWork
from .publishing import wake_after_commit

MANAGER_ROLE = "Process Manager"
FORMS_PREFIX = definitions.FORMS_PREFIX
MAX_FILE_BYTES = 1_000_000  # an uploaded or saved diagram; the MEFM diagram is about 50 KB
NEW_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    id="{pid}_definitions" targetNamespace="https://doeflow.example/bpmn/{pid}">
  <bpmn:process id="{pid}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start" name="Start"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{pid}_diagram">
    <bpmndi:BPMNPlane id="{pid}_plane" bpmnElement="{pid}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@dataclass(frozen=True)
class DraftView:
    id: int
    process_id: str
    based_on_version: int | None
    files: dict[str, str]
    problems: list[dict[str, Any]]
    updated_at: datetime
    updated_by: str | None
    published_version: int | None
    revision: int

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "error"]

    @property
    def diagram_name(self) -> str:
        return main_diagram(self.files, self.process_id)

    @property
    def form_keys(self) -> list[str]:
        return sorted(definitions.form_texts(self.files))

    @property
    def decision_files(self) -> list[str]:
        return sorted(n for n in self.files if n.endswith(".dmn"))


@dataclass(frozen=True)
class VersionRow:
    process_id: str
    version: int
    name: str
    published_at: datetime
    published_by: str | None
    content_hash: str


@dataclass
class Validation:
    problems: list[Problem] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [
            {"file": p.file, "line": p.line, "element": p.element, "message": p.message, "severity": p.severity}
            for p in self.problems
        ]


def require_manager(tx: Transaction, actor_id: int) -> org.Actor:
    actor = org.load_actor(tx.session, actor_id)
    if not actor.has_role(MANAGER_ROLE):
        raise PermissionDenied("only a Process Manager may edit, try or publish processes")
    return actor


def main_diagram(files: dict[str, str], process_id: str) -> str:
    for name, text in files.items():
        if name.endswith(".bpmn") and f'id="{process_id}"' in text:
            return name
    return next((n for n in sorted(files) if n.endswith(".bpmn")), f"{process_id}.bpmn")


def validate(files: dict[str, str], known_roles) -> Validation:
    """Every problem of the draft's diagrams, tables and forms, errors and warnings."""
    result = Validation()
    diagrams = definitions.diagram_files(files)
    for name, content in diagrams.items():
        if len(content) > MAX_FILE_BYTES:
            result.problems.append(Problem(name, None, None, f"the file is larger than {MAX_FILE_BYTES} bytes"))
    if not result.problems:
        result.problems += load_definitions(diagrams, known_roles=known_roles).problems
    result.problems += form_problems(files)
    return result


def open_draft(uow: UnitOfWork, actor_id: int, process_id: str | None = None, *, name: str | None = None) -> DraftView:
    """A new draft of a published process (its latest version's files), or of a new process."""
    with uow as tx:
        actor = require_manager(tx, actor_id)
        if process_id and (version := definitions.latest_version(tx, process_id)) is not None:
            files, based_on = dict(version.files), version.version
        else:
            pid = (process_id or "").strip()
            if not pid.isidentifier():
                raise InvalidData("a process id is a name without spaces", {"process_id": "Use letters, digits and _."})
            title = (name or pid).replace("<", "").replace("&", "").replace('"', "")
            files, based_on = {f"{pid}.bpmn": NEW_PROCESS.format(pid=pid, name=title)}, None
            process_id = pid
        view = _store_new(tx, actor, process_id, files, based_on)
        tx.commit()
        return view


def import_diagram(uow: UnitOfWork, actor_id: int, filename: str, content: bytes) -> DraftView:
    """A draft from an uploaded .bpmn (Camunda Modeler, bpmn.io...): size-limited, parsed without
    entities or network; vendor extensions are kept as they are."""
    with uow as tx:
        actor = require_manager(tx, actor_id)
        process_id, text = _read_upload(filename, content)
        safe_name = "".join(c for c in filename.rsplit("/", 1)[-1] if c.isalnum() or c in "._-") or f"{process_id}.bpmn"
        view = _store_new(tx, actor, process_id, {safe_name: text}, None)
        tx.commit()
        return view


def _read_upload(filename: str, content: bytes) -> tuple[str, str]:
    """The first process id and the text of an uploaded diagram; InvalidData when it is not one."""
    if len(content) > MAX_FILE_BYTES:
        raise InvalidData("file too large", {"file": f"A diagram may be at most {MAX_FILE_BYTES // 1000} KB."})
    if not filename.lower().endswith(".bpmn"):
        raise InvalidData("not a BPMN file", {"file": "Choose a .bpmn file."})
    try:
        tree = parse_xml(content, filename)
        text = content.decode("utf-8")
    except (InvalidDiagram, UnicodeDecodeError, ValueError) as error:
        raise InvalidData("not a readable BPMN file", {"file": f"Not a readable BPMN file: {error}"}) from None
    ids = tree.xpath("//*[local-name()='process']/@id")
    if not ids:
        raise InvalidData("no process", {"file": "The file defines no process."})
    return ids[0], text


def _store_new(tx: Transaction, actor: org.Actor, process_id: str, files: dict[str, str], based_on) -> DraftView:
    draft = ProcessDraft(
        process_id=process_id,
        files=files,
        based_on_version=based_on,
        problems=validate(files, org.known_roles(tx.session)).as_dicts(),
        created_by_id=actor.id,
        updated_by_id=actor.id,
        updated_at=tx.now(),
    )
    tx.session.add(draft)
    tx.session.flush()
    return _view(tx, draft)


def get_draft(uow: UnitOfWork, actor_id: int, draft_id: int) -> DraftView:
    with uow as tx:
        return read_draft(tx, actor_id, draft_id)


def read_draft(tx: Transaction, actor_id: int, draft_id: int) -> DraftView:
    require_manager(tx, actor_id)
    return _view(tx, _draft(tx, draft_id))


def list_drafts(uow: UnitOfWork, actor_id: int) -> list[DraftView]:
    with uow as tx:
        return open_drafts(tx, actor_id)


def open_drafts(tx: Transaction, actor_id: int) -> list[DraftView]:
    """The drafts not yet published, most recently changed first."""
    require_manager(tx, actor_id)
    rows = tx.session.scalars(
        select(ProcessDraft).where(ProcessDraft.published_version.is_(None)).order_by(ProcessDraft.updated_at.desc())
    )
    return [_view(tx, row) for row in rows]


def save(uow: UnitOfWork, actor_id: int, draft_id: int, changes: Any, *, revision: int | None = None) -> DraftView:
    """Replace some of the draft's files (name -> text) and validate the whole: the problems come
    back with the draft. `revision` (the one the editor loaded) refuses a save over someone else's."""
    with uow as tx:
        actor = require_manager(tx, actor_id)
        _check_changes(changes)
        draft = _draft(tx, draft_id, lock=True)
        if draft.published_version is not None:
            raise InvalidData("already published", {"": f"This draft became version {draft.published_version}."})
        if revision is not None and revision != draft.revision:
            raise Conflict("someone else saved this draft since you opened it; reload it")
        files = {**draft.files, **changes}
        draft.files = files
        flag_modified(draft, "files")  # every save is a new revision, even one that changes nothing
        draft.problems = validate(files, org.known_roles(tx.session)).as_dicts()
        draft.updated_by_id, draft.updated_at = actor.id, tx.now()
        tx.session.flush()
        view = _view(tx, draft)
        tx.commit()
        return view


def _check_changes(changes: Any) -> None:
    if not isinstance(changes, dict):
        raise InvalidData('send {"files": {name: text}, "revision": n}', {"files": "Must map file names to texts."})
    for name, text in changes.items():
        if not isinstance(text, str) or not name.endswith((".bpmn", ".dmn", ".json")):
            raise InvalidData("unknown file", {name: "Only .bpmn, .dmn and forms/<key>.json files."})
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise InvalidData("file too large", {name: f"At most {MAX_FILE_BYTES // 1000} KB."})
        if name.endswith(".json") and definitions.form_key_of(name) is None:
            raise InvalidData("unknown file", {name: "Forms are saved as forms/<key>.json."})


@dataclass(frozen=True)
class PublishedDraft:
    process_id: str
    version: int


def publish(uow: UnitOfWork, actor_id: int, draft_id: int) -> PublishedDraft:
    """Publish the draft as the next version of its process (refused while it has errors), and
    mark it published, in one unit of work."""
    with uow as tx:
        actor = require_manager(tx, actor_id)
        draft = _draft(tx, draft_id, lock=True)
        errors = [p for p in draft.problems if p["severity"] == "error"]
        if errors:
            raise InvalidData("the draft has errors", {"": f"{len(errors)} error(s) block publishing."})
        files = draft.files
        forms = definitions.form_texts(files)
        published = definitions.store_versions(tx, definitions.diagram_files(files), published_by=actor.id, forms=forms)
        version = next((p.version for p in published if p.process_id == draft.process_id), None)
        if version is None:
            raise InvalidData("nothing to publish", {"": f"The files define no executable process {draft.process_id}."})
        draft.published_version = version
        wake_after_commit(tx, published)
        tx.commit()
        return PublishedDraft(draft.process_id, version)


def versions(uow: UnitOfWork, actor_id: int, process_id: str) -> list[VersionRow]:
    with uow as tx:
        require_manager(tx, actor_id)
        rows = tx.session.execute(
            select(ProcessVersion, User.name)
            .outerjoin(User, User.id == ProcessVersion.published_by_id)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
        ).all()
        if not rows:
            raise NotFound(f"no published process {process_id!r}")
        return [VersionRow(v.process_id, v.version, v.name, v.published_at, name, v.content_hash) for v, name in rows]


def version_files(uow: UnitOfWork, actor_id: int, process_id: str, version: int) -> dict[str, str]:
    with uow as tx:
        require_manager(tx, actor_id)
        return dict(definitions.get_version(tx, process_id, version).files)


def _draft(tx: Transaction, draft_id: int, *, lock: bool = False) -> ProcessDraft:
    query = select(ProcessDraft).where(ProcessDraft.id == draft_id)
    draft = tx.session.scalar(query.with_for_update() if lock else query)
    if draft is None:
        raise NotFound(f"no draft {draft_id}")
    return draft


def _view(tx: Transaction, draft: ProcessDraft) -> DraftView:
    who = tx.session.get(User, draft.updated_by_id) if draft.updated_by_id else None
    return DraftView(
        draft.id,
        draft.process_id,
        draft.based_on_version,
        dict(draft.files),
        list(draft.problems or []),
        draft.updated_at,
        who.name if who else None,
        draft.published_version,
        draft.revision,
    )


def require_manager_id(uow: UnitOfWork, actor_id: int) -> None:
    """Refuse anyone but a Process Manager (for a route that calls no other draft function)."""
    with uow as tx:
        require_manager(tx, actor_id)
