"""engine.bpmn: safe loading of BPMN/DMN files and `file:line: element: message` problems."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.loading import load_definitions, validate_paths
from engine.bpmn.parser import PARSER_CLASS, DoeflowParser, form_key
from engine.bpmn.scripting import check_expression, check_script
from engine.bpmn.xml import MAX_FILE_BYTES, parse_xml
from engine.errors import InvalidDiagram, NotFound

MIWG = Path("/work/shared/conformance/miwg")

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
    xmlns:signavio="http://www.signavio.com" id="defs" targetNamespace="http://example.com/doeflow">
"""
FORM = """<bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="{}"/></spiffworkflow:properties></bpmn:extensionElements>"""


def diagram(body: str, *, process_id: str = "p", executable: str = "true", before: str = "") -> bytes:
    """A definitions document with one process; `before` goes ahead of it (messages, data stores...)."""
    return (
        f'{HEAD}{before}<bpmn:process id="{process_id}" isExecutable="{executable}">\n{body}\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def line_of(content: bytes, needle: str) -> int:
    """1-based line of the first occurrence of `needle`: the expected line of a problem."""
    text = content.decode()
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def id_line(content: bytes, element_id: str) -> int:
    return line_of(content, f'id="{element_id}"')


def problems(files: dict[str, bytes], **kwargs) -> list[str]:
    return [str(p) for p in load_definitions(files, **kwargs).problems]


def errors(files: dict[str, bytes], **kwargs) -> list[str]:
    return [str(p) for p in load_definitions(files, **kwargs).errors()]


def tasks(workflow: BpmnWorkflow) -> dict[str, str]:
    return {t.task_spec.bpmn_id: TaskState.get_name(t.state) for t in workflow.get_tasks() if t.task_spec.bpmn_id}


@pytest.fixture
def clock(monkeypatch):
    """Moves SpiffWorkflow's timer clock: `clock[0] = ...`."""
    now = [datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)]

    class FakeDateTime(datetime):
        @classmethod
        def now(cls, tz=None):
            return now[0] if tz is None else now[0].astimezone(tz)

    monkeypatch.setattr(spiff_timer, "datetime", FakeDateTime)
    return now


SIMPLE = f"""<bpmn:startEvent id="start"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter"/>
<bpmn:userTask id="enter" name="Enter order">{FORM.format("order")}</bpmn:userTask>
<bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="total"/>
<bpmn:scriptTask id="total"><bpmn:script>total = qty * 2</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end"/>
<bpmn:endEvent id="end"/>"""


# --- a clean diagram ---------------------------------------------------------------------------------------


def test_clean_diagram_loads_and_runs():
    definitions = load_definitions({"order.bpmn": diagram(SIMPLE)})
    assert definitions.problems == []
    assert definitions.process_ids == ["p"]
    spec, subprocesses = definitions.spec("p")
    workflow = BpmnWorkflow(spec, subprocesses)
    workflow.do_engine_steps()
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert form_key(task.task_spec) == "order"
    task.set_data(qty=4)
    task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed() and workflow.data["total"] == 8


# --- 1. XML safety -----------------------------------------------------------------------------------------


def test_not_xml_is_refused_with_its_line():
    assert problems({"x.bpmn": b"hello"}) == ["x.bpmn:1: -: not well-formed XML: Start tag expected, '<' not found"]


def test_truncated_xml_is_refused_with_its_line():
    whole = diagram(SIMPLE)
    content = whole[: whole.index(b"</bpmn:process>")]
    assert problems({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(whole, '</bpmn:process>')}: -: not well-formed XML: Premature end of data in tag "
        f"process line {line_of(whole, '<bpmn:process')}"
    ]


def test_mismatched_tags_point_at_the_closing_tag():
    content = diagram("<bpmn:startEvent id='s'>\n</bpmn:endEvent>")
    assert problems({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, '</bpmn:endEvent>')}: -: not well-formed XML: "
        f"Opening and ending tag mismatch: startEvent line {line_of(content, 'startEvent')} and endEvent"
    ]


def test_file_over_the_size_limit_is_refused_before_parsing():
    assert problems({"big.bpmn": b" " * (MAX_FILE_BYTES + 1)}) == [
        f"big.bpmn:0: -: file is larger than {MAX_FILE_BYTES} bytes"
    ]


def test_billion_laughs_is_refused_quickly():
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    content = (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
        "</bpmn:definitions>"
    ).encode()
    started = time.monotonic()
    assert problems({"lol.bpmn": content}) == ["lol.bpmn:2: DOCTYPE: DOCTYPE/entity declarations are not allowed"]
    assert time.monotonic() - started < 1


def test_a_doctype_without_entities_is_refused_too():
    with pytest.raises(InvalidDiagram) as refused:
        parse_xml(b"<!DOCTYPE definitions>\n<definitions/>", "d.bpmn")
    assert [str(p) for p in refused.value.problems] == [
        "d.bpmn:1: DOCTYPE: DOCTYPE/entity declarations are not allowed"
    ]


