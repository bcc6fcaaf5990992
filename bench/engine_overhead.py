"""Engine overhead: completing one user task through the engine vs the same step in raw SpiffWorkflow.

Diagram: tests/engine/diagrams/funding_review.bpmn; the step is "Draft the request" (a user task
followed by nothing automatic but the next user task), completed by the Project Developer of HTI.

- engine: `tasks.complete_task` (load the instance, deserialize, run, serialize, human_task and
  timer projections, audit, commit), on a scratch SQLite or PostgreSQL database;
- raw persisted: the same BPMN parsed by SpiffWorkflow's own parser; the step deserializes the
  state from JSON with SpiffWorkflow's own serializer, runs the task, serializes back to JSON;
- raw in memory: the task run and the engine steps only, on an already deserialized workflow.

Steps alternate engine / raw so that the machine's noise hits both; each round gives the ratio of
the medians, and the figure is the median over the rounds. Goal: engine <= 3x raw persisted.

    python bench/engine_overhead.py [sqlite|postgresql|both] [--rounds N] [--steps N]
"""

from __future__ import annotations

import argparse

from common import (
    TEST_DIAGRAMS,
    captured_statements,
    median,
    note_postgresql_version,
    profile_tables,
    profiled,
    publish_test_diagram,
    record,
    scratch_database,
    seconds,
    user_ids,
)
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.work import instances, tasks

DIAGRAM = "funding_review.bpmn"
PROCESS = "funding_review"
DRAFTER = "project-developer@hti.demo"
DRAFT = {"title": "Bench", "amount": 5000}


class RawSpiff:
    """The diagram in plain SpiffWorkflow: its own parser, serializer and script engine."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(TEST_DIAGRAMS / DIAGRAM))
        self.spec = parser.get_spec(PROCESS)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.task_tree.set_data(office="HTI")
        workflow.do_engine_steps()
        self.started = self.serializer.serialize_json(workflow)  # waiting at "Draft the request"

    @staticmethod
    def run_draft(workflow: BpmnWorkflow) -> None:
        [draft] = workflow.get_tasks(state=TaskState.READY, manual=True)
        draft.set_data(**DRAFT)
        draft.run()
        workflow.do_engine_steps()

    def persisted_step(self) -> str:
        workflow = self.serializer.deserialize_json(self.started)
        self.run_draft(workflow)
        return self.serializer.serialize_json(workflow)


def measure(kind: str, rounds: int, steps: int, raw: RawSpiff) -> list[str]:
    database, cleanup = scratch_database(kind)
    try:
        note_postgresql_version(database)
        publish_test_diagram(database, DIAGRAM)
        drafter = user_ids(database)[DRAFTER]

        def started_draft() -> str:
            return instances.start_instance(database.unit_of_work(), drafter, PROCESS, "HTI").tasks[0].id

        def engine_step(task_id: str) -> None:
            tasks.complete_task(database.unit_of_work(), drafter, task_id, DRAFT)

        for _ in range(10):  # warm-up: caches, connection pool, first-call imports
            engine_step(started_draft())
            raw.persisted_step()

        per_round = []
        for _ in range(rounds):
            engine, persisted, memory = [], [], []
            for _ in range(steps):
                task_id = started_draft()
                engine.append(seconds(engine_step, task_id))
                persisted.append(seconds(raw.persisted_step))
                workflow = raw.serializer.deserialize_json(raw.started)
                memory.append(seconds(raw.run_draft, workflow))
            per_round.append((median(engine), median(persisted), median(memory)))

        task_id = started_draft()
        with captured_statements(database) as statements:
            engine_step(task_id)

        profile_steps = 100
        drafts = [started_draft() for _ in range(profile_steps)]
        stats = profiled(lambda: [engine_step(t) for t in drafts])

        engine_ms = median([r[0] for r in per_round]) * 1000
        persisted_ms = median([r[1] for r in per_round]) * 1000
        memory_ms = median([r[2] for r in per_round]) * 1000
        vs_persisted = median([r[0] / r[1] for r in per_round])
        vs_memory = median([r[0] / r[2] for r in per_round])
        return [
            f'Diagram `tests/engine/diagrams/{DIAGRAM}`, step "Draft the request" (user task -> next user task);'
            f" {rounds} rounds x {steps} steps, engine and raw alternating; medians per round, then the median"
            " over the rounds.",
            "",
            "| engine step | raw persisted step | raw in-memory step | engine / raw persisted | engine / raw in-memory"
            " | goal |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {engine_ms:.2f} ms | {persisted_ms:.2f} ms | {memory_ms:.3f} ms | {vs_persisted:.1f}x"
            f" | {vs_memory:.0f}x"
            " | <= 3x raw persisted |",
            "",
            f"SQL statements sent by one engine step: {len(statements)}.",
            "",
            "Ratio per round (engine / raw persisted): " + ", ".join(f"{r[0] / r[1]:.1f}x" for r in per_round),
            "",
            *profile_tables(stats, profile_steps),
        ]
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    raw = RawSpiff()
    for kind in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        record(f"Engine overhead, {kind}", measure(kind, args.rounds, args.steps, raw))


if __name__ == "__main__":
    main()
