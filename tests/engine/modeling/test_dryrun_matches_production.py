"""The dry run calls the production policy (who holds a task, who is told, where a role is held):
one MEFM scenario run both ways, in memory and through the engine on a database with the ticker,
gives the same task holders and the same emails."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from engine.modeling.dryrun import dry_run
from engine.scheduling import ticker
from engine.store.models import HumanTask, Membership, OutboxEmail
from engine.work import instances, tasks
from tests.engine.modeling.test_dryrun import ANSWERS, AT_REGIONAL_REVIEW, MEFM, PROCESS, draft
from tests.processes.conftest import published_processes  # noqa: F401 - the fixture

CHIEF_OF_MISSION = "chief-of-mission@hti.demo"
SCRIPT = [AT_REGIONAL_REVIEW, "wait PT48H", "complete until allocate_funds"]


def production(world, run) -> tuple[list, Counter]:
    """Replay the dry run's answers through the engine, firing the timers as the worker would."""
    instance = instances.start_instance(
        world.uow(), world.user(CHIEF_OF_MISSION), PROCESS, "HTI", MEFM["mefm_request_start"]
    )
    started, origin = world.clock.now(), run.tasks[0].opened_at
    # The dry run's timers and completions in time order, as the worker (on time) and people did them.
    timers = [(timer.at, 0, None) for timer in run.timers]
    completions = [(task.closed_at, 1, task) for task in run.tasks if task.state == "completed"]
    for step, (at, _, done) in enumerate(sorted(timers + completions, key=lambda e: (e[0], e[1])), start=1):
        # A minute later at each step than in the dry run: SpiffWorkflow fires a timer only once its
        # due time has passed, and each step moves the timers it starts by as much.
        world.clock.set(started + (at - origin) + timedelta(minutes=step))
        if done is None:
            ticker.tick(world.db, world.clock)
            continue
        with world.uow() as tx:
            row = tx.session.scalar(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id,
                    HumanTask.element_id == done.element_id,
                    HumanTask.state == "open",
                )
            )
            task_id = row.id
            holder = tx.session.scalar(
                select(Membership.user_id).where(
                    Membership.role_name == row.candidate_role, Membership.office_code == row.candidate_office
                )
            )
        tasks.complete_task(world.uow(), holder, task_id, dict(done.data))
    with world.uow() as tx:
        holders = [
            (t.element_id, t.candidate_role, t.candidate_office, t.state)
            for t in tx.session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == instance.id)
                .order_by(HumanTask.created_at, HumanTask.id)
            )
        ]
        told = Counter()
        for email in tx.session.scalars(select(OutboxEmail).where(OutboxEmail.instance_id == instance.id)):
            role, office = tx.session.execute(
                select(Membership.role_name, Membership.office_code).where(Membership.user_id == email.recipient_id)
            ).one()
            told[(email.kind, role, office)] += 1
    return holders, told


def test_a_dry_run_and_a_real_instance_give_the_same_task_holders_and_emails(world, published_processes):  # noqa: F811
    run = dry_run(draft(), PROCESS, start_data=MEFM["mefm_request_start"], answers=ANSWERS, script=SCRIPT)
    assert not run.problems and run.open_tasks == ("allocate_funds",)
    assert [t.element_id for t in run.tasks if t.state == "cancelled"] == ["regional_review"]

    holders, told = production(world, run)

    assert sorted(holders) == sorted((t.element_id, t.lane, t.office, t.state) for t in run.tasks)
    predicted = Counter((email.kind, role, office) for email in run.emails for role, office in email.to_roles)
    assert told == predicted
    # the approval's email to the Chief of Mission who started it is predicted too
    assert {kind for kind, _, _ in told} == {"task_assigned", "reminder", "escalation", "outcome_approved"}


def test_the_replay_is_on_the_dry_runs_clock():
    run = dry_run(draft(), PROCESS, start_data=MEFM["mefm_request_start"], answers=ANSWERS, script=SCRIPT)
    escalated = next(t for t in run.timers if t.interrupting)
    assert escalated.at - run.tasks[0].opened_at >= timedelta(hours=48)
