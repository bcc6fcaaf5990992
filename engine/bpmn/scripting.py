"""Restricted evaluation of everything a diagram runs as Python (scripts, conditions, timers, DMN cells,
correlations): a RestrictedPython policy, an allow-list of builtins and a wall-clock bound per run."""

from __future__ import annotations

import ast
import functools
import sys
import time
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..errors import ScriptRefused
from . import bounds, timers

TIME_LIMIT_SECONDS = 1.0
MAX_EXPONENT = 64  # largest constant allowed right of "**" and "<<"

# SpiffWorkflow looks for frames of this file name to report the failing line of a script.
_FILENAME = "<string>"
_FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "print",
    }
)
_MESSAGES = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.While: "while loops are not allowed; use a for loop over a bounded range",
    # An except clause could swallow the time-limit error and carry on untraced.
    ast.Try: "try/except is not allowed",
    ast.TryStar: "try/except is not allowed",
    # RestrictedPython would need a metaclass hook for classes; refuse them up front instead.
    ast.ClassDef: "class definitions are not allowed",
}


_BUILTINS: dict[str, Any] = {
    **{
        name: value for name, value in safe_builtins.items() if isinstance(value, type) and issubclass(value, Exception)
    },  # for `raise ValueError(...)`
    **{
        name: safe_builtins[name]
        for name in (
            "None",
            "False",
            "True",
            "abs",
            "bool",
            "chr",
            "divmod",
            "float",
            "int",
            "isinstance",
            "len",
            "ord",
            "round",
            "str",
        )
    },
    "all": all,
    "any": any,
    "dict": dict,
    "enumerate": enumerate,
    "list": list,
    "max": max,
    "min": min,
    "set": set,
    "sorted": sorted,
    "sum": bounds.bounded_sum,
    "tuple": tuple,
    "zip": zip,
    "range": bounds.bounded_range,
    "format": bounds.format_value,
    "repr": bounds.checked_repr,
}

# The operators one C-level call of which can cost seconds or gigabytes: each goes through its checked
# version (engine.bpmn.bounds) under the name of a guard.
_CHECKED_OPERATORS = {
    ast.Mult: (bounds.multiply, "_mul_"),
    ast.Add: (bounds.add, "_add_"),
    ast.Pow: (bounds.power, "_pow_"),
    ast.LShift: (bounds.shift_left, "_lshift_"),
    ast.Mod: (bounds.modulo, "_mod_"),
}

# The names RestrictedPython rewrites code to call; they start with "_", so scripts cannot touch them.
_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": bounds.checked_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": lambda op, target, value: bounds.INPLACE[op](target, value),
    "_apply_": lambda function, *args, **kwargs: function(*args, **kwargs),
    **{guard: function for function, guard in _CHECKED_OPERATORS.values()},
    "_format_": bounds.format_value,
    "_str_": bounds.checked_str,
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and name != "_"


def _is_small_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and abs(node.value) <= MAX_EXPONENT


def _problem(node: ast.AST) -> str | None:
    """What our policy adds to RestrictedPython's for this node, if anything."""
    if isinstance(node, ast.Attribute) and _is_private(node.attr):
        return f'names starting with "_" are not allowed: {node.attr}'
    if isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
        return f'"{node.id}" is not allowed'
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, (ast.Pow, ast.LShift)):
        right = node.right if isinstance(node, ast.BinOp) else node.value
        if not _is_small_constant(right):
            symbol = "**" if isinstance(node.op, ast.Pow) else "<<"
            return f'"{symbol}" is only allowed with a constant of at most {MAX_EXPONENT} on its right'
    return _MESSAGES.get(type(node))


def _call(function: str, args: list[ast.expr], node: ast.AST) -> ast.Call:
    name = ast.copy_location(ast.Name(function, ast.Load()), node)
    return ast.copy_location(ast.Call(func=name, args=args, keywords=[]), node)


