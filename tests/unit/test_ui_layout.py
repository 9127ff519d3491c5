"""Where the UI glue lives: ``ui/`` (beside ``pages/`` and ``pruning/``) is the only shared code
that imports Streamlit; pages import it, never each other; ``pruning`` never imports it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))


def imports(path: Path) -> set[str]:
    """Top-level module names (``ui.scaffold``, ``pruning.core.masks`` …) that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_pages_are_only_pages():
    assert PAGES and not [p.name for p in PAGES if p.name.startswith("_")], \
        "shared page code belongs in ui/, not in pages/ (Streamlit would list it as a page)"


@pytest.mark.parametrize("path", PAGES + [ROOT / "app.py"], ids=lambda p: p.name)
def test_nothing_imports_a_page(path):
    assert not [m for m in imports(path) if m == "pages" or m.startswith("pages.")]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_page_imports_ui(path):
    """Importing ``ui`` leaves Streamlit's legacy pages mode (see ui/__init__.py): a page opened
    by a deep link before any session ran app.py must import it."""
    assert any(m == "ui" or m.startswith("ui.") for m in imports(path))


def test_ui_imports_no_page_and_pruning_imports_no_ui():
    for path in sorted((ROOT / "ui").glob("*.py")):
        assert not [m for m in imports(path) if m.split(".")[0] == "pages"], path.name
    for path in sorted((ROOT / "pruning").rglob("*.py")):
        assert not [m for m in imports(path) if m.split(".")[0] == "ui"], path
