"""Who may do what, where: every staff route and API endpoint that touches a case, for every demo
user (every role, in the case's own office, another country office, the regional office and
headquarters), checked against ONE declarative table of permissions below.

The case: a Haiti MEFM request waiting for the regional review (a task in the lane "Emergency
Focal Point"). Each test item is one person acting on a fresh database; refused actions must change
nothing, so the cells of one person run in sequence: 27 people x every cell below, per database."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.modeling import publishing
from engine.org import demo as demo_org
from engine.org import offices as org
from engine.org import users
from engine.org.users import hash_password
from engine.store.models import Attachment, AuditEvent, HumanTask, ProcessInstance, StartDraft, User
from engine.work import attachments, emergencies, instances, tasks
from engine.work.uploads import Upload
from tests.processes.conftest import WORKFLOWS
from tests.processes.scenarios import HAITI_HURRICANE
from tests.web.test_pages import PASSWORD, Client

CASE_OFFICE = "HTI"
MEFM = HAITI_HURRICANE["mefm"]
REVIEW = {"regional_recommendation": "recommend", "regional_comments": "Recommended for headquarters."}
FORMS_DIR = str(WORKFLOWS.parents[1] / "forms")
DOCUMENT = b"%PDF-1.7\n%%EOF\n"


@dataclass(frozen=True)
class Person:
    email: str
    role: str
    office: str

    @property
    def where(self) -> str:
        """The person's office seen from the case: own, other (country), regional or hq."""
        if self.office == CASE_OFFICE:
            return "own"
        return {"regional": "regional", "hq": "hq"}.get(org.ROLES[self.role], "other")


PEOPLE = [Person(d.email, d.role, d.office) for d in demo_org.demo_users()]


# --- the table of permissions ----------------------------------------------------------------------
# Who sees the case: its own office, the regional office above it, headquarters. Nobody else learns
# that it exists (404, never 403). Who acts on the review task: the Emergency Focal Point (its lane).
# Who reassigns: a Regional Director (for the region's offices) or an Admin. Who starts an MEFM request:
# a Chief of Mission, for their own office.


def sees(p: Person) -> bool:
    return p.where in ("own", "regional", "hq")


def acts_on_review(p: Person) -> bool:
    return p.role == "Emergency Focal Point"


def supervises(p: Person) -> bool:
    return p.role in ("Regional Director", "Admin")


def starts_mefm(p: Person) -> bool:
    return p.role == "Chief of Mission"


def cancels(p: Person) -> bool:
    """Who may cancel the case: its starter (the Chief of Mission of Haiti), a Chief of Mission of its
    office, a Regional Director of its region, an Admin."""
    return (p.role == "Chief of Mission" and p.where == "own") or supervises(p)


def declares(p: Person) -> bool:
    """Who declares and changes an emergency of Haiti: the region's Emergency Focal Point or Regional
    Director, an Admin."""
    return p.role in ("Emergency Focal Point", "Regional Director", "Admin")


def reads_reports(p: Person) -> bool:
    """Who reads the SLA report: the regional and headquarters roles but the Process Manager; it
    covers the offices they work for, so every one of them finds Haiti in it."""
    return org.ROLES[p.role] != "country" and p.role != "Process Manager"


def hidden_or(p: Person, allowed: bool, ok: int, refused: int = 403) -> int:
    return 404 if not sees(p) else (ok if allowed else refused)


