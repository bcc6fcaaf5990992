"""Loading BPMN and DMN files together into the SpiffWorkflow parser, checked first by the lint,
reporting every problem as `file:line: element: message` instead of raising."""

from __future__ import annotations

import functools
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Collection, Mapping, Sequence

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from ..errors import InvalidDiagram, NotFound, Problem
from . import calls, lint
from .parser import DoeflowParser
from .vocabulary import BPMN_NS, NS, Context, Finding, local, owner_process
from .xml import MAX_FILE_BYTES, parse_xml

_MAX_MESSAGE = 300  # SpiffWorkflow sometimes puts a whole XML element into its message


@dataclass
class Definitions:
    parser: DoeflowParser  # every file added
    files: dict[str, bytes]
    # Top-level processes SpiffWorkflow can start (isExecutable absent or "true", its own rule), in file order.
    # Non-executable ones are checked like the others but only warned about.
    process_ids: list[str]
    problems: list[Problem]

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def spec(self, process_id: str) -> tuple[BpmnProcessSpec, dict]:
        if process_id not in self.process_ids:
            raise NotFound(f"no executable process {process_id!r} in these files")
        return self.parser.get_spec(process_id), self.parser.get_subprocess_specs(process_id)


class _Report:
    """The problems found so far, and which (file, top-level process) already has an error.

    SpiffWorkflow stops at its first error in a process, and where the checks of this module already found
    one, the library's is nearly always a consequence (an implicit split is "Multiple outgoing flows...",
    a missing target "perhaps a form has the same ID?"), so it is only reported for processes found clean.
    Such processes are not even given to the library: on some of them its parser never returns.
    """

    def __init__(self, trees: dict[str, etree._ElementTree]):
        self.trees = trees
        self.problems: list[Problem] = []
        self._flagged: set[tuple[str, str | None]] = set()

    def add(
        self,
        file: str,
        element: etree._Element | None,
        message: str,
        *,
        severity: str = "error",
        line: int | None = None,
    ) -> None:
        if element is None:
            self.problems.append(Problem(file, line, None, message, severity))
            return
        self.problems.append(
            Problem(file, line or element.sourceline, element.get("id") or local(element), message, severity)
        )
        if severity == "error":
            self._flagged.add((file, owner_process(element)))

    def flagged(self, file: str, element: etree._Element) -> bool:
        return (file, owner_process(element)) in self._flagged

    def findings(self, file: str, findings: Collection[Finding]) -> None:
        for finding in findings:
            self.add(file, finding.element, finding.message, severity=finding.severity, line=finding.line)

    def attempt(self, action: Callable[[], Any], file: str, fallback: etree._Element, *, record: bool = True) -> None:
        """Run a library call; what it raises for a bad diagram becomes a problem (see the class docstring)."""
        try:
            action()
        except Exception as error:  # a bad diagram makes SpiffWorkflow fail in many ways (TypeError, KeyError...)
            if record:
                self._library_problem(error, file, fallback)

    def _library_problem(self, error: Exception, file: str, element: etree._Element) -> None:
        if isinstance(error, ValidationException):
            file = error.file_name if error.file_name in self.trees else file
            # Its line_number is always '' for element errors: it reads node.line_number, lxml has sourceline.
            found = self.trees[file].xpath("//*[@id=$i]", i=error.id) if error.id else []
            element = found[0] if found else element
            line = error.line_number if isinstance(error.line_number, int) and error.line_number > 0 else None
            message = _readable(error.args[0] if error.args else str(error))
        else:
            line, message = None, _readable(f"{type(error).__name__}({str(error)!r})")
        if not self.flagged(file, element):
            self.add(file, element, message, line=line)

    def sorted(self, order: Sequence[str]) -> list[Problem]:
        position = {name: index for index, name in enumerate(order)}
        return sorted(self.problems, key=lambda p: (position.get(p.file, len(position)), p.line or 0))


def _readable(message: str) -> str:
    message = " ".join(message.split()).rstrip(".")
    # TaskParser wraps any other exception as ValidationException("%r" % ex).
    wrapped = re.fullmatch(r"(\w+)\((['\"])(.*)\2\)", message)
    if wrapped:
        message = f"SpiffWorkflow could not parse this element ({wrapped.group(1)}: {wrapped.group(3)})"
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "..."


