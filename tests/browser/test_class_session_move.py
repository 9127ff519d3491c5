"""A student moved to another server process finds their work there: ``make class``'s HAProxy
(deploy/class_server.py, two app processes sharing one workspace store file) in front of a
real Chromium.

The student keeps a pruned model on the process the proxy chose; then the affinity cookie is
pointed at the other process (as when the first process is stopped, or the proxy rebalances)
and the page is reloaded: the new session, on the other process, opens the same work from the
shared store (the browser's private ``pp_workspace`` cookie is what names it).
"""
from __future__ import annotations

import pytest

from deploy.class_server import AFFINITY_COOKIE, ClassServer
from tests.browser import kit
from tests.browser.test_nothing_lost import keep_pruned_model


@pytest.mark.timeout(900)
def test_a_session_moved_to_the_other_process_finds_its_work(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_STORE_PATH", str(tmp_path / "workspaces.sqlite3"))
    with ClassServer(2, state=tmp_path / "class") as cls:
        context, page = kit.new_session(browser)
        try:
            kept = keep_pruned_model(page, cls.url)
            first = {c["name"]: c["value"] for c in context.cookies()}[AFFINITY_COOKIE]
            other = "app2" if first == "app1" else "app1"
            context.add_cookies([{"name": AFFINITY_COOKIE, "value": other, "url": cls.url}])
            response = page.goto(page.url)
            kit.wait_for_app(page, timeout=180)
            assert response.headers.get("x-served-by") == other, response.headers
            kit.assert_no_exception(page, f"Prune on {other}")
            assert page.get_by_role("button", name="Use a trained default model").count() == 0
            kit.wait_until(page, lambda: kept in kit.alert_texts(page), timeout=60,
                           what=f"the kept model ({kept!r}) on {other}")
            # and the websocket of the new session went to the other process too
            assert {c["name"]: c["value"] for c in context.cookies()}[AFFINITY_COOKIE] == other
        except Exception:
            kit.screenshot(page, "class-session-move")
            raise
        finally:
            context.close()
