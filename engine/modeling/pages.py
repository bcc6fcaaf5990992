"""The modeler's pages as one call each: the index (drafts and published processes), a dry run
of a draft by its id, and the diff of two versions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..definitions import versions as definitions
from ..store.uow import UnitOfWork
from . import drafts
from .diff import VersionDiff, diff_versions
from .dryrun import DryRun, dry_run


@dataclass(frozen=True)
class PublishedProcess:
    process_id: str
    name: str
    version: int
    published_at: datetime


@dataclass(frozen=True)
class ModelerIndex:
    drafts: list[drafts.DraftView]
    published: list[PublishedProcess]


def modeler_index(uow: UnitOfWork, actor_id: int) -> ModelerIndex:
    with uow as tx:
        open_drafts = drafts.open_drafts(tx, actor_id)
        published = [
            PublishedProcess(v.process_id, v.name, v.version, v.published_at) for v in definitions.latest_versions(tx)
        ]
        return ModelerIndex(open_drafts, published)


def try_draft(
    uow: UnitOfWork,
    actor_id: int,
    draft_id: int,
    *,
    steps: Sequence[str] | None = None,
    start_data: dict | None = None,
) -> DryRun:
    """Run a draft in memory with sample data (engine.modeling.dryrun); InvalidDiagram while it has
    errors. A form that is not valid JSON is left out (the draft's problems already name it)."""
    with uow as tx:
        draft = drafts.read_draft(tx, actor_id, draft_id)
    forms = {}
    for key, text in definitions.form_texts(draft.files).items():
        try:
            forms[key] = json.loads(text)
        except ValueError:
            continue
    files = definitions.diagram_files(draft.files)
    return dry_run(files, draft.process_id, forms=forms, start_data=start_data, script=steps)


def version_diff(uow: UnitOfWork, actor_id: int, process_id: str, old: int, new: int) -> VersionDiff:
    with uow as tx:
        drafts.require_manager(tx, actor_id)
        before = definitions.get_version(tx, process_id, old).files
        after = definitions.get_version(tx, process_id, new).files
        return diff_versions(before, after, process_id)
