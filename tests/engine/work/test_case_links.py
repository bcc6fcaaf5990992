"""The references that link cases are the generated ones: an EPPE's own reference is given by the
engine (whatever was typed), and a CERF call names one of its own office's EPPE references, chosen
from those the engine offers and checked at the server."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData
from engine.work import instances, start_drafts
from tests.processes.conftest import published_processes  # noqa: F401 - the fixture
from tests.processes.scenarios_cerf import HAITI_RR
from tests.processes.scenarios_eppe import HAITI_EPPE

PD_HTI, COM_HTI, COM_PAN = "project-developer@hti.demo", "chief-of-mission@hti.demo", "chief-of-mission@pan.demo"


def proposal(world, office="HTI", who=PD_HTI):
    typed = {**HAITI_EPPE["eppe_start"], "eppe_reference": "EPPE-HTI-2025-999"}
    return instances.start_instance(world.uow(), world.user(who), "eppe", office, typed)


def call(world, office: str, who: str, eppe_reference: str):
    data = {**HAITI_RR["cerf_call"], "eppe_reference": eppe_reference}
    return instances.start_instance(world.uow(), world.user(who), "cerf_application", office, data)


def test_an_eppe_holds_its_generated_reference_never_the_typed_one(world, published_processes):  # noqa: F811
    eppe = proposal(world)
    assert eppe.reference == "EPPE-HTI-2026-0001"
    assert eppe.data["eppe_reference"] == eppe.reference


def test_a_cerf_call_names_one_of_its_own_offices_eppes_and_nothing_else(world, published_processes):  # noqa: F811
    haiti = proposal(world)
    panama = proposal(world, "PAN", "project-developer@pan.demo")
    for wrong in (panama.reference, "EPPE-HTI-2026-0099", "EPPE-HTI-2025-014"):
        with pytest.raises(InvalidData) as refused:
            call(world, "HTI", COM_HTI, wrong)
        assert set(refused.value.fields) == {"eppe_reference"}, wrong
    opened = call(world, "HTI", COM_HTI, haiti.reference)
    assert opened.data["eppe_reference"] == haiti.reference


def test_the_start_form_offers_the_offices_eppe_references(world, published_processes):  # noqa: F811
    haiti = proposal(world)
    proposal(world, "PAN", "project-developer@pan.demo")
    page = start_drafts.start_page(world.uow(), world.user(COM_HTI), "cerf_application", "HTI")
    assert page.process.form["properties"]["eppe_reference"]["enum"] == [haiti.reference]
    page = start_drafts.start_page(world.uow(), world.user(COM_PAN), "cerf_application", "PAN")
    assert haiti.reference not in page.process.form["properties"]["eppe_reference"]["enum"]
