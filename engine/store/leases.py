"""Leases: how several worker processes share rows that must be handled once (due timers, emails
to send). A worker claims a batch of due rows for a while; a row whose claim ran out (its worker
died) can be claimed again. On PostgreSQL claiming skips rows another worker is claiming at the same
instant (`FOR UPDATE SKIP LOCKED`); on SQLite there is one writer at a time.

A row that failed waits before its next try: `retry_delay`, one rule for timers and emails.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, or_, select, update

from .uow import Transaction

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def claim(
    tx: Transaction,
    model,
    due: ColumnElement[bool],
    *,
    order_by,
    owner: str,
    limit: int,
    lease: timedelta,
) -> list[int]:
    """Claim for `owner`, until now + `lease`, up to `limit` rows of `model` matching `due` and held
    by nobody (or by a claim that ran out); returns their ids, in id order. The model has `id`,
    `claimed_by` and `claim_expires_at` columns."""
    now = tx.now()
    free = or_(model.claim_expires_at.is_(None), model.claim_expires_at <= now)
    chosen = select(model.id).where(due, free).order_by(*order_by).limit(limit).with_for_update(skip_locked=True)
    claimed = tx.session.scalars(
        update(model)
        .where(model.id.in_(chosen.scalar_subquery()))
        .values(claimed_by=owner, claim_expires_at=now + lease)
        .returning(model.id)
    ).all()
    return sorted(claimed)


def release(tx: Transaction, model, owner: str, ids: list[int]) -> None:
    """Give back, at once, claims `owner` took but will not work on (it is stopping): another worker
    may take them without waiting for the lease to run out."""
    if ids:
        tx.session.execute(
            update(model)
            .where(model.id.in_(ids), model.claimed_by == owner)
            .values(claimed_by=None, claim_expires_at=None)
        )


def retry_delay(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """The wait after the `attempts`-th failure: `first` (30 s), doubling, at most an hour."""
    return min(first * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
