"""Load test: a class of N students (real Chromium sessions) on one server at once.

    .venv/bin/python -m tests.load.load_test --sessions 20      (or: make load)

Starts its own ``streamlit run app.py`` on a free loopback port and one headless Chromium with
N browser contexts (N isolated Streamlit sessions) that all at the same moment:

  1. open the Prune page (a deep link, as from a teacher's message),
  2. press "Use a trained default model" — all N ask for the same shared model at once,
  3. click the sparsity slider's track three times (to 95 %, 85 %, 90 %); every click is one
     rerun that prunes the model and evaluates it on the train, validation and test splits.

A step is finished when the page shows the numbers this process computes itself with
``pruning`` for the value the slider shows (pruned count and share, test accuracy): "time to a
rerun" is click → the right numbers on screen. Reported: p50 / p95 of the time to the first
page, to the default model and to a rerun; the server's resident memory (VmRSS sampled every
0.25 s and VmHWM, from /proc); how often the default model was trained (a log line of
ui/cache.py: must be once); websocket drops seen by the browsers; tracebacks in the
server's log. Exit status 0 only when every session finished with the right numbers.

Every browser runs on the same machine as the server here; in a class each student's browser
has its own computer. ``--no-charts`` keeps the browsers from drawing Plotly charts (they
still receive every chart) to separate the server's share of the time.

Not part of ``make test`` (pytest does not collect this file: see tests/load/conftest.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field

from tests.browser import kit

SPARSITY_SLIDER = "Target sparsity (% of prunable weights removed)"
PRUNED_COUNT = re.compile(r"Pruned( / kept)?")
TEST_ACC = re.compile(r"Test accuracy( after pruning)?")
TARGETS = (95.0, 85.0, 90.0)  # slider values (%) the students click, in order
START = 90.0                   # the Prune page's default


# ----------------------------------------------------------------------------- expected numbers
class Expected:
    """What the Prune page must show for the default settings at a sparsity (in %), computed
    here with the same ``pruning`` calls the page makes (global magnitude scores)."""

    def __init__(self):
        import torch

        from pruning.config import DataConfig, ModelConfig, TrainConfig
        from pruning.core.data import load_dataset
        from pruning.core.records import train_model
        from pruning.labs.prune_step import compute_scores

        torch.set_num_threads(1)  # as the server: same arithmetic, same numbers
        d, m, self.t = DataConfig(), ModelConfig(), TrainConfig()
        self.data = load_dataset(d)
        self.trained = train_model(d, m, self.t, data=self.data)
        self.scores = compute_scores(self.trained.build(self.data), self.data, "magnitude",
                                     True, self.t.seed)
        self._cache: dict[float, dict] = {}

    def __call__(self, percent: float) -> dict[str, str]:
        if percent not in self._cache:
            from pruning.core.records import prune_trained
            from pruning.labs.prune_step import prune_config_for, select
            from pruning.present.format import pct

            s = percent / 100
            sel = select(self.scores, "sparsity", s, "global")
            cfg = prune_config_for("magnitude", "sparsity", s, "global", True, self.t.seed)
            pruned = prune_trained(self.trained, self.data, cfg, sel.masks)
            self._cache[percent] = {
                "Weights pruned": pct(sel.reached), "pruned count": f"{sel.n_pruned:,}",
                "test accuracy": pct(pruned.metrics["test_acc"]),
                "dense test accuracy": pct(self.trained.metrics["test_acc"])}
        return self._cache[percent]


# ----------------------------------------------------------------------------- page reading
async def run_state(page) -> dict | None:
    return await page.evaluate(kit._RUN_STATE)


async def marks(page) -> tuple[int, int]:
    """(finished runs, DOM changes) so far: what to wait beyond after an action."""
    state = await run_state(page)
    return (state["completed"], state["mutations"]) if state else (0, 0)


async def wait_done(page, since: tuple[int, int], timeout: float) -> None:
    """A run after ``since`` finished for good and the page drew it (``kit.settled``)."""
    deadline = time.monotonic() + timeout
    while not kit.settled(state := await run_state(page), *since):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished run within {timeout:.0f} s ({state})")
        await asyncio.sleep(0.1)


async def read_numbers(page) -> dict[str, str | None]:
    """The Prune page's numbers, read in one go (a rerun cannot land between two reads)."""
    values = await page.evaluate("""() => Object.fromEntries(
        Array.from(document.querySelectorAll("[data-testid='stMetric']")).map(m => [
          (m.querySelector("[data-testid='stMetricLabel']") || {}).innerText?.trim(),
          (m.querySelector("[data-testid='stMetricValue']") || {}).innerText?.trim()]))""")

    def pick(pattern):
        hits = [v for k, v in values.items() if k and pattern.fullmatch(k)]
        return hits[0] if hits else None

    count = pick(PRUNED_COUNT)
    return {"Weights pruned": values.get("Weights pruned"),
            "pruned count": count.split("/")[0].strip() if count else None,
            "test accuracy": pick(TEST_ACC),
            "dense test accuracy": values.get("Dense test accuracy")}