class _FifoWatcher:
    """A named pipe standing in for a secret file: records whether anybody opened it for reading."""

    def __init__(self, path: Path):
        self.path, self.opened, self._stop = path, 0, threading.Event()
        os.mkfifo(path)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            try:  # succeeds only while a reader has the pipe open
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.002)
                continue
            self.opened += 1
            try:
                os.write(fd, b"SECRET")
            except BrokenPipeError:  # the reader gave up first
                pass
            os.close(fd)
            time.sleep(0.05)  # let the reader see end of file before looking again

    def stop(self):
        self._stop.set()
        self._thread.join()


def _listen(port: int) -> socket.socket | None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", port))
    except OSError:  # port 9 needs privileges; the ephemeral port still proves the point
        server.close()
        return None
    server.listen()
    server.setblocking(False)
    return server


def test_external_entities_are_refused_and_nothing_is_read_or_fetched(tmp_path):
    secret = _FifoWatcher(tmp_path / "secret")
    servers = [s for s in (_listen(9), _listen(0)) if s is not None]
    ports = [s.getsockname()[1] for s in servers]
    seen_by_control = 0
    try:
        urls = [f"file://{secret.path}"] + [f"http://127.0.0.1:{port}/x" for port in ports]
        # Control: an lxml parser that does resolve entities reads the pipe, and the watcher sees it.
        unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
        control = etree.fromstring(f'<!DOCTYPE d [<!ENTITY x SYSTEM "{urls[0]}">]><d>&x;</d>'.encode(), unsafe)
        assert control.text.startswith("SECRET")
        seen_by_control, secret.opened = secret.opened, 0
        documents = []
        for url in urls:
            documents += [
                f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "{url}">]>\n<d>&x;</d>',
                f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % x SYSTEM "{url}"> %x;]>\n<d/>',
                f'<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "{url}">\n<d/>',
            ]
        for number, document in enumerate(documents):
            assert problems({f"e{number}.bpmn": document.encode()}) == [
                f"e{number}.bpmn:2: DOCTYPE: DOCTYPE/entity declarations are not allowed"
            ]
            # In UTF-16 the DOCTYPE is only seen after lxml has parsed the file: that must fetch nothing either.
            assert problems({f"u{number}.bpmn": document.encode("utf-16")}) == [
                f"u{number}.bpmn:1: DOCTYPE: DOCTYPE/entity declarations are not allowed"
            ]
    finally:
        secret.stop()
        contacted = []
        for server in servers:
            try:
                contacted.append(server.accept())
            except BlockingIOError:
                pass
            server.close()
    assert seen_by_control == 1
    assert secret.opened == 0
    assert contacted == []


# --- 2. schema ---------------------------------------------------------------------------------------------


def test_schema_errors_carry_line_and_element():
    content = diagram(SIMPLE.replace('<bpmn:userTask id="enter"', '<bpmn:userTask id="enter" startQuantity="two"'))
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'startQuantity')}: enter: schema: Element 'bpmn:userTask', attribute "
        "'startQuantity': 'two' is not a valid value of the atomic type 'xs:integer'"
    ]


def test_vendor_extensions_are_not_errors():
    body = SIMPLE.replace(
        '<bpmn:userTask id="enter" name="Enter order">',
        '<bpmn:userTask id="enter" name="Enter order" camunda:assignee="demo" signavio:color="#fff">'
        '<bpmn:extensionElements><zeebe:taskDefinition type="x"/><camunda:inputOutput/>'
        '<signavio:signavioMetaData metaKey="bgcolor" metaValue="#ffffcc"/></bpmn:extensionElements>',
    )
    content = diagram(
        body.replace(FORM.format("order"), "").replace(
            'name="Enter order"', 'name="Enter order" camunda:formKey="order"'
        )
    )
    assert problems({"x.bpmn": content}) == []


# --- 3. duplicate ids --------------------------------------------------------------------------------------


def test_duplicate_id_is_an_error_on_the_second_occurrence():
    content = diagram(SIMPLE.replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end"/>\n<bpmn:task id="total"/>'))
    first, second = line_of(content, 'id="total"'), line_of(content, '<bpmn:task id="total"')
    assert f"x.bpmn:{second}: total: duplicate id 'total' (first used on line {first})" in errors({"x.bpmn": content})


def test_ids_repeated_inside_vendor_extensions_are_not_duplicates():
    content = diagram(
        SIMPLE.replace(
            '<bpmn:endEvent id="end"/>',
            '<bpmn:endEvent id="end"><bpmn:extensionElements>'
            '<signavio:target id="p"/></bpmn:extensionElements></bpmn:endEvent>',
        )
    )
    assert problems({"x.bpmn": content}) == []


# --- 4. references -----------------------------------------------------------------------------------------


def test_flow_to_a_missing_element_says_so():
    content = diagram(SIMPLE.replace('targetRef="end"', 'targetRef="nowhere"').replace('<bpmn:endEvent id="end"/>', ""))
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'nowhere')}: f3: sequence flow f3: target nowhere does not exist"
    ]


