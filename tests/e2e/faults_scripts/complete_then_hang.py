"""Complete one task through `engine.work.tasks.complete_task`, then stop dead at a chosen point.

    python complete_then_hang.py URL POINT ACTOR_ID TASK_ID DATA_JSON CLOCK_ISO

POINT is where the unit of work stops, with its transaction open:
  after_persist  engine.runtime.steps.finish_step has run (state, projections, emails, timers), not committed
  mid_flush      inside the session flush, right after the UPDATE of process_instance ran
  before_commit  the whole step is flushed to the database; Transaction.commit was called

At that point the script prints `KILL-POINT <point>` on stdout and blocks reading stdin; the test
kills it with SIGKILL. If stdin is closed instead (the test went away), it exits without committing.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from sqlalchemy import event  # noqa: E402

from engine.clock import FixedClock  # noqa: E402
from engine.runtime import steps as runtime  # noqa: E402
from engine.store.uow import Database, Transaction  # noqa: E402
from engine.work import tasks  # noqa: E402

MARK = "KILL-POINT"


def stop_here(point: str) -> None:
    sys.stdout.write(f"{MARK} {point} pid={os.getpid()}\n")
    sys.stdout.flush()
    sys.stdin.read()  # blocks until SIGKILL; EOF means the test is gone
    os._exit(3)  # never go on to commit


def main() -> None:
    url, point, actor_id, task_id, data, at = sys.argv[1:7]
    database = Database.connect(url)
    if point == "after_persist":
        persist = runtime.finish_step

        def persist_then_stop(*args, **kwargs):
            changes = persist(*args, **kwargs)
            stop_here(point)
            return changes

        runtime.finish_step = persist_then_stop
    elif point == "mid_flush":

        @event.listens_for(database.engine, "after_cursor_execute")
        def after_execute(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("UPDATE PROCESS_INSTANCE"):
                stop_here(point)

    elif point == "before_commit":

        def commit_then_stop(self):
            self.session.flush()
            stop_here(point)

        Transaction.commit = commit_then_stop
    else:
        raise SystemExit(f"unknown point {point!r}")
    clock = FixedClock(datetime.fromisoformat(at))
    tasks.complete_task(database.unit_of_work(clock), int(actor_id), task_id, json.loads(data))
    sys.stdout.write("COMPLETED without stopping\n")
    sys.stdout.flush()
    os._exit(4)


if __name__ == "__main__":
    main()
