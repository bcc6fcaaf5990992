"""The JSON API v1 (DESIGN section 5), called over HTTP as the people of the MEFM request would:
a Chief of Mission starts, Resources Management checks, the region reviews; and the people who
must not act (another office, another role, no token) are refused with the right status."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.modeling import publishing
from engine.org import users
from engine.store.models import ProcessInstance, User
from tests.conftest import T0
from tests.engine.conftest import DIAGRAMS
from tests.engine.conftest import FORMS as TEST_FORMS
from tests.processes.conftest import FORMS, WORKFLOWS
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

MEFM = HAITI_HURRICANE["mefm"]
START = MEFM["mefm_request_start"]
SECOND_RM_HTI = "second.rm@hti.example"
MISSING_TASK = "00000000-0000-0000-0000-000000000000"


def iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def instance_count(api) -> int:
    with api.world.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessInstance))


def started(api) -> dict:
    response = api.start(CHIEF_OF_MISSION_HTI, "HTI", START)
    assert response.status_code == 201, response.json
    return response.json


def only_task(api, who: str, instance_id: int) -> dict:
    found = api.inbox(who, instance_id)
    assert len(found) == 1, found
    return found[0]


def submitted(api) -> dict:
    """Prepared, budget-checked and signed at T0: the region's 48-hour review is open."""
    instance = started(api)
    budget = only_task(api, RESOURCES_MANAGEMENT_HTI, instance["id"])
    assert api.complete(RESOURCES_MANAGEMENT_HTI, budget["id"], MEFM["mefm_budget_check"]).status_code == 200
    sign = only_task(api, CHIEF_OF_MISSION_HTI, instance["id"])
    response = api.complete(CHIEF_OF_MISSION_HTI, sign["id"], MEFM["mefm_com_submission"])
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def second_rm(api) -> str:
    """A second Resources Management officer in Haiti: two candidates for the same task."""
    users.add_user(api.world.uow(), SECOND_RM_HTI, name="Second RM", office="HTI", roles=["Resources Management"])
    return SECOND_RM_HTI


def assert_error(response, status: int, fields: dict | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.data)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error", "fields"} and isinstance(body["error"], str) and body["error"]
    if fields is not None:
        assert body["fields"] == fields
    return body


