"""Cancelling or withdrawing a running case: who may, and what it closes."""

from __future__ import annotations

from ..org import offices as org
from ..store.models import ProcessInstance


def may_cancel(actor: org.Actor, instance: ProcessInstance) -> bool:
    """Whether the actor may cancel the running instance (filled in by the cancel work)."""
    return False