async def slider_shows(page) -> float | None:
    box = page.locator("[data-testid='stSlider']").filter(
        has=page.get_by_role("slider", name=SPARSITY_SLIDER))
    text = await box.locator("[data-testid='stSliderThumbValue']").first.inner_text()
    try:
        return kit.number_in(text)
    except ValueError:
        return None


async def shows_numbers(page, expected: Expected, timeout: float) -> tuple[float, dict]:
    """Wait until the page shows the right numbers for the value its slider shows (reruns
    may come one after another while a value is committed); return (value, numbers). On
    timeout, return what it showed last (the caller reports the mismatch)."""
    deadline = time.monotonic() + timeout
    while True:
        state = await run_state(page)
        value, shown = await slider_shows(page), await read_numbers(page)
        if state and not state["running"] and value is not None and shown == expected(value):
            return value, shown
        if time.monotonic() > deadline:
            return value, shown
        await asyncio.sleep(0.1)


async def click_slider_at(page, percent: float) -> None:
    """Click the sparsity slider's track where ``percent`` is (one click: one value sent)."""
    box = page.locator("[data-testid='stSlider']").filter(
        has=page.get_by_role("slider", name=SPARSITY_SLIDER))
    track = await box.locator("[data-testid='stSliderTickBar']").bounding_box()
    knob = await page.get_by_role("slider", name=SPARSITY_SLIDER).locator("xpath=..").bounding_box()
    x = track["x"] + track["width"] * percent / 100
    await page.mouse.click(x, knob["y"] + knob["height"] / 2)


# ----------------------------------------------------------------------------- one student
@dataclass
class SessionResult:
    index: int
    ok: bool = False
    error: str = ""
    first_page_s: float = 0.0
    default_model_s: float = 0.0
    rerun_s: list[float] = field(default_factory=list)
    run_s: list[float] = field(default_factory=list)  # each slider run, start to finish
    shown: list = field(default_factory=list)         # (slider value, numbers) per step
    wrong: list = field(default_factory=list)         # (slider value, shown, expected)
    console: list[str] = field(default_factory=list)  # the page's errors and warnings


async def student(index: int, browser, base_url: str, start: asyncio.Event, timeout: float,
                  expected: Expected, draw_charts: bool) -> SessionResult:
    res = SessionResult(index)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(timeout * 1000)
    if not draw_charts:  # the browser gets every chart's data but does not draw it
        await context.route(re.compile(r".*/PlotlyChart\.[^/]*\.js$"), lambda route: route.abort())
    await context.add_init_script(kit.WATCH_SCRIPT)
    page = None
    step = "creating the page"
    try:
        page = await context.new_page()
        page.on("console", lambda m: res.console.append(f"{m.type}: {m.text[:200]}")
                if m.type in ("error", "warning") else None)
        await start.wait()
        step = "opening /prune"
        t0 = time.perf_counter()
        await page.goto(f"{base_url}/prune")
        await wait_done(page, (-1, -1), timeout)
        res.first_page_s = time.perf_counter() - t0

        step = "getting the default model"
        t0 = time.perf_counter()
        since = await marks(page)
        await page.get_by_role("button", name="Use a trained default model").click()
        await wait_done(page, since, timeout)
        steps = [(START, await shows_numbers(page, expected, timeout))]
        res.default_model_s = time.perf_counter() - t0

        runs_before = len(await page.evaluate("() => window.__ppRuns.runs"))
        for target in TARGETS:
            step = f"moving the slider to {target} %"
            t0 = time.perf_counter()
            await click_slider_at(page, target)
            steps.append((target, await shows_numbers(page, expected, timeout)))
            res.rerun_s.append(time.perf_counter() - t0)
        for target, (value, shown) in steps:
            res.shown.append((value, shown))
            if value is None or shown != expected(value):
                res.wrong.append((value, shown, expected(value) if value is not None else None))
            elif abs(value - target) > 1.0:  # a click lands within a step or two of the aim
                res.wrong.append((value, f"slider at {value} %, aimed at {target} %", None))
        if draw_charts and await page.locator("[data-testid='stException']").count():
            raise AssertionError("an exception box is on the page")
        res.run_s = (await page.evaluate("() => window.__ppRuns.runs.slice()"))[runs_before:]
        res.ok = not res.wrong
        if res.wrong:
            res.error = "wrong numbers on screen"
    except Exception as exc:  # the report lists every failed session with its reason
        res.error = f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    if not res.ok and page is not None:
        shots = kit.ARTIFACTS / "load-failures"
        shots.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=str(shots / f"session-{index}.png"), full_page=True)
        except Exception:  # the page may be gone; the error above says why
            pass
    await context.close()
    return res


