"""The MIWG reference models (../shared/conformance/miwg beside the clone): what the engine says about
each is gathered while the tests run, written to test-artifacts/miwg-conformance.json and summed up
in the terminal (`accepted N, refused M, failed 0`)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIWG = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "miwg"
REPORT = ROOT / "test-artifacts" / "miwg-conformance.json"
MODELS = sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else []

# file name -> {"verdict", "problems", "warnings", "executable", ...}, filled by the tests
RESULTS: dict[str, dict] = {}


def record(name: str, **facts) -> None:
    RESULTS.setdefault(name, {}).update(facts)


def counts() -> dict[str, int]:
    verdicts = [entry.get("verdict") for entry in RESULTS.values()]
    return {kind: verdicts.count(kind) for kind in ("accepted", "refused", "failed")}


# The end of the run, called by tests/conftest.py: under pytest-xdist each worker hands the verdicts
# of the models it ran to the controller, which writes the report and sums it up.


def merge(output: dict | None) -> None:
    for name, facts in (output or {}).items():
        record(name, **facts)


def finish() -> None:
    if not RESULTS:
        return
    REPORT.parent.mkdir(exist_ok=True)
    report = {
        "source": "OMG BPMN MIWG reference models (bpmn-miwg-test-suite, Reference/)",
        **counts(),
        "models": {name: RESULTS[name] for name in sorted(RESULTS)},
    }
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def summary(terminalreporter) -> None:
    if not RESULTS:
        return
    terminalreporter.section("MIWG reference models")
    for name in sorted(RESULTS):
        entry = RESULTS[name]
        notes = []
        if entry.get("executable"):
            notes.append("executable")
        if entry.get("refused_only_for_lanes"):
            notes.append("refused only for its lane names")
        if entry.get("published"):
            notes.append("published")
        if entry.get("ran"):
            notes.append(f"ran: {entry['ran']}")
        errors = len(entry.get("problems", []))
        detail = f" ({errors} error(s))" if errors else ""
        extra = f" [{', '.join(notes)}]" if notes else ""
        terminalreporter.write_line(f"{name}: {entry.get('verdict')}{detail}{extra}")
    c = counts()
    terminalreporter.write_line(f"accepted {c['accepted']}, refused {c['refused']}, failed {c['failed']}")
    terminalreporter.write_line(f"report: {REPORT.relative_to(ROOT)}")
