"""SpiffWorkflow state in and out of the database.

An instance's state is stored without its process spec: the spec belongs to the process version
and is parsed once per process (see engine/definitions.py), then handed back in when loading.
This keeps rows small and loading cheap, and makes a version's spec the only source of truth.
"""

from __future__ import annotations

import json
import threading
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


# The serializer flips a flag on its registry while encoding: one per thread.
_local = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = _make_serializer()
    return serializer


def dump(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON text, without its spec."""
    return _serializer().serialize_json(workflow)


def load(text: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    serializer = _serializer()
    dct = json.loads(text)
    if dct.get(serializer.VERSION_KEY) != VERSION:
        raise ValueError(f"state written by serializer {dct.get(serializer.VERSION_KEY)!r}, expected {VERSION}")
    dct.pop(serializer.VERSION_KEY)
    return serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def task_states(text: str) -> dict[str, int]:
    """Every task's state in a stored state (the workflow's and its sub-processes'), by task id,
    read without restoring the workflow: what a step changed is told by comparing with it."""
    if not text:
        return {}
    stored = json.loads(text)
    found: dict[str, int] = {}
    for tasks in [stored.get("tasks", {}), *(sp.get("tasks", {}) for sp in stored.get("subprocesses", {}).values())]:
        found.update({task_id: task.get("state", 0) for task_id, task in tasks.items()})
    return found
