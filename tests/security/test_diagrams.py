"""Issue 15, items 6, 13 and 16: diagrams refused when they are checked rather than failing when they
run, and `bpmn validate` of one shipped diagram taking the tables beside it. The cases are the tables
below, their diagrams under data/diagrams/, each on SQLite and PostgreSQL where a database is involved
(docs/reliability.md 8.6).

Before: a start event `Start` published and every start was refused (403 "you may not start"); a user
task `End` published and was skipped; a BPMN file with no process validated as "1 file(s) valid";
`bpmn validate workflows/bpmn/mefm_request.bpmn` failed, its DMN table "not defined".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from sqlalchemy import select

from engine.bpmn import names
from engine.bpmn.loading import load_definitions, validate_paths
from engine.bpmn.parser import DoeflowParser
from engine.errors import InvalidDiagram
from engine.modeling import publishing
from engine.store.models import HumanTask, Message, ProcessVersion
from engine.work import instances

DIAGRAMS = Path(__file__).resolve().parent / "data" / "diagrams"
SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "bpmn"
PD_HTI = "project-developer@hti.demo"
RESERVED_SAYS = "is a name SpiffWorkflow gives its own tasks"


def _versions(world) -> list[tuple[str, int]]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return [tuple(r) for r in tx.session.execute(select(ProcessVersion.process_id, ProcessVersion.version))]


# --- item 6: ids SpiffWorkflow keeps for its own tasks ----------------------------------------------


@dataclass(frozen=True)
class Reserved:
    file: str  # under data/diagrams/reserved/
    element: str  # the element whose id SpiffWorkflow keeps
    process: str
    first_task: str  # the user task open after the start, once the element is renamed
    id: str


RESERVED = [
    Reserved("start_event_start.bpmn", "Start", "reserved_start", "check", "a start event Start (nobody could start)"),
    Reserved("user_task_end.bpmn", "End", "reserved_end", "End_renamed", "a user task End (it was skipped)"),
    Reserved("script_task_root.bpmn", "Root", "reserved_root", "check", "a script task Root (lost when restored)"),
    Reserved(
        "end_join.bpmn", "reserved_join.EndJoin", "reserved_join", "reserved_join.EndJoin_renamed", "<process>.EndJoin"
    ),
    Reserved("boundary_join.bpmn", "ask.BoundaryEventJoin", "reserved_boundary", "ask", "<activity>.BoundaryEventJoin"),
    Reserved("sub_process_end.bpmn", "End", "reserved_sub", "check", "an end event End inside a sub-process"),
    Reserved("start_event_split.bpmn", "StartEventSplit", "reserved_split", "check", "a second start event"),
]


def _reserved(case: Reserved) -> dict[str, bytes]:
    return {case.file: (DIAGRAMS / "reserved" / case.file).read_bytes()}


def _renamed(case: Reserved) -> dict[str, bytes]:
    """The same diagram with the element's id (and every reference to it) given a suffix."""
    text = (DIAGRAMS / "reserved" / case.file).read_text(encoding="utf-8")
    text = re.sub(rf'(?<=[">]){re.escape(case.element)}(?=["<])', f"{case.element}_renamed", text)
    return {case.file: text.encode("utf-8")}


@pytest.mark.parametrize("case", RESERVED, ids=[c.id for c in RESERVED])
def test_an_element_with_an_id_spiffworkflow_keeps_is_refused_at_validation_and_publish(world, case):
    problems = validate_paths([str(DIAGRAMS / "reserved" / case.file)])
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.element, RESERVED_SAYS in p.message) for p in errors] == [(case.element, True)], errors

    with pytest.raises(InvalidDiagram) as refused:
        publishing.publish(world.uow(), _reserved(case))
    assert [p.element for p in refused.value.problems if p.severity == "error"] == [case.element]
    assert _versions(world) == []


