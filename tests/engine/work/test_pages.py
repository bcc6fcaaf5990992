"""Page read models: each page is one engine call and one transaction, and the task page's
submission is one unit of work whatever its outcome."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from engine.work import pages
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task, start


@contextlib.contextmanager
def counted_transactions(world):
    """How many database transactions begin inside the block."""
    begun = []

    def on_begin(connection):
        begun.append(connection)

    event.listen(world.db.engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(world.db.engine, "begin", on_begin)


def test_the_task_page_is_read_in_one_transaction(world, funding_review):
    instance = start(world)
    task = only_task(world, PD_HTI, instance.id)
    with counted_transactions(world) as begun:
        page = pages.task_page(world.uow(), world.user(PD_HTI), task.id)
    assert len(begun) == 1
    assert page.task.id == task.id and page.task.form["properties"] and page.instance.id == instance.id
    assert page.mine is False and page.candidates == [] and [e.kind for e in page.instance.events] == ["started"]


def test_the_inbox_and_instance_pages_are_read_in_one_transaction_each(world, funding_review):
    instance = start(world)
    with counted_transactions(world) as begun:
        inbox = pages.inbox_page(world.uow(), world.user(PD_HTI), tab="all")
        started = pages.inbox_page(world.uow(), world.user(PD_HTI), tab="started")
        shown = pages.instance_page(world.uow(), world.user(PD_HTI), instance.id)
    assert len(begun) == 3
    assert [t.instance_id for t in inbox.rows] == [instance.id] and inbox.processes == {
        "funding_review": "Funding review (test)"
    }
    assert [i.id for i in started.started] == [instance.id] and "HTI" in inbox.offices
    assert shown.instance.id == instance.id and shown.forms


def test_a_submission_refused_field_by_field_is_one_transaction_and_brings_the_page_back(world, funding_review):
    instance = start(world)
    task = only_task(world, PD_HTI, instance.id)
    with counted_transactions(world) as begun:
        done = pages.submit_task(world.uow(), world.user(PD_HTI), task.id, lambda schema: {"amount": "lots"})
    assert len(begun) == 1
    assert done.completed is None and done.refused.task.id == task.id and "amount" in done.errors
    assert done.values == {"amount": "lots"}


def test_a_completed_submission_is_one_transaction_and_says_what_comes_next(world, funding_review):
    instance = start(world)
    task = only_task(world, PD_HTI, instance.id)
    seen = []

    def read(schema):
        seen.append(sorted(schema["properties"]))
        return DRAFT

    with counted_transactions(world) as begun:
        done = pages.submit_task(world.uow(), world.user(PD_HTI), task.id, read)
    assert len(begun) == 1 and seen  # the form was read with the task's own schema
    assert [t.title for t in done.completed.tasks] == ["Review the request"]
    again = pages.submit_task(world.uow(), world.user(PD_HTI), task.id, lambda schema: DRAFT)
    assert again.completed is None and "already completed" in again.conflict
    assert only_task(world, EFP, instance.id).title == "Review the request"


def test_a_draft_submission_keeps_the_entries_and_claims_the_task(world, funding_review):
    instance = start(world)
    task = only_task(world, PD_HTI, instance.id)
    done = pages.submit_task(world.uow(), world.user(PD_HTI), task.id, lambda schema: {"title": "half"}, draft=True)
    assert done.draft.draft == {"title": "half"} and done.draft.assignee_id == world.user(PD_HTI)
    assert pages.task_page(world.uow(), world.user(PD_HTI), task.id).task.draft == {"title": "half"}
