"""The calls between the processes of a set of diagrams, and the call activities that make a process
call itself, directly or through other processes. SpiffWorkflow runs such a call without end (each
run opens the next, ever slower), so it is refused when the set is checked: at validation, in a
draft, and at publish time, where the set holds the files being published and the latest published
versions of the processes they call (engine.definitions.versions)."""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping

from lxml import etree

from .vocabulary import Finding, bpmn, owner_process


def recursive_calls(trees: Mapping[str, etree._ElementTree]) -> dict[str, list[Finding]]:
    """File name -> a finding for each call activity of that file that is on a cycle of calls."""
    calls: dict[str, set[str]] = defaultdict(set)  # process id -> the processes it calls
    activities: list[tuple[str, str, str, etree._Element]] = []  # (file, caller, called, call activity)
    for name, tree in trees.items():
        for call in bpmn(tree, "callActivity"):
            caller, called = owner_process(call), (call.get("calledElement") or "").strip()
            if caller and called:
                calls[caller].add(called)
                activities.append((name, caller, called, call))
    found: dict[str, list[Finding]] = defaultdict(list)
    for name, caller, called, call in activities:
        back = _shortest_path(calls, called, caller)
        if back is not None:
            found[name].append(Finding(call, _message(call.get("id"), [caller, *back])))
    return dict(found)


def _shortest_path(calls: Mapping[str, set[str]], start: str, goal: str) -> list[str] | None:
    """The processes from `start` to `goal` along the calls, both included; None if none leads there."""
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        process = queue.pop(0)
        if process == goal:
            path = [process]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])
            return path[::-1]
        for called in sorted(calls.get(process, ())):
            if called not in came_from:
                came_from[called] = process
                queue.append(called)
    return None


def _message(activity: str | None, cycle: list[str]) -> str:
    chain = " calls ".join(cycle)
    if len(cycle) == 2:
        return f"call activity {activity} calls its own process ({chain}): a process may not call itself"
    return (
        f"call activity {activity} makes its process call itself ({chain}): "
        "a process may not call itself, directly or through other processes"
    )
