"""Emergencies in the browser (/emergencies, /emergencies/<id>) and in the API (/api/v1/emergencies):
declared by the regional office, seen only where the office is, changed with the history kept, and
the cases started for them."""

from __future__ import annotations

from sqlalchemy import select

from engine.org.users import hash_password
from engine.store.models import User
from engine.work import emergencies, instances
from tests.web.api_fixtures import api_fixture  # noqa: F401 - the fixture `api`
from tests.web.people import COM, DIRECTOR, EFP, MEFM, PASSWORD, RM, Client

COM_PAN = "chief-of-mission@pan.demo"
START = MEFM["mefm_request_start"]
DECLARE = {
    "office": "HTI",
    "name": "Hurricane Marisol",
    "crisis_type": "hurricane_tropical_storm",
    "level": "L2",
    "onset_date": "2025-09-14",
}


def browser(site, who: str) -> Client:
    client = Client(site)
    client.sign_in(who)
    return client


def declared(world, office="HTI", name="Hurricane Marisol"):
    facts = {k: v for k, v in DECLARE.items() if k != "office"} | {"name": name}
    return emergencies.declare_emergency(world.uow(), world.user(DIRECTOR), office, **facts)


# --- pages -----------------------------------------------------------------------------------------


def test_the_regional_director_declares_an_emergency_from_the_page(site, world):
    director = browser(site, DIRECTOR)
    page = director.get("/emergencies")
    assert "Declare an emergency" in page.get_data(as_text=True)
    response = director.post("/emergencies", DECLARE)
    assert response.status_code == 302 and "/emergencies/" in response.headers["Location"]
    shown = director.get(response.headers["Location"]).get_data(as_text=True)
    assert "EM-HTI-2026-0001" in shown and "Hurricane Marisol" in shown and "declared it at L2" in shown
    assert "Close the emergency" in shown


def test_a_wrong_declaration_comes_back_with_its_entries_and_what_is_wrong(site, world):
    director = browser(site, DIRECTOR)
    director.get("/emergencies")
    response = director.post("/emergencies", {**DECLARE, "level": "L7"})
    assert response.status_code == 302
    html = director.get(response.headers["Location"]).get_data(as_text=True)
    assert "Level: Choose one of: L1, L2, L3." in html and 'value="Hurricane Marisol"' in html
    assert emergencies.emergency_list(world.uow(), world.user(DIRECTOR)).emergencies == []


def test_a_country_office_role_sees_the_emergency_but_may_not_declare_or_change_it(site, world):
    marisol = declared(world)
    com = browser(site, COM)
    listed = com.get("/emergencies").get_data(as_text=True)
    assert "Hurricane Marisol" in listed and "Declare an emergency" not in listed
    assert com.post("/emergencies", DECLARE).status_code == 403
    assert "Close the emergency" not in com.get(f"/emergencies/{marisol.id}").get_data(as_text=True)
    assert com.post(f"/emergencies/{marisol.id}", {"level": "L3"}).status_code == 403


def test_another_office_neither_lists_nor_opens_the_emergency(site, world):
    marisol = declared(world)
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == COM_PAN)).password_hash = hash_password(PASSWORD)
        uow.commit()
    panama = browser(site, COM_PAN)
    assert "Hurricane Marisol" not in panama.get("/emergencies").get_data(as_text=True)
    assert panama.get(f"/emergencies/{marisol.id}").status_code == 404


def test_the_page_changes_the_level_and_closes_with_the_history_shown(site, world):
    marisol = declared(world)
    efp = browser(site, EFP)
    efp.get(f"/emergencies/{marisol.id}")
    assert efp.post(f"/emergencies/{marisol.id}", {"level": "L3", "note": "Landfall."}).status_code == 302
    assert efp.post(f"/emergencies/{marisol.id}", {"level": "L3", "status": "closed"}).status_code == 302
    html = efp.get(f"/emergencies/{marisol.id}").get_data(as_text=True)
    assert "changed the level from L2 to L3" in html and "Landfall." in html and "closed it" in html
    assert "Reopen the emergency" in html


def test_the_header_links_to_the_emergencies(site):
    assert 'href="/emergencies"' in browser(site, COM).get("/").get_data(as_text=True)


# --- API -------------------------------------------------------------------------------------------


