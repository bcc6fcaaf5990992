"""The demo instances a new installation gets: every scenario starts and reaches its step."""

from __future__ import annotations

import json

from engine.modeling import publishing
from engine.work import demo, emergencies, tasks
from tests.processes.conftest import FORMS, shipped_files


def test_each_demo_scenario_starts_and_waits_at_its_step_once(world):
    publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    loaded = demo.load_instances(world.db, world.clock)
    wanted = json.loads(demo.DEMO_FILE.read_text())["instances"]
    assert [entry.name for entry in loaded] == [entry["name"] for entry in wanted]
    assert [entry.waiting_at for entry in loaded] == [
        ["Review the request for the region"],
        ["Decide the request"],
        ["Draft the proposal"],
        ["Agree the sector and the IOM share"],
    ]
    inbox = tasks.inbox(world.uow(), world.user("emergency-focal-point@ro-americas.demo"))
    assert loaded[0].instance_id in {t.instance_id for t in inbox}
    assert demo.load_instances(world.db, world.clock) == []  # a database with instances is left alone


def test_the_demo_cases_belong_to_the_emergencies_of_their_scenarios(world):
    publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    loaded = demo.load_instances(world.db, world.clock)
    director = world.user("regional-director@ro-americas.demo")
    found = emergencies.emergency_list(world.uow(), director).emergencies
    assert sorted(e.office for e in found) == ["GTM", "HND", "HTI", "PAN"]
    marisol = emergencies.get_emergency(world.uow(), director, next(e.id for e in found if e.office == "HTI"))
    assert marisol.level == "L3" and [e.kind for e in marisol.events] == ["declared", "level"]
    assert [c.id for c in marisol.cases] == [loaded[0].instance_id]
    every_case = {c.id for e in found for c in emergencies.get_emergency(world.uow(), director, e.id).cases}
    assert every_case == {entry.instance_id for entry in loaded}
