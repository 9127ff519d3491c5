"""Set-up shared by every test folder.

``import pruning`` works from the repo root (pytest.ini's ``pythonpath = .`` does the same; this
keeps other runners working too), and every test runs torch on one intra-op thread (set once for the session, so module-scoped
fixtures that train run on one thread too).
"""
import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# Saved workspaces of the app's test sessions (page tests, and the servers the browser tests
# start, which inherit the environment) go to a throw-away store, not the project's state/.
os.environ.setdefault("PRUNING_STORE_PATH",
                      str(Path(tempfile.mkdtemp(prefix="pp-store-")) / "workspaces.sqlite3"))


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Two cores shared with other work (and the server in the browser tests): one intra-op
    thread is much faster than two fighting over them, and the app runs with one too."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.hookimpl(optionalhook=True)   # a run without pytest-xdist ignores it
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs two pytest-xdist workers (``-n 2 --dist loadscope``); this
    scheduler puts every browser test in one unit of work (one worker runs them one after
    the other: they share one server and would fight over two cores) and every other test
    file in one of its own (its module-scoped trainings run once). So the browser tests run
    beside the unit, page and load tests instead of after them."""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/browser" if path.startswith("tests/browser/") else path

    return BrowserTestsTogether(config, log)
