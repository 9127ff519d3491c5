"""Fixtures for the browser tests: one Streamlit server and one Chromium per test session,
a fresh browser context (= a fresh Streamlit session) per test.

These tests never skip: when Chromium or the server cannot start, every browser test fails
with the reason (in CI, ``CI=true``, and locally alike), so a green run means a browser
really drove the app.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.browser import kit

#: ``ui.cache.MODEL_CACHE_ENV`` (not imported: importing ``ui`` sets up the app's logging and
#: torch threads in the test process).
MODEL_CACHE_ENV = "PRUNING_MODEL_CACHE"


@pytest.fixture(scope="session", autouse=True)
def shared_default_models(tmp_path_factory):
    """Every server the browser tests start shares one folder of trained default models
    (``PRUNING_MODEL_CACHE``, as ``make class`` shares it between its processes): the first
    server that needs a setting's default model really trains it in the browser's job, the
    next servers (restarts, a fresh server) load it. Set only while the browser tests run."""
    folder = tmp_path_factory.mktemp("default-models")
    old = os.environ.get(MODEL_CACHE_ENV)
    os.environ[MODEL_CACHE_ENV] = str(folder)
    yield folder
    if old is None:
        os.environ.pop(MODEL_CACHE_ENV, None)
    else:
        os.environ[MODEL_CACHE_ENV] = old


@pytest.fixture(scope="session")
def server():
    """The app under ``streamlit run``, headless on a free loopback port, with two job slots:
    test_concurrent_seeds presses Train in two sessions at once and needs both to train at
    the same time (the app's default on the 2-core machine is one: ``pruning.app.jobs``)."""
    srv = kit.start_server(env={"PRUNING_MAX_JOBS": "2"})
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def base_url(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def _spare():
    """One more app process beside ``server``, started when a test first asks for it
    (``second_server`` or ``unvisited_server``) and shared by the tests after that."""
    spare = {"server": None}
    yield spare
    if spare["server"] is not None:
        spare["server"].stop()


@pytest.fixture
def second_server(_spare, server):
    """A second app process (what a restart or another process of a class gives): not
    ``server``'s, maybe opened by an earlier test already."""
    if _spare["server"] is None:
        _spare["server"] = kit.start_server("streamlit-second")
    return _spare["server"]


@pytest.fixture
def unvisited_server(_spare):
    """A server no browser has opened yet: the shared spare one if no test has asked for it
    before (the first test that does gets it fresh), else one started for this test."""
    if _spare["server"] is None:
        _spare["server"] = srv = kit.start_server("streamlit-second")
        yield srv
    else:
        srv = kit.start_server("streamlit-fresh")
        yield srv
        srv.stop()


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    try:
        b = kit.launch_chromium(playwright_driver)
    except Exception as exc:  # fail loudly: a skipped browser suite would look green
        pytest.fail(f"Chromium could not start ({kit.CHROMIUM}): {exc}", pytrace=False)
    yield b
    b.close()


@pytest.fixture
def new_session(browser, request):
    """Factory: ``context, page = new_session()`` opens a fresh, isolated browser session.
    Pages of a failed test are screenshotted to test-artifacts/failures/."""
    opened = []

    def make(viewport=(1400, 1000)):
        context, page = kit.new_session(browser, viewport)
        opened.append((context, page))
        return context, page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, (context, page) in enumerate(opened):
        if failed:
            out = kit.ARTIFACTS / "failures"
            out.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
            try:
                page.screenshot(path=str(out / f"{name}-{i}.png"), full_page=True)
            except Exception:
                pass
        context.close()


@pytest.fixture
def page(new_session):
    """One fresh browser session's page."""
    return new_session()[1]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