class _Policy(RestrictingNodeTransformer):
    """RestrictingNodeTransformer plus our own refusals, checked before each node is transformed."""

    def visit(self, node: ast.AST) -> Any:
        problem = _problem(node)
        if problem:
            self.error(node, problem)
        return super().visit(node)

    def check_name(self, node: ast.AST, name: str | None, allow_magic_methods: bool = False) -> None:
        # Called for variables, function names and argument names alike.
        if name is not None and _is_private(name):
            self.error(node, f'names starting with "_" are not allowed: {name}')
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        checked = _CHECKED_OPERATORS.get(type(node.op))
        return node if checked is None else _call(checked[1], [node.left, node.right], node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = super().visit_Call(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
            node.func = ast.copy_location(ast.Name("_str_", ast.Load()), node.func)  # a value turned into text
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        # `{value!r:spec}` becomes `{_format_(value, f"spec", conversion)}`, which bounds the width.
        node = self.node_contents_visit(node)
        spec = node.format_spec or ast.copy_location(ast.Constant(""), node)
        conversion = ast.copy_location(ast.Constant(node.conversion), node)
        value = _call("_format_", [node.value, spec, conversion], node)
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)

    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append(f"{info.rstrip('.')} (line {getattr(node, 'lineno', '?')})")


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> CodeType | str:
    """Code for the source, or the first reason it is refused. A SyntaxError propagates (with its line)."""
    if mode == "eval":
        source = source.strip()  # condition text in a diagram is often indented or on its own line
    try:
        tree = ast.parse(source, _FILENAME, mode)
    except (MemoryError, RecursionError):  # the parser's own limits: a very long chain of operators
        return "the text is nested too deeply to be read"
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_restricted(tree, _FILENAME, policy=_Policy)
    return result.errors[0] if result.errors else result.code


def _check(source: str, mode: str) -> str | None:
    try:
        result = _compile(source, mode)
    except SyntaxError as err:
        return f"syntax error: {err.msg} (line {err.lineno})"
    return result if isinstance(result, str) else None


def check_expression(source: str) -> str | None:
    """Static check of an expression (condition, timer, DMN cell): None if allowed, else a one-line message."""
    return _check(source, "eval")


def check_script(source: str) -> str | None:
    """Static check of a script (statements): None if allowed, else a one-line message."""
    return _check(source, "exec")


def _code(source: str, mode: str) -> CodeType:
    result = _compile(source, mode)
    if isinstance(result, str):
        raise ScriptRefused(result)
    return result


def _run(code: CodeType, namespace: dict[str, Any], what: str) -> Any:
    """Evaluate code, raising ScriptRefused from within it once it has run longer than the time limit."""
    limit = TIME_LIMIT_SECONDS
    deadline = time.monotonic() + limit

    def trace(frame, event, arg):
        # Only the script's own frames (its body, functions, comprehensions) need the clock; not guards.
        if event == "call" and frame.f_code.co_filename != _FILENAME:
            return None
        if time.monotonic() > deadline:
            raise ScriptRefused(f"the {what} took longer than {limit} s")
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        return eval(code, namespace)
    finally:
        sys.settrace(previous)


def _optional(namespace: dict[str, Any], name: str, default: Any = None) -> Any:
    """`get(name, default)` in a script or condition: the value of a variable that may not be set."""
    if not isinstance(name, str) or _is_private(name):
        raise NameError(f"get() takes the name of a variable, not {name!r}")
    value = namespace.get(name, default)
    return default if callable(value) else value


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts restricted, with task data as their variables."""

    def _namespace(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
        # Guards go last so task data can never replace them.
        namespace = {**self.globals, **(external_context or {}), **context, **_GUARDS}
        namespace["get"] = functools.partial(_optional, namespace)
        return namespace

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return _run(_code(expression, "eval"), self._namespace(context, external_context), "expression")

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        namespace = self._namespace(context, external_context)
        _run(_code(script, "exec"), namespace, "script")
        # Written back only after success, so a refused or failing script leaves the task data untouched.
        external = external_context or {}
        for name in [name for name in context if name not in namespace]:
            del context[name]  # the script deleted it
        for name, value in namespace.items():
            if name in _GUARDS or name in self.globals or callable(value) or (name in external and name not in context):
                continue
            context[name] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ScriptRefused("service tasks are not supported")


def constant_value(source: str) -> tuple[bool, Any]:
    """(True, its value) for an expression that reads no data (only literals and builtins), which
    is then evaluated, restricted, as it would be at run time; else (False, None)."""
    names = {node.id for node in ast.walk(ast.parse(source.strip(), _FILENAME, "eval")) if isinstance(node, ast.Name)}
    if not names <= set(_BUILTINS):
        return False, None
    return True, RestrictedEnvironment().evaluate(source, {})


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose errors keep the reason, and whose timer values are checked before
    SpiffWorkflow reads them; meant for a RestrictedEnvironment."""

    def evaluate(self, task, expression, external_context=None):
        try:
            value = super().evaluate(task, expression, external_context)
        except WorkflowTaskException as err:
            # The library reports only "Error evaluating expression '...'"; add why.
            cause = err.__context__
            if isinstance(cause, Exception) and not isinstance(cause, SpiffWorkflowException):
                err.add_note(f"{type(cause).__name__}: {cause}")
            raise
        definition = getattr(getattr(task, "task_spec", None), "event_definition", None)
        kind = timers.kind_of(definition)
        if kind is not None and expression == definition.expression:
            # On junk the library raises bare exceptions or overflows (a 500), or loops month by month.
            problem = timers.timer_value_problem(kind, value, timers.now())
            if problem:
                raise WorkflowTaskException(f"{problem}; the timer's expression is {expression!r}", task=task)
        return value

    def call_service(self, task, **kwargs):
        # The library's own error path here refers to an undefined name (`script`) and raises NameError.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err


def make_script_engine() -> PythonScriptEngine:
    """A script engine that runs every script and expression restricted. Cheap: compiled code is cached."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment())
