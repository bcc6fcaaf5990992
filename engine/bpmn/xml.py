"""Reading BPMN and DMN files safely: no entities, no DTDs, no network, a bounded size."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

from ..errors import InvalidDiagram, Problem

MAX_FILE_BYTES = 2 * 1024 * 1024


def parse_xml(content: bytes, filename: str) -> etree._ElementTree:
    """Parse one file without entity expansion, DTDs or network; InvalidDiagram if refused."""
    if len(content) > MAX_FILE_BYTES:
        raise InvalidDiagram([Problem(filename, None, None, f"file is larger than {MAX_FILE_BYTES} bytes")])
    # Nothing would be expanded or fetched, but no diagram needs a DTD: refuse it rather than carry entities
    # along, before parsing when it can be seen in the prolog (libxml2 itself stops some bombs half-way).
    root_tag = re.search(rb"<[A-Za-z_]", content)
    doctype = content.find(b"<!DOCTYPE", 0, root_tag.start() if root_tag else len(content))
    if doctype >= 0:
        raise InvalidDiagram([_doctype_problem(filename, content[:doctype].count(b"\n") + 1)])
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        message = re.sub(r", line \d+, column \d+$", "", error.msg or "syntax error")
        raise InvalidDiagram([Problem(filename, error.lineno, None, f"not well-formed XML: {message}")]) from None
    tree = root.getroottree()
    if tree.docinfo.doctype:  # in an encoding the byte search above cannot see (UTF-16)
        raise InvalidDiagram([_doctype_problem(filename, 1)])
    return tree


def _doctype_problem(filename: str, line: int) -> Problem:
    return Problem(filename, line, "DOCTYPE", "DOCTYPE/entity declarations are not allowed")


def element_types(files: Mapping[str, bytes]) -> dict[str, str]:
    """Each element id of the files and its BPMN type ("userTask", "exclusiveGateway"...)."""
    types = {}
    for name, content in files.items():
        for element in parse_xml(content, name).iter():
            if isinstance(element.tag, str) and element.get("id"):
                types[element.get("id")] = element.tag.rsplit("}", 1)[-1]
    return types
