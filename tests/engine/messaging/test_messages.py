"""Messages between processes: a thrown message starts the process that catches it, or reaches the
instance waiting for it with the same reference; a message nobody waits for is kept, not dropped."""

from __future__ import annotations

from sqlalchemy import select

from engine.messaging import delivery as messages
from engine.store.models import Message, ProcessInstance
from engine.work import instances, tasks
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import PD_HTI, only_task

COM = "chief-of-mission@hti.demo"
FINANCE = "finance@hq.demo"


def publish_all(world, *names):
    files = {}
    for name in names:
        files.update(diagram(name))
    return publish(world, files)


def message_rows(world):
    with world.db.unit_of_work(write=False) as uow:
        return [
            (m.name, m.state, m.target_instance_id) for m in uow.session.scalars(select(Message).order_by(Message.id))
        ]


def test_a_thrown_message_starts_the_process_whose_start_event_catches_it(world):
    publish_all(world, "request_funds.bpmn", "fund_on_request.bpmn")
    asking = instances.start_instance(
        world.uow(), world.user(PD_HTI), "request_funds", "HTI", {"reference": "EPPE-HTI-7", "amount": 250000}
    )
    done = tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, asking.id).id, {})
    assert done.status == "completed"

    [(name, state, target)] = message_rows(world)
    assert (name, state) == ("FundsNeeded", "delivered")
    started = instances.get_instance(world.uow(), world.user(COM), target)
    assert (started.process_id, started.office, started.title) == ("fund_on_request", "HTI", "Bridge for EPPE-HTI-7")
    assert started.data["reference"] == "EPPE-HTI-7" and started.data["amount"] == 250000
    assert [t.title for t in started.tasks] == ["Prepare the request"]
    assert started.events[0].outcome == "message FundsNeeded"
    assert [e.kind for e in instances.get_instance(world.uow(), world.user(PD_HTI), asking.id).events][-2:] == [
        "message_sent",
        "completed",
    ]


def test_a_message_kept_unmatched_starts_the_process_published_after_it(world):
    publish_all(world, "request_funds.bpmn")
    asking = instances.start_instance(
        world.uow(), world.user(PD_HTI), "request_funds", "HTI", {"reference": "EPPE-HTI-8", "amount": 90000}
    )
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, asking.id).id, {})
    assert message_rows(world) == [("FundsNeeded", "unmatched", None)]

    publish_all(world, "fund_on_request.bpmn")
    [(name, state, target)] = message_rows(world)
    assert (name, state) == ("FundsNeeded", "delivered")
    started = instances.get_instance(world.uow(), world.user(COM), target)
    assert (started.process_id, started.data["reference"]) == ("fund_on_request", "EPPE-HTI-8")


def test_a_process_with_a_message_start_can_still_be_started_by_hand(world):
    publish_all(world, "fund_on_request.bpmn")
    started = instances.start_instance(world.uow(), world.user(COM), "fund_on_request", "HTI", {})
    done = tasks.complete_task(world.uow(), world.user(COM), only_task(world, COM, started.id).id, {})
    assert done.status == "completed"


def test_a_message_reaches_only_the_instance_waiting_for_its_reference(world):
    publish_all(world, "await_repayment.bpmn", "repay.bpmn")
    finance = world.user(FINANCE)
    loans = {
        ref: instances.start_instance(world.uow(), finance, "await_repayment", "HTI", {"reference": ref}).id
        for ref in ("MEFM-1", "MEFM-2")
    }
    instances.start_instance(world.uow(), finance, "repay", "HTI", {"loan_reference": "MEFM-2", "amount": 90000})

    assert message_rows(world) == [("FundsRepaid", "delivered", loans["MEFM-2"])]
    repaid = instances.get_instance(world.uow(), finance, loans["MEFM-2"])
    assert [t.title for t in repaid.tasks] == ["Record the repayment"]
    assert instances.get_instance(world.uow(), finance, loans["MEFM-1"]).tasks == []  # still waiting


def test_a_message_nobody_waits_for_is_kept_and_delivered_when_a_receiver_appears(world):
    publish_all(world, "await_repayment.bpmn", "repay.bpmn")
    finance = world.user(FINANCE)
    instances.start_instance(world.uow(), finance, "repay", "HTI", {"loan_reference": "MEFM-9", "amount": 1})
    assert message_rows(world) == [("FundsRepaid", "unmatched", None)]
    assert [m.name for m in messages.undelivered(world.db.unit_of_work())] == ["FundsRepaid"]

    loan = instances.start_instance(world.uow(), finance, "await_repayment", "HTI", {"reference": "MEFM-9"})
    assert message_rows(world) == [("FundsRepaid", "delivered", loan.id)]
    assert [t.title for t in instances.get_instance(world.uow(), finance, loan.id).tasks] == ["Record the repayment"]
    assert messages.undelivered(world.db.unit_of_work()) == []


def test_a_message_is_delivered_once_even_if_delivery_runs_twice(world):
    publish_all(world, "await_repayment.bpmn", "repay.bpmn")
    finance = world.user(FINANCE)
    loan = instances.start_instance(world.uow(), finance, "await_repayment", "HTI", {"reference": "MEFM-3"})
    instances.start_instance(world.uow(), finance, "repay", "HTI", {"loan_reference": "MEFM-3", "amount": 5})
    assert messages.deliver_pending(world.db, world.clock) == messages.DeliveryResult()
    with world.db.unit_of_work(write=False) as uow:
        assert uow.session.get(ProcessInstance, loan.id).status == "running"
    events = instances.get_instance(world.uow(), finance, loan.id).events
    assert [e.kind for e in events].count("message_received") == 1


def test_a_hostile_message_payload_is_refused_at_publishing(world):
    import pytest

    from engine.errors import InvalidDiagram

    hostile = diagram(
        "repay.bpmn", **{"{'loan_reference': loan_reference, 'amount': amount}": "__import__('os').environ"}
    )
    with pytest.raises(InvalidDiagram) as refused:
        publish(world, hostile)
    assert [p.element for p in refused.value.problems] == ["repaid_def"]
    assert "message payload" in refused.value.problems[0].message
