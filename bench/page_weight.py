"""Page weight: the bytes a browser transfers for the inbox, a task page and an instance page
(the HTML and every stylesheet and script the page asks for, uncompressed, cold cache), on a
database holding the demo cases. Goal: inbox <= 50 KB. Run: python bench/page_weight.py"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

import config as settings  # noqa: E402
from bench.common import publish_shipped, record, scratch_database  # noqa: E402
from engine.clock import SYSTEM_CLOCK  # noqa: E402
from engine.org.users import hash_password  # noqa: E402
from engine.store.models import User  # noqa: E402
from engine.work import demo, tasks
from web import create_app  # noqa: E402

PASSWORD = "bench-password"
WHO = "emergency-focal-point@ro-americas.demo"
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"')


def weigh(client, url: str) -> tuple[int, dict[str, int]]:
    """Bytes of the page and of each asset it references (fetched once each, as a cold cache does)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    parts = {url: len(page.data)}
    for asset in ASSET.findall(page.get_data(as_text=True)):
        response = client.get(asset)
        parts[asset] = len(response.data)
        response.close()
    return sum(parts.values()), parts


def main() -> None:
    database, cleanup = scratch_database("sqlite")
    try:
        publish_shipped(database)
        demo.load_instances(database, SYSTEM_CLOCK)
        with database.unit_of_work() as uow:
            for user in uow.session.scalars(select(User)):
                user.password_hash = hash_password(PASSWORD)
            uow.commit()
            efp = uow.session.scalar(select(User.id).where(User.email == WHO))
        task = tasks.inbox(database.unit_of_work(), efp)[0]
        config = settings.load("test")
        config.DATABASE_URL = database.engine.url.render_as_string(hide_password=False)
        app = create_app(config)
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        client.post("/login", data={"email": WHO, "password": PASSWORD})
        rows = []
        for name, url, goal in (
            ("inbox", "/", 50 * 1024),
            ("task page", f"/tasks/{task.id}", None),
            ("instance page", f"/instances/{task.instance_id}", None),
        ):
            total, parts = weigh(client, url)
            detail = ", ".join(f"{'HTML' if p == url else Path(p).name} {b / 1024:.1f} KB" for p, b in parts.items())
            met = "met" if goal is None or total <= goal else "NOT met"
            verdict = "" if goal is None else f" (goal <= 50 KB: {met})"
            rows.append(f"| {name} | {total / 1024:.1f} KB{verdict} | {detail} |")
        app.extensions["doeflow.db"].engine.dispose()
    finally:
        cleanup()
    record(
        "Page weight",
        [
            "Bytes a browser transfers with a cold cache (HTML plus every stylesheet and script the page",
            "references, uncompressed); the diagram viewer (bpmn-js, ~190 KB) loads only on task and",
            "instance pages, after the page itself; no JavaScript on the inbox.",
            "",
            "| page | total | parts |",
            "| --- | --- | --- |",
            *rows,
        ],
    )


if __name__ == "__main__":
    main()
