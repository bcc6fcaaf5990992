"""The `human_task` projection: every ready user or manual task of an instance as a row, with the
role (its lane) and the office in which that role is held, so the inbox never reads workflow state."""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from ..bpmn import execution
from ..bpmn.parser import form_key
from ..org.offices import candidate_office
from ..store.models import HumanTask, ProcessInstance
from ..store.uow import Transaction


def sync_human_tasks(tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[HumanTask]:
    """Bring the projection in line with the workflow; returns the tasks that became open."""
    session = tx.session
    ready = {str(t.id): t for t in execution.ready_human_tasks(workflow)}
    open_rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    ).all()
    for row in open_rows:
        if row.id in ready:
            row.due_at = execution.due_time(ready.pop(row.id))
            continue
        task = execution.find_task(workflow, row.id)
        row.state = "completed" if task is not None and task.has_state(TaskState.COMPLETED) else "cancelled"
        row.completed_at = tx.now()

    created = []
    for task_id, task in ready.items():
        lane = task.task_spec.lane
        row = HumanTask(
            id=task_id,
            instance_id=instance.id,
            process_id=instance.process_id,
            element_id=task.task_spec.bpmn_id or task.task_spec.name,
            title=task.task_spec.bpmn_name or task.task_spec.bpmn_id or "Task",
            lane=lane,
            form_key=form_key(task.task_spec),
            office_code=instance.office_code,
            candidate_role=lane,
            candidate_office=candidate_office(session, lane, instance.office_code),
            # A task in no lane belongs to whoever started the instance.
            assignee_id=None if lane else instance.started_by_id,
            state="open",
            created_at=tx.now(),
            due_at=execution.due_time(task),
        )
        session.add(row)
        created.append(row)
    return created
