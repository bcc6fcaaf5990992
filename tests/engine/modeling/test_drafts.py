"""Process managers' drafts: opened from a published version, saved with validation on every save,
published as the next version; running instances keep their version; nobody else may touch them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Conflict, InvalidData, PermissionDenied
from engine.modeling import drafts, publishing
from engine.work import instances, tasks
from tests.processes.conftest import FORMS, WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE

MANAGER = "process-manager@hq.demo"
MEFM = HAITI_HURRICANE["mefm"]
COM, RM = "chief-of-mission@hti.demo", "resources-management@hti.demo"
FILES = ("mefm_request.bpmn", "mefm_approval_authority.dmn")


@pytest.fixture
def mefm_v1(world):
    files = {name: (WORKFLOWS / name).read_bytes() for name in FILES}
    [published] = publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    return published


def submitted(world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    for who, data in ((RM, MEFM["mefm_budget_check"]), (COM, MEFM["mefm_com_submission"])):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, data)
    return instance


def review_due(world, instance_id):
    return instances.get_instance(world.uow(), world.user(COM), instance_id).tasks[0].due_at


def test_a_manager_changes_the_sla_publishes_version_2_and_running_instances_keep_48_hours(world, mefm_v1):
    old = submitted(world)
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "mefm_request")
    assert draft.based_on_version == 1 and draft.errors == [] and "forms/mefm_decision.json" in draft.files
    text = draft.files["mefm_request.bpmn"]
    assert text.count(">PT48H<") == 1

    broken = drafts.save(
        world.uow(), world.user(MANAGER), draft.id, {"mefm_request.bpmn": text.replace(">PT48H<", ">PT36 hours<")}
    )
    assert [(p["element"], p["severity"]) for p in broken.errors] == [("escalate_after_48h", "error")]
    assert "ISO 8601" in broken.errors[0]["message"] or "timer" in broken.errors[0]["message"]
    with pytest.raises(InvalidData):
        drafts.publish(world.uow(), world.user(MANAGER), draft.id)

    fixed = drafts.save(
        world.uow(), world.user(MANAGER), draft.id, {"mefm_request.bpmn": text.replace(">PT48H<", ">PT36H<")}
    )
    assert fixed.errors == []
    assert drafts.publish(world.uow(), world.user(MANAGER), draft.id).version == 2
    assert [v.version for v in drafts.versions(world.uow(), world.user(MANAGER), "mefm_request")] == [2, 1]

    new = submitted(world)
    assert instances.get_instance(world.uow(), world.user(COM), new.id).version == 2
    assert review_due(world, new.id) == world.clock.now() + timedelta(hours=36)
    assert instances.get_instance(world.uow(), world.user(COM), old.id).version == 1
    assert review_due(world, old.id) == world.clock.now() + timedelta(hours=48)


def test_forms_are_saved_validated_and_published_with_the_draft(world, mefm_v1):
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "mefm_request")
    bad = drafts.save(world.uow(), world.user(MANAGER), draft.id, {"forms/mefm_decision.json": '{"type": 5}'})
    assert [p["file"] for p in bad.errors] == ["forms/mefm_decision.json"]
    new_form = draft.files["forms/mefm_decision.json"].replace('"title": "Decision"', '"title": "Decision of the MEFM"')
    good = drafts.save(world.uow(), world.user(MANAGER), draft.id, {"forms/mefm_decision.json": new_form})
    assert good.errors == []
    drafts.publish(world.uow(), world.user(MANAGER), draft.id)
    files = drafts.version_files(world.uow(), world.user(MANAGER), "mefm_request", 2)
    assert files["forms/mefm_decision.json"] == new_form


def test_only_a_process_manager_may_open_save_or_publish(world, mefm_v1):
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "mefm_request")
    for who in ("admin@hq.demo", "regional-director@ro-americas.demo", COM):
        with pytest.raises(PermissionDenied):
            drafts.open_draft(world.uow(), world.user(who), "mefm_request")
        with pytest.raises(PermissionDenied):
            drafts.save(world.uow(), world.user(who), draft.id, {})
        with pytest.raises(PermissionDenied):
            drafts.publish(world.uow(), world.user(who), draft.id)


def test_a_save_over_someone_elses_newer_save_is_refused(world, mefm_v1):
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "mefm_request")
    drafts.save(world.uow(), world.user(MANAGER), draft.id, {}, revision=draft.revision)
    with pytest.raises(Conflict):
        drafts.save(world.uow(), world.user(MANAGER), draft.id, {}, revision=draft.revision)


def test_an_uploaded_diagram_becomes_a_draft_and_hostile_or_huge_files_are_refused(world):
    content = (WORKFLOWS.parents[1] / "tests" / "engine" / "diagrams" / "funding_review.bpmn").read_bytes()
    draft = drafts.import_diagram(world.uow(), world.user(MANAGER), "funding_review.bpmn", content)
    assert draft.process_id == "funding_review" and list(draft.files) == ["funding_review.bpmn"]
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    for name, body in (("bomb.bpmn", bomb), ("big.bpmn", b" " * 1_000_001), ("notes.txt", content), ("x.bpmn", b"<x>")):
        with pytest.raises(InvalidData):
            drafts.import_diagram(world.uow(), world.user(MANAGER), name, body)


def test_a_new_process_starts_from_a_start_event_and_warns_what_is_missing(world):
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "field_visit", name="Field visit")
    assert draft.process_id == "field_visit" and draft.diagram_name == "field_visit.bpmn"
    assert 'name="Field visit"' in draft.files["field_visit.bpmn"]
    with pytest.raises(InvalidData):
        drafts.open_draft(world.uow(), world.user(MANAGER), "not an id")