@pytest.mark.parametrize(
    "extra, needle, expected",
    [
        (
            '<bpmn:boundaryEvent id="b" attachedToRef="ghost"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
            "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n"
            '<bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end"/>',
            'attachedToRef="ghost"',
            "b: boundary event b: attached-to activity ghost does not exist",
        ),
        (
            '<bpmn:intermediateCatchEvent id="w"><bpmn:messageEventDefinition messageRef="nomsg"/>'
            '</bpmn:intermediateCatchEvent>\n<bpmn:sequenceFlow id="fw" sourceRef="start" targetRef="w"/>',
            'messageRef="nomsg"',
            "w: intermediate catch event w: message nomsg does not exist",
        ),
    ],
)
def test_other_dangling_references(extra, needle, expected):
    content = diagram(SIMPLE + "\n" + extra)
    assert f"x.bpmn:{line_of(content, needle)}: {expected}" in errors({"x.bpmn": content})


def test_message_flow_from_a_missing_element():
    collaboration = (
        '<bpmn:collaboration id="c"><bpmn:participant id="pa" processRef="p"/>\n'
        '<bpmn:messageFlow id="mf" sourceRef="ghost" targetRef="pa"/></bpmn:collaboration>\n'
    )
    content = diagram(SIMPLE, before=collaboration)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{id_line(content, 'mf')}: mf: message flow mf: source ghost does not exist"
    ]


# --- 5. what the engine cannot run ---------------------------------------------------------------------------

ESCALATE = (
    '<bpmn:scriptTask id="alt"><bpmn:script>alt = 1</bpmn:script></bpmn:scriptTask>\n'
    '<bpmn:sequenceFlow id="fa" sourceRef="alt" targetRef="end2"/><bpmn:endEvent id="end2"/>'
)

UNSUPPORTED = {
    "data store": (
        SIMPLE + '\n<bpmn:dataStoreReference id="dsr" dataStoreRef="ds"/>',
        '<bpmn:dataStore id="ds" name="Ledger"/>\n',
        [('id="ds"', "ds: data stores are not supported"), ('id="dsr"', "dsr: data stores are not supported")],
    ),
    "compensation": (
        SIMPLE + '\n<bpmn:boundaryEvent id="cb" attachedToRef="total"><bpmn:compensateEventDefinition/>'
        '</bpmn:boundaryEvent>\n<bpmn:scriptTask id="undo" isForCompensation="true"><bpmn:script>x = 0'
        '</bpmn:script></bpmn:scriptTask>\n<bpmn:association id="as" sourceRef="cb" targetRef="undo"/>',
        "",
        [
            ("compensateEventDefinition", "cb: compensation boundary events are not supported"),
            ('id="undo"', "undo: compensation handlers (isForCompensation) are not supported"),
        ],
    ),
    "complex gateway": (
        SIMPLE.replace(
            'targetRef="end"/>',
            'targetRef="cg"/>\n<bpmn:complexGateway id="cg"/>\n'
            '<bpmn:sequenceFlow id="f4" sourceRef="cg" targetRef="end"/>',
        ),
        "",
        [('id="cg"', "cg: complex gateways are not supported")],
    ),
    "implicit parallel split": (
        SIMPLE + '\n<bpmn:sequenceFlow id="f9" sourceRef="total" targetRef="alt"/>\n' + ESCALATE,
        "",
        [
            (
                '<bpmn:scriptTask id="total"',
                "total: 2 outgoing sequence flows without a gateway (implicit parallel "
                "split) are not supported; add a parallel gateway",
            )
        ],
    ),
    "condition on a flow leaving a task": (
        SIMPLE.replace(
            '<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end"/>',
            '<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end">\n'
            "<bpmn:conditionExpression>total > 2</bpmn:conditionExpression></bpmn:sequenceFlow>",
        ),
        "",
        [
            (
                'id="f3"',
                "f3: conditions on sequence flows leaving a script task are not supported; put an "
                "exclusive gateway before the branches",
            )
        ],
    ),
    "sub-process without start event": (
        SIMPLE.replace(
            '<bpmn:endEvent id="end"/>',
            '<bpmn:subProcess id="sp"><bpmn:task id="inner"/><bpmn:endEvent id="spe"/>'
            '<bpmn:sequenceFlow id="sf" sourceRef="inner" targetRef="spe"/></bpmn:subProcess>\n'
            '<bpmn:sequenceFlow id="f4" sourceRef="sp" targetRef="end"/><bpmn:endEvent id="end"/>',
        ).replace('targetRef="end"/>\n<bpmn:subProcess', 'targetRef="sp"/>\n<bpmn:subProcess'),
        "",
        [
            ('id="sp"', "sp: sub-process without a start event is not supported"),
            (
                'id="inner"',
                "inner: task without incoming sequence flow (implicit start) is not supported; only "
                "start events begin a process",
            ),
        ],
    ),
    "conditional event": (
        SIMPLE.replace(
            'targetRef="end"/>',
            'targetRef="ce"/>\n<bpmn:intermediateCatchEvent id="ce">'
            "<bpmn:conditionalEventDefinition><bpmn:condition>total > 5</bpmn:condition>"
            "</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>\n"
            '<bpmn:sequenceFlow id="f4" sourceRef="ce" targetRef="end"/>',
        ),
        "",
        [("conditionalEventDefinition", "ce: conditional intermediate catch events are not supported")],
    ),
    "link events": (
        SIMPLE.replace(
            'targetRef="end"/>',
            'targetRef="lt"/>\n<bpmn:intermediateThrowEvent id="lt">'
            '<bpmn:linkEventDefinition name="A"/></bpmn:intermediateThrowEvent>\n'
            '<bpmn:intermediateCatchEvent id="lc"><bpmn:linkEventDefinition name="A"/>'
            '</bpmn:intermediateCatchEvent>\n<bpmn:sequenceFlow id="f4" sourceRef="lc" targetRef="end"/>',
        ),
        "",
        [
            ('id="lt"', "lt: link intermediate throw events are not supported"),
            ('id="lc"', "lc: link intermediate catch events are not supported"),
        ],
    ),
    "signal end event": (
        SIMPLE.replace(
            '<bpmn:endEvent id="end"/>',
            '<bpmn:endEvent id="end"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:endEvent>',
        ),
        '<bpmn:signal id="sig" name="done"/>\n',
        [("signalEventDefinition", "end: signal end events are not supported")],
    ),
    "error start event": (
        SIMPLE + '\n<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">'
        '<bpmn:errorEventDefinition errorRef="err"/></bpmn:startEvent>\n<bpmn:endEvent id="ee"/>'
        '<bpmn:sequenceFlow id="ef" sourceRef="es" targetRef="ee"/></bpmn:subProcess>',
        '<bpmn:error id="err" name="bad" errorCode="BAD"/>\n',
        [('errorRef="err"', "es: error start events are not supported")],
    ),
    "implicit start": (
        SIMPLE + "\n" + ESCALATE,
        "",
        [
            (
                '<bpmn:scriptTask id="alt"',
                "alt: script task without incoming sequence flow (implicit start) is not "
                "supported; only start events begin a process",
            )
        ],
    ),
}


