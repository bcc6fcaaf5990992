"""The unit of work: a `UnitOfWork` is opened once and yields the `Transaction` helpers take;
what `after_commit` was given runs only once the block has ended after a commit; leases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.store import leases
from engine.store.models import Office, Timer
from engine.store.uow import Transaction, UnitOfWork
from tests.engine.conftest import diagram, publish
from tests.engine.scheduling.test_timers import start_review


def test_a_unit_of_work_opens_once_into_a_transaction(world):
    uow = world.uow()
    assert isinstance(uow, UnitOfWork)
    with uow as tx:
        assert isinstance(tx, Transaction) and tx.now() == world.clock.now()
    with pytest.raises(RuntimeError, match="opened once"):
        uow.__enter__()


def test_after_commit_runs_once_the_block_ended_after_a_commit(world):
    ran = []
    with world.uow() as tx:
        tx.after_commit(lambda: ran.append("delivered"))
        tx.session.get(Office, "HTI").name = "Haïti"
        tx.commit()
        assert ran == []  # still inside the block: the session is not closed yet
    assert ran == ["delivered"]


def test_after_commit_does_not_run_without_a_commit_or_after_an_error(world):
    ran = []
    with world.uow() as tx:
        tx.after_commit(lambda: ran.append("rolled back"))
    with pytest.raises(ValueError):
        with world.uow() as tx:
            tx.after_commit(lambda: ran.append("failed"))
            tx.commit()
            raise ValueError("after the commit, inside the block")
    assert ran == []


def test_a_failing_after_commit_step_does_not_undo_the_action(world):
    def broken():
        raise OSError("the SMTP server is down")

    with world.uow() as tx:
        tx.after_commit(broken)
        tx.session.get(Office, "HTI").name = "Haïti"
        tx.commit()
    with world.uow() as tx:
        assert tx.session.get(Office, "HTI").name == "Haïti"


def test_a_conflict_at_commit_runs_no_after_commit_step(world):
    ran = []
    with world.uow() as tx:
        tx.after_commit(lambda: ran.append("nope"))
        tx.session.add(Office(code="HTI", name="again", kind="country", timezone="UTC"))
        with pytest.raises(Conflict):
            tx.commit()
    assert ran == []


def test_a_lease_hands_a_row_to_one_worker_until_it_runs_out(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    start_review(world)  # the review waits, with its reminder and escalation timers
    world.clock.advance(hours=49)
    due = Timer.state == "pending"

    def claim(owner):
        with world.uow() as tx:
            claimed = leases.claim(
                tx, Timer, due, order_by=(Timer.due_at,), owner=owner, limit=5, lease=timedelta(minutes=1)
            )
            tx.commit()
            return claimed

    first = claim("worker-a")
    assert first and claim("worker-b") == []
    world.clock.advance(minutes=1)
    assert claim("worker-b") == first
    with world.uow() as tx:
        assert set(tx.session.scalars(select(Timer.claimed_by).where(Timer.id.in_(first)))) == {"worker-b"}


def test_retries_wait_30_seconds_doubling_up_to_an_hour():
    waits = [leases.retry_delay(n) for n in (1, 2, 3, 8, 20)]
    assert waits == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(hours=1),
        timedelta(hours=1),
    ]
