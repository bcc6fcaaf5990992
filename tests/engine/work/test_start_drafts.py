"""Start-form drafts: kept per person, process and office without validation, given back when the
start form opens again, only for who may start the process, and gone once the case is started."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData, NotFound
from engine.modeling import publishing
from engine.org import offices as org
from engine.store.models import StartDraft, User
from engine.work import instances, start_drafts
from tests.processes.conftest import FORMS, WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE

COM_HTI, COM_PAN = "chief-of-mission@hti.demo", "chief-of-mission@pan.demo"
RM_HTI = "resources-management@hti.demo"
START = HAITI_HURRICANE["mefm"]["mefm_request_start"]
HALF_DONE = {"title": "Hurricane Marisol bridge", "requested_amount_usd": "500k"}  # not valid: kept as typed


@pytest.fixture
def mefm(world):
    files = {name: (WORKFLOWS / name).read_bytes() for name in ("mefm_request.bpmn", "mefm_approval_authority.dmn")}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))


def save(world, who, data, office="HTI"):
    return start_drafts.save_start_draft(world.uow(), world.user(who), "mefm_request", office, lambda form: data)


def drafts(world) -> int:
    with world.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(StartDraft))


def test_a_draft_keeps_unvalidated_entries_and_the_start_form_gives_them_back(world, mefm):
    saved = save(world, COM_HTI, HALF_DONE)
    assert saved.saved and saved.saved_at == world.clock.now() and saved.values == HALF_DONE

    page = start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request")
    assert (page.office, page.values, page.saved_at) == ("HTI", HALF_DONE, world.clock.now())
    assert page.process.form["properties"]["title"]  # the start form comes with it


def test_saving_again_replaces_the_draft(world, mefm):
    save(world, COM_HTI, HALF_DONE)
    world.clock.advance(hours=2)
    save(world, COM_HTI, {**HALF_DONE, "justification": "roads cut"})
    page = start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request", "HTI")
    assert page.values["justification"] == "roads cut" and page.saved_at == world.clock.now()
    assert drafts(world) == 1


def test_drafts_are_per_person(world, mefm):
    save(world, COM_HTI, HALF_DONE)
    page = start_drafts.start_page(world.uow(), world.user(COM_PAN), "mefm_request")
    assert (page.office, page.values, page.saved_at) == ("PAN", {}, None)


def test_drafts_are_per_office_and_without_an_office_the_latest_is_opened(world, mefm):
    with world.uow() as uow:
        org.add_membership(
            uow.session, uow.session.scalar(select(User).where(User.email == COM_HTI)), "Chief of Mission", "PAN"
        )
        uow.commit()
    save(world, COM_HTI, {"title": "for Haiti"}, "HTI")
    world.clock.advance(minutes=5)
    save(world, COM_HTI, {"title": "for Panama"}, "PAN")
    assert start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request", "HTI").values == {
        "title": "for Haiti"
    }
    latest = start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request")
    assert (latest.office, latest.values) == ("PAN", {"title": "for Panama"})


def test_starting_the_case_deletes_its_draft_in_the_same_unit_of_work(world, mefm):
    save(world, COM_HTI, HALF_DONE)
    instances.start_instance(world.uow(), world.user(COM_HTI), "mefm_request", "HTI", START)
    assert drafts(world) == 0
    assert start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request").values == {}


def test_a_refused_start_keeps_the_draft(world, mefm):
    save(world, COM_HTI, HALF_DONE)
    with pytest.raises(InvalidData):
        instances.start_instance(world.uow(), world.user(COM_HTI), "mefm_request", "HTI", HALF_DONE)
    assert start_drafts.start_page(world.uow(), world.user(COM_HTI), "mefm_request").values == HALF_DONE


def test_only_who_may_start_the_process_keeps_a_draft(world, mefm):
    with pytest.raises(NotFound):
        save(world, RM_HTI, HALF_DONE)  # may not start an MEFM request at all
    with pytest.raises(NotFound):
        start_drafts.start_page(world.uow(), world.user(RM_HTI), "mefm_request")
    other_office = save(world, COM_PAN, HALF_DONE, "HTI")  # may start one, but not for Haiti
    assert not other_office.saved and other_office.errors == {"office": start_drafts.OFFICE_ERROR}
    assert other_office.values == HALF_DONE  # the entries come back to be shown again
    assert drafts(world) == 0


def test_a_draft_that_is_not_a_group_of_fields_is_refused(world, mefm):
    with pytest.raises(InvalidData):
        save(world, COM_HTI, ["not", "a", "form"])
    assert drafts(world) == 0
