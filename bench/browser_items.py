"""In the browser: app start to first page, slider to redrawn chart, memory of one session.

A real ``streamlit run app.py`` and Debian's Chromium driven by Playwright, both started by
the browser tests' own harness (``tests/browser/kit.py``: one harness for tests, load test and
bench). "Rendered" means: ``[data-testid=stApp]`` says ``notRunning`` and the main area
holds at least one element.
"""
from __future__ import annotations

import time

from tests.browser.kit import chromium, exception_texts, running_server, spawn_server

from .harness import Result, Stats, Target

APP_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# The first run has finished and drawn something (not the empty shell before the script ran).
_RENDERED_JS = """() => !!document.querySelector("%s")
    && document.querySelectorAll("[data-testid='stMain'] [data-testid='stElementContainer']").length > 0""" % APP_DONE


# Timestamps of the session's websocket traffic (performance.now()), to split a slider move
# into: browser sends the new value → server answers → charts drawn.
_WS_LOG_JS = """(() => {
  window.__benchWs = [];
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) { window.__benchWs.push(['send', performance.now()]);
                                          return send.call(this, data); };
  window.WebSocket = function (...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', () => window.__benchWs.push(['recv', performance.now()]));
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, Orig);
})();"""


def _new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    context.add_init_script(_WS_LOG_JS)
    return context, context.new_page()


def _wait_done(page, settle_ms: int = 400) -> None:
    """Script finished and stayed finished for ``settle_ms`` (a rerun may start late)."""
    while True:
        page.wait_for_function(_RENDERED_JS, polling="raf")
        page.wait_for_timeout(settle_ms)
        if page.evaluate(_RENDERED_JS) and page.locator("[data-testid='stSpinner']").count() == 0:
            return


def _act(page, action) -> None:
    """Do ``action()`` (a click), then wait for the rerun it causes to answer *and* finish.
    (Waiting for "not running" alone can return before a slow server has begun the rerun;
    the "running" state itself may never reach the DOM when the browser handles the whole
    rerun's messages in one go, so the sign of a rerun is a message from the server.)"""
    page.evaluate("window.__benchWs = []")
    action()
    page.wait_for_function("() => window.__benchWs.some(e => e[0] === 'recv')", polling="raf")
    _wait_done(page)


def _go(page, title: str) -> None:
    """Switch page by the sidebar link (same session; ``goto`` would start a new one)."""
    _act(page, page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click)


# ----------------------------------------------------------------------------- items
def app_start(repeats: int) -> Result:
    """Spawn the server → ``/_stcore/health`` → ``goto`` the root URL → first run rendered.
    Chromium is launched once before the first repeat (it is the student's browser, already
    open); every repeat is a fresh server process and a fresh browser context."""
    health, rendered = [], []
    with chromium() as browser:
        for _ in range(repeats):
            server = spawn_server("bench-start")
            try:
                health.append(server.wait_healthy())
                context, page = _new_page(browser)
                page.goto(server.url, wait_until="commit")
                page.wait_for_function(_RENDERED_JS, polling="raf")
                rendered.append(time.perf_counter() - server.started)
                if exception_texts(page):
                    raise RuntimeError(f"exception on the first page: {exception_texts(page)}")
                context.close()
            finally:
                server.stop()
    res = Result("start", "app start to first page rendered in the browser",
                 Target("<=", 5.0, " s"), Stats.of(rendered), headline_unit="s")
    res.detail("spawn → /_stcore/health answers", Stats.of(health), 1, "s")
    res.detail("health → first page rendered", Stats.of([r - h for r, h in zip(rendered, health)]),
               1, "s")
    res.notes.append("cold start every repeat: a new `streamlit run` process (Python, Streamlit, "
                     "then on the first run torch, pandas, plotly and the app's modules are imported).")
    return res


