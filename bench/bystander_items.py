"""A bystander's slider while another student runs the heaviest job the server admits.

Issue 18: "while one student runs the heaviest allowed job, another student's slider moves
stay within 1.5× their idle time". One fresh ``streamlit run serve.py`` (tests/browser/kit.py)
and two simulated students over Streamlit's websocket (tests/load/st_protocol.py); per repeat:

  1. *idle*: student A (Prune page, default model) moves the target-sparsity slider
     ``MOVES`` times, each to a new value (as ``move`` in protocol_items.py);
  2. student B, in its own thread and session, opens the Train page from a link asking for the
     heaviest job and presses Train; once the job runs (B's Stop button is drawn and the
     server used at least ``BUSY`` cores over a whole second), A moves ``MOVES`` more times;
  3. B's tab is closed (Streamlit stops the closed session's script run, and so the job, at
     its next mini-batch: ui/jobs.py), and the server is given time to go quiet.

Judged per repeat: median(server time per move while B's job runs) ÷ median(idle); ≤ 1.5×.
The server's CPU (``/proc/<pid>/stat``, all threads) is read over both phases.

The heaviest job a link can ask for: an MLP of ``MAX_HIDDEN_LAYERS`` layers of
``MAX_HIDDEN_WIDTH`` units (pruning.config; fewer layers if the per-job memory limit refuses
that), at the default batch size, with as many epochs as the time limit per job admits
(``Limits.max_seconds``), by this process's cost estimate (pruning.app.job_costs). The server
calibrates itself, so if it refuses the job, the epochs are stepped down (× 0.8) until it
runs. The job never needs to finish: what a bystander feels is its per-step load.
"""
from __future__ import annotations

import statistics
import threading
import time

import websocket

from pruning.app.job_costs import training_estimate
from pruning.app.jobs import Limits
from pruning.config import MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH, ModelConfig, TrainConfig
from tests.browser.kit import start_server
from tests.load.st_protocol import ProtocolError, StudentSession

from .fixtures import default_data
from .harness import Result, Stats, Target
from .protocol_items import SLIDER, _cpu_seconds, _positions

MOVES = 10
BUSY = 0.8            # cores: the job is running
QUIET = 0.2           # cores: the job has ended
MAX_LINK_EPOCHS = 500  # the link's (and the sidebar's) upper bound (pruning/app/url_state.py)


def heaviest_link() -> tuple[str, int]:
    """(query string without epochs, largest epochs admitted by this process's estimate)."""
    data, limits = default_data(), Limits.from_env()
    for layers in range(MAX_HIDDEN_LAYERS, 0, -1):
        cfg = ModelConfig(hidden=(MAX_HIDDEN_WIDTH,) * layers)
        if training_estimate(cfg, data, TrainConfig(epochs=1)).bytes <= limits.max_bytes:
            break
    lo, hi = 1, MAX_LINK_EPOCHS       # the largest epochs whose estimate is within the limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        fits = training_estimate(cfg, data, TrainConfig(epochs=mid)).seconds <= limits.max_seconds
        lo, hi = (mid, hi) if fits else (lo, mid - 1)
    hidden = ",".join(map(str, cfg.hidden))
    return f"dataset=digits&model=mlp&hidden={hidden}&seed=0", lo