@pytest.mark.parametrize("case", RESERVED, ids=[c.id for c in RESERVED])
def test_the_same_diagram_with_the_element_renamed_publishes_and_runs(world, case):
    published = publishing.publish(world.uow(), _renamed(case))
    assert [(p.process_id, p.version) for p in published] == [(case.process, 1)]

    started = instances.start_instance(world.uow(), world.user(PD_HTI), case.process, "HTI")

    assert started.status == "running"
    assert [t.element_id for t in started.tasks] == [case.first_task]


def _task_spec_names(files: dict[str, bytes]) -> dict[str, set[str]]:
    """Every task spec name SpiffWorkflow makes for the processes of `files`, by process or sub-process."""
    parser = DoeflowParser()
    for name, content in files.items():
        parser.add_bpmn_xml(etree.fromstring(content).getroottree(), name)
    found = {}
    for process_id in parser.get_process_ids():
        for spec in [parser.get_spec(process_id), *parser.get_subprocess_specs(process_id).values()]:
            found[spec.name] = set(spec.task_specs)
    return found


def test_every_name_spiffworkflow_gives_its_own_tasks_is_refused_as_an_element_id():
    """Read from the library, so that an upgrade that adds a name fails here: every task spec of the
    test diagrams (renamed, so valid) that is not an element of the diagram is a reserved id."""
    own = set(BpmnProcessSpec(name="p").task_specs)
    assert own == {"Start", "End", "p.EndJoin"}
    for case in RESERVED:
        content = _renamed(case)[case.file]
        element_ids = set(etree.fromstring(content).xpath("//@id"))
        for scope, spec_names in _task_spec_names(_renamed(case)).items():
            added = {n for n in spec_names - element_ids if not n.endswith(" [child]")}
            assert added, (case.file, scope)
            for name in added | own:
                assert name in names.RESERVED_IDS or name.endswith(names.RESERVED_SUFFIXES), (case.file, name)


# --- ids and names longer than the engine stores ----------------------------------------------------


def test_ids_and_names_longer_than_their_columns_are_refused_at_validation():
    problems = [p for p in validate_paths([str(DIAGRAMS / "overlong.bpmn")]) if p.severity == "error"]

    assert [(p.line, p.message.split(" is ")[0]) for p in problems] == [
        (4, "message name"),
        (16, "user task id"),
        (17, "user task name"),
    ]
    assert all("the engine stores at most" in p.message for p in problems)


def test_the_lengths_the_validation_allows_are_those_of_the_columns():
    columns = {
        names.MAX_ID: [ProcessVersion.process_id, HumanTask.element_id],
        names.MAX_NAME: [ProcessVersion.name, HumanTask.title],
        names.MAX_MESSAGE_NAME: [Message.name],
    }
    for limit, stored_in in columns.items():
        assert {c.property.columns[0].type.length for c in stored_in} == {limit}


# --- item 13: a BPMN file that defines no process ----------------------------------------------------

NO_PROCESS = ["empty.bpmn", "messages_only.bpmn", "collaboration_only.bpmn"]


@pytest.mark.parametrize("file", NO_PROCESS)
def test_a_bpmn_file_that_defines_no_process_is_refused_by_validate_and_publish(world, cli, file):
    path = DIAGRAMS / "no_process" / file

    result = cli("bpmn", "validate", str(path))

    assert result.exit_code == 1
    assert f"{path}:" in result.stderr and "BPMN file defines no process" in result.stderr
    assert "valid" not in result.stdout
    with pytest.raises(InvalidDiagram) as refused:
        publishing.publish(world.uow(), {file: path.read_bytes()})
    assert [p.message.split(":")[0] for p in refused.value.problems] == ["BPMN file defines no process"]
    assert _versions(world) == []


def test_a_file_with_no_process_is_refused_beside_a_valid_one():
    files = {"empty.bpmn": (DIAGRAMS / "no_process" / "empty.bpmn").read_bytes()}
    files["eppe.bpmn"] = (SHIPPED / "mefm_request.bpmn").read_bytes()
    files["mefm_approval_authority.dmn"] = (SHIPPED / "mefm_approval_authority.dmn").read_bytes()

    errors = load_definitions(files).errors()

    assert [(p.file, p.message.split(":")[0]) for p in errors] == [("empty.bpmn", "BPMN file defines no process")]


