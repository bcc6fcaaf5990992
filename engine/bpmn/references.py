"""What a BPMN or DMN file defines and what it refers to (called processes, decisions, forms), and the
files beside a diagram on disk that define what it refers to. The shipped folder keeps a diagram and
the DMN tables it uses side by side, so `bpmn validate workflows/bpmn/mefm_request.bpmn` takes its
table from beside it rather than refusing the business rule task as naming no decision."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import InvalidDiagram
from .xml import MAX_FILE_BYTES, parse_xml


@dataclass
class FileIndex:
    """What one BPMN or DMN file defines and what it refers to."""

    processes: list[str] = field(default_factory=list)
    called: set[str] = field(default_factory=set)
    decisions_defined: set[str] = field(default_factory=set)
    decisions_used: set[str] = field(default_factory=set)
    form_keys: set[str] = field(default_factory=set)


def _local(name: str) -> str:
    return f"//*[local-name()='{name}']"


def index_file(name: str, content: bytes) -> FileIndex:
    """InvalidDiagram if the file is not XML the safe parser takes."""
    tree = parse_xml(content, name)
    index = FileIndex()
    if name.endswith(".dmn"):
        index.decisions_defined = set(tree.xpath(_local("decision") + "/@id"))
        return index
    index.processes = list(tree.xpath(_local("process") + "/@id"))
    index.called = set(tree.xpath(_local("callActivity") + "/@calledElement"))
    index.decisions_used = {t.strip() for t in tree.xpath(_local("calledDecisionId") + "/text()")}
    index.decisions_used |= set(tree.xpath("//@*[local-name()='decisionRef']"))
    index.form_keys = set(tree.xpath(_local("property") + "[@name='formKey']/@value"))
    index.form_keys |= set(tree.xpath("//@*[local-name()='formKey']"))
    return index


def _read_index(path: str) -> FileIndex | None:
    """None for a file that cannot be read or parsed: its problems are for whoever checks it."""
    try:
        with open(path, "rb") as handle:
            return index_file(path, handle.read(MAX_FILE_BYTES + 1))
    except (OSError, InvalidDiagram):
        return None


def files_beside(paths: Sequence[str], *, called_processes: bool = True) -> list[str]:
    """The .dmn files (and, with `called_processes`, the .bpmn files) in the directories of the given
    diagrams that define a decision (a called process) one of them refers to and none of them defines,
    followed through what the files found refer to in turn; where two define the same, the first by
    path. Sorted by path; the given ones left out."""
    given = {os.path.abspath(p): p for p in paths}
    known = {p: index for p in paths if (index := _read_index(p)) is not None}
    candidates: dict[str, FileIndex] = {}
    patterns = ("*.dmn", "*.bpmn") if called_processes else ("*.dmn",)
    for directory in sorted({os.path.dirname(p) for p in paths if p.endswith(".bpmn")}):
        for pattern in patterns:
            for path in sorted(glob.glob(os.path.join(directory, pattern))):
                if os.path.abspath(path) not in given and (index := _read_index(path)) is not None:
                    candidates[path] = index
    found: list[str] = []
    while True:
        chosen = [*known.values(), *(candidates[p] for p in found)]
        wanted = {d for i in chosen for d in i.decisions_used}
        if called_processes:
            wanted |= {c for i in chosen for c in i.called}
        wanted -= {d for i in chosen for d in _defined(i)}
        # For each thing still wanted, the first file that defines it: never two that clash.
        more = {next((p for p, i in candidates.items() if item in _defined(i)), None) for item in wanted} - {None}
        if not more:
            return sorted(found)
        found += sorted(more)


def _defined(index: FileIndex) -> set[str]:
    return index.decisions_defined | set(index.processes)
