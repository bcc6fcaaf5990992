"""Every shipped diagram renders in bpmn-js (the viewer the instance pages use) with no import
warning, and every process element and sequence flow has its shape or edge on the canvas."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.processes.conftest import WORKFLOWS

DIAGRAMS = sorted(WORKFLOWS.glob("*.bpmn"))
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DRAWN = ("task", "Task", "Event", "Gateway", "subProcess", "callActivity", "sequenceFlow", "lane", "participant")


def drawable_ids(path) -> set[str]:
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    return {
        element.get("id")
        for element in tree.iter(f"{{{BPMN}}}*")
        if element.get("id")
        and any(etree.QName(element).localname.endswith(kind) for kind in DRAWN)
        and etree.QName(element).localname not in ("messageEventDefinition", "timerEventDefinition")
    }


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_the_diagram_renders_in_bpmn_js_without_warnings(sqlite_live_page, path):
    page = sqlite_live_page
    result = page.evaluate(
        """async (xml) => {
            const box = document.createElement('div');
            box.style.width = '1600px'; box.style.height = '900px';
            document.body.appendChild(box);
            const viewer = new window.BpmnJS({container: box});
            const {warnings} = await viewer.importXML(xml);
            const ids = viewer.get('elementRegistry').getAll().map(e => e.id);
            return {warnings: warnings.map(w => w.message), ids};
        }""",
        path.read_text(encoding="utf-8"),
    )
    assert result["warnings"] == []
    assert drawable_ids(path) <= set(result["ids"])
