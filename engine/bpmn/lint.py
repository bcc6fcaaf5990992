"""Checks on parsed BPMN/DMN trees that SpiffWorkflow does not make, or makes with misleading messages.

Each rule yields `Finding`s (an element and a message); engine.bpmn.loading turns them into `Problem`s.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Collection, Iterable, Iterator

from lxml import etree

from .case_fields import owned_variables
from .names import overlong_names, reserved_ids
from .outcomes import read_mark
from .vocabulary import (
    ACTIVITIES,
    EVENT_DEFINITION_NAMES,
    FLOW_NODES,
    GATEWAYS,
    NS,
    OMG_NAMESPACE,
    REFERENCED_ITEMS,
    SUBPROCESSES,
    SUPPORTED_EVENT_DEFINITIONS,
    TIMER_KINDS,
    Context,
    Finding,
    bpmn,
    camunda_attribute,
    decision_ref,
    human,
    is_literal_timer,
    iso_timer_problem,
    local,
    spiff_form_key,
    spiff_properties,
)


def duplicate_ids(tree: etree._ElementTree) -> Iterator[Finding]:
    # SpiffWorkflow indexes elements by id and silently keeps the last one. Only the OMG namespaces (model,
    # DI, DMN) make ids unique: vendor extensions reuse them (MIWG C.8.0 repeats a process id in one).
    first_line: dict[str, int] = {}
    for element in tree.iter(etree.Element):
        element_id = element.get("id")
        if element_id is None or not OMG_NAMESPACE.match(etree.QName(element).namespace or ""):
            continue
        if element_id in first_line:
            yield Finding(element, f"duplicate id {element_id!r} (first used on line {first_line[element_id]})")
        else:
            first_line[element_id] = element.sourceline


def dangling_references(tree: etree._ElementTree) -> Iterator[Finding]:
    by_id = {e.get("id"): e for e in tree.iter(etree.Element) if e.get("id") is not None}

    def missing(ref: str) -> bool:
        return ref.rsplit(":", 1)[-1] not in by_id  # ids cannot contain ':', a prefix is a namespace

    for tag in ("sequenceFlow", "messageFlow", "association"):
        for flow in bpmn(tree, tag):
            for attribute, role in (("sourceRef", "source"), ("targetRef", "target")):
                ref = flow.get(attribute)
                if ref and missing(ref):
                    yield Finding(flow, f"{human(tag)} {flow.get('id')}: {role} {ref} does not exist")
    for event in bpmn(tree, "boundaryEvent"):
        ref = event.get("attachedToRef")
        if ref and missing(ref):
            yield Finding(event, f"boundary event {event.get('id')}: attached-to activity {ref} does not exist")
    for element in tree.xpath("//bpmn:*[@default]", namespaces=NS):
        if missing(element.get("default")):
            yield Finding(
                element,
                f"{human(local(element))} {element.get('id')}: default flow {element.get('default')} does not exist",
            )
    # A missing message/signal/error/escalation sends SpiffWorkflow's own error path into a TypeError.
    for attribute, item in REFERENCED_ITEMS.items():
        for element in tree.xpath(f"//bpmn:*[@{attribute}]", namespaces=NS):
            ref = element.get(attribute)
            target = by_id.get(ref.rsplit(":", 1)[-1])
            if target is None or local(target) != item:
                owner = (
                    element
                    if element.get("id") and not local(element).endswith("EventDefinition")
                    else element.getparent()
                )
                yield Finding(
                    owner,
                    f"{human(local(owner))} {owner.get('id')}: {item} {ref} does not exist",
                    line=element.sourceline,
                )


def data_associations(tree: etree._ElementTree) -> Iterator[Finding]:
    """SpiffWorkflow resolves a task's data associations only to data objects of its own (sub-)process or the
    one directly around it; anything else fails, and a data object further out makes its parser loop forever."""
    by_id = {e.get("id"): e for e in tree.iter(etree.Element) if e.get("id") is not None}
    for ref in tree.xpath(
        "//bpmn:dataInputAssociation/bpmn:sourceRef | //bpmn:dataOutputAssociation/bpmn:targetRef", namespaces=NS
    ):
        association, target = ref.getparent(), by_id.get((ref.text or "").strip())
        if target is None:
            yield Finding(
                association, f"data association: {(ref.text or '').strip()!r} does not exist", line=ref.sourceline
            )
        elif local(target) == "dataObjectReference":
            activity = association.getparent()  # parsed by the parser of the (sub-)process around it
            scopes = [s for s in activity.iterancestors() if local(s) in SUBPROCESSES | {"process"}][:2]
            data_object = by_id.get(target.get("dataObjectRef"))
            if data_object is None or data_object.getparent() not in scopes:
                yield Finding(
                    association,
                    f"data object reference {target.get('id')}: its data object is not "
                    "defined in this (sub-)process or the one directly around it",
                    line=ref.sourceline,
                )
        elif local(target) != "dataStoreReference":  # data stores are refused on their own
            yield Finding(
                association,
                f"data associations with a {human(local(target))} are not supported; use a data object reference",
                line=ref.sourceline,
            )


def unsupported_elements(tree: etree._ElementTree) -> Iterator[Finding]:
    for tag in ("dataStore", "dataStoreReference"):
        for element in bpmn(tree, tag):
            yield Finding(element, "data stores are not supported")
    for gateway in bpmn(tree, "complexGateway"):
        yield Finding(gateway, "complex gateways are not supported")
    for activity in tree.xpath("//bpmn:*[@isForCompensation='true']", namespaces=NS):
        yield Finding(activity, "compensation handlers (isForCompensation) are not supported")
    for kind, supported in SUPPORTED_EVENT_DEFINITIONS.items():
        for event in bpmn(tree, kind):
            definitions = [c for c in event if isinstance(c.tag, str) and local(c).endswith("EventDefinition")]
            for definition in definitions:
                name = local(definition)[: -len("EventDefinition")]
                if name not in supported:
                    yield Finding(
                        event,
                        f"{EVENT_DEFINITION_NAMES.get(name, name)} {human(kind)}s are not supported",
                        line=definition.sourceline,
                    )
            if event.find("bpmn:eventDefinitionRef", NS) is not None:
                yield Finding(event, "event definitions referenced by eventDefinitionRef are not supported")
            elif kind == "boundaryEvent" and not definitions:
                yield Finding(event, "a boundary event needs an event definition")
    for tag in ("subProcess", "transaction"):
        for sub in bpmn(tree, tag):
            starts = len(sub.findall("bpmn:startEvent", NS))
            if starts == 0:
                yield Finding(sub, f"{human(tag)} without a start event is not supported")
            elif starts > 1:
                yield Finding(sub, f"{human(tag)} with {starts} start events is not supported")
            if sub.find("bpmn:endEvent", NS) is None:
                yield Finding(sub, f"{human(tag)} without an end event is not supported")
    for task in bpmn(tree, "scriptTask"):
        script_format = task.get("scriptFormat")
        if script_format and "python" not in script_format.lower():
            yield Finding(task, f"script format {script_format!r} is not supported; scripts are Python")


def flow_structure(tree: etree._ElementTree) -> Iterator[Finding]:
    """Sequence-flow patterns SpiffWorkflow cannot run, per process or sub-process."""
    for scope in tree.xpath(
        "//bpmn:process | //bpmn:subProcess | //bpmn:transaction | //bpmn:adHocSubProcess", namespaces=NS
    ):
        nodes = {c.get("id"): c for c in scope if isinstance(c.tag, str) and local(c) in FLOW_NODES}
        outgoing: dict[str, list[etree._Element]] = defaultdict(list)
        targets = set()
        for flow in scope.findall("bpmn:sequenceFlow", NS):
            outgoing[flow.get("sourceRef")].append(flow)
            targets.add(flow.get("targetRef"))
        for node_id, node in nodes.items():
            tag = local(node)
            flows = outgoing.get(node_id, [])
            conditional = [f for f in flows if f.find("bpmn:conditionExpression", NS) is not None]
            if tag not in ("exclusiveGateway", "inclusiveGateway"):
                # SpiffWorkflow connects these flows unconditionally: the condition would be ignored.
                for flow in conditional:
                    yield Finding(
                        flow,
                        f"conditions on sequence flows leaving a {human(tag)} are not supported; "
                        "put an exclusive gateway before the branches",
                    )
            plain = len(flows) - len(conditional)
            if tag not in GATEWAYS and tag != "startEvent" and plain > 1:
                yield Finding(
                    node,
                    f"{plain} outgoing sequence flows without a gateway (implicit parallel split) "
                    "are not supported; add a parallel gateway",
                )
            if local(scope) != "adHocSubProcess" and node_id not in targets and not _starts_by_itself(node):
                # SpiffWorkflow walks from the start events, so the element would never run.
                yield Finding(
                    node,
                    f"{human(tag)} without incoming sequence flow (implicit start) "
                    "is not supported; only start events begin a process",
                )


def _starts_by_itself(node: etree._Element) -> bool:
    tag = local(node)
    return (
        tag in ("startEvent", "boundaryEvent")
        or node.get("triggeredByEvent") == "true"
        or node.get("isForCompensation") == "true"  # refused by its own rule
        or (tag == "intermediateCatchEvent" and node.find("bpmn:linkEventDefinition", NS) is not None)
    )


def expressions(tree: etree._ElementTree) -> Iterator[Finding]:
    """Scripts, conditions and timers: what the restricted evaluator would refuse, and bad ISO 8601."""
    from .scripting import check_expression, check_script

    def refused(
        owner: etree._Element, holder: etree._Element, check: Callable[[str], str | None], what: str
    ) -> Iterator[Finding]:
        text = holder.text or ""
        reason = check(text)
        if reason:
            excerpt = " ".join(text.split())
            excerpt = excerpt if len(excerpt) <= 60 else excerpt[:57] + "..."
            yield Finding(owner, f"{what} {excerpt!r} refused: {reason}", line=holder.sourceline)

    for task in bpmn(tree, "scriptTask"):
        if task.get("scriptFormat") and "python" not in task.get("scriptFormat").lower():
            continue  # refused as an unsupported format
        script = task.find("bpmn:script", NS)
        if script is None or not (script.text or "").strip():
            yield Finding(task, "script task has no script")
        else:
            yield from refused(task, script, check_script, "script")
    for holder in tree.xpath(
        "//bpmn:extensionElements/spiffworkflow:preScript | //bpmn:extensionElements/spiffworkflow:postScript",
        namespaces=NS,
    ):
        yield from refused(holder.getparent().getparent(), holder, check_script, local(holder))
    for condition in bpmn(tree, "conditionExpression"):
        flow = condition.getparent()
        if not (condition.text or "").strip():
            yield Finding(flow, "empty condition", line=condition.sourceline)
        else:
            yield from refused(flow, condition, check_expression, "condition")
    for tag in ("loopCondition", "completionCondition", "loopCardinality"):
        for holder in bpmn(tree, tag):
            if (holder.text or "").strip():
                owner = next((a for a in holder.iterancestors() if a.get("id") is not None), holder)
                yield from refused(owner, holder, check_expression, human(tag))
    for definition in bpmn(tree, "timerEventDefinition"):
        yield from _timer(definition, check_expression)
    for holder in tree.xpath("//spiffworkflow:messagePayload", namespaces=NS):
        if (holder.text or "").strip():
            owner = next((a for a in holder.iterancestors() if a.get("id") is not None), holder)
            yield from refused(owner, holder, check_expression, "message payload")


def _timer(definition: etree._Element, check_expression: Callable[[str], str | None]) -> Iterator[Finding]:
    from .scripting import constant_value

    event = definition.getparent()
    holder = next((h for kind in TIMER_KINDS for h in definition.iterfind(f".//bpmn:{kind}", NS)), None)
    if holder is None:
        yield Finding(event, "timer has no timeDate, timeDuration or timeCycle", line=definition.sourceline)
        return
    kind, text = local(holder), (holder.text or "").strip()
    if not text:
        reason = f"timer {kind} is empty"
    elif is_literal_timer(text):
        reason = iso_timer_problem(kind, text)
    else:
        reason = check_expression(text)
        if reason:
            reason = f"timer expression refused: {reason}"
        else:  # an expression over no data ('P' + '9999Y', 10**64) is known now; others at run time
            try:
                known, value = constant_value(text)
            except Exception as error:
                reason = f"timer expression fails: {type(error).__name__}: {error}"
            else:
                reason = iso_timer_problem(kind, value) if known else None
    if reason:
        yield Finding(event, reason, line=holder.sourceline)


def lanes(tree: etree._ElementTree, known_roles: Collection[str] | None) -> Iterator[Finding]:
    # SpiffWorkflow gives each task its lane's name; the engine treats that name as the role doing it.
    for lane in bpmn(tree, "lane"):
        name = lane.get("name")
        if not (name or "").strip():
            yield Finding(lane, "lane has no name; lanes name the role that does their tasks")
        elif known_roles is not None and name not in known_roles:
            yield Finding(lane, f"lane {name!r} names no known role")


def references_between_files(tree: etree._ElementTree, context: Context) -> Iterator[Finding]:
    for call in bpmn(tree, "callActivity"):
        called = (call.get("calledElement") or "").strip()
        if not called:
            yield Finding(call, "call activity has no calledElement")
        elif called not in context.process_ids:
            yield Finding(call, f"calledElement {called!r} names no process in the given files")
        elif called not in context.executable_ids:
            yield Finding(call, f'called process {called!r} is not executable (isExecutable is not "true")')
    for task in bpmn(tree, "businessRuleTask"):
        decision = decision_ref(task)
        if decision is None:
            yield Finding(task, "business rule task names no decision (spiffworkflow:calledDecisionId)")
        elif decision in context.broken_decisions:
            yield Finding(
                task, f"decision {decision!r} comes from {context.broken_decisions[decision]}, which has errors"
            )
        elif decision not in context.decision_ids:
            yield Finding(task, f"decision {decision!r} is not defined in any DMN file")


def outcome_marks(tree: etree._ElementTree) -> Iterator[Finding]:
    """The outcomes a diagram marks are emailed to the people of the case: a misspelt one would
    silently tell nobody."""
    for element in tree.xpath("//bpmn:*[bpmn:extensionElements/spiffworkflow:properties]", namespaces=NS):
        if local(element) not in FLOW_NODES:
            continue
        properties = spiff_properties(element)
        for problem in read_mark(properties)[1]:
            yield Finding(element, problem)
        if properties.get("outcomeField") and local(element) not in ACTIVITIES:
            yield Finding(element, f"outcomeField needs a task, not a {human(local(element))}")


def warnings(tree: etree._ElementTree) -> Iterator[Finding]:
    for tag in ("userTask", "manualTask"):
        for task in bpmn(tree, tag):
            if not (spiff_form_key(task) or camunda_attribute(task, "formKey")):
                yield Finding(
                    task,
                    f"{human(tag)} has no form key (spiffworkflow:property formKey or camunda:formKey)",
                    severity="warning",
                )
    for process in tree.getroot().findall("bpmn:process", NS):
        if process.get("isExecutable", "true") != "true":
            yield Finding(
                process,
                'process is not executable (isExecutable is not "true"): it is checked but cannot be started',
                severity="warning",
            )


def processes(tree: etree._ElementTree) -> Iterator[Finding]:
    # SpiffWorkflow parses such a file without a word: it would pass as valid and publish nothing.
    if tree.getroot().find("bpmn:process", NS) is None:
        yield Finding(tree.getroot(), "BPMN file defines no process: a diagram needs a bpmn:process to run")


def bpmn_findings(tree: etree._ElementTree, context: Context) -> Iterable[Finding]:
    rules = (
        processes(tree),
        duplicate_ids(tree),
        reserved_ids(tree),
        owned_variables(tree),
        overlong_names(tree),
        dangling_references(tree),
        data_associations(tree),
        unsupported_elements(tree),
        flow_structure(tree),
        expressions(tree),
        lanes(tree, context.known_roles),
        references_between_files(tree, context),
        outcome_marks(tree),
        warnings(tree),
    )
    return [finding for rule in rules for finding in rule]


def dmn_findings(tree: etree._ElementTree) -> Iterable[Finding]:
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    decisions = root.findall(f"{{{namespace}}}decision")
    findings = list(duplicate_ids(tree))
    if not decisions:
        findings.append(Finding(root, "DMN file defines no decision"))
    # SpiffWorkflow registers only the first decision of a file and then fails on the others.
    findings += [Finding(d, "only one decision per DMN file is supported") for d in decisions[1:]]
    findings += [
        Finding(d, "decision has no decision table; only decision tables are supported")
        for d in decisions[:1]
        if d.find(f"{{{namespace}}}decisionTable") is None
    ]
    return findings