# (cell name, expected status for a person) in the order they run.
API_CELLS = [
    ("api GET instance", lambda p: hidden_or(p, True, 200)),
    ("api GET instance events", lambda p: hidden_or(p, True, 200)),
    ("api GET task", lambda p: hidden_or(p, True, 200)),
    ("api inbox lists the task", lambda p: 200 if acts_on_review(p) else 204),  # 204: listed nowhere
    ("api list of startable processes", lambda p: 200 if starts_mefm(p) else 204),
    ("api GET startable mefm_request", lambda p: 200 if starts_mefm(p) else 404),
    (
        "api POST start mefm_request in HTI",
        lambda p: 201 if starts_mefm(p) and p.where == "own" else hidden_or(p, False, 0),
    ),
    ("api POST claim", lambda p: hidden_or(p, acts_on_review(p), 200)),
    ("api POST release", lambda p: hidden_or(p, acts_on_review(p), 200)),
    ("api POST complete", lambda p: hidden_or(p, acts_on_review(p), 200)),
    ("api GET attachments", lambda p: hidden_or(p, True, 200)),  # whoever sees the case sees its documents
    ("api POST attachment", lambda p: hidden_or(p, True, 201)),  # ... and may add one
    ("api GET attachment", lambda p: hidden_or(p, True, 200)),
    ("api GET comments", lambda p: hidden_or(p, True, 200)),  # whoever sees the case reads its comments
    ("api POST comment", lambda p: hidden_or(p, True, 201)),  # ... and may add one
    ("api case list lists the case", lambda p: 200 if sees(p) else 204),  # whoever sees it finds it, nobody else
    ("api GET emergencies lists Haiti's", lambda p: 200 if sees(p) else 204),  # scoped as the cases
    ("api GET emergency", lambda p: hidden_or(p, True, 200)),
    ("api POST emergency for HTI", lambda p: hidden_or(p, declares(p), 201)),
    ("api PATCH emergency", lambda p: hidden_or(p, declares(p), 200)),
    ("api GET SLA report", lambda p: 200 if reads_reports(p) else 403),
    ("api POST cancel", lambda p: hidden_or(p, cancels(p), 200)),  # last: it closes the case
]
PAGE_CELLS = [
    ("GET instance page", lambda p: hidden_or(p, True, 200)),
    ("GET instance diagram", lambda p: hidden_or(p, True, 200)),
    ("GET task page", lambda p: hidden_or(p, True, 200)),
    ("inbox lists the task", lambda p: 200 if acts_on_review(p) else 204),
    ("start page lists mefm_request", lambda p: 200 if starts_mefm(p) else 204),
    ("GET start form mefm_request", lambda p: 200 if starts_mefm(p) else 404),
    ("POST start draft mefm_request for HTI", lambda p: (302 if p.where == "own" else 400) if starts_mefm(p) else 404),
    ("POST start form mefm_request for HTI", lambda p: (302 if p.where == "own" else 400) if starts_mefm(p) else 404),
    ("POST claim", lambda p: hidden_or(p, acts_on_review(p), 302)),
    ("POST release", lambda p: hidden_or(p, acts_on_review(p), 302)),
    ("POST reassign to the focal point", lambda p: hidden_or(p, supervises(p), 302)),
    ("POST complete", lambda p: hidden_or(p, acts_on_review(p), 302)),
    ("POST attachment", lambda p: hidden_or(p, True, 302)),
    ("GET attachment", lambda p: hidden_or(p, True, 200)),
    ("POST comment", lambda p: hidden_or(p, True, 302)),
    ("case list lists the case", lambda p: 200 if sees(p) else 204),
    ("case list CSV holds the case", lambda p: 200 if sees(p) else 204),
    ("case list XLSX holds the case", lambda p: 200 if sees(p) else 204),
    ("emergencies page lists Haiti's", lambda p: 200 if sees(p) else 204),
    ("GET emergency page", lambda p: hidden_or(p, True, 200)),
    ("reports page offers Haiti", lambda p: 200 if reads_reports(p) else 403),
    ("GET report chart", lambda p: 200 if reads_reports(p) else 403),
    ("GET diagram heat", lambda p: 200 if reads_reports(p) else 403),
    ("POST declare emergency for HTI", lambda p: hidden_or(p, declares(p), 302)),
    ("POST change emergency", lambda p: hidden_or(p, declares(p), 302)),
    ("POST cancel", lambda p: hidden_or(p, cancels(p), 302)),  # last: it closes the case
]


