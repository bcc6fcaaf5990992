"""Publishing diagrams as versions; instances stay on the version they started with."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidDiagram
from engine.store.models import ProcessVersion
from engine.work import instances, tasks
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import APPROVER, DRAFT, EFP, PD_HTI, only_task, start

# Version 2 adds a finance check after the approval.
V2 = {
    "<bpmn:flowNodeRef>end_approved</bpmn:flowNodeRef>": "<bpmn:flowNodeRef>end_approved</bpmn:flowNodeRef><bpmn:flowNodeRef>finance</bpmn:flowNodeRef>",
    '<bpmn:sequenceFlow id="f_script_end" sourceRef="set_reference" targetRef="end_approved"/>': '<bpmn:sequenceFlow id="f_script_end" sourceRef="set_reference" targetRef="finance"/>'
    '<bpmn:userTask id="finance" name="Record the transfer"><bpmn:incoming>f_script_end</bpmn:incoming>'
    "<bpmn:outgoing>f_finance_end</bpmn:outgoing></bpmn:userTask>"
    '<bpmn:sequenceFlow id="f_finance_end" sourceRef="finance" targetRef="end_approved"/>',
    "<bpmn:incoming>f_script_end</bpmn:incoming>\n    </bpmn:endEvent>": "<bpmn:incoming>f_finance_end</bpmn:incoming>\n    </bpmn:endEvent>",
}


def version_count(world) -> int:
    with world.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessVersion))


def test_publishing_the_same_file_twice_makes_one_version(world):
    first = publish(world, diagram("funding_review.bpmn"))
    again = publish(world, diagram("funding_review.bpmn"))
    assert [(p.process_id, p.version, p.created) for p in first] == [("funding_review", 1, True)]
    assert [(p.process_id, p.version, p.created) for p in again] == [("funding_review", 1, False)]
    assert version_count(world) == 1


def test_a_version_freezes_the_forms_its_tasks_name(world):
    publish(world, diagram("funding_review.bpmn"))
    with world.db.unit_of_work(write=False) as uow:
        files = uow.session.scalar(select(ProcessVersion.files))
    assert sorted(files) == ["forms/test_draft.json", "forms/test_review.json", "funding_review.bpmn"]


def test_a_changed_file_makes_version_2_while_a_version_1_instance_finishes_on_version_1(world):
    publish(world, diagram("funding_review.bpmn"))
    old = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, old.id).id, DRAFT)

    [v2] = publish(world, diagram("funding_review.bpmn", **V2))
    assert (v2.version, v2.created) == (2, True)
    new = start(world)
    assert (old.version, new.version) == (1, 2)

    for instance in (old, new):
        if instance is new:
            tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, new.id).id, DRAFT)
        tasks.complete_task(
            world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "recommend"}
        )
    old_done = tasks.complete_task(world.uow(), world.user(APPROVER), only_task(world, APPROVER, old.id).id, {})
    new_next = tasks.complete_task(world.uow(), world.user(APPROVER), only_task(world, APPROVER, new.id).id, {})

    assert old_done.status == "completed" and old_done.version == 1
    assert new_next.status == "running" and [t.title for t in new_next.tasks] == ["Record the transfer"]


def test_a_diagram_with_a_hostile_script_is_refused_and_nothing_is_published(world):
    hostile = diagram(
        "funding_review.bpmn",
        **{"reference = 'FR-' + office + '-' + str(int(amount))": "reference = __import__('os').getcwd()"},
    )
    with pytest.raises(InvalidDiagram) as refused:
        publish(world, hostile)
    [problem] = refused.value.problems
    assert (problem.file, problem.element) == ("funding_review.bpmn", "set_reference")
    assert problem.line and "__import__" in problem.message
    assert version_count(world) == 0


@pytest.mark.parametrize(
    "condition", ["open('/etc/passwd').read() != ''", "eval('1') == 1", "decision.__class__ == str"]
)
def test_a_hostile_gateway_condition_is_refused(world, condition):
    hostile = diagram("funding_review.bpmn", **{"decision == 'return'": condition})
    with pytest.raises(InvalidDiagram) as refused:
        publish(world, hostile)
    assert [p.element for p in refused.value.problems] == ["f_return"]
    assert version_count(world) == 0


def test_start_uses_the_latest_version_and_reading_keeps_the_instance_version(world):
    publish(world, diagram("funding_review.bpmn"))
    old = start(world)
    publish(world, diagram("funding_review.bpmn", **V2))
    assert instances.get_instance(world.uow(), world.user(PD_HTI), old.id).version == 1
