"""The layers of ``pruning/`` stay true: imports run one way, no cycles, no UI below its floor.

Floors, lowest first (a module may import its own floor and the floors below it, never above):

    errors, config ← core ← scoring ← structured ← loop ← labs ← present ← app ← cli

``pruning/__init__.py`` (the public API) and ``pruning/__main__.py`` sit on the roof and may import
anything. On top of that: nothing in ``pruning/`` imports streamlit (see test_no_streamlit.py),
and nothing below ``present`` imports plotly. Imports inside functions count the same as
imports at the top of a file: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "pruning"

FLOORS = ["errors", "config", "core", "scoring", "structured", "loop", "labs", "present", "app",
          "cli"]
# errors and config share the ground floor (config validates with errors' helpers).
FLOOR_OF = {name: max(0, i - 1) for i, name in enumerate(FLOORS)}
ROOF = {"pruning", "pruning.__main__"}
PLOTLY_FROM = FLOOR_OF["present"]


def module_name(path: Path, root: Path = PKG) -> str:
    """``pruning/core/masks.py`` → ``pruning.core.masks``; a package's ``__init__`` → the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, name: str, is_package: bool, known: set[str]) -> list[tuple[str, int]]:
    """Every module (``pruning.…`` resolved to a known module, or a third-party root) imported by
    ``source``, with its line. ``from pruning.present import figures`` names the module
    ``pruning.present.charts``; ``from pruning.core.masks import apply_masks`` names
    ``pruning.core.masks``."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append((sub if sub in known else base, node.lineno))
    return found


def floor(module: str) -> int | None:
    """The floor of a ``pruning`` module, or None on the roof."""
    if module in ROOF:
        return None
    return FLOOR_OF[module.split(".")[1]]


def import_graph(root: Path = PKG) -> tuple[dict[str, list[tuple[str, int]]], dict[str, str]]:
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    known = set(files)
    graph = {}
    for name, path in files.items():
        graph[name] = imported_modules(path.read_text(encoding="utf-8"), name,
                                       path.name == "__init__.py", known)
    return graph, {n: str(p) for n, p in files.items()}


def violations(graph: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Imports against the direction, ``pruning`` (the roof) imported from inside, plotly below
    ``present``, and streamlit anywhere."""
    out = []
    for mod, deps in graph.items():
        here = floor(mod)
        for dep, line in deps:
            root = dep.split(".")[0]
            if root == "streamlit":
                out.append(f"{mod}:{line} imports streamlit")
            if root == "plotly" and here is not None and here < PLOTLY_FROM:
                out.append(f"{mod}:{line} imports plotly below present")
            if root != "pruning" or here is None:
                continue
            if dep == "pruning" or floor(dep) is None:
                out.append(f"{mod}:{line} imports the package roof ({dep})")
            elif floor(dep) > here:
                out.append(f"{mod}:{line} imports {dep}, a floor above it")
    return out


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Import cycles among ``pruning`` modules (each found once, as a path that closes)."""
    edges = {m: sorted({d for d, _ in deps if d in graph and d != m}) for m, deps in graph.items()}
    found, state = [], {}

    def visit(m, stack):
        state[m] = "open"
        stack.append(m)
        for d in edges[m]:
            if state.get(d) == "open":
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m, [])
    return found


# --------------------------------------------------------------------------- the rules hold
def test_every_module_sits_on_a_named_floor():
    graph, _ = import_graph()
    assert len(graph) > 40
    unknown = [m for m in graph if m not in ROOF and m.split(".")[1] not in FLOOR_OF]
    assert unknown == [], f"modules outside the floors {FLOORS}: {unknown}"


def test_only_errors_config_and_the_api_at_the_top():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "config.py", "errors.py"]


def test_imports_run_one_way():
    graph, _ = import_graph()
    assert violations(graph) == []


def test_no_import_cycles():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_public_api_is_kept():
    import pruning

    for name in ["load_dataset", "build_model", "train", "evaluate_all", "score",
                 "select_by_sparsity", "select_by_threshold", "run_prune_rounds",
                 "run_experiment", "DataConfig", "ModelConfig", "TrainConfig", "PruneConfig",
                 "ExperimentConfig"]:
        assert name in pruning.__all__ and callable(getattr(pruning, name)), name


# --------------------------------------------------------------------------- the checks can fail
def _graph(**modules):
    known = set(modules)
    return {n: imported_modules(src, n, False, known) for n, src in modules.items()}


@pytest.mark.parametrize("mod, src, expect", [
    ("pruning.core.masks", "from pruning.present.style import layout", "a floor above"),
    ("pruning.core.masks", "import plotly.graph_objects as go", "plotly below present"),
    ("pruning.labs.x", "def f():\n    import plotly\n", "plotly below present"),
    ("pruning.scoring.obd", "from pruning import score", "roof"),
    ("pruning.present.x", "import streamlit as st", "streamlit"),
    ("pruning.core.training", "from ..scoring import registry", "a floor above"),
])
def test_violations_are_found(mod, src, expect):
    graph = _graph(**{mod: src, "pruning.present.style": "", "pruning.scoring.registry": "",
                      "pruning": ""})
    found = violations(graph)
    assert any(expect in v for v in found), found


def test_allowed_imports_pass():
    graph = _graph(**{"pruning.present.x": "import plotly\nfrom pruning.core.masks import m",
                      "pruning.core.masks": "from pruning.errors import E",
                      "pruning.errors": ""})
    assert violations(graph) == []


def test_a_cycle_is_found():
    graph = _graph(**{"pruning.core.a": "from pruning.core.b import x",
                      "pruning.core.b": "def f():\n    from pruning.core.a import y\n"})
    assert cycles(graph) == [["pruning.core.a", "pruning.core.b", "pruning.core.a"]]