@pytest.fixture
def case(world):
    """The Haiti request at the regional review, and every demo user with a password."""
    files = {name: (WORKFLOWS / name).read_bytes() for name in ("mefm_request.bpmn", "mefm_approval_authority.dmn")}
    publishing.publish(world.uow(), files, forms_dir=FORMS_DIR)
    with world.uow() as uow:
        hashed = hash_password(PASSWORD)
        for user in uow.session.scalars(select(User)):
            user.password_hash = hashed
        uow.commit()
    com, rm = "chief-of-mission@hti.demo", "resources-management@hti.demo"
    instance = instances.start_instance(world.uow(), world.user(com), "mefm_request", "HTI", MEFM["mefm_request_start"])
    for who, data in ((rm, MEFM["mefm_budget_check"]), (com, MEFM["mefm_com_submission"])):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, data)
    [review] = [t for t in instances.get_instance(world.uow(), world.user(com), instance.id).tasks]
    attachments.add_attachment(world.uow(), world.user(com), instance.id, Upload("budget.pdf", DOCUMENT))
    return instance.id, review.id


@pytest.fixture
def marisol(world) -> int:
    """Haiti's emergency, declared by the Regional Director."""
    facts = {"name": "Hurricane Marisol", "crisis_type": "hurricane_tropical_storm", "level": "L2"}
    director = world.user("regional-director@ro-americas.demo")
    return emergencies.declare_emergency(world.uow(), director, "HTI", **facts, onset_date="2025-09-14").id


DECLARE = {"office": "HTI", "name": "Cholera", "crisis_type": "epidemic", "level": "L1", "onset_date": "2025-10-01"}


def changed(world, instance_id: int) -> tuple:
    """What a refused action must leave as it was: the instance's state and revision, its
    timeline and its tasks' holders (read straight from the tables: this runs for every cell)."""
    with world.db.unit_of_work(world.clock, write=False) as uow:
        session = uow.session
        instance = session.get(ProcessInstance, instance_id)
        events = session.scalar(select(func.count()).where(AuditEvent.instance_id == instance_id))
        held = session.execute(
            select(HumanTask.id, HumanTask.assignee_id, HumanTask.state)
            .where(HumanTask.instance_id == instance_id)
            .order_by(HumanTask.id)
        ).all()
        return instance.revision, instance.state, events, [tuple(row) for row in held]


