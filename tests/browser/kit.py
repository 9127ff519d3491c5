"""Plumbing for the browser tests and the load test: a real ``streamlit run`` server on a free
loopback port, Debian's Chromium driven by Playwright, and helpers that read what a student
actually sees (script state, error boxes, rendered Plotly charts, metrics).

Kept free of pytest so ``tests/load/load_test.py`` and ``bench/`` use the same server and\nbrowser code (one harness).

Synchronisation rule: Streamlit reruns the script after every widget change. A page is "done"
after an action when a run that started after the action has finished for good (the server's
``script_finished`` message, not one cut short for a rerun; see ``WATCH_SCRIPT``), the root
element ``[data-testid=stApp]`` says ``data-test-script-state=notRunning``, and the DOM has
changed since the action and then stayed quiet for a moment (the frontend draws a run's
messages after they arrive). Looking only at the attribute is not enough on a busy machine:
between a click and its rerun, or between a run cut short by ``st.rerun()`` and the next one,
the page briefly says ``notRunning`` too. Where the outcome is known, tests also wait for it
(``wait_until``).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:     # numpy and pandas are imported where used (kit stays light)
    import numpy as np
    import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

#: the log line ``ui/cache.py`` writes each time the shared default model is really
#: trained (not served from the cache); the load test counts it.
DEFAULT_TRAINING_LOG = "training shared default model"


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StreamlitServer:
    """One ``streamlit run serve.py`` (app.py behind the server guard) process on loopback. ``url`` ends without a slash."""

    port: int
    process: subprocess.Popen
    log_path: Path
    _log_file: object = field(repr=False, default=None)
    started: float = 0.0     # time.perf_counter() when the process was spawned

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self, timeout: float = 60.0, poll: float = 0.02) -> float:
        """Wait until ``/_stcore/health`` answers ``ok``; returns seconds since spawn.
        Raises RuntimeError (with the server's log) if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n"
                                   f"{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().decode().strip() == "ok":
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(poll)
        self.stop()
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s:\n"
                           f"{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_kib(self) -> int:
        """Resident memory of the server process now (VmRSS from /proc, in KiB)."""
        return _proc_status_kib(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        """Peak resident memory of the server process so far (VmHWM, in KiB)."""
        return _proc_status_kib(self.pid, "VmHWM")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log_file:
            self._log_file.close()


def _proc_status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/{pid}/status")


def spawn_server(log_name: str = "streamlit-server",
                 extra_args: tuple[str, ...] = (), port: int | None = None,
                 env: dict[str, str] | None = None) -> StreamlitServer:
    """Start the app headless on a free loopback port (or ``port``: a restart on the same
    address) without waiting for it (``started`` is the ``perf_counter`` at spawn;
    ``wait_healthy`` waits). The file watcher is off: other people editing files must not
    rerun a test's session. ``env``: extra environment variables for the server."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = ARTIFACTS / f"{log_name}-{port}.log"
    log_file = open(log_path, "w")
    env = dict(os.environ, PYTHONUNBUFFERED="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               **(env or {}))
    cmd = [sys.executable, "-m", "streamlit", "run", "serve.py",
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *extra_args]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    return StreamlitServer(port, proc, log_path, log_file, started)


def start_server(log_name: str = "streamlit-server", timeout: float = 60.0,
                 extra_args: tuple[str, ...] = (), port: int | None = None,
                 env: dict[str, str] | None = None) -> StreamlitServer:
    """``spawn_server`` and wait for ``/_stcore/health``. Raises RuntimeError (with the
    server's log) when the server does not answer in time."""
    server = spawn_server(log_name, extra_args, port, env)
    server.wait_healthy(timeout)
    return server


@contextmanager
def running_server(log_name: str = "streamlit-server", timeout: float = 60.0):
    """``start_server`` for the length of a ``with`` block; stopped on the way out."""
    server = start_server(log_name, timeout)
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- browser
def launch_chromium(playwright):
    """Debian's Chromium, headless. Raises (never skips) when it cannot start."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}; run scripts/ensure_chromium.sh")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@contextmanager
def chromium():
    """A Playwright driver and ``launch_chromium`` for the length of a ``with`` block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


# Installed in every page before the app's own code (``add_init_script``): wraps WebSocket so
# that each message of the app's stream (a protobuf ForwardMsg) is looked at *in the page*:
# only its top-level fields are walked (big payloads are skipped by their length), and two
# kinds are counted: ``script_finished`` (field 6, an enum; 2 = FINISHED_EARLY_FOR_RERUN) and
# ``session_status_changed`` (field 9; its field 2 = script_is_running). Reading the stream in
# the page (not in Python through Playwright's websocket events) keeps the test process from
# receiving every chart's bytes.
WATCH_SCRIPT = r"""
(() => {
  if (window.__ppRuns) return;
  const st = window.__ppRuns = {completed: 0, running: false, last: -1, runs: [], started: null};
  const varint = (b, i) => { let x = 0, s = 0, c;
    do { c = b[i++]; x += (c & 0x7f) * 2 ** s; s += 7; } while (c & 0x80); return [x, i]; };
  const fields = (b, i, end, visit) => {
    while (i < end) {
      let tag; [tag, i] = varint(b, i);
      const field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) { let v; [v, i] = varint(b, i); visit(field, v, null); }
      else if (wire === 2) { let n; [n, i] = varint(b, i); visit(field, null, [i, i + n]); i += n; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else return;
    }
  };
  const inspect = (buf) => {
    const b = new Uint8Array(buf);
    fields(b, 0, b.length, (field, value, span) => {
      if (field === 6 && value !== null) {            // script_finished
        st.running = false; st.last = value;
        if (st.started !== null) { st.runs.push((performance.now() - st.started) / 1000); st.started = null; }
        if (value !== 2) st.completed += 1;
      } else if (field === 9 && span !== null) {      // session_status_changed
        let running = false;
        fields(b, span[0], span[1], (f, v) => { if (f === 2 && v !== null) running = v === 1; });
        st.running = running;
        if (running && st.started === null) st.started = performance.now();
      }
    });
  };
  // The page's DOM changes: the frontend may draw a run's messages a while after they
  // arrived (a busy machine), so "done" also needs the DOM to have changed and gone quiet.
  st.mutations = 0; st.lastMutation = performance.now();
  const observe = () => new MutationObserver(() => {
    st.mutations += 1; st.lastMutation = performance.now();
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                         characterData: true});
  if (document.documentElement) observe(); else document.addEventListener("readystatechange", observe, {once: true});
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes("/_stcore/stream")) {
        this.addEventListener("message", (e) => {
          if (e.data instanceof ArrayBuffer) { try { inspect(e.data); } catch (err) {} }
        });
      }
    }
  };
})();
"""

_RUN_STATE = """() => { const r = window.__ppRuns; if (!r) return null;
  const app = document.querySelector("[data-testid='stApp']");
  return {completed: r.completed, running: r.running, last: r.last, mutations: r.mutations,
          quiet: (performance.now() - r.lastMutation) / 1000,
          shown: app ? app.getAttribute("data-test-script-state") : null,
          connection: app ? app.getAttribute("data-test-connection-state") : null}; }"""
#: Seconds without any DOM change after a run's last message before the page counts as drawn.
QUIET = 0.25
_EARLY_FOR_RERUN = 2


def settled(state: dict | None, since: int, mutations_since: int = -1) -> bool:
    """A run that started after ``since`` finished for good, no run is going on, and the page
    has drawn it: its DOM changed after ``mutations_since``, has been quiet for ``QUIET``
    seconds and says ``notRunning``.

    Every run ends with ``script_finished``; one cut short for a rerun (a click during a run,
    ``st.rerun()``) ends with FINISHED_EARLY_FOR_RERUN and the next run follows."""
    return bool(state) and state["completed"] > since and not state["running"] \
        and state["last"] != _EARLY_FOR_RERUN and state["shown"] == "notRunning" \
        and state["mutations"] > mutations_since and state["quiet"] >= QUIET


def run_state(page) -> dict | None:
    """{completed, running, last} of the page's current document (None before it loaded)."""
    return page.evaluate(_RUN_STATE)


def run_seconds(page) -> list[float]:
    """Start-to-finish time of each script run of this document, as its messages arrived."""
    return page.evaluate("() => window.__ppRuns ? window.__ppRuns.runs.slice() : []")


def new_session(browser, viewport=(1400, 1000)):
    """A fresh browser context (= a fresh Streamlit session, own cookies) and its page."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    context.add_init_script(WATCH_SCRIPT)
    return context, context.new_page()


def completed_runs(page) -> int:
    state = run_state(page)
    return state["completed"] if state else 0


def _marks(page) -> tuple[int, int]:
    """(finished runs, DOM changes) of the current document, to wait for what comes after."""
    state = run_state(page)
    return (state["completed"], state["mutations"]) if state else (0, 0)


def wait_for_app(page, since: int | None = None, timeout: float = 120.0,
                 settle: float = 0.3, mutations_since: int = -1) -> None:
    """Wait until a script run that started after ``since`` (a ``completed_runs`` value taken
    before the action) has finished for good and the page has drawn it (see ``settled``).

    Without ``since``, any finished run of the current document counts (right after a
    navigation; use ``act`` for clicks and key presses, so a rerun that starts a moment after
    the click cannot be missed). After that, ``settle`` seconds more must pass without a new
    run (a slider sends its value after a short delay).
    """
    since = -1 if since is None else since
    deadline = time.monotonic() + timeout
    while True:
        state = run_state(page)
        while not settled(state, since, mutations_since):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not finish a run within {timeout:.0f} s "
                                   f"(run state {state})")
            page.wait_for_timeout(100)
            state = run_state(page)
        mark = state["completed"]
        page.wait_for_timeout(settle * 1000)
        state = run_state(page)
        if settled(state, since, mutations_since) and state["completed"] == mark:
            return


def act(page, action, timeout: float = 120.0) -> None:
    """Do ``action()`` (a click, key presses, …; not a navigation: see ``goto``) and wait for
    the rerun it causes."""
    since, mutations = _marks(page)
    action()
    wait_for_app(page, since=since, timeout=timeout, mutations_since=mutations)


def goto(page, url: str, timeout: float = 120.0) -> None:
    """Load ``url`` (a new document: a new Streamlit session) and wait for its first run."""
    page.goto(url)
    wait_for_app(page, timeout=timeout)


def wait_until(page, predicate, timeout: float = 60.0, what: str = "") -> None:
    """Wait until no run is going on and ``predicate()`` is true (an exception counts as
    false). For outcomes that several reruns lead to: keyboard presses on a slider may reach
    the server as more than one value on a busy machine, and only the last run's numbers
    count."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        if settled(run_state(page), -1):
            try:
                if predicate():
                    return
            except Exception as exc:  # element not there yet, or mid-update
                last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for "
                                 f"{what or predicate}" + (f" ({last_error})" if last_error else ""))
        page.wait_for_timeout(200)


def click(page, locator, timeout: float = 120.0) -> None:
    """Click a widget and wait for the app's rerun."""
    act(page, locator.click, timeout=timeout)


def open_app(page, base_url: str, path: str = "", query: str = "", timeout: float = 120.0) -> None:
    """Navigate to ``base_url/path?query`` (a new Streamlit session) and wait for its run."""
    url = f"{base_url}/{path.lstrip('/')}"
    if query:
        url += "?" + query.lstrip("?")
    goto(page, url, timeout=timeout)


def expand_navigation(page) -> None:
    """Long page lists are folded behind a "View more" button; unfold them."""
    more = page.locator("[data-testid='stSidebarNavViewButton']")
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()


def nav_links(page) -> list[tuple[str, str]]:
    """(title, href) of every page in the sidebar navigation, in order."""
    expand_navigation(page)
    return [tuple(x) for x in page.evaluate(
        """() => Array.from(document.querySelectorAll("[data-testid='stSidebarNav'] a"))
                 .map(a => [a.innerText.trim(), a.href || ""])""")]


def go_to_page(page, title: str, timeout: float = 120.0) -> None:
    """Click a page's link in the sidebar navigation (as a student would: the session and
    its trained model survive, unlike a reload)."""
    expand_navigation(page)
    nav = page.locator("[data-testid='stSidebarNav']")
    link = nav.get_by_role("link", name=re.compile(r"(^|\s)" + re.escape(title) + "$"))
    click(page, link.first, timeout=timeout)


def exception_texts(page) -> list[str]:
    """The text of every Streamlit exception box (tracebacks) on the page."""
    return [t.strip() for t in page.locator("[data-testid='stException']").all_inner_texts()]


def assert_no_exception(page, where: str = "") -> None:
    boxes = exception_texts(page)
    assert not boxes, f"exception box on {where or page.url}:\n" + "\n---\n".join(boxes)


def error_texts(page) -> list[str]:
    """Texts of st.error boxes (clear messages, not tracebacks)."""
    return [t.strip() for t in
            page.locator("[data-testid='stAlertContentError']").all_inner_texts()]


def alert_texts(page) -> list[str]:
    """Texts of every st.error / st.warning / st.info / st.success box and toast."""
    sel = ("[data-testid='stAlert'], [data-testid='stToast']")
    return [t.strip() for t in page.locator(sel).all_inner_texts()]


# Counts, for each Plotly chart, the traces in its data and the drawn SVG/canvas marks.
# Drawn marks: trace groups (scatter, bar, …), heatmap images, or a WebGL canvas.
# pruning.present.charts.PRUNED_COLOUR (#f5a623) as the browser reports a fill.
AMBER_RGB = "rgb(245,166,35)"

_PLOTLY_PROBE = """
() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']")).map(el => {
  const plot = el.querySelector('.js-plotly-plot');
  const svg = el.querySelector('svg.main-svg');
  const data = (plot && plot.data) || [];
  const points = data.map(t => {
    for (const k of ['z', 'y', 'x', 'values', 'r', 'dimensions', 'cells']) {
      const v = t[k];
      if (v && typeof v.length === 'number' && v.length > 0) return v.length;
      if (v && v.bdata) return 1;  // typed-array payload (base64): non-empty
    }
    return 0;
  });
  const drawn = el.querySelectorAll(
      'svg.main-svg g.trace, svg.main-svg g.hm image, svg.main-svg g.heatmaplayer image, '
    + 'svg.main-svg g.imagelayer image, svg.main-svg g.slice, canvas').length;
  // A heatmap whose every cell is pruned (NaN) draws no image: what shows is the plot
  // background, amber (pruning.present.charts.weight_heatmap). Report that fill.
  const bg = el.querySelector('svg.main-svg .bglayer rect.bg');
  const bgFill = bg ? (bg.style.fill || bg.getAttribute('fill') || '') : '';
  return {svg: !!svg, traces: data.length, points: points, drawn: drawn, bgFill: bgFill,
          heatmap: data.some(t => t.type === 'heatmap'),
          width: el.getBoundingClientRect().width,
          title: (el.querySelector('.gtitle') || {}).textContent || ''};
})
"""


def plotly_charts(page) -> list[dict]:
    """For each Plotly chart on the page: svg present, #traces, #points per trace, #drawn marks."""
    return page.evaluate(_PLOTLY_PROBE)


def _drew(chart: dict) -> bool:
    """Drew marks, or is a weight heatmap with every cell pruned: no image, amber behind."""
    return chart["drawn"] > 0 or (chart["heatmap"]
                                  and chart["bgFill"].replace(" ", "") == AMBER_RGB)


def assert_charts_rendered(page, minimum: int = 1, where: str = "") -> list[dict]:
    """Every Plotly chart drew an SVG with at least one non-empty data trace; at least
    ``minimum`` charts are on the page."""
    page.wait_for_timeout(200)  # Plotly draws asynchronously after React mounts it
    charts = plotly_charts(page)
    if minimum:
        deadline = time.monotonic() + 10
        while (len(charts) < minimum or not all(c["svg"] and _drew(c) for c in charts)) \
                and time.monotonic() < deadline:
            page.wait_for_timeout(250)
            charts = plotly_charts(page)
    where = where or page.url
    assert len(charts) >= minimum, f"expected ≥ {minimum} Plotly chart(s) on {where}, found {len(charts)}"
    for i, c in enumerate(charts):
        assert c["svg"], f"chart {i} ({c['title']!r}) on {where} has no svg.main-svg"
        assert c["traces"] > 0 and max(c["points"]) > 0, \
            f"chart {i} ({c['title']!r}) on {where} has no data: {c}"
        assert _drew(c), f"chart {i} ({c['title']!r}) on {where} drew nothing: {c}"
    return charts


def chart_data(page, index: int = 0) -> list[dict]:
    """The data traces of the ``index``-th Plotly chart as the browser holds them (JSON)."""
    return page.evaluate(
        """(i) => {
          const el = document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")[i];
          return el ? JSON.parse(JSON.stringify(el.data)) : null;
        }""", index)


def keyed_chart_data(page, key_prefix: str) -> list[list[dict]]:
    """The data traces of every Plotly chart whose Streamlit ``key`` starts with
    ``key_prefix`` (Streamlit marks an element's container with the class ``st-key-<key>``)."""
    return page.evaluate(
        """(prefix) => Array.from(document.querySelectorAll(
              `[class*='st-key-${prefix}'] [data-testid='stPlotlyChart'] .js-plotly-plot`))
            .map(el => JSON.parse(JSON.stringify(el.data)))""", key_prefix)


def decode_array(value) -> "np.ndarray":
    """A Plotly data array as numpy: plain lists, or the typed-array form Plotly JSON uses
    for numpy data (``{"dtype": "f4", "bdata": <base64>, "shape": "r, c"}``)."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            arr = arr.reshape([int(n) for n in str(shape).split(",")])
        return arr
    return np.asarray(value, dtype=float)


# ----------------------------------------------------------------------------- readability
# Text a reader cannot finish: an element that cuts its own content off (overflow hidden/clip,
# or an ellipsis) whose content is wider than its box (scrollWidth > clientWidth). Code
# blocks scroll sideways on purpose and are left out; so is Streamlit's invisible
# "Skip to main content" link.
_CLIPPED_PROBE = r"""
() => {
  const out = [];
  const skip = "[data-testid='stSkipToContent'], [data-testid='stCode'], .js-plotly-plot, svg";
  for (const el of document.querySelectorAll("[data-testid='stApp'] *")) {
    if (el.clientWidth === 0 || el.closest(skip)) continue;
    const cs = getComputedStyle(el);
    const clips = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
    if (!clips || el.scrollWidth <= el.clientWidth + 1) continue;
    const text = (el.innerText || '').trim();
    if (!text) continue;
    const owner = el.closest('[data-testid]');
    out.push({text: text.slice(0, 60).replace(/\s+/g, ' '), scrollWidth: el.scrollWidth,
              clientWidth: el.clientWidth, testid: owner ? owner.getAttribute('data-testid') : ''});
  }
  return out;
}
"""

# Text of a Plotly chart drawn (partly) outside the chart: titles and annotations longer
# than the chart is wide are cut at its edge.
_CHART_OVERFLOW_PROBE = r"""
() => {
  const out = [];
  for (const plot of document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")) {
    const box = plot.getBoundingClientRect();
    const title = (plot.querySelector('.gtitle') || {}).textContent || '';
    for (const t of plot.querySelectorAll('svg text')) {
      if (!t.textContent.trim()) continue;
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      if (r.left < box.left - 2 || r.right > box.right + 2)
        out.push({chart: title, text: t.textContent.slice(0, 60),
                  past_left: Math.round(box.left - r.left), past_right: Math.round(r.right - box.right)});
    }
  }
  return out;
}
"""

# Font sizes (px, as the browser computes them) of every chart's tick labels.
_TICK_FONT_PROBE = r"""
() => Array.from(document.querySelectorAll(
    "[data-testid='stPlotlyChart'] .xtick text, [data-testid='stPlotlyChart'] .ytick text"))
  .filter(t => t.textContent.trim())
  .map(t => ({text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize),
              chart: (t.closest('.js-plotly-plot').querySelector('.gtitle') || {}).textContent || ''}))
"""


def clipped_texts(page) -> list[dict]:
    """Texts cut off by their own box (see ``_CLIPPED_PROBE``): [] when everything reads."""
    return page.evaluate(_CLIPPED_PROBE)


def chart_texts_outside(page) -> list[dict]:
    """Chart texts (titles, annotations, ticks) that run past the chart's left/right edge."""
    return page.evaluate(_CHART_OVERFLOW_PROBE)


def tick_font_sizes(page) -> list[dict]:
    """{text, size (px), chart title} of every Plotly tick label on the page."""
    return page.evaluate(_TICK_FONT_PROBE)


def slider_value(page, label: str) -> str:
    """The value a Streamlit slider shows on its thumb."""
    box = page.locator("[data-testid='stSlider']").filter(has_text=label).first
    return box.locator("[data-testid='stSliderThumbValue']").first.inner_text().strip()


def press_on_slider(page, label: str, key: str, times: int = 1, shows: str | None = None) -> None:
    """Move a slider as a keyboard user does (focus its thumb, press ``key``) and wait for
    the rerun; with ``shows``, also until the thumb shows that value (e.g. "95.0 %")."""
    thumb = page.get_by_role("slider", name=label)

    def press():
        thumb.focus()
        for _ in range(times):
            page.keyboard.press(key)

    act(page, press)
    if shows is not None:
        box_label = label.split(" (")[0]
        wait_until(page, lambda: slider_value(page, box_label) == shows, timeout=30,
                   what=f"slider {label!r} to show {shows}")


def metric_value(page, label) -> str:
    """The displayed value of the ``st.metric`` whose label matches ``label``: a regex
    (``re.fullmatch`` on the label text) or a plain string (exact label). Several labels may
    fit while the pages evolve ("Pruned" or "Pruned / kept"): pass a regex for those."""
    shown = metrics(page)
    pattern = label if isinstance(label, re.Pattern) else re.compile(re.escape(label))
    hits = [v for k, v in shown.items() if pattern.fullmatch(k)]
    if not hits:
        raise AssertionError(f"no metric labelled {pattern.pattern!r}; the page shows {shown}")
    return hits[0]


def metrics(page) -> dict[str, str]:
    """Every ``st.metric`` on the page: label -> value text."""
    out = {}
    for m in page.locator("[data-testid='stMetric']").all():
        label = m.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = m.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def number_in(text: str) -> float:
    """The first number in ``text`` ("93.1 %" -> 93.1, "1,234" -> 1234)."""
    m = re.search(r"[-+−]?\d[\d,]*(?:\.\d+)?", text)
    if not m:
        raise ValueError(f"no number in {text!r}")
    return float(m.group(0).replace(",", "").replace("−", "-"))


def download(page, button_name, timeout: float = 60.0) -> tuple[str, bytes]:
    """Click a download button (name: text or regex) and return (file name, bytes)."""
    with page.expect_download(timeout=timeout * 1000) as info:
        page.get_by_role("button", name=button_name).first.click()
    dl = info.value
    with open(dl.path(), "rb") as f:
        return dl.suggested_filename, f.read()


def put_file(context, url: str, filename: str, data: bytes,
             headers: dict[str, str] | None = None) -> int:
    """PUT ``data`` as the multipart field ``file`` (as Streamlit's uploader sends a file)
    to ``url`` with the browser ``context``'s cookies and ``headers``, from this process, and
    return the HTTP status. Playwright's own ``page.request.put`` carries a body through its
    driver pipe at about 1 MB/s, half a minute for 30 MB; the request the server gets is the
    same."""
    import http.client
    import uuid
    from urllib.parse import urlsplit

    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(url))
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.putrequest("PUT", parts.path + (f"?{parts.query}" if parts.query else ""))
        for k, v in {**(headers or {}), "Cookie": cookies,
                     "Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(len(body))}.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the server may answer and close before reading all of it
        return conn.getresponse().status
    finally:
        conn.close()


def download_csv(page, button_name) -> "pd.DataFrame":
    """Download a CSV through its button; it must parse. Returns the table."""
    import io

    import pandas as pd

    name, raw = download(page, button_name)
    assert name.endswith(".csv"), name
    return pd.read_csv(io.BytesIO(raw))


#: The screenshots the README shows (docs/screenshots/<name>.png), refreshed by
#: scripts/refresh_screenshots.sh (REFRESH_DOCS_SCREENSHOTS=1).
DOCS_SHOTS = ("01-home", "02-train", "03-prune", "04-finetune", "hostile-link-notice")


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Screenshot into test-artifacts/screenshots/<name>.png (the visible screen: a full-page
    shot of a long page costs seconds). With REFRESH_DOCS_SCREENSHOTS=1, the shots named in
    DOCS_SHOTS are also written to docs/screenshots/ for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.mouse.move(1, 1)  # no tooltip of the last clicked button in the picture
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("REFRESH_DOCS_SCREENSHOTS") == "1" and name in DOCS_SHOTS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)
    return path


def dump_json(name: str, payload) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
