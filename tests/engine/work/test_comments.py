"""Comments on a case through the engine: added by whoever sees the case (running or finished),
trimmed and bounded, listed oldest first, on the timeline as "commented"; refused per field, and
another office's case is not found."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData, NotFound
from engine.store.models import AuditEvent
from engine.work import cancel, comments, instances
from tests.conftest import T0
from tests.engine.work.test_instances import APPROVER, EFP, PD_HTI, start

COM_HTI = "chief-of-mission@hti.demo"
PD_PAN = "project-developer@pan.demo"


def comment(world, who, instance_id, text):
    return comments.add_comment(world.uow(), world.user(who), instance_id, text)


def event_count(world) -> int:
    with world.db.unit_of_work(write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(AuditEvent))


def test_comments_are_kept_trimmed_listed_oldest_first_and_on_the_timeline(world, funding_review):
    instance = start(world)
    first = comment(world, EFP, instance.id, "  Is the amount in USD?\n")
    world.clock.set(T0 + timedelta(minutes=5))
    second = comment(world, PD_HTI, instance.id, "Yes, USD.\nSee the budget sheet.")

    assert (first.text, first.author_id, first.author_name, first.at) == (
        "Is the amount in USD?",
        world.user(EFP),
        "Emergency Focal Point (RO-AMERICAS)",
        T0,
    )
    listed = comments.comments_of(world.uow(), world.user(APPROVER), instance.id)  # headquarters sees it too
    assert listed == [first, second]
    events = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id).events
    assert [(e.kind, e.actor_id, e.data) for e in events if e.kind == "commented"] == [
        ("commented", world.user(EFP), {"text": "Is the amount in USD?"}),
        ("commented", world.user(PD_HTI), {"text": "Yes, USD.\nSee the budget sheet."}),
    ]


@pytest.mark.parametrize("text", [None, "", " \n\t ", 7, ["a"], "x" * (comments.MAX_COMMENT_CHARS + 1), "a\x00b"])
def test_a_comment_without_text_or_too_long_is_refused_on_its_field_and_nothing_is_kept(world, funding_review, text):
    instance = start(world)
    before = event_count(world)
    with pytest.raises(InvalidData) as refused:
        comment(world, PD_HTI, instance.id, text)
    assert list(refused.value.fields) == ["text"]
    assert event_count(world) == before


def test_a_comment_at_the_limit_is_kept(world, funding_review):
    instance = start(world)
    kept = comment(world, PD_HTI, instance.id, "x" * comments.MAX_COMMENT_CHARS)
    assert len(kept.text) == comments.MAX_COMMENT_CHARS


def test_another_office_can_neither_comment_nor_read_the_comments(world, funding_review):
    instance = start(world)
    comment(world, PD_HTI, instance.id, "Internal note.")
    before = event_count(world)
    with pytest.raises(NotFound):
        comment(world, PD_PAN, instance.id, "Hello?")
    with pytest.raises(NotFound):
        comments.comments_of(world.uow(), world.user(PD_PAN), instance.id)
    with pytest.raises(NotFound):
        comment(world, PD_HTI, instance.id + 1000, "Nobody here.")
    assert event_count(world) == before


def test_a_cancelled_case_may_still_be_commented(world, funding_review):
    instance = start(world)
    cancel.cancel_instance(world.uow(), world.user(COM_HTI), instance.id, "Duplicate of another request.")
    note = comment(world, PD_HTI, instance.id, "Agreed, the other one goes on.")
    assert comments.comments_of(world.uow(), world.user(COM_HTI), instance.id) == [note]
