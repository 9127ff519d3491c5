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


#: The browser test files the first browser worker runs; the rest run on the second. Two
#: halves of about equal length (from the per-file times of a full run, ``--durations``), each
#: with its own server and Chromium. Load-sensitive checks compare against their own server only
#: (memory of its process, its CPU after Stop), so the two halves may run side by side.
BROWSER_HALF_ONE = frozenset({
    "test_classroom.py", "test_concurrent_seeds.py", "test_hostile_inputs.py",
    "test_jobs_in_browser.py", "test_lesson_in_browser.py", "test_journey.py",
    "test_isolation.py", "test_determinism.py", "test_home.py", "test_deep_link.py",
    "test_fragments.py",
})


def browser_half(path: str) -> str:
    """The unit of work of a browser test file: ``tests/browser[1]`` or ``tests/browser[2]``."""
    return "tests/browser[1]" if path.rsplit("/", 1)[-1] in BROWSER_HALF_ONE \
        else "tests/browser[2]"


@pytest.hookimpl(optionalhook=True)   # a run without pytest-xdist ignores it
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs two pytest-xdist workers (``-n 2 --dist loadscope``). This scheduler
    makes the browser tests two units of work (``browser_half``), handed out first, one to
    each worker: within a half the tests run one after the other and share one server (a
    session fixture is per worker). Every other test file is a unit of its own (its
    module-scoped trainings run once) and goes to whichever worker is free. The browser tests
    mostly wait (for a page to draw, a server to start, a job to finish), so two halves side by
    side take about half as long on two cores; the unit tests fill the gaps."""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsInTwoHalves(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return browser_half(path) if path.startswith("tests/browser/") else path

    return BrowserTestsInTwoHalves(config, log)
