"""The case list: every case the user may see, filtered, searched, sorted, paged and counted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from engine.errors import InvalidData
from engine.modeling import publishing
from engine.scheduling import ticker
from engine.store.models import CaseWord, Emergency, ProcessInstance, User
from engine.work import case_list, instances, tasks
from engine.work.case_filter import CaseFilter, CaseSort, CaseStatus, SlaState, parse_filter
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task
from tests.processes.conftest import WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE

PD_PAN = "project-developer@pan.demo"
COM_HTI = "chief-of-mission@hti.demo"
DIRECTOR = "regional-director@ro-americas.demo"
FORMS_DIR = str(WORKFLOWS.parents[1] / "forms")


def start(world, title: str, *, who=PD_HTI, office="HTI", process="funding_review"):
    return instances.start_instance(world.uow(), world.user(who), process, office, {"title": title})


def listed(world, who: str, **wanted) -> case_list.CaseList:
    return case_list.case_list(world.uow(), world.user(who), CaseFilter(**wanted))


def titles(found: case_list.CaseList) -> list[str]:
    return [row.title for row in found.rows]


@pytest.fixture
def cases(world, funding_review):
    """Two Haiti cases and one Panama case, an hour apart."""
    made = {}
    for title, who, office in (
        ("Hurricane Marisol shelter", PD_HTI, "HTI"),
        ("Cholera response Artibonite", PD_HTI, "HTI"),
        ("Darien migrant reception", PD_PAN, "PAN"),
    ):
        made[title] = start(world, title, who=who, office=office)
        world.clock.advance(hours=1)
    return made


def test_a_panama_user_lists_searches_counts_and_exports_no_haiti_case(world, cases):
    assert titles(listed(world, PD_PAN)) == ["Darien migrant reception"]
    assert listed(world, PD_PAN).total == 1
    assert listed(world, PD_PAN, q="Marisol").total == 0
    assert listed(world, PD_PAN, office="HTI").rows == []
    exported = case_list.case_export(world.uow(), world.user(PD_PAN), CaseFilter())
    assert [row.office for row in exported.rows] == ["PAN"]
    assert [c.value for c in listed(world, PD_PAN).offices] == ["PAN"]


def test_regional_and_headquarters_roles_see_the_region_haiti_only_its_own(world, cases):
    assert listed(world, DIRECTOR).total == 3
    assert listed(world, "mefm-approver@hq.demo").total == 3
    assert sorted(r.office for r in listed(world, COM_HTI).rows) == ["HTI", "HTI"]


def test_the_newest_started_comes_first_and_pages_split_the_list(world, cases):
    assert titles(listed(world, DIRECTOR)) == [
        "Darien migrant reception",
        "Cholera response Artibonite",
        "Hurricane Marisol shelter",
    ]
    first = listed(world, DIRECTOR, per_page=2)
    second = listed(world, DIRECTOR, per_page=2, page=2)
    assert (first.total, first.pages, len(first.rows)) == (3, 2, 2)
    assert titles(second) == ["Hurricane Marisol shelter"] and second.total == 3
    assert listed(world, DIRECTOR, per_page=2, page=3).rows == []


def test_sort_by_last_change_puts_the_case_worked_on_last_first(world, cases):
    oldest = cases["Hurricane Marisol shelter"]
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, oldest.id).id, DRAFT)
    assert titles(listed(world, DIRECTOR, sort=CaseSort.CHANGED))[0] == "Hurricane Marisol shelter"


def test_sort_by_due_puts_the_soonest_due_first(world, funding_review):
    publish(world, diagram("funding_review_sla.bpmn"))
    late = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review", "HTI", {"title": "No due time"})
    due = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review_sla", "HTI", {"title": "Due"})
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, due.id).id, DRAFT)
    found = listed(world, DIRECTOR, sort=CaseSort.DUE)
    assert titles(found) == ["Due", "No due time"]
    assert found.rows[0].next_due_at == world.clock.now() + timedelta(hours=48)
    assert found.rows[1].next_due_at is None and late.id == found.rows[1].id


def test_search_finds_a_word_of_the_title_its_prefix_and_the_reference(world, cases):
    marisol = cases["Hurricane Marisol shelter"]
    assert titles(listed(world, DIRECTOR, q="marisol")) == ["Hurricane Marisol shelter"]
    assert titles(listed(world, DIRECTOR, q="MARI")) == ["Hurricane Marisol shelter"]
    assert titles(listed(world, DIRECTOR, q="hurricane shelter")) == ["Hurricane Marisol shelter"]
    assert listed(world, DIRECTOR, q="hurricane darien").total == 0  # every word must match
    assert titles(listed(world, DIRECTOR, q=marisol.reference)) == ["Hurricane Marisol shelter"]
    assert listed(world, DIRECTOR, q="Darién").total == 1  # accents do not matter


def test_search_finds_the_summarys_key_fields_not_its_prose(world):
    files = {name: (WORKFLOWS / name).read_bytes() for name in ("mefm_request.bpmn", "mefm_approval_authority.dmn")}
    publishing.publish(world.uow(), files, forms_dir=FORMS_DIR)
    data = dict(HAITI_HURRICANE["mefm"]["mefm_request_start"])
    data["justification"] = "Funds will not arrive before the end of September. " * 5  # prose: past 200 characters
    case = instances.start_instance(world.uow(), world.user(COM_HTI), "mefm_request", "HTI", data)
    assert [r.id for r in listed(world, DIRECTOR, q="ECHO").rows] == [case.id]  # repayment_source_name
    assert [r.id for r in listed(world, DIRECTOR, q="cccm").rows] == [case.id]  # a sector of its activities
    assert listed(world, DIRECTOR, q="arrive").total == 0  # the long justification is not indexed
    with world.uow() as uow:
        words = set(uow.session.scalars(select(CaseWord.word).where(CaseWord.instance_id == case.id)))
    assert {"mefm", "hti", "hurricane", "500000"} <= words


def test_filters_by_process_office_status_and_emergency(world, cases):
    publish(world, diagram("funding_review_sla.bpmn"))
    other = start(world, "Other process", process="funding_review_sla")
    with world.uow() as uow:
        uow.session.add(
            Emergency(
                id=7,
                reference="EM-HTI-2026-0001",
                office_code="HTI",
                name="Hurricane Marisol",
                crisis_type="hurricane",
                level="L3",
                onset_date=date(2026, 11, 20),
                created_at=world.clock.now(),
                updated_at=world.clock.now(),
            )
        )
        uow.session.flush()
        uow.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == cases["Hurricane Marisol shelter"].id)
            .values(emergency_id=7)
        )
        uow.commit()
    assert titles(listed(world, DIRECTOR, process_id="funding_review_sla")) == ["Other process"]
    assert titles(listed(world, DIRECTOR, office="PAN")) == ["Darien migrant reception"]
    [row] = listed(world, DIRECTOR, emergency_id=7).rows
    assert row.title == "Hurricane Marisol shelter" and row.emergency == "EM-HTI-2026-0001 Hurricane Marisol"
    assert [c.value for c in listed(world, COM_HTI).emergencies] == ["7"]
    assert listed(world, PD_PAN).emergencies == []
    assert listed(world, DIRECTOR, status=CaseStatus.COMPLETED).total == 0
    assert listed(world, DIRECTOR, status=CaseStatus.RUNNING).total == 4
    assert other.id in [r.id for r in listed(world, DIRECTOR, status=CaseStatus.RUNNING).rows]


def test_status_completed_lists_a_finished_case(world, cases):
    case = cases["Darien migrant reception"]
    tasks.complete_task(world.uow(), world.user(PD_PAN), only_task(world, PD_PAN, case.id).id, DRAFT)
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, case.id).id, {"decision": "recommend"})
    approver = "mefm-approver@hq.demo"
    tasks.complete_task(world.uow(), world.user(approver), only_task(world, approver, case.id).id, {})
    [row] = listed(world, DIRECTOR, status=CaseStatus.COMPLETED).rows
    assert (row.title, row.holder, row.open_steps) == ("Darien migrant reception", None, 0)


def test_sla_states_on_time_due_soon_and_breached(world, funding_review):
    publish(world, diagram("funding_review_sla.bpmn"))
    case = start(world, "Decision due", process="funding_review_sla")
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, case.id).id, DRAFT)
    calm = start(world, "No deadline")

    def states():
        return {row.title: row.sla for row in listed(world, DIRECTOR).rows}

    assert states() == {"Decision due": SlaState.ON_TIME, "No deadline": SlaState.ON_TIME}
    world.clock.advance(hours=37)  # 11 h of 48 left: its last quarter
    assert states()["Decision due"] == SlaState.DUE_SOON
    assert titles(listed(world, DIRECTOR, sla=SlaState.DUE_SOON)) == ["Decision due"]
    assert titles(listed(world, DIRECTOR, sla=SlaState.ON_TIME)) == ["No deadline"]
    world.clock.advance(hours=12)
    ticker.tick(world.db, world.clock)  # the escalation fires: the case is marked breached
    assert titles(listed(world, DIRECTOR, sla=SlaState.BREACHED)) == ["Decision due"]
    assert listed(world, DIRECTOR, sla=SlaState.DUE_SOON).total == 0
    assert calm.id in [r.id for r in listed(world, DIRECTOR, sla=SlaState.ON_TIME).rows]


def test_holder_filters_by_role_by_me_and_shows_who_holds_it(world, cases):
    marisol = cases["Hurricane Marisol shelter"]
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, marisol.id).id, DRAFT)
    assert titles(listed(world, DIRECTOR, holder="Emergency Focal Point")) == ["Hurricane Marisol shelter"]
    assert listed(world, EFP, holder="me").total == 0
    tasks.claim_task(world.uow(), world.user(EFP), only_task(world, EFP, marisol.id).id)
    [row] = listed(world, EFP, holder="me").rows
    with world.uow() as uow:
        assert row.holder == uow.session.get(User, world.user(EFP)).name  # held: the person, not the role
    assert titles(listed(world, DIRECTOR, holder=str(world.user(EFP)))) == ["Hurricane Marisol shelter"]
    others = {r.title: r.holder for r in listed(world, DIRECTOR).rows}
    assert others["Darien migrant reception"] == "Project Developer"


def test_started_by_me_and_done_by_me(world, cases):
    marisol = cases["Hurricane Marisol shelter"]
    assert listed(world, PD_HTI, started_by_me=True).total == 2
    assert listed(world, COM_HTI, started_by_me=True).total == 0
    assert listed(world, EFP, done_by_me=True).total == 0
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, marisol.id).id, DRAFT)
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, marisol.id).id, {"decision": "recommend"})
    assert titles(listed(world, EFP, done_by_me=True)) == ["Hurricane Marisol shelter"]
    assert titles(listed(world, PD_HTI, done_by_me=True)) == ["Hurricane Marisol shelter"]


def test_date_range_of_the_start(world, cases):
    today = world.clock.now().date()
    assert listed(world, DIRECTOR, started_from=today, started_to=today).total == 3
    assert listed(world, DIRECTOR, started_from=today + timedelta(days=1)).total == 0
    assert listed(world, DIRECTOR, started_to=today - timedelta(days=1)).total == 0


def test_parameters_are_read_and_wrong_ones_refused_by_name():
    wanted = parse_filter({"q": " marisol ", "status": "running", "sla": "breached", "page": "2", "from": "2026-01-01"})
    assert (wanted.q, wanted.status, wanted.sla, wanted.page) == ("marisol", CaseStatus.RUNNING, SlaState.BREACHED, 2)
    assert parse_filter(wanted.parameters()) == wanted
    with pytest.raises(InvalidData) as refused:
        parse_filter({"status": "open", "sla": "late", "page": "0", "per_page": "5000", "from": "yesterday"})
    assert set(refused.value.fields) == {"status", "sla", "page", "per_page", "from"}
    for wrong in (
        {"colour": "red"},
        {"holder": "nobody"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"q": "x" * 201},
    ):
        with pytest.raises(InvalidData):
            parse_filter(wrong)
