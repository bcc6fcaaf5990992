"""The case list page (/cases), its CSV and XLSX exports, GET /api/v1/instances, and the inbox's
search, sortable columns and tab counts."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.org import users
from engine.org.users import hash_password
from engine.store.models import User
from engine.work import instances
from tests.web.people import COM, DIRECTOR, EFP, MEFM, PASSWORD, RM, Client

COM_PAN = "chief-of-mission@pan.demo"
HAITI_TITLE = MEFM["mefm_request_start"]["title"]


@pytest.fixture
def cases(site, world):
    """Two Haiti MEFM requests (one titled as a formula would start) and one of Panama."""
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == COM_PAN)).password_hash = hash_password(PASSWORD)
        uow.commit()
    start = MEFM["mefm_request_start"]
    made = {"haiti": instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", start)}
    world.clock.advance(hours=1)
    formula = {**start, "title": "=HYPERLINK(1) cholera bridge"}
    made["formula"] = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", formula)
    world.clock.advance(hours=1)
    darien = {**start, "title": "Darien reception bridge"}
    made["panama"] = instances.start_instance(world.uow(), world.user(COM_PAN), "mefm_request", "PAN", darien)
    return made


def browser(site, who: str) -> Client:
    client = Client(site)
    client.sign_in(who)
    return client


def test_the_page_lists_every_case_the_user_may_see_with_its_reference_sla_and_holder(site, cases):
    page = browser(site, DIRECTOR).get("/cases")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 cases" in html and "Darien reception bridge" in html and "cholera bridge" in html
    assert cases["haiti"].reference in html and "On time" in html
    assert "Resources Management" in html  # who holds the budget check: its role, nobody claimed it
    assert 'href="/cases"' in html and 'aria-current="page"' in html  # the header link, current


def test_a_panama_user_sees_lists_searches_and_exports_no_haiti_case(site, cases):
    panama = browser(site, COM_PAN)
    html = panama.get("/cases").get_data(as_text=True)
    assert "1 case" in html and "Darien" in html and "Marisol" not in html and "HTI" not in html
    assert "0 cases" in panama.get("/cases?q=marisol").get_data(as_text=True)
    exported = panama.get("/cases/export.csv").get_data(as_text=True)
    assert "Darien" in exported and "Marisol" not in exported and "HTI" not in exported
    sheet = load_workbook(io.BytesIO(panama.http.get("/cases/export.xlsx").data)).active
    assert [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["PAN"]


def test_the_filter_form_searches_filters_and_pages_without_javascript(site, cases):
    client = browser(site, DIRECTOR)
    html = client.get("/cases?q=marisol").get_data(as_text=True)
    assert "1 case" in html and cases["haiti"].reference in html and "Darien" not in html
    assert "Darien" in client.get("/cases?office=PAN&status=running").get_data(as_text=True)
    assert "0 cases" in client.get("/cases?status=completed").get_data(as_text=True)
    first = client.get("/cases?per_page=2").get_data(as_text=True)
    assert "page 1 of 2" in first and 'rel="next" href="/cases?per_page=2&amp;page=2"' in first
    second = client.get("/cases?per_page=2&page=2").get_data(as_text=True)
    assert "Marisol" in second and 'rel="prev"' in second  # the oldest, last on the newest-first list
    assert 'name="q" value="marisol"' in client.get("/cases?q=marisol").get_data(as_text=True)


def test_wrong_parameters_are_a_400_that_names_them(site, cases):
    client = browser(site, DIRECTOR)
    response = client.get("/cases?sla=late&page=0")
    assert response.status_code == 400 and "sla" in response.get_data(as_text=True)
    assert client.get("/cases/export.csv?status=open").status_code == 400


def test_the_csv_export_holds_the_filtered_rows_and_no_formula(site, cases):
    response = browser(site, DIRECTOR).get("/cases/export.csv?office=HTI")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == ["Reference", "Title", "Process", "Office", "Status", "SLA"]
    assert sorted(r[0] for r in rows[1:]) == sorted([cases["haiti"].reference, cases["formula"].reference])
    assert "'=HYPERLINK(1) cholera bridge" in [r[1] for r in rows]  # a text, not a formula
    assert all(r[-1].endswith(f"/instances/{r[-1].rsplit('/', 1)[1]}") for r in rows[1:])


def test_the_xlsx_export_opens_with_openpyxl_and_holds_the_rows(site, cases):
    response = browser(site, DIRECTOR).http.get("/cases/export.xlsx?q=bridge")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("Reference", "Title", "Process", "Office")
    assert {r[0] for r in rows} == {c.reference for c in cases.values()}
    formula = next(r for r in rows if r[0] == cases["formula"].reference)
    assert formula[1] == "=HYPERLINK(1) cholera bridge"  # kept as a text cell
    cell = next(c for c in sheet["B"] if c.value == "=HYPERLINK(1) cholera bridge")
    assert cell.data_type == "s"


def test_the_api_lists_searches_and_counts_the_callers_cases(site, world, cases):
    client = site.test_client()
    token = users.issue_token(world.uow(), DIRECTOR)
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/instances?q=marisol", headers=auth).get_json()
    assert body["total"] == 1 and body["instances"][0]["reference"] == cases["haiti"].reference
    assert body["instances"][0]["sla"] == "on_time" and body["instances"][0]["holder"] == "Resources Management"
    paged = client.get("/api/v1/instances?per_page=2&page=2&sort=started", headers=auth).get_json()
    assert (paged["total"], len(paged["instances"]), paged["page"]) == (3, 1, 2)
    panama = {"Authorization": f"Bearer {users.issue_token(world.uow(), COM_PAN)}"}
    listed = client.get("/api/v1/instances", headers=panama).get_json()
    assert listed["total"] == 1 and [i["office"] for i in listed["instances"]] == ["PAN"]


def test_the_api_refuses_wrong_parameters_with_400_naming_them(site, world, cases):
    client = site.test_client()
    auth = {"Authorization": f"Bearer {users.issue_token(world.uow(), DIRECTOR)}"}
    response = client.get("/api/v1/instances?sla=late&per_page=9999&colour=red", headers=auth)
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"sla", "per_page", "colour"}
    assert client.get("/api/v1/instances").status_code == 401


def test_the_inbox_searches_sorts_by_column_and_counts_its_tabs(site, world, cases):
    client = browser(site, RM)
    html = client.get("/").get_data(as_text=True)
    assert 'All my work <span class="count">2</span>' in html  # the two Haiti budget checks
    assert 'Started by me <span class="count">0</span>' in html
    searched = client.get("/?q=cholera").get_data(as_text=True)
    assert "cholera bridge" in searched and "Marisol" not in searched
    assert 'All my work <span class="count">1</span>' in searched
    assert 'href="/?tab=mine&amp;q=cholera"' in searched  # the tabs keep the search
    by_case = client.get("/?sort=case").get_data(as_text=True)
    assert by_case.index("cholera bridge") < by_case.index("Marisol")  # "=HYPERLINK..." sorts first
    assert '<span class="sorted">Case ▲</span>' in by_case and 'href="/?tab=all&amp;sort=due"' in by_case
    started = browser(site, COM).get("/?tab=started&q=marisol").get_data(as_text=True)
    assert "Marisol" in started and "cholera" not in started
    assert 'Started by me <span class="count">1</span>' in started


def test_the_page_speaks_spanish(site, world, cases):
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == EFP)).language = "es"
        uow.commit()
    html = browser(site, EFP).get("/cases").get_data(as_text=True)
    assert "Casos" in html and "3 casos" in html and "Exportar CSV" in html and "A tiempo" in html