# ----------------------------------------------------------------------------- the class
async def run_class(n: int, server: kit.StreamlitServer, timeout: float, expected: Expected,
                    draw_charts: bool):
    from playwright.async_api import async_playwright

    rss_samples: list[int] = []
    stop = asyncio.Event()

    async def sample_memory():
        while not stop.is_set():
            rss_samples.append(server.rss_kib())
            await asyncio.sleep(0.25)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=kit.CHROMIUM, headless=True,
                                           args=kit.CHROMIUM_ARGS)
        start = asyncio.Event()
        tasks = [asyncio.create_task(student(i, browser, server.url, start, timeout, expected,
                                             draw_charts))
                 for i in range(n)]
        await asyncio.sleep(1.0)  # every context exists before anyone starts
        sampler = asyncio.create_task(sample_memory())
        t0 = time.perf_counter()
        start.set()
        # Each step of a session has its own timeout; this bounds the whole class.
        done, pending = await asyncio.wait(tasks, timeout=timeout * (2 + len(TARGETS)) + 60)
        for t in pending:
            t.cancel()
        results = [t.result() if t in done else
                   SessionResult(i, error="cancelled: the class ran out of time")
                   for i, t in enumerate(tasks)]
        wall = time.perf_counter() - t0
        stop.set()
        await sampler
        await browser.close()
    return results, wall, rss_samples


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values) -> dict:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {"n": len(values), "p50": round(statistics.median(values), 2),
            "p95": round(percentile(values, 95), 2), "max": round(max(values), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (1–60)")
    ap.add_argument("--timeout", type=float, default=240.0,
                    help="seconds one step of one session may take before it counts as failed")
    ap.add_argument("--no-charts", action="store_true",
                    help="browsers receive every chart but do not draw it (Plotly's code is "
                         "blocked): the server's share when the browsers run elsewhere")
    ap.add_argument("--json", default=None, help="where to write the figures (default: "
                    "test-artifacts/load-test[-no-charts].json)")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= 60:
        ap.error("--sessions must be between 1 and 60 (one machine runs server and browsers)")
    out = args.json or str(kit.ARTIFACTS / f"load-test{'-no-charts' if args.no_charts else ''}.json")

    print("Computing the expected numbers in this process…", flush=True)
    expected = Expected()
    server = kit.start_server("load-server")
    try:
        idle_rss = server.rss_kib()
        print(f"Server pid {server.pid} on {server.url}; {args.sessions} sessions"
              f"{' (charts not drawn)' if args.no_charts else ''}…", flush=True)
        results, wall, rss = asyncio.run(run_class(args.sessions, server, args.timeout, expected,
                                                   not args.no_charts))
        end_rss, peak_rss = server.rss_kib(), server.peak_rss_kib()
        log = server.log_text()
    finally:
        server.stop()
    trainings = log.count(kit.DEFAULT_TRAINING_LOG)
    tracebacks = log.count("Traceback (most recent call last)")

    problems = []
    for r in results:
        if not r.ok:
            problems.append(f"session {r.index}: {r.error}")
            problems.extend(f"    showed {shown!r} at {v} %, expected {want!r}"
                            for v, shown, want in r.wrong)
            problems.extend(f"    console {line}" for line in r.console[-4:])
    if tracebacks:
        problems.append(f"the server log has {tracebacks} tracebacks ({server.log_path})")
    if trainings != 1:
        problems.append(f"the default model was trained {trainings} times (expected once)")

    ok = [r for r in results if r.ok]
    drops = sum(any("WebSocket onclose" in c for c in r.console) for r in results)
    figures = {
        "sessions": args.sessions, "charts_drawn": not args.no_charts, "finished": len(ok),
        "wall_s": round(wall, 1), "default_model_trainings": trainings,
        "server_tracebacks": tracebacks, "sessions_with_websocket_drops": drops,
        "first_page_s": summary([r.first_page_s for r in ok]),
        "default_model_s": summary([r.default_model_s for r in ok]),
        "rerun_s": summary([t for r in ok for t in r.rerun_s]),
        "script_run_s": summary([t for r in ok for t in r.run_s]),
        "server_rss_mib": {"after_start": round(idle_rss / 1024), "end": round(end_rss / 1024),
                           "peak_sampled": round(max(rss + [end_rss]) / 1024),
                           "peak_vmhwm": round(peak_rss / 1024)},
        "problems": problems,
    }
    kit.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as f:
        json.dump(figures, f, indent=2)

    f = figures
    print(f"\n{len(ok)}/{args.sessions} sessions finished with the right numbers in {wall:.1f} s; "
          f"default model trained {trainings}× on the server")
    for name, label in (("first_page_s", "time to first page"),
                        ("default_model_s", "time to default model"),
                        ("rerun_s", "time to a rerun (click → right numbers)"),
                        ("script_run_s", "one slider rerun (start → finish msg)")):
        print(f"{label:42s} p50 {f[name]['p50']} s, p95 {f[name]['p95']} s, "
              f"max {f[name]['max']} s (n={f[name]['n']})")
    m = f["server_rss_mib"]
    print(f"server RSS: {m['after_start']} MiB after start, peak {m['peak_vmhwm']} MiB, "
          f"{m['end']} MiB at the end; websocket drops in {drops} session(s)")
    print(f"figures written to {out}")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems[:60]), file=sys.stderr)
        return 1
    print("All sessions showed the expected numbers.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