# --- authentication ------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/processes"),
    ("GET", "/processes/mefm_request"),
    ("POST", "/processes/mefm_request/instances"),
    ("GET", "/instances/1"),
    ("GET", "/instances/1/events"),
    ("GET", "/tasks"),
    ("GET", f"/tasks/{MISSING_TASK}"),
    ("POST", f"/tasks/{MISSING_TASK}/claim"),
    ("POST", f"/tasks/{MISSING_TASK}/release"),
    ("POST", f"/tasks/{MISSING_TASK}/complete"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_bearer_token(api, method, path):
    body = assert_error(api.call(method, path), 401, {})
    assert "Bearer" in body["error"]
    assert api.call(method, path).headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize(
    "authorization", ["Bearer dfw_not-a-token", "Bearer ", "Basic Y2hpZWY6cGFzc3dvcmQ=", "dfw_no-scheme"]
)
def test_a_bad_token_or_another_scheme_is_refused(api, authorization):
    response = api.get("/tasks", headers={"Authorization": authorization})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="doeflow"')


def test_an_invalid_token_is_named_in_the_challenge_and_a_deactivated_users_token_stops_working(api):
    token = api.token(FINANCE)
    assert api.get("/tasks", headers={"Authorization": f"bearer {token}"}).status_code == 200
    with api.world.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.email == FINANCE).values(active=False))
        uow.commit()
    response = api.get("/tasks", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_token_is_not_read_from_the_query_string(api):
    assert_error(api.get(f"/tasks?access_token={api.token(FINANCE)}"), 401)


# --- processes -----------------------------------------------------------------------------------


def test_processes_are_those_the_caller_may_start_with_the_offices_they_may_start_them_for(api):
    response = api.get("/processes", CHIEF_OF_MISSION_HTI)
    assert response.status_code == 200
    [mefm] = response.json["processes"]
    assert mefm["id"] == "mefm_request" and mefm["version"] == 1 and mefm["offices"] == ["HTI"]
    assert mefm["name"] == "MEFM request (48-hour decision)"
    assert mefm["documentation"].startswith("A country office asks the Migration Emergency Funding Mechanism")
    assert mefm["form_key"] == "mefm_request_start" and "form" not in mefm  # the list stays light
    assert mefm["published_at"] == iso(T0)

    developer = api.get("/processes", PROJECT_DEVELOPER_HTI).json["processes"]
    assert [(p["id"], p["offices"]) for p in developer] == [("endorsement", ["HTI"])]
    assert api.get("/processes", FINANCE).json == {"processes": []}


def test_a_process_comes_with_its_start_form_schema(api):
    response = api.get("/processes/mefm_request", CHIEF_OF_MISSION_HTI)
    assert response.status_code == 200
    assert response.json["form"] == json.loads((FORMS / "mefm_request_start.json").read_text(encoding="utf-8"))
    assert response.json["offices"] == ["HTI"]


@pytest.mark.parametrize(("who", "process_id"), [(CHIEF_OF_MISSION_HTI, "no_such_process"), (FINANCE, "mefm_request")])
def test_an_unknown_process_or_one_the_caller_may_not_start_is_not_found(api, who, process_id):
    assert_error(api.get(f"/processes/{process_id}", who), 404, {})


def test_a_new_version_is_what_the_catalogue_offers(api):
    text = (WORKFLOWS / "mefm_request.bpmn").read_text(encoding="utf-8")
    files = {
        "mefm_request.bpmn": text.replace("Bridge funding needed", "Bridge funding needed now").encode(),
        "mefm_approval_authority.dmn": (WORKFLOWS / "mefm_approval_authority.dmn").read_bytes(),
    }
    publishing.publish(api.world.uow(), files, forms_dir=str(FORMS))
    assert api.get("/processes/mefm_request", CHIEF_OF_MISSION_HTI).json["version"] == 2


# --- starting an instance ------------------------------------------------------------------------


def test_starting_answers_201_with_the_instance_its_first_tasks_and_its_location(api):
    response = api.start(CHIEF_OF_MISSION_HTI, "HTI", START)
    assert response.status_code == 201, response.json
    instance = response.json
    assert response.headers["Location"] == f"/api/v1/instances/{instance['id']}"
    assert (instance["process_id"], instance["version"], instance["office"]) == ("mefm_request", 1, "HTI")
    assert (instance["status"], instance["sla_breached"], instance["title"]) == ("running", False, START["title"])
    assert instance["started_at"] == iso(T0) and instance["completed_at"] is None
    assert [(t["title"], t["lane"], t["office"], t["assignee_id"]) for t in instance["tasks"]] == [
        ("Check the budget", "Resources Management", "HTI", None)
    ]
    assert instance["data"]["requested_amount_usd"] == 500_000
    assert api.get(response.headers["Location"].removeprefix("/api/v1"), CHIEF_OF_MISSION_HTI).json == instance


@pytest.mark.parametrize("body", ["{not json", "[1, 2", '"HTI"', "[]", "null"])
def test_a_body_that_is_not_a_json_object_is_refused(api, body):
    response = api.post(
        "/processes/mefm_request/instances", CHIEF_OF_MISSION_HTI, data=body, content_type="application/json"
    )
    assert_error(response, 400, {})
    assert instance_count(api) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"data": START}, {"office": "This field is required."}),
        ({"office": 7, "data": START}, {"office": "Must be text."}),
        ({"office": "HTI", "data": [START]}, {"data": "Must be an object of form fields."}),
        ({"office": "HTI", "data": START, "priority": "high"}, {"priority": "Unexpected field."}),
    ],
)
def test_a_start_request_without_its_envelope_fields_is_refused_per_field(api, body, fields):
    assert_error(api.post("/processes/mefm_request/instances", CHIEF_OF_MISSION_HTI, body), 400, fields)
    assert instance_count(api) == 0


def test_an_invalid_start_form_is_refused_per_field_and_starts_nothing(api):
    data = {**START, "requested_amount_usd": "lots", "onset_date": "yesterday"}
    del data["justification"]
    response = api.start(CHIEF_OF_MISSION_HTI, "HTI", data)
    body = assert_error(response, 400)
    assert body["fields"] == {
        "requested_amount_usd": "Must be a number.",
        "onset_date": "Must be a valid date.",
        "justification": "This field is required.",
    }
    assert instance_count(api) == 0


def test_a_user_without_the_start_role_may_not_start(api):
    assert_error(api.start(PROJECT_DEVELOPER_HTI, "HTI", START), 403)
    assert instance_count(api) == 0


@pytest.mark.parametrize(
    ("process_id", "office"), [("mefm_request", "HTI"), ("mefm_request", "NOWHERE"), ("no_such_process", "PAN")]
)
def test_starting_for_another_office_or_an_unknown_process_is_not_found(api, process_id, office):
    assert_error(api.start(CHIEF_OF_MISSION_PAN, office, START, process_id=process_id), 404)
    assert instance_count(api) == 0


