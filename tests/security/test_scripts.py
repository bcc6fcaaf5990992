"""Issue 15, item 4: what one script operation may cost, and the size of an instance's data. Each
hostile script below is put into the template data/scripts/hostile_script.bpmn, published, and a
case of it started over the API on SQLite and PostgreSQL: refused within two seconds with 422 and
a message naming the script task, with nothing saved and no memory blown up; ordinary scripts run
as before (docs/reliability.md 8.4).

Before: `x = (((10**64)**64)**64)**64` held the database 44 s, `x = f'{1:>500000000}'` committed a
500 MB string (each later GET 17.8 s, 2.4 GB of memory), `'%0500000000d' % 1` peaked at 2.4 GB.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

import config as settings
from engine.bpmn import data_size
from engine.errors import InvalidDiagram
from engine.modeling import publishing
from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from tests.web.api_fixtures import Api
from web import create_app

SCRIPTS = Path(__file__).resolve().parent / "data" / "scripts"
PD_HTI = "project-developer@hti.demo"
PROCESS = "hostile_script"
SECONDS = 2.0  # what a refused start may take, the request's own work included
MEMORY_MB = 200  # how much the test process's peak memory may grow while one case runs


@dataclass(frozen=True)
class Hostile:
    script: str  # the script task's text
    says: str  # in the 422 answer's message
    id: str


LIMITS = "a number of more than 4,096 bits"
WIDTH = "a format width or precision over 10,000 is not allowed"
REPEAT = "a repetition of more than 1,000,000 items is not allowed"
LONG = "a text or list of more than 1,000,000 items is not allowed"
DATA = "the data of this case would take more than 1,000,000 bytes (DOEFLOW_MAX_INSTANCE_DATA_BYTES)"

HOSTILE = [
    Hostile("x = (((10**64)**64)**64)**64", LIMITS, "a tower of powers (44 s before)"),
    Hostile("x = 2 ** 64\nfor i in range(20):\n    x = x * x", LIMITS, "squaring in a loop"),
    Hostile("x = 1 << 64\nfor i in range(100):\n    x = x << 64", LIMITS, "shifting in a loop"),
    Hostile("x = f'{1:>500000000}'", WIDTH, "an f-string width of 500,000,000 (500 MB before)"),
    Hostile("n = 500000000\nx = f'{1:>{n}}'", WIDTH, "an f-string width from a variable"),
    Hostile("x = '%0500000000d' % 1", WIDTH, "a %-format width (2.4 GB before)"),
    Hostile("x = '%*d' % (500000000, 1)", "a * width or precision", "a %-format width from the values"),
    Hostile("x = format(1, '>500000000')", WIDTH, "format() with a huge width"),
    Hostile("x = f'{1.5:.500000000f}'", WIDTH, "an f-string precision of 500,000,000"),
    Hostile("x = 'a' * 10**9", REPEAT, "a text repeated a billion times"),
    Hostile("x = [0] * 10**9", REPEAT, "a list repeated a billion times"),
    Hostile("x = b'a' * 10**9", REPEAT, "bytes repeated a billion times"),
    Hostile("x = 'ab'\nx *= 10**9", REPEAT, "a repetition in place"),
    Hostile("x = int('9' * 10**6)", "Exceeds the limit (4300 digits)", "a million-digit number from a text"),
    Hostile("x = ','.join(['a'] * 1000000)", LONG, "a join of a million texts"),
    Hostile("x = 'a' * 1000000\nfor i in range(30):\n    x = x + x", LONG, "a text doubled in a loop"),
    Hostile("x = [1]\nfor i in range(40):\n    x.extend(x)", LONG, "a list extending itself"),
    Hostile("x = [[0] * 1000000] * 1000\ny = sum(x, [])", LONG, "sum() of long lists"),
    Hostile("x = 'a'.ljust(10**9)", LONG, "a text padded to a billion"),
    Hostile("x = 'a' * 1000000\ny = x.replace('a', 'bb')", LONG, "a replace that doubles a text"),
    Hostile("x = '\\t' * 100000\ny = x.expandtabs(100000)", LONG, "tabs expanded"),
    Hostile("x = '\\t' * 100000\ny = x.expandtabs(tabsize=100000)", LONG, "tabs expanded, the size by name"),
    Hostile("s = 'a' * 1000000\nx = [s] * 1000\ny = f'{x}'", LONG, "a list of one long text, formatted"),
    Hostile("s = 'a' * 1000000\nx = [s] * 1000\ny = repr(x)", LONG, "the same list through repr()"),
    Hostile("s = 'a' * 1000000\nx = [s] * 1000\ny = str(x)", LONG, "the same list through str()"),
    Hostile("s = 'a' * 1000000\nx = [s] * 1000\ny = '%s' % (x,)", LONG, "the same list through %s"),
    Hostile(
        "s = 'a' * 500000\nd = {str(i): s for i in range(1000)}\nx = '%s' % d",
        LONG,
        "a dict of one long text through %s",
    ),
    Hostile("s = 'a' * 1000000\nx = [s] * 1000", DATA, "the same list kept in the data (a gigabyte of JSON)"),
    Hostile("x = 'a' * 1000000", DATA, "a text of a million characters kept in the data"),
]


@dataclass(frozen=True)
class Ordinary:
    script: str
    expected: dict  # in the case's data after the start
    id: str


ORDINARY = [
    Ordinary(
        "total = amount * 3\nshare = amount ** 2\nbits = 1 << 10\nrest = 17 % 5",
        {"total": 300, "share": 10_000, "bits": 1024, "rest": 2},
        "arithmetic",
    ),
    Ordinary(
        "label = f'{title}: {amount:,.2f} USD ({amount!r})'\nline = '%s, %05.1f%%' % (title, 12.25)",
        {"label": "Floods: 100.00 USD (100)", "line": "Floods, 012.2%"},
        "formatting",
    ),
    Ordinary(
        "ref = format(amount, '>8') + '|'\nrule = '-' * 40\nparts = ', '.join(['a', 'b'])\npad = 'x'.center(5, '*')",
        {"ref": "     100|", "rule": "-" * 40, "parts": "a, b", "pad": "**x**"},
        "texts",
    ),
    Ordinary(
        "lines = [1, 2] + [3]\nlines.extend([4])\ntotal = sum(lines)\nflat = sum([[1], [2]], [])\nkey = repr(lines)\n"
        "text = str(total) + str(lines)\nis_text = isinstance(text, str)",
        {
            "lines": [1, 2, 3, 4],
            "total": 10,
            "flat": [1, 2],
            "key": "[1, 2, 3, 4]",
            "text": "10[1, 2, 3, 4]",
            "is_text": True,
        },
        "lists",
    ),
]


def _publish(world, script: str) -> None:
    diagram = (SCRIPTS / "hostile_script.bpmn").read_text().replace("SCRIPT", escape(script))
    publishing.publish(world.uow(), {"hostile_script.bpmn": diagram.encode()}, forms_dir=str(SCRIPTS / "forms"))


def _saved(world) -> tuple[int, int, int]:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tuple(
            tx.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, HumanTask, AuditEvent)
        )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_a_hostile_script_is_refused_quickly_with_422_naming_it_and_nothing_saved(app, world, case):
    _publish(world, case.script)
    api, before, peak = Api(app, world), _saved(world), _peak_mb()

    started = time.monotonic()
    response = api.start(PD_HTI, "HTI", {"amount": 100}, PROCESS)
    took = time.monotonic() - started

    assert response.status_code == 422, response.json
    assert case.says in response.json["error"] and "compute" in response.json["error"], response.json
    assert took < SECONDS, took
    assert _peak_mb() - peak < MEMORY_MB
    assert _saved(world) == before


def test_a_huge_power_of_constants_is_refused_at_validation(world):
    with pytest.raises(InvalidDiagram, match=r"compute: script 'x = 10\*\*10\*\*10' refused: .*at most 64"):
        _publish(world, "x = 10**10**10")


@pytest.mark.parametrize("case", ORDINARY, ids=[c.id for c in ORDINARY])
def test_ordinary_scripts_still_run(app, world, case):
    _publish(world, case.script)
    response = Api(app, world).start(PD_HTI, "HTI", {"amount": 100, "title": "Floods"}, PROCESS)
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert {key: data.get(key) for key in case.expected} == case.expected


@pytest.fixture
def data_limit():
    """Sets the limit of an instance's data for one test, then puts the one before back."""
    before = data_size.current()
    yield data_size.configure
    data_size.configure(before)