# --- item 16: the tables (and called diagrams) beside a diagram --------------------------------------


@dataclass(frozen=True)
class Beside:
    given: tuple[str, ...]  # under workflows/bpmn/
    validate_takes: tuple[str, ...]  # what `bpmn validate` takes from beside them
    publish_takes: tuple[str, ...]  # what `bpmn publish` does (called processes: the published version)
    id: str


BESIDE = [
    Beside(("mefm_request.bpmn",), ("mefm_approval_authority.dmn",), ("mefm_approval_authority.dmn",), "its table"),
    Beside(
        ("eppe.bpmn",),
        ("endorsement.bpmn", "endorsement_routing.dmn"),
        (),
        "the process it calls, and that one's table",
    ),
    Beside(
        ("cerf_application.bpmn", "endorsement.bpmn"),
        ("cerf_precheck.dmn", "endorsement_routing.dmn"),
        ("cerf_precheck.dmn", "endorsement_routing.dmn"),
        "the tables of two diagrams",
    ),
    Beside(("surge_request.bpmn", "surge_source.dmn"), (), (), "given already"),
]


@pytest.mark.parametrize("case", BESIDE, ids=[c.id for c in BESIDE])
def test_bpmn_validate_of_a_shipped_diagram_takes_what_it_uses_from_beside_it(cli, case):
    result = cli("bpmn", "validate", *(str(SHIPPED / name) for name in case.given))

    assert result.exit_code == 0, result.output
    taken = re.findall(r"^(\S+): used by the diagrams given, taken from beside them$", result.stdout, re.M)
    assert taken == [str(SHIPPED / name) for name in case.validate_takes]
    assert result.stdout.endswith(f"{len(case.given) + len(case.validate_takes)} file(s) valid\n")


@pytest.mark.parametrize("case", BESIDE, ids=[c.id for c in BESIDE])
def test_bpmn_publish_of_a_shipped_diagram_freezes_the_tables_beside_it(world, cli, case):
    publishing.publish(
        world.uow(),
        {"endorsement.bpmn": (SHIPPED / "endorsement.bpmn").read_bytes()}
        | {"endorsement_routing.dmn": (SHIPPED / "endorsement_routing.dmn").read_bytes()},
    )

    result = cli("bpmn", "publish", *(str(SHIPPED / name) for name in case.given))

    assert result.exit_code == 0, result.output
    taken = re.findall(r"^(\S+): used by the diagrams given, taken from beside them$", result.stdout, re.M)
    assert taken == [str(SHIPPED / name) for name in case.publish_takes]
    with world.db.unit_of_work(world.clock, write=False) as tx:
        latest = tx.session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc())).first()
        assert {n for n in latest.files if n.endswith(".dmn")} <= set(case.given) | set(case.publish_takes) | {
            "endorsement_routing.dmn"
        }


def test_a_diagram_alone_in_its_folder_still_names_the_table_it_misses(cli, tmp_path):
    lonely = tmp_path / "mefm_request.bpmn"
    lonely.write_bytes((SHIPPED / "mefm_request.bpmn").read_bytes())

    result = cli("bpmn", "validate", str(lonely))

    assert result.exit_code == 1
    assert "decision 'mefm_approval_authority' is not defined in any DMN file" in result.stderr
    assert "taken from beside" not in result.stdout


def test_where_two_tables_beside_define_the_decision_only_the_first_is_taken(cli, tmp_path):
    (tmp_path / "mefm_request.bpmn").write_bytes((SHIPPED / "mefm_request.bpmn").read_bytes())
    for name in ("a_copy.dmn", "b_copy.dmn"):
        (tmp_path / name).write_bytes((SHIPPED / "mefm_approval_authority.dmn").read_bytes())

    result = cli("bpmn", "validate", str(tmp_path / "mefm_request.bpmn"))

    assert result.exit_code == 0, result.output
    taken = re.findall(r"^(\S+): used by the diagrams given, taken from beside them$", result.stdout, re.M)
    assert taken == [str(tmp_path / "a_copy.dmn")]
