"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1, the same paths and methods as
the API's routes, and schemas that the real responses of a whole run satisfy, errors included."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

from engine.org import users
from tests.processes.scenarios import HAITI_HURRICANE
from tests.web.api_fixtures import (  # noqa: F401 - api_fixture is the fixture `api`
    CHIEF_OF_MISSION_HTI,
    CHIEF_OF_MISSION_PAN,
    EMERGENCY_FOCAL_POINT,
    FINANCE,
    PROJECT_DEVELOPER_HTI,
    RESOURCES_MANAGEMENT_HTI,
    api_fixture,
)
from web import openapi
from web.api import PREFIX

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
MEFM = HAITI_HURRICANE["mefm"]
DOCUMENT_ID = "urn:doeflow:api-v1"


def api_routes(app) -> dict[str, set[str]]:
    """The api blueprint's routes as OpenAPI paths (`/tasks/{task_id}`) and their methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def documented_operations(document: dict) -> dict[str, set[str]]:
    return {path: {m for m in item if m in HTTP_METHODS} for path, item in document["paths"].items()}


def test_the_document_is_valid_openapi_3_1():
    document = openapi.document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_is_served_without_a_token(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == openapi.document()


def test_every_route_is_documented_with_its_methods_and_every_documented_path_is_a_route(app):
    assert api_routes(app) == documented_operations(openapi.document())


def test_path_parameters_are_documented_with_the_routes_types(app):
    document = openapi.document()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            variables = re.findall(r"<(?:([^:<>]+):)?([^<>]+)>", rule.rule)
            expected = {name: "integer" if converter == "int" else "string" for converter, name in variables}
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
            parameters = document["paths"][path].get("parameters", [])
            assert {p["name"]: p["schema"]["type"] for p in parameters} == expected, path
            assert all(p["in"] == "path" and p["required"] for p in parameters)


def test_every_operation_needs_the_bearer_token_but_the_document_itself():
    document = openapi.document()
    assert document["security"] == [{"bearer": []}]
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, methods in documented_operations(document).items():
        for method in methods:
            operation = document["paths"][path][method]
            if path == "/openapi.json":
                assert operation["security"] == []
            else:
                assert "security" not in operation and "401" in operation["responses"], (path, method)


# --- real responses against the documented schemas -----------------------------------------------


def run_everything(api) -> None:
    """Every endpoint, with its successes and its errors, as a client would meet them."""
    users.add_user(
        api.world.uow(), "second.rm@hti.example", name="Second RM", office="HTI", roles=["Resources Management"]
    )
    api.get("/openapi.json")
    api.get("/processes", CHIEF_OF_MISSION_HTI)
    api.get("/processes", FINANCE)
    api.get("/processes/mefm_request", CHIEF_OF_MISSION_HTI)
    api.get("/processes/mefm_request", FINANCE)
    api.get("/processes")

    start = MEFM["mefm_request_start"]
    instance = api.start(CHIEF_OF_MISSION_HTI, "HTI", start).json
    api.post("/processes/mefm_request/instances", CHIEF_OF_MISSION_HTI, data="{", content_type="application/json")
    api.start(CHIEF_OF_MISSION_HTI, "HTI", {**start, "requested_amount_usd": -1})
    api.start(PROJECT_DEVELOPER_HTI, "HTI", start)
    api.start(CHIEF_OF_MISSION_PAN, "HTI", start)

    api.get(f"/instances/{instance['id']}", CHIEF_OF_MISSION_HTI)
    api.get(f"/instances/{instance['id']}", CHIEF_OF_MISSION_PAN)
    api.get("/instances?q=marisol&status=running&sort=due", CHIEF_OF_MISSION_HTI)
    api.get("/instances?sla=late", CHIEF_OF_MISSION_HTI)
    api.get(f"/instances/{instance['id']}/events", CHIEF_OF_MISSION_HTI)
    api.get("/instances/424242/events", CHIEF_OF_MISSION_HTI)
    document = {"file": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "budget.pdf")}
    attached = api.post(f"/instances/{instance['id']}/attachments", CHIEF_OF_MISSION_HTI, data=document).json
    api.post(f"/instances/{instance['id']}/attachments", CHIEF_OF_MISSION_HTI, data={})
    api.post(f"/instances/{instance['id']}/attachments", CHIEF_OF_MISSION_PAN, data={"file": (io.BytesIO(b"x"), "x")})
    api.get(f"/instances/{instance['id']}/attachments", CHIEF_OF_MISSION_HTI)
    api.get(f"/attachments/{attached['id']}", CHIEF_OF_MISSION_HTI)
    api.get(f"/attachments/{attached['id']}", CHIEF_OF_MISSION_PAN)
    api.post(f"/instances/{instance['id']}/comments", EMERGENCY_FOCAL_POINT, {"text": "Which exchange rate?"})
    api.post(f"/instances/{instance['id']}/comments", CHIEF_OF_MISSION_HTI, {})
    api.post(f"/instances/{instance['id']}/comments", CHIEF_OF_MISSION_PAN, {"text": "Hello?"})
    api.get(f"/instances/{instance['id']}/comments", CHIEF_OF_MISSION_HTI)

    budget = api.inbox(RESOURCES_MANAGEMENT_HTI, instance["id"])[0]["id"]
    api.get("/tasks", "second.rm@hti.example")
    api.get(f"/tasks/{budget}", RESOURCES_MANAGEMENT_HTI)
    api.get(f"/tasks/{budget}", "resources-management@pan.demo")
    api.post(f"/tasks/{budget}/claim", FINANCE)
    api.post(f"/tasks/{budget}/claim", RESOURCES_MANAGEMENT_HTI)
    api.post(f"/tasks/{budget}/claim", "second.rm@hti.example")
    api.post(f"/tasks/{budget}/release", "second.rm@hti.example")
    api.post(f"/tasks/{budget}/release", RESOURCES_MANAGEMENT_HTI)
    api.post(f"/tasks/{budget}/release", "resources-management@pan.demo")
    api.complete(RESOURCES_MANAGEMENT_HTI, budget, {"budget_check_result": "maybe"})
    api.complete(FINANCE, budget, MEFM["mefm_budget_check"])
    api.complete(RESOURCES_MANAGEMENT_HTI, budget, MEFM["mefm_budget_check"])
    api.complete(RESOURCES_MANAGEMENT_HTI, budget, MEFM["mefm_budget_check"])
    api.post(f"/tasks/{budget}/claim", RESOURCES_MANAGEMENT_HTI)
    api.post(f"/tasks/{budget}/release", RESOURCES_MANAGEMENT_HTI)
    sign = api.inbox(CHIEF_OF_MISSION_HTI, instance["id"])[0]["id"]
    api.complete(CHIEF_OF_MISSION_HTI, sign, MEFM["mefm_com_submission"])
    api.get(f"/tasks/{api.inbox(EMERGENCY_FOCAL_POINT, instance['id'])[0]['id']}", EMERGENCY_FOCAL_POINT)
    api.get(f"/instances/{instance['id']}", EMERGENCY_FOCAL_POINT)

    withdrawn = api.start(CHIEF_OF_MISSION_HTI, "HTI", start).json["id"]
    api.post(f"/instances/{withdrawn}/cancel", CHIEF_OF_MISSION_HTI, {})
    api.post(f"/instances/{withdrawn}/cancel", RESOURCES_MANAGEMENT_HTI, {"reason": "Not needed."})
    api.post(f"/instances/{withdrawn}/cancel", CHIEF_OF_MISSION_PAN, {"reason": "Not needed."})
    api.post(f"/instances/{withdrawn}/cancel", CHIEF_OF_MISSION_HTI, {"reason": "Not needed."})
    api.post(f"/instances/{withdrawn}/cancel", CHIEF_OF_MISSION_HTI, {"reason": "Not needed."})

    marisol = {"office": "HTI", "name": "Hurricane Marisol", "crisis_type": "hurricane_tropical_storm"}
    marisol |= {"level": "L2", "onset_date": "2025-09-14"}
    emergency = api.post("/emergencies", EMERGENCY_FOCAL_POINT, marisol).json["id"]
    api.post("/emergencies", CHIEF_OF_MISSION_HTI, marisol)
    api.post("/emergencies", CHIEF_OF_MISSION_PAN, marisol)
    api.post("/emergencies", EMERGENCY_FOCAL_POINT, {**marisol, "level": "L9"})
    api.get("/emergencies?status=active", CHIEF_OF_MISSION_HTI)
    api.get(f"/emergencies/{emergency}", CHIEF_OF_MISSION_HTI)
    api.get(f"/emergencies/{emergency}", CHIEF_OF_MISSION_PAN)
    api.post(
        "/processes/mefm_request/instances",
        CHIEF_OF_MISSION_HTI,
        {"office": "HTI", "data": start, "emergency_id": emergency},
    )
    api.call("PATCH", f"/emergencies/{emergency}", CHIEF_OF_MISSION_HTI, json={"level": "L3"})
    api.call("PATCH", f"/emergencies/{emergency}", EMERGENCY_FOCAL_POINT, json={"level": "L3", "status": "closed"})

    api.get("/reports/sla?office=HTI&from=2026-01-01", EMERGENCY_FOCAL_POINT)
    api.get("/reports/sla?from=2026-02-30", EMERGENCY_FOCAL_POINT)
    api.get("/reports/sla", CHIEF_OF_MISSION_HTI)

    api.get("/tasks", headers={"Authorization": "Bearer dfw_wrong"})
    api.call("DELETE", f"/instances/{instance['id']}", CHIEF_OF_MISSION_HTI)
    api.get("/no/such/path", CHIEF_OF_MISSION_HTI)


def schema_validator(document: dict, pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        DOCUMENT_ID, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_ID}#{quote(pointer)}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def route_of(app, method: str, url: str) -> str | None:
    """The documented path (`/tasks/{task_id}`) a request went to; None when no route took it."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(url.split("?")[0], method=method)
    except HTTPException:  # no such path, or not with this method
        return None
    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))


