"""Fixtures for the API tests: the shipped processes published on the test database, the app on
the test clock, and a client that calls /api/v1 as a demo user with that user's bearer token.

Import the fixture into a test module: `from tests.web.api_fixtures import api_fixture  # noqa: F401`.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.modeling import publishing
from engine.org import users
from tests.processes.conftest import FORMS, WORKFLOWS
from web.api import PREFIX

CHIEF_OF_MISSION_HTI = "chief-of-mission@hti.demo"
RESOURCES_MANAGEMENT_HTI = "resources-management@hti.demo"
CHIEF_OF_MISSION_PAN = "chief-of-mission@pan.demo"
PROJECT_DEVELOPER_HTI = "project-developer@hti.demo"
EMERGENCY_FOCAL_POINT = "emergency-focal-point@ro-americas.demo"
FINANCE = "finance@hq.demo"
# The MEFM request (a Chief of Mission starts it) and the endorsement (a Project Developer starts it),
# not every shipped diagram: the catalogue the tests see stays the same as processes are added.
PUBLISHED = ("mefm_request.bpmn", "mefm_approval_authority.dmn", "endorsement.bpmn", "endorsement_routing.dmn")


class Api:
    """The Flask test client, speaking as a demo user; every response is kept for the OpenAPI checks."""

    def __init__(self, app, world):
        self.app = app
        self.world = world
        self.client = app.test_client()
        self.responses: list[tuple[str, str, Any]] = []  # (method, path, response)
        self._tokens: dict[str, str] = {}

    def token(self, email: str) -> str:
        if email not in self._tokens:
            self._tokens[email] = users.issue_token(self.world.uow(), email)
        return self._tokens[email]

    def call(self, method: str, path: str, who: str | None = None, *, headers=None, **kwargs):
        headers = dict(headers or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        response = self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)
        self.responses.append((method, PREFIX + path, response))
        return response

    def get(self, path: str, who: str | None = None, **kwargs):
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str | None = None, body: Any = None, **kwargs):
        if body is not None:
            kwargs["json"] = body
        return self.call("POST", path, who, **kwargs)

    def start(self, who: str, office: str, data: dict, process_id: str = "mefm_request"):
        return self.post(f"/processes/{process_id}/instances", who, {"office": office, "data": data})

    def complete(self, who: str, task_id: str, data: dict):
        return self.post(f"/tasks/{task_id}/complete", who, {"data": data})

    def inbox(self, who: str, instance_id: int | None = None) -> list[dict]:
        response = self.get("/tasks", who)
        assert response.status_code == 200, response.json
        found = response.json["tasks"]
        return [t for t in found if instance_id is None or t["instance_id"] == instance_id]


@pytest.fixture(name="api")
def api_fixture(app, world) -> Api:
    """The MEFM request and the endorsement published with the real forms; the app runs on the test clock."""
    files = {name: (WORKFLOWS / name).read_bytes() for name in PUBLISHED}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    app.extensions["doeflow.clock"] = world.clock
    return Api(app, world)