@pytest.mark.parametrize("case", UNSUPPORTED)
def test_unsupported_elements_are_errors(case):
    body, before, expected = UNSUPPORTED[case]
    content = diagram(body, before=before)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, needle)}: {message}" for needle, message in expected
    ]


def _run_with_plain_spiffworkflow(case: str) -> BpmnWorkflow:
    body, before, _ = UNSUPPORTED[case]
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(diagram(body, before=before), "x.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("p"))
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.set_data(qty=0)
    task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed()  # each one "completes" without complaint, having done the wrong thing
    return workflow


def test_why_link_events_are_refused_the_path_just_ends():
    assert "end" not in tasks(_run_with_plain_spiffworkflow("link events"))


def test_why_signal_end_events_are_refused_no_signal_is_thrown():
    assert _run_with_plain_spiffworkflow("signal end event").get_events() == []


def test_why_conditions_leaving_tasks_are_refused_they_are_ignored():
    workflow = _run_with_plain_spiffworkflow("condition on a flow leaving a task")
    assert workflow.data["total"] == 0 and tasks(workflow)["end"] == "COMPLETED"  # although "total > 2"


def test_escalation_events_are_supported_and_run():
    body = (
        """<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sp"/>
<bpmn:subProcess id="sp"><bpmn:startEvent id="ss"/><bpmn:sequenceFlow id="g1" sourceRef="ss" targetRef="ee"/>
<bpmn:endEvent id="ee"><bpmn:escalationEventDefinition escalationRef="late"/></bpmn:endEvent></bpmn:subProcess>
<bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="end"/><bpmn:endEvent id="end"/>
<bpmn:boundaryEvent id="b" attachedToRef="sp"><bpmn:escalationEventDefinition escalationRef="late"/></bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="alt"/>"""
        + ESCALATE
    )
    definitions = load_definitions(
        {"x.bpmn": diagram(body, before='<bpmn:escalation id="late" escalationCode="L"/>\n')}
    )
    assert definitions.problems == []
    workflow = BpmnWorkflow(*definitions.spec("p"))
    workflow.do_engine_steps()
    assert workflow.is_completed() and workflow.data == {"alt": 1}


def test_data_object_out_of_reach_is_refused_before_spiffworkflow_loops_on_it():
    body = SIMPLE.replace(
        '<bpmn:endEvent id="end"/>',
        """<bpmn:endEvent id="end"/>
<bpmn:dataObject id="far" name="far"/>
<bpmn:subProcess id="sp1"><bpmn:startEvent id="s1"/><bpmn:sequenceFlow id="g1" sourceRef="s1" targetRef="sp2"/>
<bpmn:subProcess id="sp2"><bpmn:startEvent id="s2"/><bpmn:sequenceFlow id="g2" sourceRef="s2" targetRef="t2"/>
<bpmn:task id="t2"><bpmn:dataOutputAssociation id="out"><bpmn:targetRef>farRef</bpmn:targetRef>
</bpmn:dataOutputAssociation></bpmn:task><bpmn:sequenceFlow id="g3" sourceRef="t2" targetRef="e2"/>
<bpmn:endEvent id="e2"/><bpmn:dataObjectReference id="farRef" dataObjectRef="far"/></bpmn:subProcess>
<bpmn:sequenceFlow id="g4" sourceRef="sp2" targetRef="e1"/><bpmn:endEvent id="e1"/></bpmn:subProcess>
<bpmn:sequenceFlow id="f4" sourceRef="start" targetRef="sp1"/>""",
    ).replace('<bpmn:startEvent id="start"/>', '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="pg"/>')
    content = diagram(body)
    found = errors({"x.bpmn": content})
    assert (
        f"x.bpmn:{line_of(content, '<bpmn:targetRef>farRef')}: out: data object reference farRef: its data "
        "object is not defined in this (sub-)process or the one directly around it" in found
    )


# --- 6. scripts, conditions, timers ---------------------------------------------------------------------------


def test_refused_script_is_an_error_at_the_script_line():
    content = diagram(SIMPLE.replace("total = qty * 2", "import os\ntotal = 1"))
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'import os')}: total: script 'import os total = 1' refused: "
        f"{check_script('import os' + chr(10) + 'total = 1')}"
    ]


