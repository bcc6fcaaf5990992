"""Ids and names a diagram may not use: those SpiffWorkflow keeps for the task specs it adds itself,
and those longer than the engine stores.

SpiffWorkflow's parser names a task spec after its element's id and, meeting an id that already names
a spec, reuses that spec instead of parsing the element: a start event `Start` becomes the process's
own start task (no start event: nobody may start it), a user task `End` becomes its end (the task is
skipped). The names were read from SpiffWorkflow 3 (bpmn/specs/bpmn_process_spec.py,
bpmn/parser/ProcessParser.py and TaskParser.py, bpmn/serializer/default/process_spec.py)."""

from __future__ import annotations

from typing import Iterator

from lxml import etree

from .vocabulary import FLOW_NODES, NS, SUBPROCESSES, Finding, human, local

# Every process and sub-process spec has them; the serializer also drops a spec named Root when it
# restores a workflow; StartEventSplit and StartEventJoin join several start events.
RESERVED_IDS = ("Start", "End", "Root", "StartEventSplit", "StartEventJoin")
# `<process or sub-process>.EndJoin`, and `<activity>.BoundaryEventSplit` / `.BoundaryEventJoin` around
# an activity with boundary events. (`<id> [child]`, the spec inside a loop, cannot be an XML id.)
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin")
SCOPES = SUBPROCESSES | {"process"}

# The columns these land in (engine/store/models.py; tests/security/test_diagrams.py checks they agree):
# process ids and element ids (process_version, human_task, timer, audit_event), names (titles), message
# names (message, message_subscription).
MAX_ID = 200
MAX_NAME = 300
MAX_MESSAGE_NAME = 200


def reserved_ids(tree: etree._ElementTree) -> Iterator[Finding]:
    for scope in tree.iter(etree.Element):
        if local(scope) not in SCOPES:
            continue
        for node in scope:
            if not isinstance(node.tag, str) or local(node) not in FLOW_NODES:
                continue
            node_id = node.get("id") or ""
            if node_id in RESERVED_IDS or node_id.endswith(RESERVED_SUFFIXES):
                yield Finding(
                    node,
                    f"{human(local(node))} id {node_id!r} is a name SpiffWorkflow gives its own tasks "
                    f"({', '.join(RESERVED_IDS)}, and ids ending in {', '.join(RESERVED_SUFFIXES)}): "
                    "give the element another id",
                )


def overlong_names(tree: etree._ElementTree) -> Iterator[Finding]:
    """Longer than their column: the step that stores them would fail (PostgreSQL refuses the row)."""
    for element in tree.iter(etree.Element):
        tag = local(element)
        if tag not in FLOW_NODES and tag not in SCOPES:
            continue
        for attribute, limit in (("id", MAX_ID), ("name", MAX_NAME)):
            value = element.get(attribute) or ""
            if len(value) > limit:
                yield Finding(
                    element,
                    f"{human(tag)} {attribute} is {len(value)} characters long; the engine stores at most {limit}",
                )
    for message in tree.getroot().iterfind("bpmn:message", NS):
        name = message.get("name") or ""
        if len(name) > MAX_MESSAGE_NAME:
            yield Finding(
                message, f"message name is {len(name)} characters long; the engine stores at most {MAX_MESSAGE_NAME}"
            )
