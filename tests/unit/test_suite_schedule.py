"""``make test``'s three browser parts (tests/conftest.py ``BROWSER_PARTS``) name real files:
a renamed or deleted browser test file would otherwise drop silently into the last part and
unbalance the run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _suite_conftest():
    spec = importlib.util.spec_from_file_location("suite_conftest", TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_named_browser_file_exists_once_and_the_rest_go_to_the_last_part():
    conftest = _suite_conftest()
    files = {p.name for p in (TESTS / "browser").glob("test_*.py")}
    named = [name for part in conftest.BROWSER_PARTS for name in part]
    assert len(named) == len(set(named)), "a file in two parts"
    assert set(named) <= files, f"no such browser test file: {sorted(set(named) - files)}"
    last = f"tests/browser[{len(conftest.BROWSER_PARTS) + 1}]"
    rest = files - set(named)
    assert rest, "the last part is empty"
    assert {conftest.browser_part(f"tests/browser/{name}") for name in rest} == {last}
    assert conftest.browser_part("tests/browser/test_memory_budget.py") == "tests/browser[1]"