def test_a_task_answer_that_takes_the_data_past_the_limit_is_refused_and_the_task_stays_open(app, world, data_limit):
    _publish(world, "n = 1")
    api = Api(app, world)
    task_id = api.start(PD_HTI, "HTI", {}, PROCESS).json["tasks"][0]["id"]
    data_limit(10_000)
    before = _saved(world)

    response = api.complete(PD_HTI, task_id, {"note": "x" * 20_000})

    assert response.status_code == 422, response.json
    assert "more than 10,000 bytes" in response.json["error"] and "note" in response.json["error"]
    assert _saved(world) == before
    with world.db.unit_of_work(world.clock, write=False) as tx:
        assert tx.session.get(HumanTask, task_id).state == "open"
    assert api.complete(PD_HTI, task_id, {"note": "x" * 5_000}).status_code == 200


def test_a_message_payload_past_the_limit_is_refused_and_nothing_saved(app, world):
    """The payload is stored (the state, the message row) as many times as it names one text."""
    files = {"hostile_payload.bpmn": (SCRIPTS / "hostile_payload.bpmn").read_bytes()}
    publishing.publish(world.uow(), files)
    api, before, peak = Api(app, world), _saved(world), _peak_mb()

    response = api.start(PD_HTI, "HTI", {"size": 900_000, "copies": 1000}, "hostile_payload")

    assert response.status_code == 422, response.json
    assert "the payload of the message 'HostileSaid' would take more than 1,000,000 bytes" in response.json["error"]
    assert _peak_mb() - peak < MEMORY_MB
    assert _saved(world) == before
    assert api.start(PD_HTI, "HTI", {"size": 900_000, "copies": 1}, "hostile_payload").status_code == 201


def test_the_data_limit_is_read_from_the_settings(db, monkeypatch, data_limit):
    monkeypatch.setenv("DOEFLOW_MAX_INSTANCE_DATA_BYTES", "250000")
    config = settings.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    try:
        assert data_size.current() == 250_000
    finally:
        app.extensions["doeflow.db"].engine.dispose()