@pytest.mark.parametrize("person", PEOPLE, ids=[p.email for p in PEOPLE])
def test_api_permissions(app, world, case, marisol, person):
    instance_id, task_id = case
    app.extensions["doeflow.clock"] = world.clock
    client = app.test_client()
    token = users.issue_token(world.uow(), person.email)
    auth = {"Authorization": f"Bearer {token}"}
    api = "/api/v1"

    def status(name: str) -> int:
        if name == "api GET instance":
            return client.get(f"{api}/instances/{instance_id}", headers=auth).status_code
        if name == "api GET instance events":
            return client.get(f"{api}/instances/{instance_id}/events", headers=auth).status_code
        if name == "api GET task":
            return client.get(f"{api}/tasks/{task_id}", headers=auth).status_code
        if name == "api inbox lists the task":
            listed = [t["id"] for t in client.get(f"{api}/tasks", headers=auth).get_json()["tasks"]]
            return 200 if task_id in listed else 204
        if name == "api list of startable processes":
            listed = [p["id"] for p in client.get(f"{api}/processes", headers=auth).get_json()["processes"]]
            return 200 if "mefm_request" in listed else 204
        if name == "api GET startable mefm_request":
            return client.get(f"{api}/processes/mefm_request", headers=auth).status_code
        if name == "api POST start mefm_request in HTI":
            body = {"office": "HTI", "data": MEFM["mefm_request_start"]}
            return client.post(f"{api}/processes/mefm_request/instances", headers=auth, json=body).status_code
        if name == "api POST claim":
            return client.post(f"{api}/tasks/{task_id}/claim", headers=auth).status_code
        if name == "api POST release":
            return client.post(f"{api}/tasks/{task_id}/release", headers=auth).status_code
        if name == "api POST complete":
            return client.post(f"{api}/tasks/{task_id}/complete", headers=auth, json={"data": REVIEW}).status_code
        if name == "api GET attachments":
            return client.get(f"{api}/instances/{instance_id}/attachments", headers=auth).status_code
        if name == "api POST attachment":
            upload = {"file": (io.BytesIO(DOCUMENT), "letter.pdf")}
            return client.post(f"{api}/instances/{instance_id}/attachments", headers=auth, data=upload).status_code
        if name == "api GET attachment":
            return client.get(f"{api}/attachments/{first_attachment(world, instance_id)}", headers=auth).status_code
        if name == "api GET comments":
            return client.get(f"{api}/instances/{instance_id}/comments", headers=auth).status_code
        if name == "api POST comment":
            body = {"text": "A question on the budget."}
            return client.post(f"{api}/instances/{instance_id}/comments", headers=auth, json=body).status_code
        if name == "api case list lists the case":
            listed = client.get(f"{api}/instances?process=mefm_request", headers=auth).get_json()["instances"]
            return 200 if instance_id in [i["id"] for i in listed] else 204
        if name == "api GET emergencies lists Haiti's":
            listed = client.get(f"{api}/emergencies", headers=auth).get_json()["emergencies"]
            return 200 if marisol in [e["id"] for e in listed] else 204
        if name == "api GET emergency":
            return client.get(f"{api}/emergencies/{marisol}", headers=auth).status_code
        if name == "api POST emergency for HTI":
            return client.post(f"{api}/emergencies", headers=auth, json=DECLARE).status_code
        if name == "api PATCH emergency":
            return client.patch(f"{api}/emergencies/{marisol}", headers=auth, json={"level": "L3"}).status_code
        if name == "api GET SLA report":
            return client.get(f"{api}/reports/sla?office=HTI", headers=auth).status_code
        if name == "api POST cancel":
            body = {"reason": "Withdrawn."}
            return client.post(f"{api}/instances/{instance_id}/cancel", headers=auth, json=body).status_code
        raise AssertionError(name)

    run_cells(world, instance_id, person, API_CELLS, status)