def test_refused_pre_script_is_an_error():
    content = diagram(
        SIMPLE.replace(
            FORM.format("order"),
            FORM.format("order").replace(
                "</bpmn:extensionElements>",
                "<spiffworkflow:preScript>x = ().__class__</spiffworkflow:preScript></bpmn:extensionElements>",
            ),
        )
    )
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'preScript')}: enter: preScript 'x = ().__class__' refused: "
        f"{check_script('x = ().__class__')}"
    ]


def test_refused_condition_is_an_error_at_the_flow():
    body = SIMPLE.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end"/>',
        """
<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="gw"/>
<bpmn:exclusiveGateway id="gw" default="f5"/>
<bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end">
  <bpmn:conditionExpression>__import__('os').system('true')</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="end"/>""",
    )
    content = diagram(body)
    reason = check_expression("__import__('os').system('true')")
    assert reason
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, '<bpmn:conditionExpression>')}: f4: condition "
        f"\"__import__('os').system('true')\" refused: {reason}"
    ]


def timer_diagram(kind: str, text: str) -> bytes:
    return diagram(
        SIMPLE
        + f"""
<bpmn:boundaryEvent id="late" attachedToRef="enter"><bpmn:timerEventDefinition>
  <bpmn:{kind}>{text}</bpmn:{kind}>
</bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f9" sourceRef="late" targetRef="alt"/>"""
        + ESCALATE
    )


@pytest.mark.parametrize(
    "kind, text",
    [
        ("timeDuration", "PT48H"),
        ("timeDuration", "P1D"),
        ("timeDuration", "P1Y2M3DT4H5M6.5S"),
        ("timeCycle", "R6/P1D"),
        ("timeCycle", "R/PT1H"),
        ("timeCycle", "R3/2030-01-01T00:00:00Z/P1D"),
        ("timeDate", "2030-01-02T00:00:00Z"),
        ("timeDate", "2030-01-02T00:00:00+02:00"),
        ("timeDuration", "'PT2H'"),
        ("timeDuration", "reminder_after if reminder_after else 'PT1H'"),
    ],
)
def test_valid_timer_texts_are_accepted(kind, text):
    assert problems({"x.bpmn": timer_diagram(kind, text)}) == []


@pytest.mark.parametrize(
    "kind, text, message",
    [
        (
            "timeDuration",
            "PT48X",
            "timer text is not valid ISO 8601: 'PT48X' (timeDuration needs a duration such as PT48H)",
        ),
        (
            "timeDuration",
            "banana",
            "timer text is not valid ISO 8601: 'banana' (timeDuration needs a duration such as PT48H)",
        ),
        (
            "timeDuration",
            "R6/P1D",
            "timer text is not valid ISO 8601: 'R6/P1D' (timeDuration needs a duration such as PT48H)",
        ),
        ("timeCycle", "R/PT1Z", "timer text is not valid ISO 8601: 'R/PT1Z' (timeCycle needs a cycle such as R3/PT1H)"),
        (
            "timeDate",
            "2030-13-01T00:00:00Z",
            "timer text is not valid ISO 8601: '2030-13-01T00:00:00Z' (timeDate needs a "
            "date-time with a zone such as 2030-01-31T09:00:00Z)",
        ),
        (
            "timeDate",
            "2030-01-02T00:00:00",
            "timer date '2030-01-02T00:00:00' has no time zone; add Z or an offset such as +01:00",
        ),
        (
            "timeDuration",
            "'PT48X'",
            "timer text is not valid ISO 8601: 'PT48X' (timeDuration needs a duration such as PT48H)",
        ),
        ("timeDuration", "", "timer timeDuration is empty"),
    ],
)
def test_invalid_timer_texts_are_errors_at_the_timer_line(kind, text, message):
    content = timer_diagram(kind, text)
    assert errors({"x.bpmn": content}) == [f"x.bpmn:{line_of(content, f'<bpmn:{kind}>')}: late: {message}"]