# --- instances -----------------------------------------------------------------------------------


def test_an_instance_shows_its_status_open_tasks_with_due_times_and_data(api):
    instance_id = submitted(api)["id"]
    response = api.get(f"/instances/{instance_id}", EMERGENCY_FOCAL_POINT)
    assert response.status_code == 200
    instance = response.json
    assert (instance["status"], instance["version"], instance["sla_breached"]) == ("running", 1, False)
    [review] = instance["tasks"]
    assert (review["title"], review["lane"]) == ("Review the request for the region", "Emergency Focal Point")
    assert review["due_at"] == iso(T0 + timedelta(hours=48))  # the 48-hour decision clock
    assert instance["data"]["budget_check_result"] == "cleared" and instance["data"]["com_confirmation"] is True
    assert "events" not in instance  # the timeline has its own endpoint


def test_the_events_are_the_instances_audit_timeline(api):
    instance_id = submitted(api)["id"]
    response = api.get(f"/instances/{instance_id}/events", CHIEF_OF_MISSION_HTI)
    assert response.status_code == 200
    events = response.json["events"]
    assert [(e["kind"], e["title"], e["actor_name"]) for e in events] == [
        ("started", None, "Chief of Mission (HTI)"),
        ("completed_task", "Check the budget", "Resources Management (HTI)"),
        ("completed_task", "Sign and submit the request", "Chief of Mission (HTI)"),
    ]
    # The start form's total of the activity lines is the server's (x-computed), stored with the data.
    assert events[0]["data"] == {**START, "activities_total_usd": 500_000} and events[0]["at"] == iso(T0)
    assert events[1]["data"] == MEFM["mefm_budget_check"]


@pytest.mark.parametrize("path", ["/instances/{id}", "/instances/{id}/events"])
def test_another_offices_instance_is_not_found(api, path):
    instance_id = started(api)["id"]
    assert_error(api.get(path.format(id=instance_id), CHIEF_OF_MISSION_PAN), 404)
    assert api.get(path.format(id=instance_id), EMERGENCY_FOCAL_POINT).status_code == 200  # the region sees it


@pytest.mark.parametrize("path", ["/instances/987654", "/instances/987654/events", "/instances/not-a-number"])
def test_an_unknown_instance_is_not_found(api, path):
    assert_error(api.get(path, CHIEF_OF_MISSION_HTI), 404)


# --- the inbox and a task ------------------------------------------------------------------------


def test_the_inbox_holds_the_callers_assigned_and_claimable_tasks_only(api, second_rm):
    first = started(api)["id"]
    second = started(api)["id"]
    first_budget = only_task(api, RESOURCES_MANAGEMENT_HTI, first)
    assert api.post(f"/tasks/{first_budget['id']}/claim", RESOURCES_MANAGEMENT_HTI).status_code == 200

    mine = api.inbox(RESOURCES_MANAGEMENT_HTI)
    assert sorted((t["instance_id"], t["assignee_id"]) for t in mine) == [
        (first, api.world.user(RESOURCES_MANAGEMENT_HTI)),  # assigned to me
        (second, None),  # mine to claim
    ]
    assert [t["instance_id"] for t in api.inbox(second_rm)] == [second]  # the claimed one is gone
    assert api.inbox(CHIEF_OF_MISSION_HTI) == []  # a role not asked yet
    assert api.inbox("resources-management@pan.demo") == []  # the same role in another office
    assert all(set(t) >= {"due_at", "title", "lane", "office", "form_key"} and "form" not in t for t in mine)


def test_a_task_comes_with_its_form_schema_and_due_time(api):
    instance_id = submitted(api)["id"]
    review = only_task(api, EMERGENCY_FOCAL_POINT, instance_id)
    response = api.get(f"/tasks/{review['id']}", EMERGENCY_FOCAL_POINT)
    assert response.status_code == 200
    task = response.json
    assert task["form_key"] == "mefm_regional_review" and task["state"] == "open"
    assert task["form"] == json.loads((FORMS / "mefm_regional_review.json").read_text(encoding="utf-8"))
    assert task["due_at"] == iso(T0 + timedelta(hours=48)) and task["created_at"] == iso(T0)