@pytest.mark.parametrize("person", PEOPLE, ids=[p.email for p in PEOPLE])
def test_page_permissions(app, world, case, marisol, person):
    instance_id, task_id = case
    app.extensions["doeflow.clock"] = world.clock
    browser = Client(app)
    browser.sign_in(person.email)

    def status(name: str) -> int:
        if name == "GET instance page":
            return browser.get(f"/instances/{instance_id}").status_code
        if name == "GET instance diagram":
            return browser.get(f"/instances/{instance_id}/diagram").status_code
        if name == "GET task page":
            return browser.get(f"/tasks/{task_id}").status_code
        if name == "inbox lists the task":
            return 200 if f"/tasks/{task_id}" in browser.get("/").get_data(as_text=True) else 204
        if name == "start page lists mefm_request":
            return 200 if "/start/mefm_request" in browser.get("/start").get_data(as_text=True) else 204
        if name == "POST start draft mefm_request for HTI":
            browser.get("/start")
            response = browser.post("/start/mefm_request", {"office": "HTI", "_action": "draft", "title": "kept"})
            kept = start_drafts(world)  # saved only when allowed; a refusal keeps nothing
            return response.status_code if kept == (1 if response.status_code == 302 else 0) else 599
        if name == "POST start form mefm_request for HTI":
            browser.get("/start")
            form = {"office": "HTI", "_action": "start", **flat(MEFM["mefm_request_start"])}
            return browser.post("/start/mefm_request", form).status_code
        if name == "GET start form mefm_request":
            return browser.get("/start/mefm_request").status_code
        if name == "POST claim":
            return browser.post(f"/tasks/{task_id}/claim").status_code
        if name == "POST release":
            return browser.post(f"/tasks/{task_id}/release").status_code
        if name == "POST reassign to the focal point":
            efp = world.user("emergency-focal-point@ro-americas.demo")
            response = browser.post(f"/tasks/{task_id}/reassign", {"assignee": str(efp)})
            if response.status_code == 302:  # allowed: undo it, so the cells after start from the same state
                tasks.release_task(world.uow(), efp, task_id)
            return response.status_code
        if name == "POST complete":
            browser.get(f"/tasks/{task_id}")
            return browser.post(f"/tasks/{task_id}", {**REVIEW, "_action": "complete"}).status_code
        if name == "POST attachment":
            browser.get("/")
            upload = {"file": (io.BytesIO(DOCUMENT), "letter.pdf")}
            return browser.post(f"/instances/{instance_id}/attachments", upload).status_code
        if name == "GET attachment":
            return browser.get(f"/attachments/{first_attachment(world, instance_id)}").status_code
        if name == "POST comment":
            browser.get("/")
            return browser.post(f"/instances/{instance_id}/comments", {"text": "A question on the budget."}).status_code
        if name == "case list lists the case":
            return 200 if f'href="/instances/{instance_id}"' in browser.get("/cases").get_data(as_text=True) else 204
        if name == "case list CSV holds the case":
            return (
                200
                if f"/instances/{instance_id}\r\n" in browser.get("/cases/export.csv").get_data(as_text=True)
                else 204
            )
        if name == "case list XLSX holds the case":
            sheet = load_workbook(io.BytesIO(browser.http.get("/cases/export.xlsx").data)).active
            return 200 if any(str(r[-1]).endswith(f"/instances/{instance_id}") for r in sheet.values) else 204
        if name == "emergencies page lists Haiti's":
            return (
                200 if f'href="/emergencies/{marisol}"' in browser.get("/emergencies").get_data(as_text=True) else 204
            )
        if name == "GET emergency page":
            return browser.get(f"/emergencies/{marisol}").status_code
        if name == "reports page offers Haiti":
            page = browser.get("/reports")
            if page.status_code != 200:
                return page.status_code
            return 200 if '<option value="HTI"' in page.get_data(as_text=True) else 204
        if name == "GET report chart":
            return browser.get("/reports/charts/compliance.svg?office=HTI").status_code
        if name == "GET diagram heat":
            return browser.get("/reports/heat/mefm_request?office=HTI").status_code
        if name == "POST declare emergency for HTI":
            browser.get("/")
            return browser.post("/emergencies", DECLARE).status_code
        if name == "POST change emergency":
            browser.get("/")
            return browser.post(f"/emergencies/{marisol}", {"level": "L3", "note": "Raised."}).status_code
        if name == "POST cancel":
            browser.get("/")
            form = {"reason": "Withdrawn.", "confirm": "yes"}
            return browser.post(f"/instances/{instance_id}/cancel", form).status_code
        raise AssertionError(name)

    run_cells(world, instance_id, person, PAGE_CELLS, status)


def start_drafts(world) -> int:
    with world.db.unit_of_work(world.clock, write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(StartDraft))


def first_attachment(world, instance_id: int) -> int:
    with world.db.unit_of_work(world.clock, write=False) as uow:
        return uow.session.scalar(select(func.min(Attachment.id)).where(Attachment.instance_id == instance_id))


