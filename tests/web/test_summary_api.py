"""`summary` in the instance answers of the API: the case's key facts, labelled and worded in the
caller's language, never internal codes."""

from __future__ import annotations

from tests.processes.scenarios import HAITI_HURRICANE
from tests.web.api_fixtures import (
    CHIEF_OF_MISSION_HTI,
    RESOURCES_MANAGEMENT_HTI,
    api_fixture,  # noqa: F401
)

START = HAITI_HURRICANE["mefm"]["mefm_request_start"]


def test_an_instance_carries_its_summary_with_labels_and_option_words(api):
    started = api.start(CHIEF_OF_MISSION_HTI, "HTI", START)
    assert started.status_code == 201, started.json
    summary = {row["label"]: row["value"] for row in started.json["summary"]}
    assert summary["Request title"] == START["title"]
    assert summary["Amount requested (USD)"] == "500,000"
    assert summary["Type of crisis"] == "Hurricane or tropical storm"
    assert summary["Onset date"] == "14 Sep 2025"
    lines = summary["Activities for the first weeks"]
    assert lines.startswith("Sector: Shelter and non-food items (NFI), Activity: 5,000 NFI kits") and "; " in lines

    again = api.get(f"/instances/{started.json['id']}", RESOURCES_MANAGEMENT_HTI)
    assert again.status_code == 200 and again.json["summary"] == started.json["summary"]


def test_the_summary_speaks_the_callers_language(api):
    started = api.start(CHIEF_OF_MISSION_HTI, "HTI", START)
    shown = api.get(f"/instances/{started.json['id']}", CHIEF_OF_MISSION_HTI, headers={"Accept-Language": "es"})
    summary = {row["label"]: row["value"] for row in shown.json["summary"]}
    assert summary["Monto solicitado (USD)"] == "500\u00a0000"
    assert summary["Tipo de crisis"] == "Huracán o tormenta tropical"
