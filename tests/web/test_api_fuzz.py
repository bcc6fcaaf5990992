"""Schemathesis against /api/v1/openapi.json, in process (WSGI), with a real bearer token: whatever
a client sends, the API answers without a server error; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

import config as settings_module
from engine.modeling import publishing
from engine.org import users
from engine.work import instances
from tests.conftest import World
from tests.processes.conftest import FORMS, WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE
from tests.web.api_fixtures import CHIEF_OF_MISSION_HTI, PUBLISHED
from web import create_app

TOKENS: dict[str, str] = {}
EXAMPLES = 100  # per operation


@pytest.fixture
def api_schema(db, clock):
    world = World(db, clock)
    files = {name: (WORKFLOWS / name).read_bytes() for name in PUBLISHED}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    # A running instance, so ids in the schema's examples and guesses can hit real rows.
    instances.start_instance(
        world.uow(),
        world.user(CHIEF_OF_MISSION_HTI),
        "mefm_request",
        "HTI",
        HAITI_HURRICANE["mefm"]["mefm_request_start"],
    )
    TOKENS["chief"] = users.issue_token(world.uow(), CHIEF_OF_MISSION_HTI)
    config = settings_module.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    app.extensions["doeflow.clock"] = clock
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    app.extensions["doeflow.db"].engine.dispose()


def test_the_api_never_answers_with_a_server_error(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    calls: list[tuple[str, int]] = []
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(headers={"Authorization": f"Bearer {TOKENS['chief']}"})
            calls.append((case.method, response.status_code))
            assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
            assert response.headers["x-content-type-options"] == ["nosniff"]

        call()
    statuses = sorted({status for _, status in calls})
    print(f"{len(calls)} calls over {len(operations)} operations, statuses {statuses}")
    assert 200 in statuses


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/instances/9223372036854775808", None),
        ("/instances/2147483648/events", None),
        ("/tasks/%00", None),
        ("/processes/mefm_request/instances", '{"office": "\\u0000"}'),
        ("/processes/mefm_request/instances", '{"office": "HTI", "data": {"a\\u0000": 1}}'),
        ("/processes/mefm_request/instances", "[" * 100_000),
    ],
)
def test_what_the_fuzzer_found_gets_4xx_not_a_server_error(api_schema, path, body):
    client = api_schema.app.test_client()
    method = "POST" if body is not None else "GET"
    headers = {"Authorization": f"Bearer {TOKENS['chief']}", "Content-Type": "application/json"}
    response = client.open(f"/api/v1{path}", method=method, data=body, headers=headers)
    assert response.status_code in (400, 404) and response.get_json()["error"]