def flat(data: dict) -> dict:
    """Form data as a browser posts it (groups as `name.0.field`)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, list):
            for index, row in enumerate(value):
                out.update({f"{key}.{index}.{field}": str(v) for field, v in row.items()})
        else:
            out[key] = str(value)
    return out


# Every endpoint of the app and the cells that check it; those left out are public on purpose.
PUBLIC = {
    "static",
    "home.health",
    "auth.login",
    "auth.logout",
    "auth.language",
    "instances.vendor",
    "instances.vendor_dmn",
}
PUBLIC |= {"api.openapi_document"}
ENDPOINT_CELLS = {
    "inbox.index": "inbox lists the task",
    "inbox.claim": "POST claim",
    "inbox.release": "POST release",
    "inbox.reassign": "POST reassign to the focal point",
    "tasks.show": "GET task page",
    "tasks.submit": "POST complete",
    "start.index": "start page lists mefm_request",
    "start.form": "POST start form mefm_request for HTI",
    "instances.show": "GET instance page",
    "instances.diagram": "GET instance diagram",
    "api.list_processes": "api list of startable processes",
    "api.show_process": "api GET startable mefm_request",
    "api.start_instance": "api POST start mefm_request in HTI",
    "api.show_instance": "api GET instance",
    "api.list_events": "api GET instance events",
    "api.list_tasks": "api inbox lists the task",
    "api.show_task": "api GET task",
    "api.claim_task": "api POST claim",
    "api.release_task": "api POST release",
    "api.complete_task": "api POST complete",
    "api.list_attachments": "api GET attachments",
    "api.upload_attachment": "api POST attachment",
    "api.download_attachment": "api GET attachment",
    "attachments.upload": "POST attachment",
    "attachments.download": "GET attachment",
    "api.list_comments": "api GET comments",
    "api.add_comment": "api POST comment",
    "api.cancel_case": "api POST cancel",
    "case.comment": "POST comment",
    "cases.index": "case list lists the case",
    "cases.export_csv": "case list CSV holds the case",
    "cases.export_xlsx": "case list XLSX holds the case",
    "api.list_instances": "api case list lists the case",
    "case.cancel_case": "POST cancel",
    "emergencies.index": "emergencies page lists Haiti's",
    "emergencies.show": "GET emergency page",
    "emergencies.declare": "POST declare emergency for HTI",
    "emergencies.change": "POST change emergency",
    "api.list_emergencies": "api GET emergencies lists Haiti's",
    "api.show_emergency": "api GET emergency",
    "api.declare_emergency": "api POST emergency for HTI",
    "api.change_emergency": "api PATCH emergency",
    "reports.index": "reports page offers Haiti",
    "reports.chart": "GET report chart",
    "reports.heat": "GET diagram heat",
    "api.sla_report": "api GET SLA report",
}


def test_every_endpoint_of_the_app_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    # The modeler is for Process Managers only: tests/web/test_modeler_pages.py walks its routes the same way.
    modeler = {endpoint for endpoint in endpoints if endpoint.startswith("modeler.")}
    assert endpoints - PUBLIC - modeler == set(ENDPOINT_CELLS)
    cells = {name for name, _ in API_CELLS + PAGE_CELLS}
    assert set(ENDPOINT_CELLS.values()) <= cells


def run_cells(world, instance_id, person, cells, status) -> None:
    leaks = []
    for name, expected in cells:
        before = changed(world, instance_id)
        got = status(name)
        want = expected(person)
        if got != want:
            leaks.append(f"{name}: got {got}, the table says {want}")
        elif want >= 400 and changed(world, instance_id) != before:
            leaks.append(f"{name}: refused ({got}) but the case changed")
    assert not leaks, f"{person.email} ({person.role}, {person.where}): " + "; ".join(leaks)


def test_the_table_covers_every_role_in_every_position():
    positions = {(p.role, p.where) for p in PEOPLE}
    for role, level in org.ROLES.items():
        wanted = {"country": {"own", "other"}, "regional": {"regional"}, "hq": {"hq"}}[level]
        assert {(role, w) for w in wanted} <= positions, role
    assert len(PEOPLE) == 27
