"""Issue 15, item 8: timer text that can only fail. What can be known when the diagram is checked
(a literal or a constant expression: out of range, not ISO 8601, not a text) is refused by
`bpmn validate` and at publish; an expression over the case's data that gives junk fails the step
with 422 naming the timer, and nothing is saved. Each timer is put into the template
data/timers/timer_text.bpmn; every case runs on SQLite and PostgreSQL (docs/reliability.md 8.6).

Before: `P9999Y` passed validation and every start of the process answered 500 (an OverflowError),
as did `10**64` and a start whose data made the timer's expression give junk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from engine.bpmn.loading import validate_paths
from engine.errors import InvalidDiagram
from engine.modeling import publishing
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.web.api_fixtures import Api

TIMERS = Path(__file__).resolve().parent / "data" / "timers"
PD_HTI = "project-developer@hti.demo"
PROCESS = "timer_text"
FAR = "would be due more than 100 years from now"
NOT_ISO = "timer text is not valid ISO 8601"


@dataclass(frozen=True)
class Timer_:
    kind: str  # timeDate, timeDuration or timeCycle
    text: str  # as written in the diagram
    says: str  # in the problem reported for the wait's timer
    id: str


REFUSED_AT_VALIDATION = [
    Timer_("timeDuration", "P9999Y", FAR, "a literal duration of 9,999 years"),
    Timer_("timeDuration", "P999999999999Y", FAR, "a duration past what a date can hold"),
    Timer_("timeDuration", "PT999999999999H", FAR, "hours past what a date can hold"),
    Timer_("timeDuration", "10**64", "timer value 1000000", "a number, not a text"),
    Timer_("timeDuration", "'P' + '9999' + 'Y'", FAR, "a constant expression of 9,999 years"),
    Timer_("timeDuration", "'P' + str(10**64) + 'D'", FAR, "a constant expression of 10**64 days"),
    Timer_("timeDuration", "'banana'", NOT_ISO, "a quoted word"),
    Timer_("timeDuration", "1 // 0", "timer expression fails: ZeroDivisionError", "an expression that fails"),
    Timer_("timeDate", "9999-12-31T00:00:00Z", FAR, "a date in the year 9999"),
    Timer_("timeDate", "2030-02-30T09:00:00Z", NOT_ISO, "the 30th of February"),
    Timer_("timeDate", "'2030-01-31'", "has no time zone", "a constant date without a zone"),
    Timer_("timeCycle", "R/PT0S", "repeats at no interval", "a cycle of no interval"),
    Timer_("timeCycle", "R5/P99999999Y", FAR, "a cycle of 99,999,999 years"),
]

ACCEPTED_AT_VALIDATION = [
    Timer_("timeDuration", "PT48H", "", "a literal duration"),
    Timer_("timeDuration", "'P' + str(3) + 'D'", "", "a constant expression"),
    Timer_("timeDuration", "get('wait')", "", "an expression over the case's data"),
    Timer_("timeDate", "2030-01-31T09:00:00Z", "", "a date with a zone"),
    Timer_("timeCycle", "R3/PT1H", "", "a cycle"),
]


def _diagram(timer: Timer_) -> bytes:
    text = (TIMERS / "timer_text.bpmn").read_text()
    return text.replace("KIND", timer.kind).replace("TEXT", escape(timer.text)).encode()


def _versions(world) -> int:
    from engine.store.models import ProcessVersion

    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(ProcessVersion))


@pytest.mark.parametrize("case", REFUSED_AT_VALIDATION, ids=[c.id for c in REFUSED_AT_VALIDATION])
def test_a_timer_that_can_only_fail_is_refused_by_validate_and_publish(world, tmp_path, case):
    path = tmp_path / "timer_text.bpmn"
    path.write_bytes(_diagram(case))
    problems = [p for p in validate_paths([str(path)]) if p.severity == "error"]
    assert [p.element for p in problems] == ["wait"] and case.says in problems[0].message, problems

    with pytest.raises(InvalidDiagram, match="wait: ") as refused:
        publishing.publish(world.uow(), {"timer_text.bpmn": _diagram(case)})
    assert case.says in str(refused.value)
    assert _versions(world) == 0


@pytest.mark.parametrize("case", ACCEPTED_AT_VALIDATION, ids=[c.id for c in ACCEPTED_AT_VALIDATION])
def test_a_timer_that_can_run_is_accepted(world, tmp_path, case):
    path = tmp_path / "timer_text.bpmn"
    path.write_bytes(_diagram(case))
    assert [p for p in validate_paths([str(path)]) if p.severity == "error"] == []


@dataclass(frozen=True)
class Junk:
    wait: object  # the start data's `wait`, which the timer's expression is
    says: str
    id: str


JUNK = [
    Junk("P9999Y", FAR, "9,999 years"),
    Junk("P" + "9" * 60 + "D", FAR, "a 60-digit number of days"),
    Junk(10**64, "is not a text", "a number"),
    Junk(None, "is not a text", "null"),
    Junk(["PT1H"], "is not a text", "a list"),
    Junk("banana", NOT_ISO, "a word"),
    Junk("P-1D", NOT_ISO, "a negative duration"),
    Junk("P" + "9" * 5000 + "D", NOT_ISO, "a number too long to read"),
]


def _saved(world) -> tuple[int, ...]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tuple(
            tx.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, HumanTask, Timer, AuditEvent)
        )


@pytest.fixture
def expression_timer(app, world):
    publishing.publish(world.uow(), {"timer_text.bpmn": _diagram(ACCEPTED_AT_VALIDATION[2])})
    app.extensions["doeflow.clock"] = world.clock
    return Api(app, world)


@pytest.mark.parametrize("case", JUNK, ids=[c.id for c in JUNK])
def test_a_start_whose_data_makes_the_timer_junk_gets_422_naming_the_timer_and_saves_nothing(
    world, expression_timer, case
):
    before = _saved(world)
    response = expression_timer.start(PD_HTI, "HTI", {"wait": case.wait}, PROCESS)
    assert response.status_code == 422, response.json
    assert response.json["error"].startswith("wait: ") and case.says in response.json["error"], response.json
    assert _saved(world) == before


def test_a_start_whose_data_makes_a_good_timer_waits_for_it(world, expression_timer):
    response = expression_timer.start(PD_HTI, "HTI", {"wait": "PT2H"}, PROCESS)
    assert response.status_code == 201, response.json
    with world.db.unit_of_work(world.clock, write=False) as tx:
        due = tx.session.scalar(select(Timer.due_at).where(Timer.instance_id == response.json["id"]))
    assert due.replace(tzinfo=world.clock.now().tzinfo) == world.clock.now() + timedelta(hours=2)
