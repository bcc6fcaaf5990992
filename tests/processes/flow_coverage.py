"""Which sequence flows of the shipped diagrams the process tests take.

Every unit of work stores its workflow through `engine.runtime.steps.finish_step`; the tests of this folder
wrap that function and hand each workflow to `FlowCoverage.record`, which walks its task tree
(the top workflow and every sub-process or called process) and notes each step from a task to
a child task that was reached. A step whose source and target are joined by a sequence flow in
the same process (or embedded sub-process) of a shipped diagram is that flow taken.

SpiffWorkflow puts a synthetic `<id>.BoundaryEventSplit` task in front of an activity that has
boundary events; the walk looks through it to the real source.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CONTAINERS = {f"{{{BPMN}}}process", f"{{{BPMN}}}subProcess", f"{{{BPMN}}}transaction"}
REACHED = TaskState.WAITING | TaskState.READY | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR


@dataclass(frozen=True)
class Flow:
    file: str
    id: str
    scope: str  # the id of the process or sub-process the flow belongs to
    source: str
    target: str


@dataclass
class FlowCoverage:
    flows: dict[tuple[str, str, str], Flow]
    taken: set[Flow] = field(default_factory=set)

    @classmethod
    def of_diagrams(cls, paths: Iterable[Path]) -> "FlowCoverage":
        flows = {}
        for path in paths:
            tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
            for element in tree.iter(f"{{{BPMN}}}sequenceFlow"):
                scope = next(a for a in element.iterancestors() if a.tag in CONTAINERS).get("id")
                flow = Flow(path.name, element.get("id"), scope, element.get("sourceRef"), element.get("targetRef"))
                flows[(flow.scope, flow.source, flow.target)] = flow
        return cls(flows)

    def record(self, workflow: BpmnWorkflow) -> None:
        for scope, source, target in _steps(workflow):
            flow = self.flows.get((scope, source, target))
            if flow is not None:
                self.taken.add(flow)

    def missing(self) -> list[Flow]:
        return sorted(set(self.flows.values()) - self.taken, key=lambda f: (f.file, f.id))

    def report(self) -> dict:
        by_file: dict[str, dict] = {}
        for flow in self.flows.values():
            entry = by_file.setdefault(flow.file, {"flows": 0, "taken": 0, "missing": []})
            entry["flows"] += 1
            if flow in self.taken:
                entry["taken"] += 1
            else:
                entry["missing"].append(flow.id)
        for entry in by_file.values():
            entry["missing"].sort()
        total, taken = len(self.flows), len(self.taken)
        return {
            "flows": total,
            "taken": taken,
            "percent": round(100 * taken / total, 1) if total else 100.0,
            "diagrams": dict(sorted(by_file.items())),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.report(), indent=2) + "\n")


def _steps(workflow: BpmnWorkflow) -> Iterator[tuple[str, str, str]]:
    for part in [workflow, *workflow.subprocesses.values()]:
        scope = part.spec.name
        pending = [part.task_tree]
        while pending:
            task = pending.pop()
            pending.extend(task.children)
            if not task.state & REACHED:
                continue
            parent = task.parent
            while parent is not None and parent.task_spec.name.endswith(".BoundaryEventSplit"):
                parent = parent.parent
            if parent is not None:
                yield scope, parent.task_spec.name, task.task_spec.name
