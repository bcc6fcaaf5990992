"""Emergencies: declared by the regional office for a country office, seen only where the office
is, their level and status changed with the history kept, and the cases started for them."""

from __future__ import annotations

import json
from datetime import date

import pytest

from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.modeling import publishing
from engine.work import emergencies, emergency_start, instances, tasks
from tests.engine.conftest import diagram, publish
from tests.processes.conftest import WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE

DIRECTOR = "regional-director@ro-americas.demo"
EFP = "emergency-focal-point@ro-americas.demo"
ADMIN = "admin@hq.demo"
COM_HTI = "chief-of-mission@hti.demo"
COM_PAN = "chief-of-mission@pan.demo"
FORMS_DIR = WORKFLOWS.parents[1] / "forms"
START = HAITI_HURRICANE["mefm"]["mefm_request_start"]


def declare(world, who=DIRECTOR, office="HTI", **changes):
    facts = {"name": "Hurricane Marisol", "crisis_type": "hurricane_tropical_storm", "level": "L2"}
    facts |= {"onset_date": "2025-09-14"} | changes
    return emergencies.declare_emergency(world.uow(), world.user(who), office, **facts)


@pytest.fixture
def mefm(world):
    files = {name: (WORKFLOWS / name).read_bytes() for name in ("mefm_request.bpmn", "mefm_approval_authority.dmn")}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS_DIR))


def test_the_regional_director_declares_an_emergency_with_a_reference_and_a_declared_event(world):
    marisol = declare(world)
    assert marisol.reference == "EM-HTI-2026-0001"
    assert (marisol.office, marisol.level, marisol.status) == ("HTI", "L2", "active")
    assert marisol.onset_date == date(2025, 9, 14)
    assert [(e.kind, e.level) for e in marisol.events] == [("declared", "L2")]
    assert declare(world, who=EFP, name="Cholera").reference == "EM-HTI-2026-0002"
    assert declare(world, who=ADMIN, office="PAN", name="Darien").reference == "EM-PAN-2026-0001"


def test_a_country_office_role_may_not_declare_and_another_office_is_not_found(world):
    with pytest.raises(PermissionDenied):
        declare(world, who=COM_HTI)
    with pytest.raises(NotFound):
        declare(world, who=COM_PAN, office="HTI")
    with pytest.raises(InvalidData) as refused:
        declare(world, office="RO-AMERICAS")
    assert "office" in refused.value.fields


def test_declaring_refuses_each_wrong_fact_by_name(world):
    with pytest.raises(InvalidData) as refused:
        declare(world, name=" ", crisis_type="meteor", level="L4", onset_date="20/11/2026")
    assert set(refused.value.fields) == {"name", "crisis_type", "level", "onset_date"}
    with pytest.raises(InvalidData) as refused:
        declare(world, onset_date="2026-12-31")  # after the clock's today
    assert set(refused.value.fields) == {"onset_date"}


def test_the_list_is_scoped_to_the_offices_the_user_works_for(world):
    declare(world)
    declare(world, office="PAN", name="Darien")
    assert [e.name for e in emergencies.emergency_list(world.uow(), world.user(COM_PAN)).emergencies] == ["Darien"]
    seen = emergencies.emergency_list(world.uow(), world.user(DIRECTOR))
    assert sorted(e.office for e in seen.emergencies) == ["HTI", "PAN"]
    assert "HTI" in seen.may_declare_for and "RO-AMERICAS" not in seen.may_declare_for
    assert emergencies.emergency_list(world.uow(), world.user(COM_HTI)).may_declare_for == ()
    only = emergencies.emergency_list(world.uow(), world.user(DIRECTOR), office="PAN")
    assert [e.office for e in only.emergencies] == ["PAN"]
    with pytest.raises(NotFound):
        emergencies.get_emergency(world.uow(), world.user(COM_PAN), seen.emergencies[-1].id)


def test_level_changes_keep_their_history_and_closing_is_an_event(world):
    marisol = declare(world)
    world.clock.advance(hours=2)
    raised = emergencies.change_emergency(world.uow(), world.user(EFP), marisol.id, level="L3", note="Landfall.")
    assert raised.level == "L3"
    closed = emergencies.change_emergency(world.uow(), world.user(DIRECTOR), marisol.id, status="closed")
    steps = [(e.kind, e.previous_level, e.level, e.note) for e in closed.events]
    assert steps == [("declared", None, "L2", None), ("level", "L2", "L3", "Landfall."), ("closed", None, "L3", None)]
    assert closed.status == "closed"
    assert emergencies.emergency_list(world.uow(), world.user(DIRECTOR), status="active").emergencies == []