def schema_pointer(document: dict, path: str, method: str, status: int) -> str:
    """The JSON pointer of the documented body schema of that response; fails when undocumented."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, which is not documented"
    response = responses[str(status)]
    pointer = (
        response["$ref"].removeprefix("#")
        if "$ref" in response
        else f"/paths/{escape(path)}/{method}/responses/{status}"
    )
    return pointer + "/content/application~1json/schema"


def test_the_responses_of_a_whole_run_match_the_documented_schemas(api, app):
    run_everything(api)
    document = openapi.document()
    exercised: set[tuple[str, str]] = set()
    statuses: set[int] = set()
    for method, url, response in api.responses:
        path, status = route_of(app, method, url), response.status_code
        statuses.add(status)
        if path is None or status == 405:  # unknown path or method: the generic error
            pointer = "/components/schemas/Error"
        else:
            exercised.add((path, method.lower()))
            if path == "/openapi.json":
                continue  # its body is the document itself, checked above
            if not response.is_json:  # a document's bytes (GET /attachments/{id}), documented as binary
                assert str(status) in document["paths"][path][method.lower()]["responses"], (method, url, status)
                continue
            pointer = schema_pointer(document, path, method.lower(), status)
        errors = [e.message for e in schema_validator(document, pointer).iter_errors(response.json)]
        assert errors == [], (method, url, status, errors)

    assert statuses >= {200, 201, 400, 401, 403, 404, 405, 409}
    every = {(path, method) for path, methods in documented_operations(document).items() for method in methods}
    assert exercised == every


@pytest.mark.parametrize("name", ["Instance", "Task", "Event", "Process", "Error"])
def test_the_component_schemas_are_there_and_are_closed(name):
    schema = openapi.document()["components"]["schemas"][name]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    Draft202012Validator.check_schema(schema)
