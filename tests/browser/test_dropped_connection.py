"""Classroom Wi-Fi: the websocket drops (``window.streamlitDebug.disconnectWebsocket()``, which
Streamlit honours only with ``global.e2eTest``) while a session fine-tunes, and while a slider
moves. The browser reconnects by itself; the session must come back with its model and either
the job's result or a clear "stopped" message (before, a job cut short this way vanished
without a word), and the slider page must show the moved value with its numbers, no traceback.
"""
from __future__ import annotations

from tests.browser import kit

LINK = "dataset=digits&model=mlp&hidden=256,256&seed=3"
SPARSITY_SLIDER = "Target sparsity (% of prunable weights removed)"
STOPPED = "was stopped before it finished"
E2E = ("--global.e2eTest", "true")


def _alerts(page) -> str:
    return " | ".join(kit.alert_texts(page))


def _drop(page) -> None:
    page.evaluate("() => window.streamlitDebug.disconnectWebsocket()")


def _reconnected(page) -> bool:
    state = kit.run_state(page)
    return bool(state) and state["connection"] == "CONNECTED"


def _keep_pruned(page, base_url: str) -> str:
    kit.open_app(page, base_url, "prune", LINK)
    kit.click(page, page.get_by_role("button", name="Use a trained default model"))
    kit.click(page, page.get_by_role("button", name="Keep this pruned model"))
    kit.wait_until(page, lambda: "Kept (this setting)" in _alerts(page), timeout=60,
                   what="the kept model's sentence")
    return next(t for t in kit.alert_texts(page) if "Kept (this setting)" in t)


def test_dropped_connection_during_finetuning_and_during_a_slider_move(browser):
    server = kit.start_server("dropped-connection", extra_args=E2E)
    context, page = kit.new_session(browser)
    try:
        kept = _keep_pruned(page, server.url)

        # --- during a slider move: the moved value comes back with its numbers
        thumb = page.get_by_role("slider", name=SPARSITY_SLIDER)
        thumb.focus()
        for _ in range(6):
            page.keyboard.press("ArrowRight")
        _drop(page)
        kit.wait_until(page, lambda: _reconnected(page)
                       and kit.slider_value(page, "Target sparsity") == "93.0 %"
                       and page.get_by_text("Test accuracy after pruning").count() > 0,
                       timeout=120, what="the Prune page back at 93 % after the reconnect")
        kit.assert_no_exception(page, "Prune after a dropped connection")
        # the kept model is still there ("Kept (an earlier setting): 90.0 % target, …")
        assert kept.split(": ", 1)[1] in _alerts(page), _alerts(page)

        # --- during fine-tuning (200 epochs: still running when the connection drops)
        kit.go_to_page(page, "Fine-tune")
        epochs = page.get_by_label("Epochs", exact=True)
        kit.act(page, lambda: (epochs.fill("200"), epochs.press("Enter")))
        page.locator(".st-key-ft_run button:visible").click()
        page.wait_for_selector("[data-testid='stProgress']", timeout=120_000)
        page.wait_for_timeout(1000)
        _drop(page)
        kit.wait_until(page, lambda: _reconnected(page)
                       and (STOPPED in _alerts(page)
                            or page.get_by_text("after fine-tuning").count() > 0),
                       timeout=600, what="the fine-tuning job's result or its 'stopped' notice")
        kit.assert_no_exception(page, "Fine-tune after a dropped connection")
        # the session still has its kept pruned model
        assert page.get_by_text("Pruned model:").count() > 0
        assert "No pruned model" not in _alerts(page)
        log = server.log_text()
        assert "Traceback" not in log, log[-3000:]
    except Exception:
        kit.screenshot(page, "dropped-connection")
        raise
    finally:
        context.close()
        server.stop()
