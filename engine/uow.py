"""The unit of work: one database transaction per user action, and the clock it runs on."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import clock as clocks
from .db import WRITE_OPTION, make_engine, make_sessionmaker
from .errors import Conflict


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
    """`with uow: ...; uow.commit()` — anything not committed when the block ends is rolled back.

    Write units take the SQLite write lock up front; on PostgreSQL the code locks the rows it
    changes. Losing a race (the version counter, a unique key) becomes `Conflict`.
    """

    session: Session

    def __init__(self, database: Database, clock: clocks.Clock, *, write: bool = True):
        self.database = database
        self.clock = clock
        self.write = write
        self._clock_scope = None

    def __enter__(self) -> "UnitOfWork":
        self.session = self.database.sessions()
        if self.write and self.database.dialect == "sqlite":
            self.session.connection(execution_options={WRITE_OPTION: True})
        self._clock_scope = clocks.using(self.clock)
        self._clock_scope.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._clock_scope.__exit__(None, None, None)

    def now(self):
        return self.clock.now()

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as error:
            self.session.rollback()
            raise Conflict("the instance was changed by someone else at the same time; reload and try again") from error
        except IntegrityError as error:
            self.session.rollback()
            raise Conflict(f"the change clashes with one made at the same time: {error.orig}") from error
        except OperationalError as error:
            self.session.rollback()
            if _is_serialization_failure(error):
                raise Conflict("the database refused a concurrent change; try again") from error
            raise


def _is_serialization_failure(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    return code in {"40001", "40P01"} or "database is locked" in str(error.orig)
