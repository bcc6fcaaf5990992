"""The SLA report page (/reports), its SVG charts and GET /api/v1/reports/sla: the tables beside
the charts, the period and the scope, 403 for country roles and 400 for bad dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from engine.org import users
from engine.store.models import CaseDecision
from engine.work import instances, tasks
from tests.web.people import COM, DIRECTOR, MEFM, Client

START = MEFM["mefm_request_start"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def decided(site, world):
    """Three MEFM requests of Haiti and one of Panama recorded as decided: in 10, 20 and 60 hours
    (the last breached), and Panama's in 5."""
    made = []
    for office, hours, breached in (("HTI", 10, False), ("HTI", 20, False), ("HTI", 60, True), ("PAN", 5, False)):
        who = COM if office == "HTI" else "chief-of-mission@pan.demo"
        case = instances.start_instance(world.uow(), world.user(who), "mefm_request", office, START)
        made.append(case)
        with world.uow() as uow:
            at = world.clock.now() - timedelta(minutes=len(made))
            uow.session.add(
                CaseDecision(
                    instance_id=case.id,
                    process_id="mefm_request",
                    office_code=office,
                    decided_at=at,
                    hours=hours,
                    breached=breached,
                    outcome="approved",
                )
            )
            uow.commit()
    return made


def browser(site, who: str) -> Client:
    client = Client(site)
    client.sign_in(who)
    return client


def test_the_page_shows_each_chart_with_its_table_and_the_header_link(site, decided):
    page = browser(site, DIRECTOR).get("/reports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "4 decided, 3 within the SLA, 1 breached" in html
    assert html.count('<img src="/reports/charts/') == 4 and 'aria-describedby="t-compliance"' in html
    rows = etree.HTML(html).xpath('//table[@id="t-compliance"]/tbody/tr')
    cells = [[td.text for td in row.findall("td")][1:] for row in rows]
    assert cells == [["HTI", "2026-11", "3", "2", "1", "20.0", "52.0"], ["PAN", "2026-11", "1", "1", "0", "5.0", "5.0"]]
    assert 'href="/reports"' in html and "<style" not in html and "<script" not in html


def test_a_chart_is_an_svg_image_with_its_title_and_description_and_no_script(site, decided):
    response = browser(site, DIRECTOR).get("/reports/charts/compliance.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    svg = etree.fromstring(response.data)
    assert svg.find(f"{SVG}title").text == "Decisions within the SLA and breached, by month"
    assert svg.find(f"{SVG}desc").text == "4 cases decided, 3 within the SLA, 1 breached."
    assert not list(svg.iter(f"{SVG}script"))
    for name in ("decision_hours", "steps", "cerf"):
        assert browser(site, DIRECTOR).get(f"/reports/charts/{name}.svg").status_code == 200
    assert browser(site, DIRECTOR).get("/reports/charts/pie.svg").status_code == 404


def test_the_report_is_in_the_readers_language(site, decided, world):
    client = browser(site, DIRECTOR)
    client.get("/")
    client.post("/language", {"language": "es"})
    html = client.get("/reports").get_data(as_text=True)
    assert "Informe de SLA y operaciones" in html
    svg = etree.fromstring(client.get("/reports/charts/compliance.svg").data)
    assert svg.find(f"{SVG}title").text == "Decisiones dentro del SLA y con incumplimiento, por mes"
    assert svg.get("lang") == "es"


def test_country_roles_get_403_and_no_header_link(site, decided):
    client = browser(site, COM)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/charts/compliance.svg").status_code == 403
    assert 'href="/reports"' not in client.get("/").get_data(as_text=True)


def test_bad_dates_are_a_400_naming_them(site, decided):
    client = browser(site, DIRECTOR)
    assert client.get("/reports?from=2026-02-30").status_code == 400
    assert client.get("/reports?from=2026-12-01&to=2026-11-01").status_code == 400


def test_the_api_gives_the_rows_scoped_and_refuses_bad_dates_and_country_roles(site, decided, world):
    client = site.test_client()

    def get(who: str, query: str = ""):
        token = users.issue_token(world.uow(), who)
        return client.get(f"/api/v1/reports/sla{query}", headers={"Authorization": f"Bearer {token}"})

    body = get(DIRECTOR).get_json()
    assert body["rows"][0] == {
        "process": "mefm_request",
        "office": "HTI",
        "month": "2026-11",
        "decided": 3,
        "within_sla": 2,
        "breached": 1,
        "median_hours": 20.0,
        "p90_hours": 52.0,
    }
    assert [r["office"] for r in get(DIRECTOR, "?office=PAN").get_json()["rows"]] == ["PAN"]
    assert get(DIRECTOR, "?process=eppe").get_json()["rows"] == []
    refused = get(DIRECTOR, "?from=yesterday")
    assert refused.status_code == 400 and "from" in refused.get_json()["fields"]
    assert get(COM).status_code == 403


def test_the_diagram_heat_gives_the_median_hours_per_step_of_the_offices_seen(site, world):
    start = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", START)
    world.clock.advance(hours=3)
    client = browser(site, DIRECTOR)
    assert client.get("/reports/heat/mefm_request").get_json() == {"steps": {}}
    rm = world.user("resources-management@hti.demo")
    [task] = [t for t in tasks.inbox(world.uow(), rm) if t.instance_id == start.id]
    tasks.complete_task(world.uow(), rm, task.id, MEFM["mefm_budget_check"])
    heat = client.get("/reports/heat/mefm_request").get_json()["steps"]
    assert heat == {"check_budget": {"done": 1, "median_hours": 3.0}}
    assert client.get("/reports/heat/mefm_request?office=PAN").get_json() == {"steps": {}}
    assert browser(site, COM).get("/reports/heat/mefm_request").status_code == 403
    page = client.get(f"/instances/{start.id}").get_data(as_text=True)
    assert 'data-heat="/reports/heat/PROCESS"' in page
    assert "data-heat" not in browser(site, COM).get(f"/instances/{start.id}").get_data(as_text=True)
