"""The email outbox: queued with the step that caused it, sent once over a real SMTP server,
retried with backoff while the server fails, and kept as a dead letter when it never accepts."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update

import config
from engine.notifications import emails as notifications
from engine.notifications import outbox
from engine.notifications import policy as policy_
from engine.notifications.outbox import MailSettings
from engine.org.offices import StoredOrganisation
from engine.store.models import OutboxEmail, ProcessInstance, ProcessVersion, User
from tests import smtp
from tests.conftest import T0

smtp_server = smtp.smtp_server  # the fixture, used by name below

BASE_URL = "https://doeflow.example.org"
PD_HTI = "project-developer@hti.demo"
DIRECTOR = "regional-director@ro-americas.demo"
TITLE = "Hurricane Marisol bridge"


def mail_settings(server=None, **changes) -> MailSettings:
    return MailSettings(
        host="127.0.0.1" if server else None,
        port=server.port if server else 25,
        user=None,
        password=None,
        starttls=False,
        sender="doeflow@ops.example.org",
        base_url=BASE_URL,
        **changes,
    )


@pytest.fixture
def instance_id(world) -> int:
    """A running funding review in Haiti, inserted directly: the outbox needs only the row."""
    with world.uow() as uow:
        version = ProcessVersion(
            process_id="funding_review",
            version=1,
            name="Funding review",
            files={},
            content_hash="0" * 64,
            published_at=T0,
        )
        instance = ProcessInstance(
            process_version=version,
            process_id="funding_review",
            office_code="HTI",
            title=TITLE,
            status="running",
            state="{}",
            started_at=T0,
            updated_at=T0,
        )
        uow.session.add(instance)
        uow.session.flush()
        uow.commit()
        return instance.id


def queue(
    world,
    instance_id,
    *,
    who=(PD_HTI,),
    kind="task_assigned",
    key="assigned:t-1",
    task_id="t-1",
    title="Draft the request",
    context=None,
    commit=True,
) -> int:
    with world.uow() as uow:
        users = [uow.session.get(User, world.user(email)) for email in who]
        count = notifications.queue(
            uow,
            kind=kind,
            recipients=users,
            dedupe_key=key,
            instance=uow.session.get(ProcessInstance, instance_id),
            task_id=task_id,
            task_title=title,
            context=context,
        )
        if commit:
            uow.commit()
        return count


def flush(world, server, owner="worker-1", **options) -> outbox.FlushResult:
    return outbox.flush(world.db, world.clock, mail_settings(server), owner=owner, **options)


def emails(world) -> list[OutboxEmail]:
    with world.db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        uow.session.expunge_all()  # readable after the unit of work rolls back
        return rows


def set_user(world, email, **values) -> None:
    with world.uow() as uow:
        uow.session.execute(update(User).where(User.email == email).values(**values))
        uow.commit()


def retry_until_due(world, server, until) -> list[outbox.FlushResult]:
    """Flush at each moment the outbox asks for, up to `until` (the worker's loop, time injected)."""
    results = []
    while (due := outbox.next_attempt_at(world.db.unit_of_work(write=False))) is not None and due <= until:
        world.clock.set(due)
        results.append(flush(world, server))
    return results


def test_queued_email_is_part_of_the_callers_transaction(world, instance_id):
    assert queue(world, instance_id, commit=False) == 1
    assert emails(world) == []

    assert queue(world, instance_id) == 1
    [email] = emails(world)
    assert (email.state, email.kind, email.to_address, email.task_id) == ("pending", "task_assigned", PD_HTI, "t-1")
    assert email.next_attempt_at == T0 and email.instance_id == instance_id


def test_the_same_dedupe_key_twice_queues_one_email(world, instance_id):
    assert queue(world, instance_id) == 1
    assert queue(world, instance_id) == 0
    with world.uow() as uow:  # twice in one transaction, too
        users = [uow.session.get(User, world.user(DIRECTOR))]
        instance = uow.session.get(ProcessInstance, instance_id)
        first, second = (
            notifications.queue(
                uow,
                kind="reminder",
                recipients=users,
                dedupe_key="remind:t-1",
                instance=instance,
                task_id="t-1",
                task_title="Review",
            )
            for _ in range(2)
        )
        uow.commit()
    assert (first, second) == (1, 0)
    assert [(e.kind, e.to_address) for e in emails(world)] == [("task_assigned", PD_HTI), ("reminder", DIRECTOR)]


def test_flush_sends_to_the_smtp_server_with_a_stable_message_id_and_the_task_link(world, instance_id, smtp_server):
    queue(world, instance_id, context={"due_at": T0 + timedelta(hours=48)})

    assert flush(world, smtp_server) == outbox.FlushResult(sent=1, retried=0, dead=0)

    [received] = smtp_server.received
    assert received.message_id == notifications.message_id(f"assigned:t-1:{world.user(PD_HTI)}")
    assert received.message["From"] == "doeflow@ops.example.org"
    assert received.to == PD_HTI and received.message["To"] == PD_HTI
    assert received.subject == f"Task assigned: Draft the request ({TITLE})"
    assert f"{BASE_URL}/tasks/t-1" in received.body
    assert "Haiti (HTI)" in received.body and "Due:      27 Nov 2026, 12:00 (UTC)" in received.body
    [email] = emails(world)
    assert (email.state, email.sent_at, email.attempts, email.claimed_by) == ("sent", T0, 1, None)
    assert flush(world, smtp_server) == outbox.FlushResult(0, 0, 0)
    assert len(smtp_server.received) == 1


def test_a_spanish_speaker_gets_spanish_with_the_due_time_in_their_zone(world, instance_id, smtp_server):
    set_user(world, DIRECTOR, language="es", timezone="America/Bogota")
    queue(
        world,
        instance_id,
        who=(DIRECTOR, PD_HTI),
        kind="escalation",
        key="escalate:t-2",
        task_id="t-2",
        title="Review the request",
        context={"due_at": T0 + timedelta(hours=48)},
    )

    flush(world, smtp_server)

    spanish, english = sorted(smtp_server.received, key=lambda r: r.to != DIRECTOR)
    assert spanish.subject == f"Escalamiento: tarea vencida, Review the request ({TITLE})"
    assert spanish.body.startswith("Hola, Regional Director (RO-AMERICAS):")
    assert "Venció:     27 nov 2026, 07:00 (UTC\u221205:00 America/Bogota)" in spanish.body
    assert f"{BASE_URL}/instances/{instance_id}" in spanish.body  # an escalation opens the request
    assert spanish.message["Content-Language"] == "es"
    assert english.subject == f"Escalation: Review the request is overdue ({TITLE})"


def test_lines_without_a_value_are_left_out(world, instance_id, smtp_server):
    queue(
        world,
        instance_id,
        kind="returned",
        key="returned:t-3",
        task_id="t-3",
        context={"reason": "Add the shelter budget line.", "by": "Emergency Focal Point"},
    )
    flush(world, smtp_server)

    body = smtp_server.received[0].body
    assert "Reason: Add the shelter budget line." in body and "Returned by: Emergency Focal Point" in body
    assert "Due:" not in body and "$" not in body


def test_a_451_is_retried_with_exponential_backoff_and_sent_once(world, instance_id, smtp_server):
    queue(world, instance_id)
    smtp_server.fail_next(3, code=451)

    assert flush(world, smtp_server) == outbox.FlushResult(sent=0, retried=1, dead=0)
    [email] = emails(world)
    assert (email.attempts, email.next_attempt_at, email.claimed_by) == (1, T0 + timedelta(seconds=30), None)
    assert "451" in email.last_error

    world.clock.advance(seconds=29)
    assert flush(world, smtp_server) == outbox.FlushResult(0, 0, 0)  # not due yet

    results = retry_until_due(world, smtp_server, T0 + timedelta(hours=1))
    assert [r.sent for r in results] == [0, 0, 1]
    assert [e.next_attempt_at - T0 for e in emails(world)] == [timedelta(seconds=30 + 60 + 120)]
    assert len(smtp_server.received) == 1 and emails(world)[0].state == "sent"
    assert outbox.next_attempt_at(world.db.unit_of_work(write=False)) is None


def test_mail_waits_out_an_hour_of_server_downtime_and_goes_once(world, instance_id, smtp_server):
    queue(world, instance_id)
    queue(world, instance_id, who=(DIRECTOR,), key="assigned:t-2", task_id="t-2")
    smtp_server.down()

    retry_until_due(world, smtp_server, T0 + timedelta(hours=1))
    assert {(e.state, e.attempts) for e in emails(world)} == {("pending", 7)}
    assert "ConnectionRefusedError" in emails(world)[0].last_error

    smtp_server.up()
    retry_until_due(world, smtp_server, T0 + timedelta(hours=3))
    assert sorted(r.to for r in smtp_server.received) == sorted([PD_HTI, DIRECTOR])
    assert {(e.state, e.attempts) for e in emails(world)} == {("sent", 8)}


def test_after_max_attempts_the_email_is_a_dead_letter(world, instance_id, smtp_server):
    queue(world, instance_id)
    smtp_server.fail_next(outbox.MAX_ATTEMPTS, code=451)

    results = retry_until_due(world, smtp_server, T0 + timedelta(days=1))

    assert [r.dead for r in results] == [0] * (outbox.MAX_ATTEMPTS - 1) + [1]
    [dead] = outbox.dead_letters(world.db.unit_of_work(write=False))
    assert (dead.to_address, dead.kind, dead.attempts, dead.instance_id) == (
        PD_HTI,
        "task_assigned",
        outbox.MAX_ATTEMPTS,
        instance_id,
    )
    assert "451" in dead.last_error
    assert outbox.next_attempt_at(world.db.unit_of_work(write=False)) is None and smtp_server.received == []


def test_a_permanently_refused_recipient_is_a_dead_letter_at_once(world, instance_id, smtp_server):
    queue(world, instance_id)
    queue(world, instance_id, who=(DIRECTOR,), key="assigned:t-2", task_id="t-2")
    smtp_server.refuse(PD_HTI, code=550)

    assert flush(world, smtp_server) == outbox.FlushResult(sent=1, retried=0, dead=1)
    assert [d.to_address for d in outbox.dead_letters(world.db.unit_of_work(write=False))] == [PD_HTI]
    assert "550" in outbox.dead_letters(world.db.unit_of_work(write=False))[0].last_error


def test_two_racing_flushes_send_each_email_once(world, instance_id, smtp_server):
    for n in range(24):
        queue(world, instance_id, key=f"assigned:t-{n}", task_id=f"t-{n}")
    start = threading.Barrier(2)
    results: dict[str, outbox.FlushResult] = {}

    def worker(owner):
        start.wait()
        results[owner] = flush(world, smtp_server, owner=owner, limit=3)

    threads = [threading.Thread(target=worker, args=(owner,)) for owner in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = smtp_server.message_ids()
    assert len(ids) == 24 and len(set(ids)) == 24
    assert sum(r.sent for r in results.values()) == 24
    assert {e.state for e in emails(world)} == {"sent"}


def test_the_claim_of_a_worker_that_died_is_taken_over_when_it_expires(world, instance_id, smtp_server):
    queue(world, instance_id)
    with world.uow() as uow:
        uow.session.execute(
            update(OutboxEmail).values(claimed_by="dead-worker", claim_expires_at=T0 + timedelta(seconds=120))
        )
        uow.commit()

    assert flush(world, smtp_server) == outbox.FlushResult(0, 0, 0)  # its lease still runs
    assert outbox.next_attempt_at(world.db.unit_of_work(write=False)) == T0 + timedelta(seconds=120)

    world.clock.advance(seconds=120)
    assert flush(world, smtp_server, owner="worker-2").sent == 1
    assert len(smtp_server.received) == 1 and emails(world)[0].state == "sent"


def test_a_stopping_worker_sends_the_email_in_hand_and_gives_the_rest_of_its_batch_back(
    world, instance_id, smtp_server, monkeypatch
):
    for n in range(4):
        queue(world, instance_id, key=f"assigned:t-{n}", task_id=f"t-{n}")
    stop, real_send = threading.Event(), outbox._Smtp.send

    def send_then_stop(self, message):  # SIGTERM arrives while the first email is being sent
        stop.set()
        real_send(self, message)

    with monkeypatch.context() as patched:
        patched.setattr(outbox._Smtp, "send", send_then_stop)
        assert flush(world, smtp_server, stop=stop).sent == 1
    assert [(e.state, e.claimed_by) for e in emails(world)] == [("sent", None)] + [("pending", None)] * 3
    assert flush(world, smtp_server, owner="worker-2").sent == 3  # no lease to wait out


def test_a_resend_after_a_crash_carries_the_same_message_id(world, instance_id, smtp_server, monkeypatch):
    queue(world, instance_id)

    real_send = outbox._Smtp.send

    def send_then_crash(self, message):
        real_send(self, message)
        raise RuntimeError("killed after the server accepted the message, before the commit")

    with monkeypatch.context() as patched:
        patched.setattr(outbox._Smtp, "send", send_then_crash)
        with pytest.raises(RuntimeError):
            flush(world, smtp_server, owner="worker-1", lease_seconds=120)
    assert emails(world)[0].state == "pending"

    world.clock.advance(seconds=120)
    flush(world, smtp_server, owner="worker-2")

    first, second = smtp_server.received
    assert first.message_id == second.message_id
    assert emails(world)[0].state == "sent"


def test_without_an_smtp_host_emails_are_written_as_eml_files(world, instance_id, tmp_path):
    queue(world, instance_id)

    result = outbox.flush(world.db, world.clock, mail_settings(dev_folder=str(tmp_path)), owner="dev")

    assert result.sent == 1
    [path] = tmp_path.glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Message-ID"] == emails(world)[0].message_id
    assert message["Subject"].strip() == f"Task assigned: Draft the request ({TITLE})"
    assert f"{BASE_URL}/tasks/t-1" in message.get_content()
    assert emails(world)[0].state == "sent"


def test_recipients_are_the_assignee_or_the_active_holders_of_the_role_for_the_office(world):
    with world.uow() as tx:
        session = tx.session
        organisation = StoredOrganisation(session)

        def told(role, office, assignee=None):
            return [
                u.email for u in policy_.people(session, [policy_.task_audience(organisation, role, office, assignee)])
            ]

        assert told("Regional Director", "HTI") == [DIRECTOR]
        assert told("Chief of Mission", "PAN") == ["chief-of-mission@pan.demo"]
        assert told("Regional Director", "HTI", world.user(PD_HTI)) == [PD_HTI]
        assert told(None, "HTI") == []
        assert told("No Such Role", "HTI") == []
        director = session.scalar(select(User).where(User.email == DIRECTOR))
        director.active = False
        session.flush()
        assert told("Regional Director", "GTM") == []


def test_settings_come_from_the_doeflow_environment(monkeypatch):
    for name, value in {
        "SMTP_HOST": "smtp.example.org",
        "SMTP_PORT": "587",
        "SMTP_USER": "robot",
        "SMTP_PASSWORD": "s3cret",
        "SMTP_STARTTLS": "1",
        "MAIL_FROM": "DOE <doe@example.org>",
        "BASE_URL": "https://doeflow.example.org/",
    }.items():
        monkeypatch.setenv(f"DOEFLOW_{name}", value)

    settings = MailSettings.from_config(config.load("test"))

    assert settings == MailSettings(
        host="smtp.example.org",
        port=587,
        user="robot",
        password="s3cret",
        starttls=True,
        sender="DOE <doe@example.org>",
        base_url=BASE_URL,
    )
    assert MailSettings.from_config(vars(config.load("test"))) == settings  # a mapping, like Flask's config


@pytest.mark.parametrize("language", notifications.LANGUAGES)
@pytest.mark.parametrize("kind", notifications.KINDS)
def test_every_template_renders_every_value(kind, language):
    values = {
        name: f"<{name}>"
        for name in (
            "name",
            "task",
            "instance",
            "reference",
            "process",
            "office",
            "task_link",
            "instance_link",
            "due",
            "reason",
            "by",
            "amount",
            "comment",
        )
    }
    subject, body = notifications.render(kind, language, values)
    assert subject and "$" not in subject + body
    assert "<instance>" in subject and ("<task_link>" in body or "<instance_link>" in body)