def test_refused_timer_expression_is_an_error():
    text = "__import__('os').getcwd()"
    content = timer_diagram("timeDuration", text)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, '<bpmn:timeDuration>')}: late: timer expression refused: {check_expression(text)}"
    ]


def test_literal_iso_timer_runs(clock):
    definitions = load_definitions({"x.bpmn": timer_diagram("timeDuration", "PT1H")})
    assert definitions.problems == []
    spec, subprocesses = definitions.spec("p")
    assert spec.task_specs["late"].event_definition.expression == "'PT1H'"
    workflow = BpmnWorkflow(spec, subprocesses)
    workflow.do_engine_steps()
    assert tasks(workflow)["late"] == "WAITING"
    clock[0] += timedelta(minutes=59)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert tasks(workflow)["enter"] == "READY"
    clock[0] += timedelta(minutes=2)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert tasks(workflow)["enter"] == "CANCELLED"
    assert workflow.is_completed() and workflow.data == {"alt": 1}


# --- 7. lanes ------------------------------------------------------------------------------------------------


def test_lanes_must_name_known_roles():
    lanes = """<bpmn:laneSet id="ls">
<bpmn:lane id="l1" name="clerk"><bpmn:flowNodeRef>enter</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="l2" name="boss"><bpmn:flowNodeRef>total</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="l3"><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
</bpmn:laneSet>
"""
    content = diagram(lanes + SIMPLE)
    assert errors({"x.bpmn": content}, known_roles={"clerk"}) == [
        f"x.bpmn:{id_line(content, 'l2')}: l2: lane 'boss' names no known role",
        f"x.bpmn:{id_line(content, 'l3')}: l3: lane has no name; lanes name the role that does their tasks",
    ]
    assert errors({"x.bpmn": content}, known_roles={"clerk", "boss"}) == [
        f"x.bpmn:{id_line(content, 'l3')}: l3: lane has no name; lanes name the role that does their tasks"
    ]


# --- 8. call activities --------------------------------------------------------------------------------------

CALLER = SIMPLE.replace(
    '<bpmn:scriptTask id="total"><bpmn:script>total = qty * 2</bpmn:script></bpmn:scriptTask>',
    '<bpmn:callActivity id="total" calledElement="pricing"/>',
)
CALLED = diagram(
    """<bpmn:startEvent id="ps"/><bpmn:sequenceFlow id="p1" sourceRef="ps" targetRef="calc"/>
<bpmn:scriptTask id="calc"><bpmn:script>total = qty * 3</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="p2" sourceRef="calc" targetRef="pe"/><bpmn:endEvent id="pe"/>""",
    process_id="pricing",
)


def test_call_activity_to_an_unknown_process_is_an_error():
    content = diagram(CALLER)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'callActivity')}: total: calledElement 'pricing' names no process in the given files"
    ]


def test_call_activity_resolves_with_the_other_file_and_runs():
    definitions = load_definitions({"x.bpmn": diagram(CALLER), "pricing.bpmn": CALLED})
    assert definitions.problems == []
    assert definitions.process_ids == ["p", "pricing"]
    workflow = BpmnWorkflow(*definitions.spec("p"))
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.set_data(qty=2)
    task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed() and workflow.data["total"] == 6


def test_call_to_a_non_executable_process_is_an_error():
    content = diagram(CALLER)
    called = CALLED.replace(b'isExecutable="true"', b'isExecutable="false"')
    assert errors({"x.bpmn": content, "pricing.bpmn": called}) == [
        f"x.bpmn:{line_of(content, 'callActivity')}: total: called process 'pricing' is not executable "
        '(isExecutable is not "true")'
    ]


# --- 9. SpiffWorkflow's own errors -----------------------------------------------------------------------------


def test_library_validation_error_gets_the_element_line():
    content = diagram(
        SIMPLE.replace(
            '<bpmn:scriptTask id="total"><bpmn:script>total = qty * 2</bpmn:script></bpmn:scriptTask>',
            '<bpmn:serviceTask id="total"/>',
        )
    )
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'serviceTask')}: total: A Service Task must have an operator"
    ]


def test_library_error_on_a_gateway_flow():
    body = SIMPLE.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end"/>',
        """
<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="gw"/>
<bpmn:exclusiveGateway id="gw"/>
<bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="end"><bpmn:conditionExpression>total > 1</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="end"/>""",
    )
    content = diagram(body)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{id_line(content, 'f5')}: f5: Non-default exclusive outgoing sequence flow without condition"
    ]


