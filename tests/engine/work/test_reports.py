"""The SLA and operations report: cases decided in time and breached per process, office and
month, the median and p90 hours to decision, the steps' hours, what stands now, and its scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.errors import InvalidData, PermissionDenied
from engine.scheduling import ticker
from engine.store.models import CaseDecision, Membership, User
from engine.work import cancel, instances, reports, tasks
from engine.work.report_filter import ReportFilter, parse_report_filter
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import DRAFT, PD_HTI, only_task
from tests.processes.conftest import published_processes  # noqa: F401 - the fixture
from tests.processes.scenarios import HAITI_HURRICANE
from tests.processes.test_mefm import decided_and_allocated, submit

PD_PAN = "project-developer@pan.demo"
EFP = "emergency-focal-point@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
APPROVER = "mefm-approver@hq.demo"
PANAMA_ONLY = "panama-focal-point@pan.demo"
PROCESS = "funding_review_sla"


@pytest.fixture
def sla_process(world):
    [published] = publish(world, diagram("funding_review_sla.bpmn"))
    return published


def decide(world, office: str = "HTI", *, hours: float = 5, breach: bool = False) -> int:
    """A case of the SLA test process decided `hours` after it started: approved in time, or left
    past its 48-hour escalation and rejected by the Regional Director."""
    starter = PD_HTI if office == "HTI" else PD_PAN
    case = instances.start_instance(world.uow(), world.user(starter), PROCESS, office, {"title": f"Case {office}"})
    tasks.complete_task(world.uow(), world.user(starter), only_task(world, starter, case.id).id, DRAFT)
    if breach:
        world.clock.advance(hours=49)
        ticker.tick(world.db, world.clock)
        world.clock.advance(hours=hours - 49)
        escalated = only_task(world, DIRECTOR, case.id)
        tasks.complete_task(world.uow(), world.user(DIRECTOR), escalated.id, {"decision": "reject"})
    else:
        world.clock.advance(hours=hours / 2)
        review = only_task(world, EFP, case.id)
        tasks.complete_task(world.uow(), world.user(EFP), review.id, {"decision": "recommend"})
        world.clock.advance(hours=hours / 2)
        tasks.complete_task(world.uow(), world.user(APPROVER), only_task(world, APPROVER, case.id).id, {})
    return case.id


def report(world, who: str = DIRECTOR, **wanted) -> reports.SlaReport:
    return reports.sla_report(world.uow(), world.user(who), ReportFilter(**wanted))


def by_office(found: reports.SlaReport) -> dict[str, reports.SlaRow]:
    return {row.office: row for row in found.rows}


def test_cases_decided_in_time_and_breached_are_counted_per_process_office_and_month(world, sla_process):
    decide(world, "HTI", hours=5)
    decide(world, "HTI", hours=60, breach=True)
    decide(world, "PAN", hours=2)
    rows = by_office(report(world))
    haiti, panama = rows["HTI"], rows["PAN"]
    assert (haiti.process_id, haiti.month) == (PROCESS, "2026-11")
    assert (haiti.decided, haiti.within_sla, haiti.breached) == (2, 1, 1)
    assert (panama.decided, panama.within_sla, panama.breached) == (1, 1, 0)
    assert report(world).totals == (3, 2, 1)


def test_median_and_p90_hours_to_decision_interpolate_as_percentile_cont(world, sla_process):
    for hours in (1, 2, 10):
        decide(world, "HTI", hours=hours)
    haiti = by_office(report(world))["HTI"]
    assert (haiti.median_hours, haiti.p90_hours) == (2.0, 8.4)  # 2 + (10 - 2) * 0.8
    assert reports.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert reports.percentile([], 0.9) is None


def test_a_case_counts_in_the_month_it_was_decided_and_only_within_the_period(world, sla_process):
    decide(world, "HTI", hours=4)
    world.clock.set(datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
    decide(world, "HTI", hours=4)
    assert [r.month for r in report(world).rows] == ["2026-11", "2026-12"]
    december = report(world, date_from=date(2026, 12, 1), date_to=date(2026, 12, 31))
    assert [(r.month, r.decided) for r in december.rows] == [("2026-12", 1)]
    assert report(world, process_id="another_process").rows == []
    assert [r.office for r in report(world, office="PAN").rows] == []


def test_the_decision_is_recorded_once_with_the_hours_since_the_start(world, sla_process):
    case_id = decide(world, "HTI", hours=6)
    with world.uow() as uow:
        decision = uow.session.get(CaseDecision, case_id)
        assert (decision.hours, decision.breached, decision.office_code) == (6.0, False, "HTI")


def test_the_steps_show_how_many_were_done_and_their_median_hours_open(world, sla_process):
    decide(world, "HTI", hours=4)
    decide(world, "HTI", hours=8)
    steps = {row.title: row for row in report(world).steps}
    review = steps["Review the request"]
    assert (review.done, review.median_hours) == (2, 3.0)  # 2 h and 4 h open
    assert steps["Draft the request"].median_hours == 0.0


def test_an_open_breach_is_listed_until_it_is_decided(world, sla_process):
    case = instances.start_instance(world.uow(), world.user(PD_HTI), PROCESS, "HTI", {"title": "Late"})
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, case.id).id, DRAFT)
    assert report(world).now.open_breaches == []
    world.clock.advance(hours=49)
    ticker.tick(world.db, world.clock)
    [breach] = report(world).now.open_breaches
    assert (breach.instance_id, breach.escalated, breach.office) == (case.id, True, "HTI")
    escalated = only_task(world, DIRECTOR, case.id)
    tasks.complete_task(world.uow(), world.user(DIRECTOR), escalated.id, {"decision": "reject"})
    assert report(world).now.open_breaches == []


@pytest.fixture
def panama_only(world):
    """A Panama user with a report role held for Panama alone: they work for no other office."""
    with world.uow() as uow:
        user = User(email=PANAMA_ONLY, name="Panama focal point", created_at=world.clock.now())
        uow.session.add(user)
        uow.session.flush()
        uow.session.add(Membership(user_id=user.id, role_name="Emergency Focal Point", office_code="PAN"))
        uow.commit()
    return PANAMA_ONLY


def test_a_panama_user_sees_no_haiti_case_in_the_report(world, sla_process, panama_only):
    decide(world, "HTI", hours=3)
    decide(world, "HTI", hours=60, breach=True)
    decide(world, "PAN", hours=2)
    found = report(world, panama_only)
    assert [r.office for r in found.rows] == ["PAN"]
    assert report(world, panama_only, office="HTI").rows == []
    assert {row.done for row in found.steps} == {1}
    assert [c.value for c in found.offices] == ["PAN"]


def test_country_roles_may_not_read_the_report_and_bad_dates_are_refused(world, sla_process):
    with pytest.raises(PermissionDenied):
        report(world, PD_HTI)
    with pytest.raises(PermissionDenied):
        report(world, "chief-of-mission@hti.demo")
    with pytest.raises(InvalidData) as refused:
        parse_report_filter({"from": "2026-13-01", "to": "soon", "colour": "red"})
    assert set(refused.value.fields) == {"from", "to", "colour"}
    with pytest.raises(InvalidData):
        parse_report_filter({"from": "2026-12-01", "to": "2026-11-01"})
    assert parse_report_filter({"from": "2026-01-01", "office": "HTI"}) == ReportFilter(date(2026, 1, 1), None, "HTI")


def test_the_period_defaults_to_this_month_and_the_five_before(world, sla_process):
    assert report(world).filter.date_from == date(2026, 6, 1)
    assert report(world).filter.date_to == date(2026, 11, 25)


def test_an_mefm_decision_counts_and_its_advance_is_outstanding_until_repaid(world, published_processes):  # noqa: F811
    mefm = HAITI_HURRICANE["mefm"]
    instance = submit(world, "HTI", mefm)
    world.clock.advance(hours=20)
    decided_and_allocated(world, "HTI", instance.id, mefm)
    [row] = report(world, process_id="mefm_request").rows
    assert (row.decided, row.within_sla, row.breached) == (1, 1, 0)
    world.clock.set(datetime(2026, 12, 31, 12, tzinfo=timezone.utc) + timedelta(days=400))
    [advance] = report(world, "finance@hq.demo").now.advances
    assert (
        advance.instance_id == instance.id
        and advance.amount_usd == mefm["mefm_finance_allocation"]["allocated_amount_usd"]
    )
    assert advance.expected_repayment == date.fromisoformat(mefm["mefm_request_start"]["expected_repayment_date"])
    assert advance.repayment_passed and advance.age_days >= 400
    assert report(world, "finance@hq.demo", process_id="cerf_application").now.advances == []


def test_an_mefm_decided_after_its_48_hours_counts_as_breached_beside_one_decided_in_time(
    world,
    published_processes,  # noqa: F811
):
    mefm = HAITI_HURRICANE["mefm"]
    in_time = submit(world, "HTI", mefm)
    decided_and_allocated(world, "HTI", in_time.id, mefm)
    late = submit(world, "HTI", mefm)
    world.clock.advance(hours=48, seconds=1)
    ticker.tick(world.db, world.clock)  # the escalation: the review stops, the next level decides
    escalated = only_task(world, APPROVER, late.id)
    assert escalated.title == "Escalated decision (48 h passed)"
    [breach] = report(world).now.open_breaches
    assert (breach.instance_id, breach.escalated) == (late.id, True)
    tasks.complete_task(world.uow(), world.user(APPROVER), escalated.id, mefm["mefm_decision"])
    [row] = report(world, process_id="mefm_request").rows
    assert (row.decided, row.within_sla, row.breached) == (2, 1, 1)
    assert report(world).now.open_breaches == []


def test_the_heat_of_a_diagram_is_the_median_hours_per_element_in_the_offices_seen(world, sla_process, panama_only):
    decide(world, "HTI", hours=4)
    decide(world, "HTI", hours=8)
    heat = {
        s.element_id: (s.done, s.median_hours)
        for s in reports.step_heat(world.uow(), world.user(DIRECTOR), PROCESS, ReportFilter())
    }
    assert heat == {"draft": (2, 0.0), "review": (2, 3.0), "approve": (2, 3.0)}
    assert reports.step_heat(world.uow(), world.user(panama_only), PROCESS, ReportFilter()) == []
    with pytest.raises(PermissionDenied):
        reports.step_heat(world.uow(), world.user(PD_HTI), PROCESS, ReportFilter())


def test_a_cancelled_case_is_never_decided(world, sla_process):
    case = instances.start_instance(world.uow(), world.user(PD_HTI), PROCESS, "HTI", {"title": "Withdrawn"})
    cancel.cancel_instance(world.uow(), world.user(PD_HTI), case.id, "Not needed after all.")
    with world.uow() as uow:
        assert uow.session.get(CaseDecision, case.id) is None
    assert report(world).rows == []
