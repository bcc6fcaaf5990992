"""State size: how an instance's serialized state and its load time grow with completed tasks.

Diagram: tests/engine/diagrams/funding_review.bpmn, driven through the engine API around its return
loop (the Project Developer drafts, the Emergency Focal Point returns it for revision, again and
again): 2 completed tasks per loop. At 10, 50 and 200 completed tasks the script reads
`process_instance.state` and times `runtime.load_workflow` (median of repeated loads, the load
alternating between the sizes so the machine's noise hits all) and `state.dump`. SpiffWorkflow
keeps every task it ran, so the state grows; loading must not grow faster than linearly: the time
per completed task must not rise with the size. SQLite (the state is the same text on PostgreSQL).

    python bench/state_size.py [--rounds N] [--loads N]
"""

from __future__ import annotations

import argparse

from common import median, publish_test_diagram, record, scratch_database, seconds, user_ids

from engine.bpmn import serializer as state
from engine.definitions import versions as definitions
from engine.runtime import steps as runtime
from engine.store.models import ProcessInstance
from engine.work import instances, tasks

SIZES = [10, 50, 200]
DRAFT = {"title": "Bench", "amount": 5000}
RETURN = {"decision": "return", "comments": "Please revise."}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()

    database, cleanup = scratch_database("sqlite")
    try:
        publish_test_diagram(database, "funding_review.bpmn")
        people = user_ids(database)
        drafter, reviewer = people["project-developer@hti.demo"], people["emergency-focal-point@ro-americas.demo"]

        # One instance per size, each driven around the loop to its number of completed tasks.
        instance_ids = {}
        for size in SIZES:
            view = instances.start_instance(database.unit_of_work(), drafter, "funding_review", "HTI")
            for done in range(size):
                who, data = (drafter, DRAFT) if done % 2 == 0 else (reviewer, RETURN)
                [task] = view.tasks
                view = tasks.complete_task(database.unit_of_work(), who, task.id, data)
            instance_ids[size] = view.id

        with database.unit_of_work(write=False) as uow:
            rows = {size: uow.session.get(ProcessInstance, i) for size, i in instance_ids.items()}
            loaded = {size: definitions.load_version(row.process_version) for size, row in rows.items()}
            texts = {size: row.state for size, row in rows.items()}
            task_counts = {size: len(runtime.load_workflow(row, loaded[size]).tasks) for size, row in rows.items()}

            load_rounds = {size: [] for size in SIZES}
            dump_rounds = {size: [] for size in SIZES}
            for _ in range(args.rounds):
                load_times = {size: [] for size in SIZES}
                dump_times = {size: [] for size in SIZES}
                for _ in range(args.loads):
                    for size in SIZES:
                        load_times[size].append(seconds(runtime.load_workflow, rows[size], loaded[size]))
                        workflow = runtime.load_workflow(rows[size], loaded[size])
                        dump_times[size].append(seconds(state.dump, workflow))
                for size in SIZES:
                    load_rounds[size].append(median(load_times[size]))
                    dump_rounds[size].append(median(dump_times[size]))

        load_ms = {size: median(load_rounds[size]) * 1000 for size in SIZES}
        dump_ms = {size: median(dump_rounds[size]) * 1000 for size in SIZES}
        first, last = SIZES[0], SIZES[-1]
        growth = (load_ms[last] / last) / (load_ms[first] / first)
        lines = [
            f"`tests/engine/diagrams/funding_review.bpmn`, return loop (draft, review -> return), driven through"
            f" `tasks.complete_task`; {args.rounds} rounds x {args.loads} loads per size, alternating; medians.",
            "",
            "| completed tasks | tasks in the tree | state size | load_workflow | load per completed task"
            " | state.dump |",
            "| --- | --- | --- | --- | --- | --- |",
            *[
                f"| {size} | {task_counts[size]} | {len(texts[size]) / 1024:.1f} KiB | {load_ms[size]:.2f} ms"
                f" | {load_ms[size] / size * 1000:.0f} µs | {dump_ms[size]:.2f} ms |"
                for size in SIZES
            ],
            "",
            f"Load time per completed task at {last} vs {first}: {growth:.2f}x"
            f" ({'not faster than linear' if growth <= 1.1 else 'FASTER than linear'}; goal <= 1x, i.e. linear or"
            " better).",
            f"State bytes per completed task: {len(texts[first]) / first:.0f} at {first},"
            f" {len(texts[last]) / last:.0f} at {last}.",
        ]
        record("State size and load time, sqlite", lines)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