def test_duplicate_process_across_files_is_the_library_error_with_its_line():
    content = diagram(SIMPLE)
    assert errors({"a.bpmn": content, "b.bpmn": content}) == [
        f"b.bpmn:{line_of(content, '<bpmn:process')}: p: Duplicate process ID: p"
    ]


def test_a_crash_inside_spiffworkflow_becomes_a_problem_on_the_element():
    content = diagram(SIMPLE.replace('value="order"/>', "/>"))  # its property parser indexes attrib['value']
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'userTask')}: enter: SpiffWorkflow could not parse this element (KeyError: value)"
    ]


def test_any_other_library_exception_becomes_a_problem(monkeypatch):
    def broken(self, process_id, required=True):
        raise KeyError("boom")

    monkeypatch.setattr(DoeflowParser, "get_spec", broken)
    content = diagram(SIMPLE)
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, '<bpmn:process')}: p: SpiffWorkflow could not parse this element (KeyError: 'boom')"
    ]


def test_wrong_root_element_is_an_error():
    assert errors({"x.bpmn": b"<html>\n<body/></html>"}) == [
        "x.bpmn:1: html: not a BPMN or DMN file: the root element is html"
    ]


# --- 10. form keys ---------------------------------------------------------------------------------------------


def test_user_task_without_form_key_is_a_warning():
    content = diagram(SIMPLE.replace(FORM.format("order"), ""))
    definitions = load_definitions({"x.bpmn": content})
    assert definitions.errors() == []
    assert [(str(p), p.severity) for p in definitions.problems] == [
        (
            f"x.bpmn:{line_of(content, 'userTask')}: enter: user task has no form key (spiffworkflow:property formKey "
            "or camunda:formKey)",
            "warning",
        )
    ]


def test_camunda_form_keys_are_read_like_spiffworkflow_ones():
    body = (
        SIMPLE.replace(FORM.format("order"), "")
        .replace('name="Enter order"', 'name="Enter order" camunda:formKey="camunda-order"')
        .replace('<bpmn:startEvent id="start"/>', '<bpmn:startEvent id="start" camunda:formKey="start-form"/>')
    )
    definitions = load_definitions({"x.bpmn": diagram(body)})
    assert definitions.problems == []
    spec, _ = definitions.spec("p")
    assert form_key(spec.task_specs["enter"]) == "camunda-order"
    assert form_key(spec.task_specs["start"]) == "start-form"
    assert form_key(spec.task_specs["total"]) is None


def test_non_executable_process_is_accepted_with_a_warning_but_not_startable():
    content = diagram(SIMPLE, executable="false")
    definitions = load_definitions({"x.bpmn": content})
    assert [str(p) for p in definitions.problems] == [
        f'x.bpmn:{line_of(content, "<bpmn:process")}: p: process is not executable (isExecutable is not "true"): '
        "it is checked but cannot be started"
    ]
    assert definitions.errors() == [] and definitions.process_ids == []
    with pytest.raises(NotFound):
        definitions.spec("p")


def test_non_executable_process_is_still_checked_by_spiffworkflow():
    content = diagram(
        SIMPLE.replace(
            '<bpmn:scriptTask id="total"><bpmn:script>total = qty * 2</bpmn:script></bpmn:scriptTask>',
            '<bpmn:serviceTask id="total"/>',
        ),
        executable="false",
    )
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'serviceTask')}: total: A Service Task must have an operator"
    ]


# --- DMN -------------------------------------------------------------------------------------------------------


def dmn(decisions: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
        f' id="dd" name="d" namespace="http://example.com">\n{decisions}</definitions>\n'
    ).encode()


DECISION = """<decision id="{id}" name="Discount">
  <decisionTable id="{id}_t">
    <input id="{id}_i" label="Total"><inputExpression id="{id}_e" typeRef="number"><text>total</text></inputExpression></input>
    <output id="{id}_o" name="discount" typeRef="number"/>
    <rule id="{id}_r1"><inputEntry id="{id}_r1i"><text>&gt; 5</text></inputEntry><outputEntry id="{id}_r1o"><text>10</text></outputEntry></rule>
    <rule id="{id}_r2"><inputEntry id="{id}_r2i"><text>-</text></inputEntry><outputEntry id="{id}_r2o"><text>0</text></outputEntry></rule>
  </decisionTable>
</decision>
"""
RULE_TASK = SIMPLE.replace(
    '<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="end"/>',
    """
<bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="rule"/>
<bpmn:businessRuleTask id="rule">{ref}</bpmn:businessRuleTask>
<bpmn:sequenceFlow id="f4" sourceRef="rule" targetRef="end"/>""",
)
SPIFF_REF = (
    "<bpmn:extensionElements><spiffworkflow:calledDecisionId>discount</spiffworkflow:calledDecisionId>"
    "</bpmn:extensionElements>"
)


