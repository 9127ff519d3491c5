"""The app runs with Streamlit's "magic" off (.streamlit/config.toml ``runner.magicEnabled``):
no page may rely on it, i.e. no statement is a bare value that magic would have written to the
page (a name, a literal, an attribute…; calls, docstrings, yield and await it never writes)."""
import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _magic_lines(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            for i, stmt in enumerate(body):
                if not isinstance(stmt, ast.Expr) or isinstance(
                        stmt.value, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await)):
                    continue
                if i == 0 and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    continue  # a docstring
                lines.append(stmt.lineno)
    return lines


def test_magic_is_off_and_no_page_relies_on_it():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
    scripts = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    found = {p.name: _magic_lines(p) for p in scripts}
    assert not {k: v for k, v in found.items() if v}, found


def test_the_check_sees_a_bare_value():
    tmp = ROOT / "test-artifacts" / "magic_probe.py"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_text('"""doc"""\nimport streamlit as st\nx = 1\nx\nst.write(x)\n')
    try:
        assert _magic_lines(tmp) == [4]
    finally:
        tmp.unlink()
