"""The ``pruning`` package is UI-free: nothing in it imports streamlit."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "pruning"
IMPORTERS = {"__import__", "import_module"}


def streamlit_imports(source: str, filename: str = "<string>") -> list[str]:
    """Lines of ``source`` that import streamlit (statically or via a literal module name)."""
    hits = []
    for node in ast.walk(ast.parse(source, filename)):
        mods = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mods = [node.module or ""]
        elif isinstance(node, ast.Call):
            fn = node.func
            fname = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", None)
            if fname in IMPORTERS and node.args and isinstance(node.args[0], ast.Constant):
                mods = [str(node.args[0].value)]
        if any(m == "streamlit" or m.startswith("streamlit.") for m in mods):
            hits.append(f"{filename}:{node.lineno}")
    return hits


@pytest.mark.parametrize("snippet", [
    "import streamlit as st",
    "import os, streamlit.components.v1",
    "from streamlit import session_state",
    "def f():\n    import streamlit\n",
    "import importlib\nimportlib.import_module('streamlit')",
    "__import__('streamlit')",
])
def test_detector_finds_streamlit_imports(snippet):
    assert streamlit_imports(snippet)


def test_detector_ignores_lookalikes():
    assert not streamlit_imports("import streamlit_like\nx = 'streamlit'\nfrom . import st\n")


def test_no_module_in_pruning_imports_streamlit():
    files = sorted(PKG.rglob("*.py"))
    assert PKG / "__init__.py" in files and len(files) >= 10
    hits = [h for f in files for h in streamlit_imports(f.read_text(encoding="utf-8"), str(f))]
    assert hits == []


def test_importing_pruning_does_not_load_streamlit():
    code = (
        "import importlib, pkgutil, sys\n"
        "import pruning\n"
        "for m in pkgutil.walk_packages(pruning.__path__, 'pruning.'):\n"
        "    if m.name != 'pruning.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules, any(k.startswith('streamlit.') for k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PKG.parent, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
