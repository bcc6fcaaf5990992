"""The unit of work: one database transaction per user action, and the clock it runs on.

Two types tell a reader which kind of function is which (engine/README.md):
- a `UnitOfWork` is not open yet; a service function (the engine's API) is given one, opens it
  (`with uow as tx:`), commits it and returns frozen views;
- a `Transaction` is an open unit of work; a helper takes one and runs inside it, never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .. import clock as clocks
from ..errors import Conflict
from .db import WRITE_OPTION, make_engine, make_sessionmaker

log = logging.getLogger("doeflow.uow")


@dataclass
class Database:
    """An engine and its session factory; one per process and database URL."""

    engine: Engine
    sessions: sessionmaker = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = make_sessionmaker(self.engine)

    @classmethod
    def connect(cls, url: str, **kwargs) -> "Database":
        return cls(make_engine(url, **kwargs))

    def unit_of_work(self, clock: clocks.Clock | None = None, *, write: bool = True) -> "UnitOfWork":
        return UnitOfWork(self, clock or clocks.SYSTEM_CLOCK, write=write)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


class UnitOfWork:
    """One transaction to come: `with uow as tx: ...; tx.commit()`. Anything not committed when the
    block ends is rolled back; what `tx.after_commit` was given runs once the block has ended after
    a commit (and not at all otherwise).

    Write units take the SQLite write lock up front; on PostgreSQL the code locks the rows it
    changes. Losing a race (the version counter, a unique key) becomes `Conflict`.
    """

    def __init__(self, database: Database, clock: clocks.Clock, *, write: bool = True):
        self.database = database
        self.clock = clock
        self.write = write
        self._open: Transaction | None = None

    def __enter__(self) -> "Transaction":
        if self._open is not None:
            raise RuntimeError("a unit of work is opened once")
        self._open = Transaction(self)
        return self._open

    def __exit__(self, kind, error, _tb) -> None:
        callbacks = self._open._close()
        if kind is None:
            for callback in callbacks:
                try:
                    callback()
                except Exception:  # the action is committed; what follows it is retried elsewhere
                    log.exception("an after-commit step failed")


class Transaction:
    """An open unit of work: its session, its clock, and what to do once it has committed."""

    session: Session

    def __init__(self, unit: UnitOfWork):
        self.database = unit.database
        self.clock = unit.clock
        self.session = unit.database.sessions()
        if unit.write and self.database.dialect == "sqlite":
            self.session.connection(execution_options={WRITE_OPTION: True})
        self._clock_scope = clocks.using(self.clock)
        self._clock_scope.__enter__()
        self._after_commit: list[Callable[[], object]] = []
        self._committed = False

    def now(self) -> datetime:
        return self.clock.now()

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` when the unit of work has ended with a commit (deliveries, wake-ups)."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as error:
            self.session.rollback()
            raise Conflict("the instance was changed by someone else at the same time; reload and try again") from error
        except IntegrityError as error:
            self.session.rollback()
            # The driver's first line names the constraint; PostgreSQL's DETAIL line after it quotes the values.
            clash = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else "a unique value"
            raise Conflict(f"the change clashes with one made at the same time: {clash}") from error
        except OperationalError as error:
            self.session.rollback()
            if _is_serialization_failure(error):
                raise Conflict("the database refused a concurrent change; try again") from error
            raise
        self._committed = True

    def _close(self) -> list[Callable[[], object]]:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._clock_scope.__exit__(None, None, None)
        return self._after_commit if self._committed else []


def _is_serialization_failure(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    return code in {"40001", "40P01"} or "database is locked" in str(error.orig)
