"""What changed between two versions of a process: diagram elements (by id), forms (by key) and
decision-table rules, each change with a short description a process manager can read.

Pure functions over the stored file texts (ProcessVersion.files); no SpiffWorkflow needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from lxml import etree

from ..bpmn import vocabulary
from ..bpmn.xml import parse_xml
from ..definitions.versions import FORMS_PREFIX, form_texts

_MISSING = "(none)"
_SHORT = 80  # longer values (documentation, long scripts) are said to have changed, not quoted
_FLOW_TAGS = {"task", "subProcess", "adHocSubProcess", "transaction", "callActivity", "sequenceFlow"}
# Extension attributes of other modelers worth comparing (camunda:formKey, camunda:decisionRef...).
_CAMUNDA_ATTRIBUTES = ("formKey", "decisionRef", "assignee", "candidateGroups")


@dataclass(frozen=True)
class Element:
    element_id: str
    type: str  # the BPMN element ("userTask", "boundaryEvent", "sequenceFlow"...)
    name: str | None
    process_id: str


@dataclass(frozen=True)
class Change:
    field: str  # "name", "timer", "condition", "property formKey", "lane"...
    old: str | None
    new: str | None
    description: str  # "escalate_after_48h: timer PT48H → PT36H"


@dataclass(frozen=True)
class ElementChange:
    element: Element
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class FormChange:
    key: str
    status: str  # "added", "removed", "changed"
    changes: tuple[str, ...]  # "field approved_amount_usd added", "field decision: enum [...] → [...]"


@dataclass(frozen=True)
class DecisionChange:
    decision_id: str
    status: str  # "added", "removed", "changed"
    changes: tuple[str, ...]  # "rule rule_director_doe changed: ...", "rule r5 added: ..."


@dataclass(frozen=True)
class VersionDiff:
    process_id: str
    added: tuple[Element, ...]
    removed: tuple[Element, ...]
    changed: tuple[ElementChange, ...]
    forms: tuple[FormChange, ...]
    decisions: tuple[DecisionChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.forms or self.decisions)

    def descriptions(self) -> list[str]:
        """Every change as one line, diagram first, then forms and decision tables."""
        lines = [f"added {e.type} {e.element_id}" + (f" ({e.name})" if e.name else "") for e in self.added]
        lines += [f"removed {e.type} {e.element_id}" + (f" ({e.name})" if e.name else "") for e in self.removed]
        lines += [c.description for change in self.changed for c in change.changes]
        for form in self.forms:
            lines += [f"form {form.key} {form.status}"] if form.status != "changed" else []
            lines += [f"form {form.key}: {line}" for line in form.changes]
        for decision in self.decisions:
            lines += [f"decision {decision.decision_id} {decision.status}"] if decision.status != "changed" else []
            lines += [f"decision {decision.decision_id}: {line}" for line in decision.changes]
        return lines


def diff_versions(old_files: Mapping[str, str], new_files: Mapping[str, str], process_id: str) -> VersionDiff:
    """Compare two stored file sets of `process_id` (BPMN, DMN and forms under FORMS_PREFIX)."""
    old_elements, new_elements = _elements(old_files), _elements(new_files)
    added = tuple(new_elements[key][0] for key in new_elements if key not in old_elements)
    removed = tuple(old_elements[key][0] for key in old_elements if key not in new_elements)
    changed = []
    for key, (element, new_facts) in new_elements.items():
        if key in old_elements:
            changes = _compare_facts(element.element_id, old_elements[key][1], new_facts)
            if changes:
                changed.append(ElementChange(element, tuple(changes)))
    return VersionDiff(
        process_id,
        added,
        removed,
        tuple(changed),
        _form_changes(old_files, new_files),
        _decision_changes(old_files, new_files),
    )


# --- BPMN elements ----------------------------------------------------------------------------------


def _trees(files: Mapping[str, str], suffix: str) -> list[etree._ElementTree]:
    return [
        parse_xml(text.encode("utf-8"), name)
        for name, text in sorted(files.items())
        if name.endswith(suffix) and not name.startswith(FORMS_PREFIX)
    ]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _is_flow_element(element: etree._Element) -> bool:
    tag = _local(element)
    return bool(element.get("id")) and (tag in _FLOW_TAGS or tag.endswith(("Task", "Event", "Gateway")))


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _elements(files: Mapping[str, str]) -> dict[tuple[str, str], tuple[Element, dict[str, str | None]]]:
    found = {}
    for tree in _trees(files, ".bpmn"):
        messages = {m.get("id"): m.get("name") for m in tree.iter(f"{{{vocabulary.BPMN_NS}}}message")}
        for process in tree.getroot().iter(f"{{{vocabulary.BPMN_NS}}}process"):
            lanes = {
                _text(ref): lane.get("name") or lane.get("id")
                for lane in process.iter(f"{{{vocabulary.BPMN_NS}}}lane")
                for ref in lane.findall("bpmn:flowNodeRef", vocabulary.NS)
            }
            for node in process.iter(etree.Element):
                if _is_flow_element(node):
                    element = Element(node.get("id"), _local(node), node.get("name"), process.get("id"))
                    found[(element.process_id, element.element_id)] = (element, _facts(node, lanes, messages))
    return found


def _facts(node: etree._Element, lanes: dict, messages: dict) -> dict[str, str | None]:
    """What a manager can change on an element, as comparable text."""
    ns = vocabulary.NS
    facts: dict[str, str | None] = {
        "name": node.get("name"),
        "documentation": _documentation(node.find("bpmn:documentation", ns)),
        "lane": lanes.get(node.get("id")),
        "sub-process": _enclosing(node),
        "source": node.get("sourceRef"),
        "target": node.get("targetRef"),
        "default flow": node.get("default"),
        "attached to": node.get("attachedToRef"),
        "called process": node.get("calledElement"),
        "decision": vocabulary.decision_ref(node) if _local(node) == "businessRuleTask" else None,
        "condition": _text(node.find("bpmn:conditionExpression", ns)),
        "script": _text(node.find("bpmn:script", ns)),
    }
    if _local(node) == "boundaryEvent":
        facts["interrupting"] = "no" if node.get("cancelActivity") == "false" else "yes"
    for definition in node:
        tag = _local(definition) if isinstance(definition.tag, str) else ""
        if tag.endswith("EventDefinition"):
            facts["event"] = tag[: -len("EventDefinition")]
            for timer in ("timeDuration", "timeDate", "timeCycle"):
                if (text := _text(definition.find(f"bpmn:{timer}", ns))) is not None:
                    facts["timer"] = text
            if definition.get("messageRef"):
                facts["message"] = messages.get(definition.get("messageRef")) or definition.get("messageRef")
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", ns):
        facts[f"property {prop.get('name')}"] = prop.get("value")
    for name in _CAMUNDA_ATTRIBUTES:
        if (value := vocabulary.camunda_attribute(node, name)) is not None:
            facts[f"property {name}"] = value
    for extension in node.iterfind("bpmn:extensionElements/*", ns):
        tag = _local(extension) if isinstance(extension.tag, str) else ""
        if tag in ("preScript", "postScript", "instructionsForEndUser", "messagePayload", "messageVariable"):
            facts[tag] = _text(extension)
    return {key: value for key, value in facts.items() if value is not None}


def _documentation(element: etree._Element | None) -> str | None:
    return " ".join(" ".join(element.itertext()).split()) or None if element is not None else None


def _enclosing(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and _local(parent) != "process":
        if _local(parent) in ("subProcess", "adHocSubProcess", "transaction"):
            return parent.get("id")
        parent = parent.getparent()
    return None


def _shown(value: str | None) -> str:
    return _MISSING if value is None else value


def _compare_facts(element_id: str, old: dict, new: dict) -> list[Change]:
    changes = []
    for key in list(dict.fromkeys([*old, *new])):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if all(v is None or (len(v) <= _SHORT and "\n" not in v) for v in (before, after)):
            text = f"{element_id}: {key} {_shown(before)} → {_shown(after)}"
        else:
            text = f"{element_id}: {key} {'added' if before is None else 'removed' if after is None else 'changed'}"
        changes.append(Change(key, before, after, text))
    return changes


# --- forms ------------------------------------------------------------------------------------------


def _forms(files: Mapping[str, str]) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    for key, text in form_texts(files).items():
        try:
            forms[key] = json.loads(text)
        except ValueError:
            forms[key] = text
    return forms


def _dumped(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def _form_changes(old_files: Mapping[str, str], new_files: Mapping[str, str]) -> tuple[FormChange, ...]:
    old, new = _forms(old_files), _forms(new_files)
    result = [FormChange(key, "added", ()) for key in sorted(new.keys() - old.keys())]
    result += [FormChange(key, "removed", ()) for key in sorted(old.keys() - new.keys())]
    for key in sorted(old.keys() & new.keys()):
        if old[key] != new[key]:
            result.append(FormChange(key, "changed", tuple(_schema_changes(old[key], new[key]))))
    return tuple(result)


def _schema_changes(old: Any, new: Any) -> list[str]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return ["not a JSON object: replaced"]
    lines = []
    old_fields, new_fields = old.get("properties") or {}, new.get("properties") or {}
    old_required, new_required = set(old.get("required") or ()), set(new.get("required") or ())
    for name in new_fields:
        if name not in old_fields:
            lines.append(f"field {name} added" + (" (required)" if name in new_required else ""))
    for name in old_fields:
        if name not in new_fields:
            lines.append(f"field {name} removed")
    for name in new_fields:
        if name not in old_fields:
            continue
        before, after = old_fields[name], new_fields[name]
        if isinstance(before, dict) and isinstance(after, dict):
            for prop in dict.fromkeys([*before, *after]):
                if before.get(prop) != after.get(prop):
                    shown = [_dumped(v) if v is not None else _MISSING for v in (before.get(prop), after.get(prop))]
                    lines.append(f"field {name}: {prop} {shown[0]} → {shown[1]}")
        elif before != after:
            lines.append(f"field {name} changed")
        if (name in old_required) != (name in new_required):
            lines.append(f"field {name} {'now required' if name in new_required else 'no longer required'}")
    for prop in dict.fromkeys([*old, *new]):
        if prop not in ("properties", "required") and old.get(prop) != new.get(prop):
            lines.append(f"{prop} changed")
    return lines


# --- decision tables --------------------------------------------------------------------------------


def _decisions(files: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    decisions = {}
    for tree in _trees(files, ".dmn"):
        for decision in tree.getroot():
            if not isinstance(decision.tag, str) or _local(decision) != "decision":
                continue
            table = next((t for t in decision if isinstance(t.tag, str) and _local(t) == "decisionTable"), None)
            if table is None:
                continue
            rules = {}
            for position, rule in enumerate(r for r in table if isinstance(r.tag, str) and _local(r) == "rule"):
                rules[rule.get("id") or f"#{position + 1}"] = _rule(rule)
            decisions[decision.get("id")] = {
                "hit policy": table.get("hitPolicy", "UNIQUE"),
                "inputs": [_column(c, "inputExpression") for c in table if _is(c, "input")],
                "outputs": [c.get("name") or c.get("label") or "" for c in table if _is(c, "output")],
                "rules": rules,
            }
    return decisions


def _is(element: etree._Element, tag: str) -> bool:
    return isinstance(element.tag, str) and _local(element) == tag


def _column(column: etree._Element, tag: str) -> str:
    expression = next((e for e in column if _is(e, tag)), None)
    texts = [t for e in (expression if expression is not None else []) if _is(e, "text") for t in [_text(e) or ""]]
    return texts[0] if texts else column.get("label") or ""


def _rule(rule: etree._Element) -> dict[str, Any]:
    def cells(tag: str) -> tuple[str, ...]:
        return tuple(next((_text(t) or "-" for t in entry if _is(t, "text")), "-") for entry in rule if _is(entry, tag))

    description = next((_text(d) for d in rule if _is(d, "description")), None)
    return {"inputs": cells("inputEntry"), "outputs": cells("outputEntry"), "description": description}


def _cells(rule: dict[str, Any]) -> str:
    return f"when {', '.join(rule['inputs'])} then {', '.join(rule['outputs'])}"


def _decision_changes(old_files: Mapping[str, str], new_files: Mapping[str, str]) -> tuple[DecisionChange, ...]:
    old, new = _decisions(old_files), _decisions(new_files)
    result = [DecisionChange(key, "added", ()) for key in new if key not in old]
    result += [DecisionChange(key, "removed", ()) for key in old if key not in new]
    for key in new:
        if key not in old or old[key] == new[key]:
            continue
        before, after = old[key], new[key]
        lines = [
            f"{part} {_dumped(before[part])} → {_dumped(after[part])}"
            for part in ("hit policy", "inputs", "outputs")
            if before[part] != after[part]
        ]
        for rule_id, rule in after["rules"].items():
            previous = before["rules"].get(rule_id)
            if previous is None:
                lines.append(f"rule {rule_id} added: {_cells(rule)}")
            elif previous["inputs"] != rule["inputs"] or previous["outputs"] != rule["outputs"]:
                lines.append(f"rule {rule_id} changed: {_cells(previous)} → {_cells(rule)}")
            elif previous["description"] != rule["description"]:
                lines.append(f"rule {rule_id}: description changed")
        lines += [f"rule {rule_id} removed" for rule_id in before["rules"] if rule_id not in after["rules"]]
        result.append(DecisionChange(key, "changed", tuple(lines)))
    return tuple(result)
