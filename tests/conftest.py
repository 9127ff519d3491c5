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


#: The browser test files in three parts, one per worker of ``make test`` (``-n 3``), each
#: part with its own server and Chromium. Parts of about equal length, from the per-file times
#: of a full run (``--durations``; seconds of a two-worker run on the shared machine): the
#: three longest files (memory budget ~210, concurrent seeds ~205, classroom walk ~185) in
#: different parts. Load-sensitive checks compare against their own server only (memory of
#: its process, its CPU after Stop), so the parts may run side by side. A browser file not
#: listed here goes to the last part.
BROWSER_PARTS = (
    frozenset({"test_memory_budget.py", "test_classroom.py", "test_hostile_links.py",
               "test_lesson_in_browser.py", "test_jobs_in_browser.py", "test_fragments.py"}),
    frozenset({"test_concurrent_seeds.py", "test_links_reproduce.py", "test_determinism.py",
               "test_pages.py", "test_extremes.py", "test_deep_link.py", "test_home.py",
               "test_report_offline.py"}),
)


def browser_part(path: str) -> str:
    """The unit of work of a browser test file: ``tests/browser[1]`` … ``tests/browser[3]``."""
    name = path.rsplit("/", 1)[-1]
    part = next((i for i, files in enumerate(BROWSER_PARTS, 1) if name in files),
                len(BROWSER_PARTS) + 1)
    return f"tests/browser[{part}]"


@pytest.hookimpl(optionalhook=True)   # a run without pytest-xdist ignores it
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs three pytest-xdist workers (``-n 3 --dist loadscope``). This
    scheduler makes the browser tests three units of work (``browser_part``), handed out
    first, one to each worker: within a part the tests run one after the other and share one
    server (a session fixture is per worker). Every other test file is a unit of its own (its
    module-scoped trainings run once) and goes to whichever worker is free. The browser tests
    mostly wait (for a page to draw, a server to start, a job to finish): one browser worker
    kept about 0.4-0.6 of a core busy (server, Chromium and test together), so three parts
    side by side on two cores take about a third as long as one after the other; the unit
    tests, which use a whole core each, follow as the parts end."""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsInThreeParts(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return browser_part(path) if path.startswith("tests/browser/") else path

    return BrowserTestsInThreeParts(config, log)
