"""The `flask --app wsgi` commands of DESIGN section 5, run as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.org import users
from engine.store.models import ProcessVersion, User

DIAGRAM = Path(__file__).resolve().parents[1] / "engine" / "diagrams" / "funding_review.bpmn"


def count(app, model) -> int:
    with app.extensions["doeflow.db"].unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_db_upgrade_is_repeatable(cli):
    first, again = cli("db", "upgrade"), cli("db", "upgrade")
    assert first.exit_code == 0 and again.exit_code == 0
    assert "database is up to date" in again.output


def test_demo_load_is_idempotent_and_gives_every_role_its_office(app, cli):
    users_before = count(app, User)
    result = cli("demo", "load")
    assert result.exit_code == 0 and "0 new users" in result.output  # the fixture loaded them already
    assert count(app, User) == users_before == 27


def test_demo_load_is_refused_in_production(app, cli):
    app.config["DEMO"] = False
    result = cli("demo", "load")
    assert result.exit_code == 1 and "production" in result.stderr


def test_users_add_reads_the_password_from_stdin_and_the_user_can_log_in(app, cli):
    result = cli(
        "users",
        "add",
        "ana.perez@hti.example",
        "--name",
        "Ana Pérez",
        "--office",
        "HTI",
        "--roles",
        "Project Developer,Chief of Mission",
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    db = app.extensions["doeflow.db"]
    assert users.authenticate(db.unit_of_work(), "ana.perez@hti.example", "correct horse battery") is not None
    assert users.authenticate(db.unit_of_work(), "ana.perez@hti.example", "wrong horse battery") is None


def test_users_add_refuses_a_role_held_in_another_kind_of_office(cli):
    result = cli(
        "users",
        "add",
        "x@hti.example",
        "--name",
        "X",
        "--office",
        "HTI",
        "--roles",
        "Regional Director",
        input="long enough password\n",
    )
    assert result.exit_code == 1 and "regional office" in result.stderr


def test_users_token_prints_a_token_that_identifies_the_user(app, cli):
    result = cli("users", "token", "chief-of-mission@hti.demo")
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("dfw_") and len(token) > 40
    db = app.extensions["doeflow.db"]
    user_id = users.user_for_token(db.unit_of_work(), token)
    with db.unit_of_work(write=False) as uow:
        assert uow.session.get(User, user_id).email == "chief-of-mission@hti.demo"


def test_bpmn_validate_accepts_a_good_diagram(cli):
    result = cli("bpmn", "validate", str(DIAGRAM))
    assert result.exit_code == 0
    assert "1 file(s) valid" in result.output


def test_bpmn_validate_reports_malformed_xml_as_file_line_element_message(cli, tmp_path):
    broken = tmp_path / "broken.bpmn"
    lines = DIAGRAM.read_text().splitlines()
    lines[40] = lines[40].replace(">", "", 1)
    broken.write_text("\n".join(lines))
    result = cli("bpmn", "validate", str(broken))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    path, line, element, message = first.split(":", 3)
    assert path == str(broken) and int(line) > 0 and message.strip()
    assert "Traceback" not in result.stderr + result.output


def test_bpmn_validate_names_a_missing_file(cli, tmp_path):
    result = cli("bpmn", "validate", str(tmp_path / "nope.bpmn"))
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_bpmn_publish_prints_versions_and_is_a_no_op_the_second_time(app, cli):
    first = cli("bpmn", "publish", str(DIAGRAM))
    again = cli("bpmn", "publish", str(DIAGRAM))
    assert first.output.strip() == "funding_review version 1 (new)"
    assert again.output.strip() == "funding_review version 1 (unchanged)"
    assert count(app, ProcessVersion) == 1


def test_bpmn_publish_of_a_bad_diagram_publishes_nothing(app, cli, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text(DIAGRAM.read_text().replace('targetRef="review"', 'targetRef="nowhere"'))
    result = cli("bpmn", "publish", str(bad))
    assert result.exit_code == 1 and "nowhere" in result.stderr and "nothing was published" in result.stderr
    assert count(app, ProcessVersion) == 0


SLA_DIAGRAM = DIAGRAM.with_name("funding_review_sla.bpmn")


def _waiting_review(app, cli):
    """Publish the SLA test diagram and bring an instance to the review, at the real now."""
    from engine.work import instances, tasks
    from tests.engine.work.test_instances import DRAFT

    assert cli("bpmn", "publish", str(SLA_DIAGRAM)).exit_code == 0
    db = app.extensions["doeflow.db"]
    with db.unit_of_work(write=False) as uow:
        drafter = uow.session.scalar(select(User.id).where(User.email == "project-developer@hti.demo"))
    instance = instances.start_instance(db.unit_of_work(), drafter, "funding_review_sla", "HTI", {})
    tasks.complete_task(db.unit_of_work(), drafter, instance.tasks[0].id, DRAFT)
    return instance


def test_timers_tick_at_is_refused_without_time_travel(app, cli):
    app.config["ALLOW_TIME_TRAVEL"] = False
    result = cli("timers", "tick", "--at", "2030-01-01T00:00:00Z")
    assert result.exit_code == 1 and "DOEFLOW_ALLOW_TIME_TRAVEL=1" in result.stderr


def test_timers_tick_at_fires_what_is_due_at_that_instant(app, cli):
    from datetime import datetime, timedelta, timezone

    app.config["ALLOW_TIME_TRAVEL"] = True
    instance = _waiting_review(app, cli)
    now = cli("timers", "tick")
    assert now.exit_code == 0 and now.output.startswith("0 timer(s) fired")
    later = (datetime.now(timezone.utc) + timedelta(hours=49)).isoformat()
    result = cli("timers", "tick", "--at", later)
    # The reminder (24 h) and the escalation (48 h) were both due.
    assert result.exit_code == 0 and result.output.startswith("2 timer(s) fired"), result.output
    db = app.extensions["doeflow.db"]
    from engine.store.models import ProcessInstance

    with db.unit_of_work(write=False) as uow:
        assert uow.session.get(ProcessInstance, instance.id).sla_breached


def test_timers_tick_at_needs_a_time_zone(app, cli):
    app.config["ALLOW_TIME_TRAVEL"] = True
    result = cli("timers", "tick", "--at", "2030-01-01T00:00:00")
    assert result.exit_code == 1 and "time zone" in result.stderr


BROKEN = {
    "malformed XML": (
        '<bpmn:endEvent id="end_approved" name="Funds approved">',
        '<bpmn:endEvent id="end_approved" name="Funds approved"',
    ),
    "unknown element": (
        '<bpmn:endEvent id="end_rejected" name="Request rejected">',
        '<bpmn:finishLine id="end_rejected" name="Request rejected"/><bpmn:endEvent id="end_x">',
    ),
    "missing target": ('targetRef="review"', 'targetRef="nowhere"'),
    "duplicate id": ('<bpmn:userTask id="approve"', '<bpmn:userTask id="review"'),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_bpmn_validate_reports_each_kind_of_broken_diagram_without_a_traceback(cli, tmp_path, case):
    old, new = BROKEN[case]
    text = DIAGRAM.read_text()
    assert old in text
    path = tmp_path / "broken.bpmn"
    path.write_text(text.replace(old, new, 1))
    result = cli("bpmn", "validate", str(path))
    assert result.exit_code == 1, result.output
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert problems, result.stderr
    for line in problems:
        match = re.fullmatch(r"(.+):(\d+): (\S+): (.+)", line)
        assert match and match[1] == str(path) and int(match[2]) > 0, line
    assert "Traceback" not in result.stderr + result.output


def test_mail_flush_sends_what_the_outbox_holds_once(app, cli, smtp_server):  # noqa: F811
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, BASE_URL="https://doeflow.test")
    _waiting_review(app, cli)  # the drafter's and then the reviewer's "task assigned"
    first = cli("mail", "flush")
    assert first.exit_code == 0 and first.output.startswith("2 sent, 0 to retry later, 0 dead"), first.output
    assert sorted(r.to for r in smtp_server.received) == [
        "emergency-focal-point@ro-americas.demo",
        "project-developer@hti.demo",
    ]
    again = cli("mail", "flush")
    assert again.output.startswith("0 sent") and len(smtp_server.received) == 2


def test_mail_flush_without_smtp_writes_eml_files(app, cli, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_DEV_FOLDER=str(tmp_path))
    _waiting_review(app, cli)
    result = cli("mail", "flush")
    assert result.exit_code == 0 and "written as .eml files" in result.output
    assert len(list(tmp_path.glob("*.eml"))) == 2
