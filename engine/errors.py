"""The engine's own errors: what a caller (web, CLI, tests) catches and turns into a message."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class NotFound(EngineError):
    """The thing does not exist, or the actor may not know that it exists."""


class PermissionDenied(EngineError):
    """The actor may see the thing but not do this to it."""


class Conflict(EngineError):
    """Somebody else changed the thing first (a task already completed, a stale instance)."""


class InvalidData(EngineError):
    """Submitted data was refused; `fields` maps a field path to its message."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = dict(fields or {})


class TooLarge(InvalidData):
    """What was sent is over a size limit (an attachment): refused whole, nothing kept."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, limit: int):
        super().__init__(message, fields)
        self.limit = limit  # bytes


@dataclass(frozen=True)
class Problem:
    """One finding about a diagram, pointing at a file, a line and an element."""

    file: str
    line: int | None
    element: str | None
    message: str
    severity: str = "error"  # "error" blocks publishing, "warning" does not

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.element or '-'}: {self.message}"


class InvalidDiagram(EngineError):
    """A diagram (or a set of them) cannot be published or run; `problems` says why."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ScriptRefused(EngineError):
    """A script or expression tried something the restricted evaluator does not allow."""


class ProcessFailure(EngineError):
    """A step of the process failed while running (a script error, a bad condition).

    The unit of work that hit it is rolled back; the message names the element.
    """

    def __init__(self, element: str | None, message: str, *, name: str | None = None):
        self.element = element  # the BPMN id of the failing step
        self.name = name  # its name in the diagram, when it has one
        self.message = message
        super().__init__(f"{element or 'process'}: {message}")


class BudgetExceeded(ProcessFailure):
    """A step ran past its step budget (tasks) or its time budget (seconds): a loop that never ends,
    a process that calls itself. Like any ProcessFailure, its unit of work is rolled back."""