@pytest.mark.parametrize(
    ("method", "action"), [("GET", ""), ("POST", "/claim"), ("POST", "/release"), ("POST", "/complete")]
)
def test_another_offices_task_and_an_unknown_task_are_not_found(api, method, action):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    body = {"json": {"data": MEFM["mefm_budget_check"]}} if action == "/complete" else {}
    assert_error(api.call(method, f"/tasks/{task_id}{action}", "resources-management@pan.demo", **body), 404)
    assert_error(api.call(method, f"/tasks/{MISSING_TASK}{action}", RESOURCES_MANAGEMENT_HTI, **body), 404)
    task = api.get(f"/tasks/{task_id}", RESOURCES_MANAGEMENT_HTI).json
    assert (task["state"], task["assignee_id"]) == ("open", None)


# --- claim and release ---------------------------------------------------------------------------


def test_a_candidate_claims_and_releases_a_task(api, second_rm):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    claimed = api.post(f"/tasks/{task_id}/claim", RESOURCES_MANAGEMENT_HTI)
    assert claimed.status_code == 200 and claimed.json["assignee_id"] == api.world.user(RESOURCES_MANAGEMENT_HTI)
    again = api.post(f"/tasks/{task_id}/claim", RESOURCES_MANAGEMENT_HTI)
    assert again.status_code == 200 and again.json == claimed.json  # claiming one's own task is a no-op

    released = api.post(f"/tasks/{task_id}/release", RESOURCES_MANAGEMENT_HTI)
    assert released.status_code == 200 and released.json["assignee_id"] is None
    taken = api.post(f"/tasks/{task_id}/claim", second_rm)
    assert taken.status_code == 200 and taken.json["assignee_id"] == api.world.user(second_rm)
    instance_id = taken.json["instance_id"]
    kinds = [e["kind"] for e in api.get(f"/instances/{instance_id}/events", second_rm).json["events"]]
    assert kinds == ["started", "claimed", "released", "claimed"]


def test_claiming_a_task_another_candidate_holds_is_a_conflict(api, second_rm):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    assert api.post(f"/tasks/{task_id}/claim", RESOURCES_MANAGEMENT_HTI).status_code == 200
    body = assert_error(api.post(f"/tasks/{task_id}/claim", second_rm), 409)
    assert "Resources Management (HTI)" in body["error"]
    assert api.get(f"/tasks/{task_id}", second_rm).json["assignee_id"] == api.world.user(RESOURCES_MANAGEMENT_HTI)


def test_only_the_holder_releases_and_only_a_candidate_claims(api, second_rm):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    assert_error(api.post(f"/tasks/{task_id}/claim", FINANCE), 403)  # sees every office, lacks the role
    assert_error(api.post(f"/tasks/{task_id}/release", RESOURCES_MANAGEMENT_HTI), 403)  # nobody holds it
    assert api.post(f"/tasks/{task_id}/claim", RESOURCES_MANAGEMENT_HTI).status_code == 200
    assert_error(api.post(f"/tasks/{task_id}/release", second_rm), 403)
    assert_error(api.complete(second_rm, task_id, MEFM["mefm_budget_check"]), 403)  # claimed by the other


def test_a_completed_task_can_be_neither_claimed_nor_released(api):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    assert api.complete(RESOURCES_MANAGEMENT_HTI, task_id, MEFM["mefm_budget_check"]).status_code == 200
    assert_error(api.post(f"/tasks/{task_id}/claim", RESOURCES_MANAGEMENT_HTI), 409)
    assert_error(api.post(f"/tasks/{task_id}/release", RESOURCES_MANAGEMENT_HTI), 409)
    assert api.get(f"/tasks/{task_id}", RESOURCES_MANAGEMENT_HTI).json["state"] == "completed"


# --- completing a task ---------------------------------------------------------------------------


def test_completing_a_task_answers_with_the_instances_next_tasks(api):
    instance_id = started(api)["id"]
    budget = only_task(api, RESOURCES_MANAGEMENT_HTI, instance_id)
    response = api.complete(RESOURCES_MANAGEMENT_HTI, budget["id"], MEFM["mefm_budget_check"])
    assert response.status_code == 200
    assert response.json["id"] == instance_id and response.json["status"] == "running"
    assert [(t["title"], t["lane"], t["due_at"]) for t in response.json["tasks"]] == [
        ("Sign and submit the request", "Chief of Mission", None)
    ]
    signed = api.complete(CHIEF_OF_MISSION_HTI, response.json["tasks"][0]["id"], MEFM["mefm_com_submission"])
    assert [(t["title"], t["due_at"]) for t in signed.json["tasks"]] == [
        ("Review the request for the region", iso(T0 + timedelta(hours=48)))
    ]


