"""Nothing lost: a server restart (SIGTERM) in the middle of a class, a damaged saved record,
and a student deleting their saved work — with a real ``streamlit run`` and Chromium.

Before the workspace store, a restart lost every student's models (Train said "No trained
model in this session yet", Fine-tune "No pruned model") and SIGTERM ended the server by
abort (status -6) when a session was training.
"""
from __future__ import annotations

import hashlib
import signal
import sqlite3

import pytest

from tests.browser import kit

KEPT_LINK = "dataset=digits&model=mlp&hidden=32&seed=1"
TRAIN_LINK = "dataset=digits&model=mlp&hidden=512,512&seed=2"   # 30 epochs: long enough


def _alerts(page) -> str:
    return " | ".join(kit.alert_texts(page))


def keep_pruned_model(page, base_url: str) -> str:
    """Default model, pruned at the Prune page's default setting and kept; returns the
    'Kept …' sentence the page shows."""
    kit.open_app(page, base_url, "prune", KEPT_LINK)
    kit.click(page, page.get_by_role("button", name="Use a trained default model"))
    kit.click(page, page.get_by_role("button", name="Keep this pruned model"))
    kit.wait_until(page, lambda: "Kept (this setting)" in _alerts(page), timeout=60,
                   what="the kept model's sentence")
    kit.assert_no_exception(page, "Prune")
    return next(t for t in kit.alert_texts(page) if "Kept (this setting)" in t)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The module's store file, and the restarted server the first test leaves running: the
    second test starts from it (a server that restarted once) instead of starting one more
    (each start costs seconds of imports and a first page run)."""
    box = {"path": tmp_path_factory.mktemp("nothing-lost") / "workspaces.sqlite3",
           "server": None}
    yield box
    if box["server"] is not None:
        box["server"].stop()


def test_restart_mid_training_keeps_every_kept_model_and_reports_the_stopped_job(
        browser, store, monkeypatch):
    monkeypatch.setenv("PRUNING_STORE_PATH", str(store["path"]))
    server = kit.start_server("nothing-lost-a")
    port = server.port
    restarted = None
    ctx_a, a = kit.new_session(browser)
    ctx_b, b = kit.new_session(browser)
    try:
        kept = keep_pruned_model(a, server.url)
        kit.go_to_page(a, "Fine-tune")
        assert "No pruned model" not in _alerts(a)

        # B presses Train on a model that trains for a while, and the server is stopped.
        kit.open_app(b, server.url, "train", TRAIN_LINK)
        b.locator(".st-key-train_button button:visible").click()
        b.wait_for_selector("[data-testid='stProgress']", timeout=120_000)
        b.wait_for_timeout(1500)
        server.process.send_signal(signal.SIGTERM)
        status = server.process.wait(timeout=60)
        log = server.log_text()
        assert status == 0, f"SIGTERM ended the server with status {status}:\n{log[-2000:]}"
        assert "terminate called" not in log

        # Same address, same store file: both browsers reconnect by themselves.
        restarted = kit.start_server("nothing-lost-b", port=port)
        kit.wait_until(a, lambda: a.get_by_text("Pruned model:").count() > 0
                       and "No pruned model" not in _alerts(a), timeout=120,
                       what="A's Fine-tune page with its kept pruned model after the restart")
        kit.assert_no_exception(a, "Fine-tune after restart")
        kit.wait_until(b, lambda: "Train" in _alerts(b) and "stopped" in _alerts(b),
                       timeout=120, what="B told that its Train job was stopped")
        kit.assert_no_exception(b, "Train after restart")

        # A's Prune page shows the same kept model, with the same numbers.
        kit.go_to_page(a, "Prune")
        kit.wait_until(a, lambda: kept in kit.alert_texts(a), timeout=60,
                       what=f"A's kept model ({kept!r}) on the Prune page")
        # A reload is a new session of the same browser: the same work again, not the offer.
        kit.goto(a, a.url)
        assert a.get_by_role("button", name="Use a trained default model").count() == 0
        assert any(kept == t for t in kit.alert_texts(a)), kit.alert_texts(a)
        store["server"], restarted = restarted, None    # the next test goes on with it
    except Exception:
        kit.screenshot(a, "nothing-lost-restart-a")
        kit.screenshot(b, "nothing-lost-restart-b")
        raise
    finally:
        ctx_a.close()
        ctx_b.close()
        server.stop()
        if restarted is not None:
            restarted.stop()


def _key_hash(context) -> str:
    key = next(c["value"] for c in context.cookies() if c["name"] == "pp_workspace")
    return hashlib.sha256(key.encode()).hexdigest()


def test_a_damaged_record_is_refused_alone_and_a_student_can_delete_theirs(browser, store,
                                                                          monkeypatch):
    path = store["path"]
    monkeypatch.setenv("PRUNING_STORE_PATH", str(path))
    # the server the restart test left running on this store (it holds other browsers'
    # records too: only this test's two keys are touched), else a new one
    server, store["server"] = store["server"], None
    if server is None or server.process.poll() is not None:
        server = kit.start_server("nothing-lost-c")
    restarted = None
    ctx_a, a = kit.new_session(browser)
    ctx_b, b = kit.new_session(browser)
    try:
        kit.open_app(a, server.url, "prune", KEPT_LINK)
        kept_a = keep_pruned_model(a, server.url)
        kept_b = keep_pruned_model(b, server.url)
        # the browser's key is in its cookie, never in the address bar
        key = next(c["value"] for c in ctx_a.cookies() if c["name"] == "pp_workspace")
        assert key not in a.url and key not in b.url
        server.stop()

        db = sqlite3.connect(path)
        db.execute("UPDATE workspaces SET blob = ? WHERE key_hash = ?",
                   (b"\x00damaged", _key_hash(ctx_a)))
        db.commit()
        db.close()
        restarted = kit.start_server("nothing-lost-d", port=server.port)
        kit.goto(a, a.url)
        kit.assert_no_exception(a, "Prune with a damaged record")
        assert "could not be restored" in _alerts(a), _alerts(a)
        assert kept_a not in kit.alert_texts(a)      # A starts empty; nothing half-restored

        # B's work is untouched; B deletes it, and a reload starts empty.
        kit.goto(b, b.url)
        assert kept_b in kit.alert_texts(b)
        assert "could not be restored" not in _alerts(b)
        b.locator("[data-testid='stSidebar'] [data-testid='stExpander']") \
            .filter(has_text="Your saved work").locator("summary").click()
        kit.click(b, b.get_by_role("button", name="Delete my saved work"))
        assert "Deleted" in _alerts(b)
        db = sqlite3.connect(path)
        rows = db.execute("SELECT COUNT(*) FROM workspaces WHERE key_hash = ?",
                          (_key_hash(ctx_b),)).fetchone()[0]
        db.close()
        assert rows == 0
        kit.goto(b, b.url)
        assert b.get_by_role("button", name="Use a trained default model").count() == 1
    finally:
        ctx_a.close()
        ctx_b.close()
        server.stop()
        if restarted is not None:
            restarted.stop()