def test_business_rule_task_needs_its_decision():
    content = diagram(RULE_TASK.format(ref=SPIFF_REF))
    assert errors({"x.bpmn": content}) == [
        f"x.bpmn:{line_of(content, 'businessRuleTask')}: rule: decision 'discount' is not defined in any DMN file"
    ]


@pytest.mark.parametrize("ref", [SPIFF_REF, ""])
def test_business_rule_task_with_its_dmn_runs(ref):
    body = RULE_TASK.format(ref=ref)
    if not ref:  # Camunda Modeler names the decision in an attribute
        body = body.replace(
            '<bpmn:businessRuleTask id="rule">', '<bpmn:businessRuleTask id="rule" camunda:decisionRef="discount">'
        )
    definitions = load_definitions({"x.bpmn": diagram(body), "discount.dmn": dmn(DECISION.format(id="discount"))})
    assert definitions.problems == []
    workflow = BpmnWorkflow(*definitions.spec("p"))
    workflow.do_engine_steps()
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.set_data(qty=3)
    task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed() and workflow.data["discount"] == 10


def test_dmn_with_two_decisions_is_an_error_and_so_is_using_it():
    content = dmn(DECISION.format(id="discount") + DECISION.format(id="other"))
    task = diagram(RULE_TASK.format(ref=SPIFF_REF))
    assert errors({"x.bpmn": task, "d.dmn": content}) == [
        f"x.bpmn:{line_of(task, 'businessRuleTask')}: rule: decision 'discount' comes from d.dmn, which has errors",
        f"d.dmn:{id_line(content, 'other')}: other: only one decision per DMN file is supported",
    ]


# --- validate_paths and the MIWG reference models ---------------------------------------------------------------


def test_validate_paths_reads_files_and_reports_unreadable_ones(tmp_path):
    good = tmp_path / "good.bpmn"
    good.write_bytes(diagram(SIMPLE))
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(diagram(SIMPLE.replace('targetRef="end"', 'targetRef="nowhere"')))
    missing = tmp_path / "missing.bpmn"
    found = [str(p) for p in validate_paths([str(good), str(bad), str(missing)])]
    assert found[0] == f"{missing}:0: -: cannot read file: No such file or directory"
    assert f"{bad}:{line_of(bad.read_bytes(), 'nowhere')}: f3: sequence flow f3: target nowhere does not exist" in found
    assert not any(line.startswith(str(good)) for line in found)


MIWG_ACCEPTED = {"A.1.0.bpmn", "C.9.1.bpmn"}


def test_miwg_reference_models_are_accepted_or_refused_cleanly():
    table = {}
    for path in sorted(MIWG.glob("*.bpmn")):
        found = validate_paths([str(path)])
        for problem in found:
            assert problem.file == str(path) and problem.line and problem.line > 0 and problem.element
            assert problem.message and "Traceback" not in problem.message and "\n" not in problem.message
        refused = [p for p in found if p.severity == "error"]
        table[path.name] = f"refused: {refused[0].message}" if refused else "accepted"
    assert len(table) == 21
    report = "\n".join(f"{name}: {outcome}" for name, outcome in table.items())
    accepted = {name for name, outcome in table.items() if outcome == "accepted"}
    print(f"\nMIWG: {len(accepted)} accepted, {len(table) - len(accepted)} refused\n{report}")
    assert accepted == MIWG_ACCEPTED, report


def test_miwg_call_across_files_resolves_when_both_are_given():
    files = {name: (MIWG / name).read_bytes() for name in ("C.9.1.bpmn", "C.9.2.bpmn")}
    found = errors(files)
    assert not any("requestDocument_en" in line for line in found)
    assert found  # C.9.2 still has FEEL conditions


def test_miwg_c91_runs_its_reminder_cycle_and_escalation(clock):
    definitions = load_definitions({"C.9.1.bpmn": (MIWG / "C.9.1.bpmn").read_bytes()})
    assert definitions.errors() == []
    workflow = BpmnWorkflow(*definitions.spec("requestDocument_en"))
    workflow.do_engine_steps()
    start = clock[0]
    for day in (1, 2):
        clock[0] = start + timedelta(days=day, minutes=1)
        workflow.refresh_timers()
        workflow.do_engine_steps()
    reminders = [
        t for t in workflow.get_tasks(spec_name="SendTask_SendReminderEmail") if t.state == TaskState.COMPLETED
    ]
    assert len(reminders) == 2
    assert tasks(workflow)["ReceiveTask_WaitForDocument"] == "WAITING"
    clock[0] = start + timedelta(days=7, minutes=1)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert tasks(workflow)["ReceiveTask_WaitForDocument"] == "CANCELLED"
    assert tasks(workflow)["UserTask_CallCustomer"] == "READY"


def test_parser_class_is_exported():
    assert PARSER_CLASS is DoeflowParser and issubclass(DoeflowParser, SpiffBpmnParser)