_SCHEMA_LOCK = threading.Lock()  # an XMLSchema keeps the error log of its last run on itself


@functools.cache
def _dmn_schema(namespace: str) -> etree.XMLSchema | None:
    try:
        return etree.XMLSchema(etree.parse(DMN_SCHEMAS[namespace]))
    except (KeyError, etree.XMLSchemaParseError):  # unknown version; SpiffWorkflow's DMN 1.2 schema does not load
        return None


def _check_schema(report: _Report, file: str, tree: etree._ElementTree, kind: str) -> None:
    if kind == "bpmn":
        schema = VALIDATOR.validator
        # bpmn.js writes formalExpression where the schema wants messagePath; SpiffWorkflow's validator renames too.
        renamed = tree.xpath("//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", namespaces=NS)
    else:
        schema, renamed = _dmn_schema(etree.QName(tree.getroot()).namespace), []
    if schema is None:
        return
    for element in renamed:
        element.tag = f"{{{BPMN_NS}}}messagePath"
    try:
        with _SCHEMA_LOCK:
            schema.validate(tree)
            errors = [(e.line, e.message) for e in schema.error_log]
    finally:
        for element in renamed:
            element.tag = f"{{{BPMN_NS}}}formalExpression"
    if not errors:
        return
    ids = Counter(e.get("id") for e in tree.iter(etree.Element))
    by_line: dict[int, list[etree._Element]] = defaultdict(list)
    for element in tree.iter(etree.Element):
        by_line[element.sourceline].append(element)
    for line, message in errors:
        invalid_id = re.search(r"'([^']*)' is not a valid value of the atomic type 'xs:ID'", message)
        if invalid_id and ids[invalid_id.group(1)] > 1:
            continue  # reported by the duplicate-id rule, with the line of the first use
        tag = re.match(r"Element '([^']+)'", message)
        element = next((e for e in by_line.get(line, []) if not tag or e.tag == tag.group(1)), None)
        message = re.sub(r"\{[^}]*\}", "", message.replace(f"{{{BPMN_NS}}}", "bpmn:")).rstrip(".")
        report.add(file, element, f"schema: {message}", line=line)


def _kind(tree: etree._ElementTree) -> str | None:
    name = etree.QName(tree.getroot())
    if name.localname != "definitions":
        return None
    if name.namespace == BPMN_NS:
        return "bpmn"
    return "dmn" if name.namespace and "/spec/DMN/" in name.namespace else None


def _parse_process(parser: DoeflowParser, process_id: str, top_level: set[str]) -> None:
    """get_spec for a process and its embedded sub-processes; called processes are parsed on their own."""
    for task_spec in parser.get_spec(process_id).task_specs.values():
        if isinstance(task_spec, SubWorkflowTask) and task_spec.spec not in top_level:
            _parse_process(parser, task_spec.spec, top_level)


def _add_dmn(parser: DoeflowParser, report: _Report, dmn: dict, *, record: bool) -> None:
    for name, tree in dmn.items():
        report.attempt(
            lambda tree=tree, name=name: parser.add_dmn_xml(tree.getroot(), name), name, tree.getroot(), record=record
        )
    for dmn_parser in parser.dmn_parsers.values():  # parsed lazily at run time otherwise
        report.attempt(dmn_parser.parse, dmn_parser.filename, dmn_parser.node, record=record)


def _add_bpmn(parser: DoeflowParser, report: _Report, bpmn: dict, *, record: bool) -> None:
    for name, tree in bpmn.items():
        report.attempt(
            lambda tree=tree, name=name: parser.add_bpmn_xml(tree, name), name, tree.getroot(), record=record
        )