def _cores(pid: int, seconds: float = 1.0) -> float:
    """Cores the server used over the next ``seconds``."""
    c0, t0 = _cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (_cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


def _moves(s: StudentSession, values, pid: int) -> tuple[list[float], float]:
    """Server time of each slider move, and the server's cores over them."""
    times, c0, t0 = [], _cpu_seconds(pid), time.perf_counter()
    for v in values:
        step = s.set_slider(SLIDER, v)
        if step.exceptions or not step.fragment:
            raise RuntimeError(f"slider move to {v}: exceptions {step.exceptions}, "
                               f"fragment run {step.fragment}")
        times.append(step.seconds)
    return times, (_cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


def _start_job(url: str, pid: int, query: str) -> tuple[StudentSession, threading.Thread] | None:
    """B opens the Train page from ``query`` and presses Train in its own thread; returns once
    the job runs, or None when it was refused (the run ended without a Stop button)."""
    b = StudentSession(url, timeout=3600)   # the Train click's run lasts as long as the job
    b.open("train", query)
    failed: list[BaseException] = []

    def press():
        try:
            b.click("▶ Train")
        except (OSError, ProtocolError, websocket.WebSocketException) as exc:
            failed.append(exc)   # (also how it ends when we close the tab under the read)

    t = threading.Thread(target=press, daemon=True)
    t.start()
    deadline = time.monotonic() + 300
    while "■ Stop" not in b.widgets:
        if not t.is_alive():
            b.close()
            if failed:
                raise RuntimeError(f"B's Train click failed: {failed[0]!r}")
            return None
        if time.monotonic() > deadline:
            raise RuntimeError("B's job did not start within 300 s")
        time.sleep(0.1)
    while _cores(pid) < BUSY:       # the model is being built: wait for the training itself
        if not t.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("B's job ended or never kept the server busy")
    return b, t


def _measure(repeats: int) -> dict:
    query, epochs = heaviest_link()
    server = start_server("bench-bystander")
    try:
        home = StudentSession(server.url)   # a new server's first visit opens Home
        home.open("")
        home.close()
        a = StudentSession(server.url)
        a.open("prune")
        a.click("Use a trained default model")
        values = iter(_positions(2 * MOVES * repeats + 1))
        a.set_slider(SLIDER, next(values))             # the first fragment run, untimed
        out = {k: [] for k in ("ratio", "idle", "during", "idle_cores", "during_cores",
                               "stopped")}
        refused = 0
        for _ in range(repeats):
            idle, idle_cores = _moves(a, [next(values) for _ in range(MOVES)], server.pid)
            while (job := _start_job(server.url, server.pid, f"{query}&epochs={epochs}")) is None:
                if epochs == 1:
                    raise RuntimeError(f"the server refused even /train?{query}&epochs=1")
                refused, epochs = refused + 1, max(1, int(epochs * 0.8))
            b, thread = job
            during, during_cores = _moves(a, [next(values) for _ in range(MOVES)], server.pid)
            if not thread.is_alive():
                raise RuntimeError("B's job ended before A's moves did")
            closed = time.perf_counter()
            b.ws.abort()                  # the tab closed: no goodbye, the socket just drops
            thread.join(60)
            b.ws = None                   # (closed already)
            while _cores(server.pid, 0.5) > QUIET:
                if time.perf_counter() - closed > 120:
                    raise RuntimeError("the server stayed busy 120 s after B's tab closed")
            out["stopped"].append(time.perf_counter() - closed)
            out["ratio"].append(statistics.median(during) / statistics.median(idle))
            out["idle"] += idle
            out["during"] += during
            out["idle_cores"].append(idle_cores)
            out["during_cores"].append(during_cores)
        a.close()
        out["link"], out["refused"] = f"train?{query}&epochs={epochs}", refused
        return out
    finally:
        server.stop()


def bystander(repeats: int) -> Result:
    n = _measure(repeats)
    res = Result("bystander", "a bystander's slider move while another student runs the "
                 "heaviest job (during ÷ idle)", Target("<=", 1.5, "×"), Stats.of(n["ratio"]),
                 headline_unit="×")
    res.detail("server time per move, idle", Stats.of(n["idle"]), 1e3, "ms", 1)
    res.detail("server time per move, B's job running", Stats.of(n["during"]), 1e3, "ms", 1)
    res.detail("server CPU over A's idle moves (cores)", Stats.of(n["idle_cores"]), 1, "", 2)
    res.detail("server CPU over A's moves during B's job (cores)", Stats.of(n["during_cores"]),
               1, "", 2)
    res.detail("B's tab closed → server quiet again (0.5 s windows)", Stats.of(n["stopped"]),
               1, "s", 1)
    res.notes.append(f"B's job: /{n['link']} (batch 64), Train pressed; "
                     f"{n['refused']} refusal(s) before it was admitted.")
    res.notes.append(f"{MOVES} moves per phase and repeat, each to a new value; one server for "
                     "all repeats; the ratio is taken per repeat. The load generator (this "
                     "process) and the server share the machine's cores.")
    return res
