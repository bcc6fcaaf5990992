"""Shared pieces of the benchmarks: a scratch database, the machine description, and appending
results to docs/benchmarks.md with the date and commit."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from engine import org, schema, users  # noqa: E402
from engine.db import normalize_url  # noqa: E402
from engine.uow import Database  # noqa: E402

RESULTS = ROOT / "docs" / "benchmarks.md"
PG_URL = os.environ.get("DOEFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def scratch_database(kind: str) -> tuple[Database, callable]:
    """A new, migrated database with the demo organisation; returns it and a cleanup function."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="doeflow-bench-")
        database = Database.connect(f"sqlite:///{folder}/bench.sqlite3")
        cleanup = database.engine.dispose
    else:
        admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
        name = f"doeflow_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        database = Database.connect(admin.url.set(database=name).render_as_string(hide_password=False))

        def cleanup():
            database.engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    schema.upgrade(database)
    users.load_demo(database.unit_of_work(), "bench-password")
    with database.unit_of_work() as uow:
        org.ensure_catalogue(uow.session)
        uow.commit()
    return database, cleanup


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cores = os.cpu_count()
    return (
        f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}"
    )


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(title: str, lines: list[str]) -> None:
    """Print the figures and append them, dated, under their own heading in docs/benchmarks.md."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"### {title} ({stamp}, commit {commit()})", "", f"Machine: {machine()}", "", *lines, ""]
    print("\n".join(block))
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nFigures appended by the scripts in `bench/`, newest last.\n\n")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(block) + "\n")