def test_api_declares_lists_and_reads_an_emergency_with_its_cases(api, world):
    made = api.post("/emergencies", DIRECTOR, DECLARE)
    assert made.status_code == 201, made.json
    assert made.json["reference"] == "EM-HTI-2026-0001" and made.json["status"] == "active"
    assert made.headers["Location"].endswith(f"/api/v1/emergencies/{made.json['id']}")
    body = {"office": "HTI", "data": START, "emergency_id": made.json["id"]}
    case = api.post("/processes/mefm_request/instances", COM, body)
    assert case.status_code == 201, case.json
    assert case.json["emergency_id"] == made.json["id"] and case.json["reference"].startswith("MEFM-HTI-")
    assert api.get(f"/instances/{case.json['id']}", COM).json["emergency_id"] == made.json["id"]
    listed = api.get("/emergencies?office=HTI&status=active", COM).json["emergencies"]
    assert [e["id"] for e in listed] == [made.json["id"]]
    one = api.get(f"/emergencies/{made.json['id']}", COM).json
    assert [c["reference"] for c in one["cases"]] == [case.json["reference"]]
    assert [e["kind"] for e in one["events"]] == ["declared"]


def test_api_refusals_another_office_404_a_country_role_403_bad_facts_400(api, world):
    marisol = api.post("/emergencies", DIRECTOR, DECLARE).json
    assert api.post("/emergencies", COM, DECLARE).status_code == 403
    assert api.post("/emergencies", COM_PAN, DECLARE).status_code == 404
    assert api.get(f"/emergencies/{marisol['id']}", COM_PAN).status_code == 404
    assert api.call("PATCH", f"/emergencies/{marisol['id']}", COM_PAN, json={"level": "L3"}).status_code == 404
    assert api.call("PATCH", f"/emergencies/{marisol['id']}", COM, json={"level": "L3"}).status_code == 403
    wrong = api.post("/emergencies", DIRECTOR, {**DECLARE, "level": "L5", "extra": 1})
    assert wrong.status_code == 400 and set(wrong.json["fields"]) == {"extra"}
    wrong = api.post("/emergencies", DIRECTOR, {**DECLARE, "level": "L5"})
    assert wrong.status_code == 400 and set(wrong.json["fields"]) == {"level"}
    assert api.get("/emergencies?status=open", DIRECTOR).status_code == 400


def test_api_patch_changes_level_and_a_closed_emergency_takes_no_new_case(api, world):
    marisol = api.post("/emergencies", DIRECTOR, DECLARE).json
    raised = api.call("PATCH", f"/emergencies/{marisol['id']}", EFP, json={"level": "L3"})
    assert raised.status_code == 200 and raised.json["level"] == "L3"
    assert [(e["previous_level"], e["level"]) for e in raised.json["events"]] == [(None, "L2"), ("L2", "L3")]
    closed = api.call("PATCH", f"/emergencies/{marisol['id']}", DIRECTOR, json={"status": "closed"})
    assert closed.json["status"] == "closed"
    body = {"office": "HTI", "data": START, "emergency_id": marisol["id"]}
    refused = api.post("/processes/mefm_request/instances", COM, body)
    assert refused.status_code == 400 and "emergency_id" in refused.json["fields"]
    assert api.get("/emergencies?status=active", DIRECTOR).json["emergencies"] == []


# --- the start page --------------------------------------------------------------------------------


def test_the_start_page_offers_the_active_emergencies_and_stops_asking_their_level(site, world):
    marisol = declared(world)
    com = browser(site, COM)
    plain = com.get("/start/mefm_request").get_data(as_text=True)
    assert f'<option value="{marisol.id}"' in plain and 'name="emergency_level"' in plain
    chosen = com.get(f"/start/mefm_request?emergency_id={marisol.id}").get_data(as_text=True)
    assert 'name="emergency_level"' not in chosen and 'name="crisis_type"' not in chosen
    assert f'name="emergency_id" value="{marisol.id}"' in chosen and "come from the emergency" in chosen
    form = {"office": "HTI", "_action": "start", "emergency_id": str(marisol.id)}
    form |= {k: str(v) for k, v in START.items() if k not in ("activities", "emergency_level", "crisis_type")}
    form |= {f"activities.{i}.{k}": str(v) for i, row in enumerate(START["activities"]) for k, v in row.items()}
    response = com.post("/start/mefm_request", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [case] = emergencies.get_emergency(world.uow(), world.user(COM), marisol.id).cases
    assert case.process_id == "mefm_request"


def test_the_start_page_refuses_a_closed_emergency(site, world):
    marisol = declared(world)
    emergencies.change_emergency(world.uow(), world.user(DIRECTOR), marisol.id, status="closed")
    com = browser(site, COM)
    assert f'<option value="{marisol.id}"' not in com.get("/start/mefm_request").get_data(as_text=True)
    form = {"office": "HTI", "_action": "start", "emergency_id": str(marisol.id), "title": "Late"}
    response = com.post("/start/mefm_request", form)
    assert response.status_code == 400 and "closed" in response.get_data(as_text=True)


def test_the_inbox_rows_and_the_api_inbox_name_the_cases_reference(site, world, api):
    case = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", START)
    assert case.reference in browser(site, RM).get("/").get_data(as_text=True)
    [task] = api.inbox(RM, case.id)
    assert task["instance_reference"] == case.reference