def test_only_regional_roles_change_an_emergency(world):
    marisol = declare(world)
    with pytest.raises(PermissionDenied):
        emergencies.change_emergency(world.uow(), world.user(COM_HTI), marisol.id, level="L3")
    with pytest.raises(NotFound):
        emergencies.change_emergency(world.uow(), world.user(COM_PAN), marisol.id, level="L3")
    with pytest.raises(InvalidData):
        emergencies.change_emergency(world.uow(), world.user(DIRECTOR), marisol.id, level="L9")
    assert emergencies.get_emergency(world.uow(), world.user(COM_HTI), marisol.id).level == "L2"


def test_a_case_started_for_an_emergency_reads_its_level_and_is_listed_under_it(world, mefm):
    marisol = declare(world, level="L3")
    typed = {**START, "emergency_level": "L1", "crisis_type": "flood"}
    case = instances.start_instance(
        world.uow(), world.user(COM_HTI), "mefm_request", "HTI", typed, emergency_id=marisol.id
    )
    assert case.emergency_id == marisol.id
    assert (case.data["emergency_level"], case.data["crisis_type"]) == ("L3", "hurricane_tropical_storm")
    assert case.data["onset_date"] == "2025-09-14"
    read = emergencies.get_emergency(world.uow(), world.user(DIRECTOR), marisol.id)
    [(process, [listed])] = read.cases_by_process()
    assert (listed.id, listed.reference, listed.status) == (case.id, case.reference, "running")
    assert listed.open_steps  # where it stands now


def test_the_start_form_without_the_emergency_fields_starts_for_an_emergency(world, mefm):
    marisol = declare(world)
    asked = {k: v for k, v in START.items() if k not in emergency_start.EMERGENCY_FIELDS}
    case = instances.start_instance(
        world.uow(), world.user(COM_HTI), "mefm_request", "HTI", asked, emergency_id=marisol.id
    )
    assert case.data["emergency_level"] == "L2"
    schema = json.loads((FORMS_DIR / "mefm_request_start.json").read_text(encoding="utf-8"))
    reduced = emergency_start.without_emergency_fields(schema)
    assert not set(emergency_start.EMERGENCY_FIELDS) & (set(reduced["properties"]) | set(reduced["required"]))
    assert "emergency_level" in schema["properties"]  # the form itself is left as it is


def test_a_closed_emergency_or_one_of_another_office_takes_no_new_case(world, mefm):
    marisol = declare(world)
    darien = declare(world, office="PAN", name="Darien")
    with pytest.raises(NotFound):  # an office the Chief of Mission does not work for: not known to exist
        instances.start_instance(world.uow(), world.user(COM_HTI), "mefm_request", "HTI", START, emergency_id=darien.id)
    with pytest.raises(NotFound):
        instances.start_instance(world.uow(), world.user(COM_HTI), "mefm_request", "HTI", START, emergency_id=99999)
    emergencies.change_emergency(world.uow(), world.user(DIRECTOR), marisol.id, status="closed")
    with pytest.raises(InvalidData) as refused:
        instances.start_instance(
            world.uow(), world.user(COM_HTI), "mefm_request", "HTI", START, emergency_id=marisol.id
        )
    assert "closed" in refused.value.fields["emergency_id"]


def test_the_crisis_types_are_those_of_the_start_forms():
    for name in ("mefm_request_start.json", "eppe_start.json", "cerf_call.json"):
        schema = json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))
        assert tuple(schema["properties"]["crisis_type"]["enum"]) == emergencies.CRISIS_TYPES, name


def test_a_case_started_by_a_message_of_a_case_of_the_emergency_joins_it(world):
    files = {**diagram("request_funds.bpmn"), **diagram("fund_on_request.bpmn")}
    publish(world, files)
    marisol = declare(world)
    pd = world.user("project-developer@hti.demo")
    data = {"reference": "EPPE-HTI-7", "amount": 250000}
    asking = instances.start_instance(world.uow(), pd, "request_funds", "HTI", data, emergency_id=marisol.id)
    [task] = [t for t in instances.get_instance(world.uow(), pd, asking.id).tasks]
    tasks.complete_task(world.uow(), pd, task.id, {})
    cases = emergencies.get_emergency(world.uow(), world.user(DIRECTOR), marisol.id).cases
    assert sorted(c.process_id for c in cases) == ["fund_on_request", "request_funds"]