def _decisions(report: _Report, dmn: dict) -> tuple[set[str], dict[str, str]]:
    """Decision ids usable by business rule tasks, and those from a file with errors (id -> file)."""
    files: dict[str, str] = {}
    broken: dict[str, str] = {}
    for name, tree in dmn.items():
        # SpiffWorkflow registers a DMN file under its first decision only.
        first = next(tree.getroot().iterfind(f"{{{etree.QName(tree.getroot()).namespace}}}decision"), None)
        if first is None:
            continue
        decision = first.get("id")
        if decision in files:
            report.add(name, first, f"decision {decision!r} is also defined in {files[decision]}")
        files.setdefault(decision, name)
        if report.flagged(name, tree.getroot()):
            broken[decision] = name
    return set(files) - set(broken), broken


def load_definitions(files: Mapping[str, bytes], *, known_roles: Collection[str] | None = None) -> Definitions:
    """Parse and check a set of .bpmn/.dmn files together; every problem is reported, none raised."""
    trees: dict[str, etree._ElementTree] = {}
    report = _Report(trees)
    kinds: dict[str, str] = {}
    for name, content in files.items():
        try:
            tree = parse_xml(content, name)
        except InvalidDiagram as refused:
            report.problems += refused.problems
            continue
        kind = _kind(tree)
        if kind is None:
            report.add(name, tree.getroot(), f"not a BPMN or DMN file: the root element is {tree.getroot().tag}")
            continue
        trees[name], kinds[name] = tree, kind
        _check_schema(report, name, tree, kind)
    bpmn = {name: tree for name, tree in trees.items() if kinds[name] == "bpmn"}
    dmn = {name: tree for name, tree in trees.items() if kinds[name] == "dmn"}

    # DMN first: business rule tasks are checked against the decisions that loaded cleanly.
    parser = DoeflowParser()
    for name, tree in dmn.items():
        report.findings(name, lint.dmn_findings(tree))
    _add_dmn(parser, report, dmn, record=True)
    decision_ids, broken_decisions = _decisions(report, dmn)

    processes = [(name, p) for name, tree in bpmn.items() for p in tree.getroot().findall("bpmn:process", NS)]
    executable = [p for _, p in processes if p.get("isExecutable", "true") == "true"]
    process_ids = list(dict.fromkeys(p.get("id") for p in executable))
    context = Context(
        process_ids={p.get("id") for _, p in processes},
        executable_ids=set(process_ids),
        decision_ids=decision_ids,
        broken_decisions=broken_decisions,
        known_roles=known_roles,
    )
    for name, tree in bpmn.items():
        report.findings(name, lint.bpmn_findings(tree, context))
    for name, findings in calls.recursive_calls(bpmn).items():
        report.findings(name, findings)

    _add_bpmn(parser, report, bpmn, record=True)
    top_level = set(context.process_ids)
    unflagged = [(name, p) for name, p in processes if not report.flagged(name, p)]
    for name, process in unflagged:
        if process in executable and process.get("id") in parser.process_parsers:
            report.attempt(lambda process=process: _parse_process(parser, process.get("id"), top_level), name, process)
    # A non-executable process cannot be parsed as it is: flip the flag in a parser used only for checking.
    descriptive = [(n, p) for n, p in unflagged if p not in executable and p.find("bpmn:startEvent", NS) is not None]
    if descriptive:
        checker = DoeflowParser()
        _add_dmn(checker, report, dmn, record=False)
        _add_bpmn(checker, report, bpmn, record=False)
        for name, process in descriptive:
            process_parser = checker.process_parsers.get(process.get("id"))
            if process_parser is not None:
                process_parser.process_executable = True
                report.attempt(
                    lambda process=process: _parse_process(checker, process.get("id"), top_level), name, process
                )
    return Definitions(parser, dict(files), process_ids, report.sorted(list(files)))


def validate_paths(paths: Sequence[str], known_roles: Collection[str] | None = None) -> list[Problem]:
    """Read and check .bpmn/.dmn files together, as `bpmn validate` does."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for path in map(str, paths):
        try:
            with open(path, "rb") as handle:
                files[path] = handle.read(MAX_FILE_BYTES + 1)  # enough for parse_xml to refuse a larger one
        except OSError as error:
            problems.append(Problem(path, None, None, f"cannot read file: {error.strerror or error}"))
    return problems + load_definitions(files, known_roles=known_roles).problems
