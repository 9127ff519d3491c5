"""The Train page's live view in a real browser, as a class sees it while a model trains on a
2-D data set: the curves, the decision boundary and the network diagram are redrawn in place
(no frame where a live chart, once drawn, is blank or hidden; one canvas per chart for the
whole run), and the boundary and the network really move.

How: a ``requestAnimationFrame`` loop in the page looks at every animation frame of the run
(the browser paints after it), and the test reads the boundary's and the network's canvases
a few times a second. Bytes received over the websocket during the run are written to
test-artifacts/live_training.json (not asserted: timing and size goals live in bench/), with a
1920×1080 screenshot of the page mid-run.

(Why it needed work: Streamlit mounts a new Plotly chart whenever its figure changes, and a
new chart stays hidden until laid out; the old live chart, replaced every epoch, was blank in
most frames. See pruning/present/live_training.py.)
"""
from __future__ import annotations

import base64
import time

import pytest

from tests.browser import kit

LABELS = {"boundary": "The model's decision boundary", "network": "The network:",
          "curves": "Accuracy while training"}

#: Per live chart (by its accessible name): frames seen, frames blank after it was first
#: drawn, and how many different canvases it had; counting ends when the run's bar goes.
MONITOR = """(labels) => {
  const s = window.__live = {charts: {}, frames: 0, started: false, ended: false};
  for (const [k, v] of Object.entries(labels)) s.charts[k] = {label: v, seen: 0, drawn: false,
      blank: 0, canvases: 0, lost: 0};
  const tick = () => {
    const running = !!document.querySelector("[data-testid='stProgress']");
    if (running) s.started = true;
    if (s.started && !running) { s.ended = true; return; }
    if (s.started) {
      s.frames++;
      for (const c of Object.values(s.charts)) {
        const el = Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"))
            .find(e => (e.getAttribute('aria-label') || '').startsWith(c.label));
        if (!el) { if (c.drawn) c.lost++; continue; }
        c.seen++;
        const cv = el.querySelector('canvas');
        const ok = cv && cv.width > 0 && cv.getBoundingClientRect().height > 0
            && getComputedStyle(cv).visibility === 'visible';
        if (ok) { c.drawn = true; if (!cv.__counted) { cv.__counted = true; c.canvases++; } }
        else if (c.drawn) c.blank++;
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

CANVAS_HASHES = """(labels) => Object.fromEntries(Object.entries(labels).map(([k, v]) => {
  const el = Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"))
      .find(e => (e.getAttribute('aria-label') || '').startsWith(v));
  const cv = el && el.querySelector('canvas');
  if (!cv || !cv.width) return [k, null];
  const d = cv.toDataURL();
  let h = 0;
  for (let i = 0; i < d.length; i += 3) h = (h * 31 + d.charCodeAt(i)) | 0;
  return [k, h];
}))"""


def _live(page, what: str) -> bool:
    return page.evaluate(f"() => window.__live.{what}")


@pytest.mark.timeout(400)
def test_live_view_updates_in_place_and_the_boundary_moves(new_session, base_url):
    _, page = new_session(viewport=(1920, 1080))
    kit.open_app(page, base_url, "train", "dataset=moons&hidden=8,8&epochs=400&seed=3")
    kit.assert_no_exception(page, "Train")
    received = []
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.webSocketFrameReceived",
           lambda ev: received.append(len(base64.b64decode(ev["response"]["payloadData"]))
                                      if ev["response"].get("opcode") == 2
                                      else len(ev["response"]["payloadData"])))
    page.evaluate(MONITOR, LABELS)
    button = page.get_by_role("button", name="▶ Train")
    button.click()
    deadline = time.monotonic() + 120   # (kit.wait_until waits for the run to end)
    while not _live(page, "started"):
        assert time.monotonic() < deadline, "the training run did not start within 120 s"
        page.wait_for_timeout(100)
    start_bytes, t0 = sum(received), time.monotonic()
    samples, shot = [], None
    while not _live(page, "ended") and time.monotonic() - t0 < 300:
        samples.append(page.evaluate(CANVAS_HASHES, LABELS))
        if shot is None and all(samples[-1].values()):
            button.scroll_into_view_if_needed()
            shot = kit.screenshot(page, "train-live-moons-1920")
        page.wait_for_timeout(350)
    run_seconds, run_bytes = time.monotonic() - t0, sum(received) - start_bytes
    assert _live(page, "ended"), "the run did not end within 300 s"
    live = page.evaluate("() => window.__live")
    kit.dump_json("live_training.json", {"run_seconds": round(run_seconds, 1),
                                    "websocket_bytes_during_run": run_bytes,
                                    "websocket_messages": len(received),
                                    "frames_watched": live["frames"], "charts": live["charts"],
                                    "canvas_samples": len(samples)})
    kit.assert_no_exception(page, "after training")

    assert live["frames"] >= 10, f"too few animation frames seen to judge: {live}"
    for name, chart in live["charts"].items():
        assert chart["drawn"], f"the live {name} chart was never drawn: {chart}"
        assert chart["blank"] == 0 and chart["lost"] == 0, \
            f"the live {name} chart went blank or disappeared during the run: {chart}"
        assert chart["canvases"] == 1, \
            f"the live {name} chart was mounted {chart['canvases']} times (not in place): {chart}"
    for name in ("boundary", "network"):
        seen = {s[name] for s in samples if s[name] is not None}
        assert len(seen) >= 3, f"the {name} changed only {len(seen) - 1} time(s) while training"
    # the last pictures stay under "Your model"
    kit.wait_until(page, lambda: page.locator(
        "[data-testid='stVegaLiteChart'][aria-label^=\"The trained model's decision boundary\"]"
    ).count() == 1, timeout=60, what="the trained model's decision boundary")
    assert page.locator("[data-testid='stVegaLiteChart'][aria-label^='The trained network']").count() == 1
