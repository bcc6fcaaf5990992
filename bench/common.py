"""Shared pieces of the benchmarks: a scratch database, the machine description, and appending
results to docs/benchmarks.md with the date and commit."""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, select, text  # noqa: E402

from engine.modeling import publishing  # noqa: E402
from engine.org import demo as demo_org  # noqa: E402
from engine.org import offices as org  # noqa: E402
from engine.store import schema  # noqa: E402
from engine.store.db import normalize_url  # noqa: E402
from engine.store.models import User  # noqa: E402
from engine.store.uow import Database  # noqa: E402

RESULTS = ROOT / "docs" / "benchmarks.md"
WORKFLOWS = ROOT / "workflows" / "bpmn"
FORMS = str(ROOT / "forms")
TEST_DIAGRAMS = ROOT / "tests" / "engine" / "diagrams"
TEST_FORMS = str(ROOT / "tests" / "engine" / "forms")
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
    demo_org.load_demo(database.unit_of_work(), "bench-password")
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
    described = (
        f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}"
    )
    return described + (f", {_postgresql_version}" if _postgresql_version else "")


_postgresql_version: str | None = None


def note_postgresql_version(database: Database) -> None:
    """Name the PostgreSQL server in the machine line of the figures recorded from now on."""
    global _postgresql_version
    if database.dialect == "postgresql":
        with database.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        _postgresql_version = f"PostgreSQL {version.split()[0]}"


def shipped_files() -> dict[str, bytes]:
    """Every BPMN diagram and DMN table of workflows/bpmn, by file name (as the tests publish them)."""
    return {p.name: p.read_bytes() for p in sorted(WORKFLOWS.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def publish_shipped(database: Database) -> None:
    publishing.publish(database.unit_of_work(), shipped_files(), forms_dir=FORMS)


def publish_test_diagram(database: Database, name: str) -> None:
    """A diagram of tests/engine/diagrams with the test forms."""
    files = {name: (TEST_DIAGRAMS / name).read_bytes()}
    publishing.publish(database.unit_of_work(), files, forms_dir=TEST_FORMS)


def user_ids(database: Database) -> dict[str, int]:
    """The demo users' ids by e-mail address."""
    with database.unit_of_work(write=False) as uow:
        return dict(uow.session.execute(select(User.email, User.id)).all())


def seconds(action, *args) -> float:
    """Wall-clock time of one call of `action(*args)`."""
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


@contextmanager
def captured_statements(database: Database):
    """The SQL statements (and their parameters) sent to the database inside the block."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)


def query_plan(database: Database, statement: str, parameters) -> list[str]:
    """EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL, of a captured statement."""
    if database.dialect == "sqlite":
        with database.engine.connect() as connection:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return [f"{'  ' * _depth(rows, row)}{row[-1]}" for row in rows]
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
    return [row[0] for row in rows]


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def profiled(action) -> pstats.Stats:
    profile = cProfile.Profile()
    profile.enable()
    action()
    profile.disable()
    return pstats.Stats(profile)


def _area(filename: str) -> str:
    """Who a profiled function belongs to: our engine/forms code, a library, or the stdlib."""
    path = filename.replace("\\", "/")
    if path.startswith(str(ROOT / "bench")):
        return "bench"
    for ours in ("/engine/", "/forms/"):
        if str(ROOT) in path and ours in path and "/.venv/" not in path:
            return "ours: " + ours.strip("/")
    for library in ("SpiffWorkflow", "sqlalchemy", "psycopg", "jsonschema", "lxml"):
        if f"/{library}/" in path:
            return library
    if path.startswith("~") or path.startswith("<"):
        return "builtins (C)"
    return "stdlib/other"


def profile_tables(stats: pstats.Stats, calls: int, top: int = 10) -> list[str]:
    """Markdown: the top cumulative entries of ours and of the libraries, and self time by area,
    per step (`calls` steps were profiled)."""
    total = max(cumulative for _cc, _nc, _tt, cumulative, _callers in stats.stats.values())
    entries = []
    by_area: dict[str, float] = {}
    for (filename, line, name), (_cc, _nc, self_time, cumulative, _callers) in stats.stats.items():
        area = _area(filename)
        by_area[area] = by_area.get(area, 0.0) + self_time
        entries.append((cumulative, area, f"{Path(filename).name}:{line} {name}"))
    entries.sort(reverse=True)

    def table(rows):
        lines = ["| cumulative ms/step | share | function |", "| --- | --- | --- |"]
        for cumulative, area, where in rows[:top]:
            lines.append(f"| {cumulative / calls * 1000:.2f} | {cumulative / total:.0%} | {area}: `{where}` |")
        return lines

    ours = [e for e in entries if e[1].startswith("ours")]
    glue = ("bench", "builtins (C)", "stdlib/other")
    library = [e for e in entries if e[1] not in glue and not e[1].startswith("ours")]
    areas = ["| area | self time ms/step | share |", "| --- | --- | --- |"] + [
        f"| {area} | {t / calls * 1000:.2f} | {t / total:.0%} |"
        for area, t in sorted(by_area.items(), key=lambda kv: -kv[1])
        if area != "bench"
    ]
    return [
        f"Profile (cProfile, {calls} steps; profiling inflates times, read the shares):",
        "",
        "Top cumulative entries of ours (engine/, forms/):",
        "",
        *table(ours),
        "",
        "Top cumulative entries of the libraries:",
        "",
        *table(library),
        "",
        "Self time by area:",
        "",
        *areas,
    ]


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
    if os.environ.get("DOEFLOW_BENCH_DRY_RUN"):  # trying a script out: print only
        return
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nFigures appended by the scripts in `bench/`, newest last.\n\n")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(block) + "\n")
