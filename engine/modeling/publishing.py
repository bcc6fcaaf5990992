"""Publishing diagrams: the files stored as versions (engine.definitions.versions) and, once that
has committed, the messages kept unmatched given another try (a new process may start on them)."""

from __future__ import annotations

from collections.abc import Mapping

from ..definitions.versions import Published, store_versions
from ..messaging.delivery import wake_unmatched
from ..store.uow import Transaction, UnitOfWork


def publish(
    uow: UnitOfWork,
    files: Mapping[str, bytes],
    *,
    published_by: int | None = None,
    forms_dir: str | None = None,
    forms: Mapping[str, str] | None = None,
) -> list[Published]:
    """Validate `files` (BPMN and DMN, by name) and publish every process they define, in one unit
    of work (see store_versions for where forms come from)."""
    with uow as tx:
        results = store_versions(tx, files, published_by=published_by, forms_dir=forms_dir, forms=forms)
        wake_after_commit(tx, results)
        tx.commit()
        return results


def wake_after_commit(tx: Transaction, results: list[Published]) -> None:
    """When `tx` has committed a new version, give the unmatched messages another try."""
    if any(result.created for result in results):
        database, clock = tx.database, tx.clock
        tx.after_commit(lambda: wake_unmatched(database, clock))
