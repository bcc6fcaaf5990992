"""The BPMN vocabulary the checks and the parser share: namespaces, element kinds, what
SpiffWorkflow supports, and small readers of elements (form keys, decisions, timers)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Collection

from lxml import etree

from .timers import now, timer_value_problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Camunda Modeler writes camunda:formKey; older Camunda/Activiti exports bind the same attributes to the
# Activiti namespace (MIWG C.1.1 does), so both are read.
CAMUNDA_NAMESPACES = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn")
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
} | SUBPROCESSES
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS

# Which event definitions SpiffWorkflow's parsers read on each kind of event (bpmn/parser/event_parsers.py).
# Any other definition is silently dropped, turning the event into a plain one: a signal end event throws
# nothing, an error start event starts its event sub-process at once, a link throw event just ends the path.
# Conditional events are read but evaluated only when reached, never re-checked, so they are refused too.
SUPPORTED_EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer"},
    "intermediateThrowEvent": {"message", "signal", "escalation"},
    "boundaryEvent": {"message", "signal", "timer", "cancel", "error", "escalation"},
}
_HUMAN_TAGS = {"subProcess": "sub-process", "adHocSubProcess": "ad-hoc sub-process"}
EVENT_DEFINITION_NAMES = {"compensate": "compensation"}
REFERENCED_ITEMS = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")  # the order SpiffWorkflow looks for them in
# Timer text made only of these characters is literal ISO 8601; anything else (quotes, calls) is Python.
_TIMER_WORD = re.compile(r"[A-Za-z0-9_:+\-.,/]+")
OMG_NAMESPACE = re.compile(r"https?://www\.omg\.org/spec/")
# The outcomes of a case a diagram may mark (engine/bpmn/outcomes.py reads the marks): the starter
# and the office's Chief of Mission are emailed when one is reached.
OUTCOMES = ("approved", "approved_reduced", "rejected", "endorsed", "not_endorsed", "returned")
# The properties of a mark: a fixed `outcome` (reached when the element is), or `outcomeField` with
# `outcomes` (value: outcome, ...) read when the task completes; `reasonField` and `amountField`.
OUTCOME_PROPERTIES = ("outcome", "outcomeField", "outcomes", "reasonField", "amountField")


@dataclass(frozen=True)
class Finding:
    element: etree._Element
    message: str
    severity: str = "error"
    line: int | None = None  # when a child element (the script, the timer text) pins it down better


@dataclass(frozen=True)
class Context:
    """What the rules need to know about the other files of the set."""

    process_ids: set[str]  # every top-level process of the BPMN files
    executable_ids: set[str]
    decision_ids: set[str]
    broken_decisions: dict[str, str]  # decision id -> the DMN file with errors that defines it
    known_roles: Collection[str] | None


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def human(tag: str) -> str:
    """'intermediateCatchEvent' -> 'intermediate catch event'."""
    return _HUMAN_TAGS.get(tag) or re.sub(r"(?<!^)([A-Z])", r" \1", tag).lower()


def bpmn(tree: etree._ElementTree, tag: str) -> list[etree._Element]:
    return tree.xpath(f"//bpmn:{tag}", namespaces=NS)


def is_literal_timer(text: str) -> bool:
    return bool(_TIMER_WORD.fullmatch(text.strip()))


def iso_timer_problem(kind: str, text: object) -> str | None:
    """None if `text` is valid ISO 8601 for a timeDate/timeDuration/timeCycle element, due within
    reach of now, else why not."""
    return timer_value_problem(kind, text, now())


def camunda_attribute(element: etree._Element, name: str) -> str | None:
    for namespace in CAMUNDA_NAMESPACES:
        value = (element.get(f"{{{namespace}}}{name}") or "").strip()
        if value:
            return value
    return None


def spiff_form_key(element: etree._Element) -> str | None:
    values = element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='formKey']/@value",
        namespaces=NS,
    )
    return next((v.strip() for v in values if v.strip()), None)


def spiff_properties(element: etree._Element) -> dict[str, str]:
    """The element's spiffworkflow:property name/value pairs (as SpiffWorkflow's parser reads them)."""
    found = element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    return {p.get("name"): p.get("value") or "" for p in found if p.get("name")}


def decision_ref(element: etree._Element) -> str | None:
    """The decision a businessRuleTask calls: spiffworkflow:calledDecisionId, else camunda:decisionRef."""
    texts = element.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId/text()", namespaces=NS)
    return next((t.strip() for t in texts if t.strip()), None) or camunda_attribute(element, "decisionRef")


def owner_process(element: etree._Element) -> str | None:
    """Id of the top-level process an element belongs to (None for collaborations, messages...)."""
    for ancestor in itertools.chain([element], element.iterancestors()):
        if (
            ancestor.tag == f"{{{BPMN_NS}}}process"
            and ancestor.getparent() is not None
            and ancestor.getparent().getparent() is None
        ):
            return ancestor.get("id")
    return None
