"""What every shipped diagram and every shipped form must be, checked in one place: the diagrams
validate together without errors or warnings, every element is named, documented and drawn (inside
its lane, without overlaps), every lane names a known role; every form a diagram names exists, and
every form and field is labelled and described in English and Spanish, with bounds on its numbers
and labels for its options."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn import loading
from engine.org import offices as org
from forms.validation import check_schema
from tests.processes.conftest import FORMS, WORKFLOWS, form, properties

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = {
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent", "userTask",
    "manualTask", "scriptTask", "businessRuleTask", "receiveTask", "sendTask", "serviceTask", "callActivity",
    "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
}  # fmt: skip
ACTIVITIES = {tag for tag in FLOW_NODES if tag.endswith("Task")} | {"callActivity", "subProcess"}
DIAGRAMS = sorted(WORKFLOWS.glob("*.bpmn"))
SHIPPED_FORMS = sorted(p.stem for p in FORMS.glob("*.json"))
HINTS = ("title", "x-title-es", "description", "x-description-es")


def local(element) -> str:
    return etree.QName(element).localname


def flow_nodes(container) -> list:
    """The flow nodes of a process or sub-process, nested ones included."""
    return [e for e in container.iter(etree.Element) if local(e) in FLOW_NODES and e is not container]


def box(shapes, element_id):
    bounds = shapes[element_id]
    return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))


def overlaps(a, b) -> bool:
    (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def inside(inner, outer) -> bool:
    (ix, iy, iw, ih), (ox, oy, ow, oh) = inner, outer
    return ox <= ix and ix + iw <= ox + ow and oy <= iy and iy + ih <= oy + oh


def test_there_is_something_to_check():
    assert {p.stem for p in DIAGRAMS} == {"cerf_application", "endorsement", "eppe", "mefm_request", "surge_request"}
    assert len(SHIPPED_FORMS) >= 50


def test_the_shipped_diagrams_and_tables_validate_together_without_errors_or_warnings():
    paths = [str(p) for p in sorted(WORKFLOWS.glob("*.bpmn")) + sorted(WORKFLOWS.glob("*.dmn"))]
    assert [str(p) for p in loading.validate_paths(paths, known_roles=set(org.ROLES))] == []


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_every_element_is_named_documented_and_drawn_inside_its_lane_without_overlaps(path: Path):
    tree = etree.parse(str(path))
    process = tree.find("bpmn:process", NS)
    assert (process.findtext("bpmn:documentation", namespaces=NS) or "").strip(), "the process is not documented"
    nodes = flow_nodes(process)
    shapes = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e.findall("di:waypoint", NS) for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    for node in nodes:
        assert node.get("name"), node.get("id")
        if local(node) in ACTIVITIES:
            assert (node.findtext("bpmn:documentation", namespaces=NS) or "").strip(), f"{node.get('id')} undocumented"
        assert shapes.get(node.get("id")) is not None, f"{node.get('id')} is not drawn"
    for flow in process.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges.get(flow.get("id"), [])]
        assert len(points) >= 2, f"{flow.get('id')} is not drawn"
        for end, (px, py) in (("sourceRef", points[0]), ("targetRef", points[-1])):
            x, y, w, h = box(shapes, flow.get(end))
            assert x <= px <= x + w and y <= py <= y + h, f"{flow.get('id')} does not touch {flow.get(end)}"
    attached = {n.get("id"): n.get("attachedToRef") for n in nodes if n.get("attachedToRef")}
    drawn = [n.get("id") for n in nodes if local(n) != "subProcess"]  # a sub-process holds its nodes
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            if attached.get(a) != b and attached.get(b) != a:
                assert not overlaps(box(shapes, a), box(shapes, b)), f"{a} overlaps {b}"


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_every_node_sits_in_one_lane_that_names_a_role_and_the_lanes_in_the_pool(path: Path):
    tree = etree.parse(str(path))
    process = tree.find("bpmn:process", NS)
    shapes = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    lanes = tree.xpath("//bpmn:lane", namespaces=NS)
    assert lanes and all(lane.get("name") in org.ROLES for lane in lanes), [lane.get("name") for lane in lanes]
    top = [n for n in process if isinstance(n.tag, str) and local(n) in FLOW_NODES]
    refs = tree.xpath("//bpmn:flowNodeRef/text()", namespaces=NS)
    assert sorted(set(refs)) == sorted(refs), "a node is in two lanes"
    assert {n.get("id") for n in top} <= set(refs), "a node is in no lane"
    # A boundary event sits on its activity's edge, an expanded sub-process spans the lanes of its steps.
    contained = {n.get("id") for n in top if local(n) not in ("boundaryEvent", "subProcess")}
    pool = box(shapes, tree.find(".//bpmn:participant", NS).get("id"))
    for lane in lanes:
        assert inside(box(shapes, lane.get("id")), pool), f"{lane.get('id')} leaves the pool"
        for ref in set(lane.xpath("bpmn:flowNodeRef/text()", namespaces=NS)) & contained:
            assert inside(box(shapes, ref), box(shapes, lane.get("id"))), f"{ref} leaves {lane.get('name')}"


def test_every_form_a_diagram_names_is_shipped_and_every_shipped_form_is_named():
    named = {
        key
        for path in DIAGRAMS
        for key in etree.parse(str(path)).xpath("//*[local-name()='property'][@name='formKey']/@value")
    }
    assert named == set(SHIPPED_FORMS)


@pytest.mark.parametrize("key", SHIPPED_FORMS)
def test_every_form_and_field_is_labelled_and_described_in_english_and_spanish(key: str):
    schema = form(key)
    for hint in HINTS:
        assert schema.get(hint), f"{key} has no {hint}"
    assert set(schema["x-order"]) == set(schema["properties"])
    assert set(schema.get("required", [])) <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert check_schema(schema) is None  # its cross-field rules and totals name fields it has
    for path, prop in properties(schema):
        if path.endswith(".0"):
            continue  # array items are labelled by their array
        for hint in HINTS:
            assert prop.get(hint), f"{path} has no {hint}"
        values = prop.get("enum") or (prop.get("items") or {}).get("enum")
        if values:
            for language in ("en", "es"):
                assert set(prop["x-enum-labels"][language]) == set(values), f"{path} ({language})"
        if prop.get("type") in ("number", "integer") and not prop.get("x-readonly"):
            assert "minimum" in prop and "maximum" in prop, f"{path} has no bounds"
        if path.endswith("_date") and prop.get("type") == "string":
            assert prop.get("format") == "date", f"{path} is a date without format: date"
        items = prop.get("items")
        if prop.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object":
            assert items.get("additionalProperties") is False, f"{path} takes lines with any field"
