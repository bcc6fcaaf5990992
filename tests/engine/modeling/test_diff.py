"""Differences between two versions of the MEFM request: diagram elements, forms and decision rules."""

from __future__ import annotations

import json
from pathlib import Path

from engine.definitions.versions import FORMS_PREFIX
from engine.modeling.diff import diff_versions

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / "workflows" / "bpmn"
PROCESS = "mefm_request"
DIAGRAM = "mefm_request.bpmn"
TABLE = "mefm_approval_authority.dmn"
DECISION_FORM = f"{FORMS_PREFIX}mefm_decision.json"
TIMER_48H = "<bpmn:timeDuration>PT48H</bpmn:timeDuration>"


def version() -> dict[str, str]:
    """The files a published MEFM version stores: its diagram, its decision table, its forms."""
    files = {name: (WORKFLOWS / name).read_text(encoding="utf-8") for name in (DIAGRAM, TABLE)}
    for path in sorted((ROOT / "forms").glob("mefm_*.json")):
        files[f"{FORMS_PREFIX}{path.name}"] = path.read_text(encoding="utf-8")
    return files


def edited(files: dict[str, str], name: str, old: str, new: str) -> dict[str, str]:
    assert old in files[name], old
    return {**files, name: files[name].replace(old, new)}


def test_the_same_version_has_no_differences():
    diff = diff_versions(version(), version(), PROCESS)

    assert diff.empty and diff.descriptions() == []


def test_a_shorter_sla_is_one_changed_element():
    old = version()
    new = edited(old, DIAGRAM, TIMER_48H, "<bpmn:timeDuration>PT36H</bpmn:timeDuration>")

    diff = diff_versions(old, new, PROCESS)

    [change] = diff.changed
    assert change.element.element_id == "escalate_after_48h"
    assert change.element.type == "boundaryEvent"
    assert [c.description for c in change.changes] == ["escalate_after_48h: timer PT48H → PT36H"]
    assert diff.added == diff.removed == () and diff.forms == diff.decisions == ()
    assert diff.descriptions() == ["escalate_after_48h: timer PT48H → PT36H"]


def test_an_added_task_and_a_removed_task():
    old = version()
    flow = '<bpmn:sequenceFlow id="f_prd_authority" sourceRef="prd_review" targetRef="determine_approval_authority"/>'
    new = edited(
        old,
        DIAGRAM,
        flow,
        '<bpmn:userTask id="legal_review" name="Legal review"><bpmn:incoming>f_prd_legal</bpmn:incoming>'
        "<bpmn:outgoing>f_legal_authority</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:sequenceFlow id="f_prd_legal" sourceRef="prd_review" targetRef="legal_review"/>'
        '<bpmn:sequenceFlow id="f_legal_authority" sourceRef="legal_review" targetRef="determine_approval_authority"/>',
    )

    diff = diff_versions(old, new, PROCESS)

    assert {(e.element_id, e.type) for e in diff.added} == {
        ("legal_review", "userTask"),
        ("f_prd_legal", "sequenceFlow"),
        ("f_legal_authority", "sequenceFlow"),
    }
    assert [(e.element_id, e.name) for e in diff.removed] == [("f_prd_authority", None)]
    assert "added userTask legal_review (Legal review)" in diff.descriptions()

    back = diff_versions(new, old, PROCESS)
    assert "legal_review" in {e.element_id for e in back.removed}


def test_lane_condition_property_and_flow_changes_are_described():
    old = version()
    new = edited(old, DIAGRAM, "regional_recommendation == 'return'", "regional_recommendation in ('return',)")
    new = edited(new, DIAGRAM, 'value="Regional Director, PRD"', 'value="Regional Director"')
    new = edited(new, DIAGRAM, 'cancelActivity="false"', 'cancelActivity="true"')

    lines = diff_versions(old, new, PROCESS).descriptions()

    assert (
        "f_regional_return: condition regional_recommendation == 'return' → regional_recommendation in ('return',)"
        in lines
    )
    assert "escalate_after_48h: property notifyRoles Regional Director, PRD → Regional Director" in lines
    assert "remind_after_24h: interrupting no → yes" in lines


def test_a_form_field_added():
    old = version()
    schema = json.loads(old[DECISION_FORM])
    schema["properties"]["conditions"] = {"type": "string", "maxLength": 500}
    schema["properties"]["decision"]["enum"].remove("approve_reduced")
    new = {**old, DECISION_FORM: json.dumps(schema)}

    diff = diff_versions(old, new, PROCESS)

    [form] = diff.forms
    assert (form.key, form.status) == ("mefm_decision", "changed")
    assert "field conditions added" in form.changes
    assert any(line.startswith("field decision: enum ") for line in form.changes)
    assert diff.changed == () and diff.added == ()


def test_a_form_added_and_removed():
    old = version()
    new = {k: v for k, v in old.items() if k != DECISION_FORM}
    new[f"{FORMS_PREFIX}mefm_legal.json"] = '{"type": "object", "properties": {}}'

    diff = diff_versions(old, new, PROCESS)

    assert {(f.key, f.status) for f in diff.forms} == {("mefm_legal", "added"), ("mefm_decision", "removed")}


def test_a_decision_rule_changed_added_and_removed():
    old = version()
    new = edited(
        old,
        TABLE,
        '<inputEntry id="rule_director_doe_amount"><text>&lt;= 250000',
        '<inputEntry id="rule_director_doe_amount"><text>&lt;= 200000',
    )

    [decision] = diff_versions(old, new, PROCESS).decisions

    assert decision.decision_id == "mefm_approval_authority" and decision.status == "changed"
    assert decision.changes == (
        'rule rule_director_doe changed: when <= 250000, <= 500000 then "director_doe", '
        '"Director DOE (on PRD recommendation)" → when <= 200000, <= 500000 then "director_doe", '
        '"Director DOE (on PRD recommendation)"',
    )

    start = new[TABLE].index('<rule id="rule_director_general_exception">')
    end = new[TABLE].index("</rule>", start) + len("</rule>")
    removed = {**new, TABLE: new[TABLE][:start] + new[TABLE][end:]}
    [decision] = diff_versions(new, removed, PROCESS).decisions
    assert decision.changes == ("rule rule_director_general_exception removed",)
    [decision] = diff_versions(removed, new, PROCESS).decisions
    assert decision.changes[0].startswith("rule rule_director_general_exception added: when -, > 500000")