# Snapshot of every Plotly chart's visible text (title, annotations): a chart is "redrawn"
# when its text in the DOM differs from the snapshot.
_CHART_TEXTS_JS = """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']"))
    .map(el => Array.from(el.querySelectorAll('.annotation-text, .gtitle')).map(t => t.textContent).join(' | '))"""


def _slider_page(browser, server):
    context, page = _new_page(browser)
    page.goto(server.url + "/prune", wait_until="commit")
    _wait_done(page)
    button = page.locator(".st-key-use_default_model button")
    if button.count():
        _act(page, button.first.click)
    return context, page


def slider_redraw(repeats: int) -> Result:
    """On the Prune page with the default model, move the target-sparsity slider one step by
    keyboard (←: 90 % → 89.5 % → 89 % …, a new value every time) and time, from the key press, until every
    chart whose text depends on the setting (the three weight heatmaps' "pruned" counts and the
    histogram's) shows the new numbers in the DOM, and until the script run has finished."""
    from pruning.core.models import prunable_names
    from pruning.core.selection import n_to_prune

    from .fixtures import default_data, default_trained

    data = default_data()
    n_prunable = sum(p.numel() for n, p in default_trained().build(data).named_parameters()
                     if n in prunable_names(default_trained().build(data)))
    redrawn, done, to_send, first_msg, last_msg = [], [], [], [], []
    with running_server("bench-slider") as server, chromium() as browser:
        context, page = _slider_page(browser, server)
        slider = page.locator("[data-testid='stSlider'] input[type='range']"
                              "[aria-label^='Target sparsity']")
        if slider.count() != 1:
            raise RuntimeError("no (single) target-sparsity slider on the Prune page")
        slider.focus()
        value = float(slider.get_attribute("value"))
        for r in range(repeats + 1):  # the first move warms up the session's caches
            # Always a value not seen before in this session: Streamlit's browser keeps the
            # large messages it has received and the server then sends only a reference, so
            # going back and forth between two values would measure a cache, not an update.
            key, new = "ArrowLeft", value - 0.5
            expected = f"pruned: {n_to_prune(new / 100, n_prunable):,}"
            before = page.evaluate(_CHART_TEXTS_JS)
            page.evaluate("window.__benchWs = []")
            t0 = page.evaluate("performance.now()")
            page.keyboard.press(key)
            t_hist = page.wait_for_function(
                """([expected, before]) => {
                    const now = Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']"))
                      .map(el => Array.from(el.querySelectorAll('.annotation-text, .gtitle'))
                                   .map(t => t.textContent).join(' | '));
                    const hist = now.some(t => t.includes(expected));
                    const heat = now.every((t, i) => !before[i] || !before[i].includes(' pruned (')
                                                      || t !== before[i]);
                    return hist && heat ? performance.now() : false;
                }""", arg=[expected, before], polling="raf").json_value()
            page.wait_for_function(f"() => document.querySelector(\"{APP_DONE}\")", polling="raf")
            t_done = page.evaluate("performance.now()")
            _wait_done(page)
            value = new
            if r == 0:
                continue
            ws = page.evaluate("window.__benchWs")
            sent = min((t for kind, t in ws if kind == "send"), default=float("nan"))
            got = [t for kind, t in ws if kind == "recv" and t <= t_hist]
            redrawn.append((t_hist - t0) / 1e3)
            done.append((t_done - t0) / 1e3)
            to_send.append((sent - t0) / 1e3)
            first_msg.append(((got[0] if got else float("nan")) - t0) / 1e3)
            last_msg.append(((got[-1] if got else float("nan")) - t0) / 1e3)
        if exception_texts(page):
            raise RuntimeError(f"exception on the Prune page: {exception_texts(page)}")
        context.close()
    res = Result("slider", "slider moved to chart redrawn, in the browser",
                 Target("<=", 300.0, " ms"), Stats.of(redrawn), headline_scale=1e3,
                 headline_unit="ms", headline_digits=0)
    res.detail("key press → all dependent charts show the new numbers", Stats.of(redrawn), 1e3, "ms", 0)
    res.detail("key press → new value sent on the websocket", Stats.of(to_send), 1e3, "ms", 0)
    res.detail("key press → first message of the rerun received", Stats.of(first_msg), 1e3, "ms", 0)
    res.detail("key press → last message received before the charts showed the new numbers",
               Stats.of(last_msg), 1e3, "ms", 0)
    res.detail("key press → script run finished (notRunning seen)", Stats.of(done), 1e3, "ms", 0)
    res.notes.append("one browser session; the first move (warm-up) is not counted; DOM checked "
                     "every animation frame (≈ 17 ms resolution).")
    return res


