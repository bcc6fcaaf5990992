"""engine/ is the service layer: plain Python and SQLAlchemy, never Flask; its subpackages are
layers that import only the layers engine/README.md allows them, and no module imports back into
a cycle (function-local imports included)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
TOP_LEVEL = {"__init__", "errors", "clock", "views"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ENGINE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The engine modules `name` imports anywhere in its file (inside functions too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - (node.level - 1)] + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def module_graph() -> dict[str, set[str]]:
    mods = modules()
    graph = {}
    for name, path in mods.items():
        deps = imports_of(name, path, set(mods))
        # A package importing its own submodules, or a module its package's __init__, is no layering question.
        graph[name] = {d for d in deps if not d.startswith(name + ".") and not name.startswith(d + ".")}
    return graph


def layer(module: str) -> str:
    return module.split(".")[1]


def allowed_arrows() -> dict[str, set[str]]:
    """The table of engine/README.md: layer -> the layers it may import."""
    arrows = {}
    for line in (ENGINE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            names = [name.strip(" `") for name in cells[0].split(",")]
            allowed = set() if cells[2] == "-" else {a.strip() for a in cells[2].split(",")}
            for name in names:
                arrows[name] = allowed
    return arrows


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_engine_modules_counting_function_local_imports():
    graph = module_graph()
    assert len(graph) >= 40  # the scan saw the engine
    assert cycles(graph) == []


def test_the_checks_see_a_function_local_import_and_the_cycle_it_makes(tmp_path):
    path = tmp_path / "uow.py"
    path.write_text("def later():\n    from ..work import tasks\n", encoding="utf-8")
    known = {"engine.work", "engine.work.tasks", "engine.store.uow"}
    assert "engine.work.tasks" in imports_of("engine.store.uow", path, known)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_layer_imports_only_the_layers_engine_readme_allows():
    arrows = allowed_arrows()
    assert set(arrows) == {layer(m) for m in modules() if m != "engine"}, "engine/README.md names every layer"
    wrong = defaultdict(set)
    for module, deps in module_graph().items():
        if module == "engine":
            continue
        for dep in deps:
            if layer(dep) != layer(module) and layer(dep) not in arrows[layer(module)]:
                wrong[module].add(dep)
    assert dict(wrong) == {}


def test_the_allowed_arrows_themselves_have_no_cycle():
    assert cycles(allowed_arrows()) == []


def test_the_top_level_of_engine_holds_only_errors_clock_views_and_the_layers():
    loose = {p.stem for p in ENGINE.glob("*.py")} - TOP_LEVEL
    assert loose == set()
    assert {p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()} == {
        "store", "bpmn", "org", "notifications", "definitions", "runtime", "messaging", "work", "modeling",
        "scheduling",
    }  # fmt: skip


def test_every_engine_layer_has_a_test_folder():
    layers = {p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()}
    tested = {p.name for p in (ROOT / "tests" / "engine").iterdir() if any(p.glob("test_*.py"))}
    assert layers <= tested


def test_no_module_under_engine_imports_flask():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imports_any(path) if name.split(".")[0].startswith("flask")
        )
        for path in ENGINE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def imports_any(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_importing_the_whole_engine_loads_no_flask():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules())
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_login', 'flask_wtf')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_in_engine_or_web_is_over_400_lines():
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for folder in (ENGINE, ROOT / "web")
        for p in folder.rglob("*.py")
        if "migrations" not in p.parts and "translations" not in p.parts
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_no_route_handler_is_over_20_lines():
    long = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "attr", None) in ("route", "get", "post")
                for d in node.decorator_list
            ):
                if node.end_lineno - node.lineno + 1 > 20:
                    long.append(f"{path.name}:{node.name}")
    assert long == []


def test_the_code_is_ruff_clean():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