def test_completing_a_task_twice_is_a_conflict(api):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    assert api.complete(RESOURCES_MANAGEMENT_HTI, task_id, MEFM["mefm_budget_check"]).status_code == 200
    body = assert_error(api.complete(RESOURCES_MANAGEMENT_HTI, task_id, MEFM["mefm_budget_check"]), 409)
    assert "already completed" in body["error"]


def test_invalid_form_data_is_refused_per_field_and_the_task_stays_open(api):
    instance_id = started(api)["id"]
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, instance_id)["id"]
    response = api.complete(RESOURCES_MANAGEMENT_HTI, task_id, {"budget_remarks": 12})
    assert_error(
        response,
        400,
        {"budget_remarks": "Must be text.", "budget_check_result": "This field is required."},
    )
    assert api.get(f"/tasks/{task_id}", RESOURCES_MANAGEMENT_HTI).json["state"] == "open"
    kinds = [e["kind"] for e in api.get(f"/instances/{instance_id}/events", RESOURCES_MANAGEMENT_HTI).json["events"]]
    assert kinds == ["started"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            MEFM["mefm_budget_check"],
            {"activities_total_usd": "Unexpected field.", "budget_check_result": "Unexpected field."},
        ),
        ({"data": "cleared"}, {"data": "Must be an object of form fields."}),
        ("{truncated", {}),
    ],
)
def test_the_form_must_come_wrapped_in_data_as_a_json_object(api, body, fields):
    task_id = only_task(api, RESOURCES_MANAGEMENT_HTI, started(api)["id"])["id"]
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    assert_error(api.post(f"/tasks/{task_id}/complete", RESOURCES_MANAGEMENT_HTI, **kwargs), 400, fields)
    assert api.get(f"/tasks/{task_id}", RESOURCES_MANAGEMENT_HTI).json["state"] == "open"


def test_finance_may_not_complete_the_chief_of_missions_task(api):
    instance_id = started(api)["id"]
    budget = only_task(api, RESOURCES_MANAGEMENT_HTI, instance_id)
    api.complete(RESOURCES_MANAGEMENT_HTI, budget["id"], MEFM["mefm_budget_check"])
    sign = only_task(api, CHIEF_OF_MISSION_HTI, instance_id)
    assert api.get(f"/tasks/{sign['id']}", FINANCE).status_code == 200  # headquarters sees every office
    assert_error(api.complete(FINANCE, sign["id"], MEFM["mefm_com_submission"]), 403)
    assert api.get(f"/tasks/{sign['id']}", CHIEF_OF_MISSION_HTI).json["state"] == "open"


def test_a_step_that_fails_in_the_process_is_422_and_changes_nothing(api):
    text = (DIAGRAMS / "funding_review.bpmn").read_text(encoding="utf-8")
    broken = text.replace("str(int(amount))", "str(int(amount) // 0)")
    publishing.publish(api.world.uow(), {"funding_review.bpmn": broken.encode()}, forms_dir=TEST_FORMS)
    instance = api.start(PROJECT_DEVELOPER_HTI, "HTI", {}, process_id="funding_review").json
    draft = instance["tasks"][0]["id"]
    api.complete(PROJECT_DEVELOPER_HTI, draft, {"title": "Bridge", "amount": 5000})
    api.complete(
        EMERGENCY_FOCAL_POINT, only_task(api, EMERGENCY_FOCAL_POINT, instance["id"])["id"], {"decision": "recommend"}
    )
    approval = only_task(api, "mefm-approver@hq.demo", instance["id"])["id"]

    body = assert_error(api.complete("mefm-approver@hq.demo", approval, {}), 422, {})
    assert "set_reference" in body["error"]
    assert api.get(f"/tasks/{approval}", "mefm-approver@hq.demo").json["state"] == "open"


# --- the edges of the API ------------------------------------------------------------------------


def test_unknown_paths_and_wrong_methods_under_the_api_answer_json(api):
    assert_error(api.get("/no/such/thing", FINANCE), 404, {})
    assert_error(api.get("", FINANCE), 404, {})
    wrong = api.call("DELETE", "/tasks", FINANCE)
    assert_error(wrong, 405, {})
    assert "GET" in wrong.headers["Allow"]
    assert_error(api.get(f"/tasks/{MISSING_TASK}/complete", FINANCE), 405)


def test_pages_outside_the_api_keep_their_own_errors(api):
    response = api.client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype != "application/json"


def test_times_are_utc_iso_8601(api):
    instance = started(api)
    assert instance["started_at"].endswith("Z") and instance["tasks"][0]["created_at"] == "2026-11-25T12:00:00Z"