def _student_session(browser, server) -> tuple:
    """A new browser session that trains the default model on the Train page (its own
    model, not the shared cached one), prunes it on the Prune page (90 %, global magnitude)
    and keeps the pruned model. Returns (context, server RSS in KiB afterwards)."""
    context, page = _new_page(browser)
    page.goto(server.url + "/train", wait_until="commit")
    _wait_done(page)
    _act(page, page.locator(".st-key-train_button button").first.click)
    _go(page, "Prune")
    _act(page, page.locator(".st-key-prune_keep button").first.click)
    if exception_texts(page):
        raise RuntimeError(f"exception: {exception_texts(page)}")
    time.sleep(1.0)
    return context, server.rss_kib()


def session_memory(repeats: int, sessions: int = 5) -> Result:
    """Server RSS (VmRSS from /proc/<pid>/status) as student sessions are added, each with a
    trained and a pruned model (see ``_student_session``); all stay open while measured.

    The first session after start-up also pays the server's one-time costs: importing what
    the Train and Prune pages use, torch's kernel and allocator warm-up on the first training.
    Those are paid once per server, not per student, so the judged figure is what each
    *further* session adds: (RSS after session N − RSS after session 1) ÷ (N − 1), per repeat.
    RSS moves by a few MiB either way with allocator reuse, hence the average over sessions.
    The first session's figure is reported beside it, over a server warmed only by a Home visit.
    """
    per_session, steps, first, idle_mb, cold_mb = [], [], [], [], []
    for _ in range(repeats):
        with running_server("bench-memory") as server, chromium() as browser:
            cold_mb.append(server.rss_kib() / 1024)
            context, page = _new_page(browser)
            page.goto(server.url, wait_until="commit")
            _wait_done(page)
            context.close()
            time.sleep(2.0)
            idle = server.rss_kib()
            idle_mb.append(idle / 1024)
            contexts, rss = [], []
            for _ in range(sessions):
                context, after = _student_session(browser, server)
                contexts.append(context)
                rss.append(after)
            first.append((rss[0] - idle) / 1024)
            per_session.append((rss[-1] - rss[0]) / (sessions - 1) / 1024)
            steps += [(b - a) / 1024 for a, b in zip(rss, rss[1:])]
            for context in contexts:
                context.close()
    res = Result("memory", "memory of one session with a trained and a pruned model",
                 Target("<=", 50.0, " MB"), Stats.of(per_session), headline_unit="MiB",
                 headline_digits=1)
    res.detail("server RSS after start (no session yet)", Stats.of(cold_mb), 1, "MiB", 0)
    res.detail("server RSS after one Home-page visit (its session closed)", Stats.of(idle_mb), 1, "MiB", 0)
    res.detail("first student session over that (incl. one-time imports and warm-up)",
               Stats.of(first), 1, "MiB", 1)
    res.detail(f"each further session, one by one (sessions 2–{sessions})", Stats.of(steps), 1, "MiB", 1)
    res.detail(f"per further session, averaged over sessions 2–{sessions} (headline)",
               Stats.of(per_session), 1, "MiB", 1)
    res.notes.append("each repeat is a fresh server; a student session = Train page ▶ Train "
                     "(default 300-100 MLP, 30 epochs, its own model), then Prune page ▶ Keep "
                     "(90 %); every session stays open until the repeat ends.")
    return res
