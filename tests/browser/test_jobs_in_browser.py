"""Training jobs from a real browser: Stop ends a run and says where it stopped, and a job
whose tab was closed stops and gives the CPU back (the default model used to train on for
minutes inside ``st.cache_resource`` after its tab was gone).

The model is made large enough (MLP 2048×3 on digits, 30 epochs: about a minute alone) that
the job is surely still running when the test acts; each test uses its own seed so no cached
default model from another test answers instead. Times (Stop → page idle, close → CPU idle)
are written to test-artifacts/jobs.json for BENCHMARKS.md, not asserted (timing goals live in
bench/).
"""
from __future__ import annotations

import os
import re
import time

from tests.browser import kit

HIDDEN = "2048,2048,2048"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cores_used(pid: int, window: float = 2.0) -> float:
    """Average number of cores process ``pid`` keeps busy over ``window`` seconds."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def wait_for_cores_below(pid: int, limit: float, timeout: float) -> tuple[float, float]:
    """Seconds until ``pid`` used fewer than ``limit`` cores over a 2 s window, and that use."""
    start = time.monotonic()
    while True:
        used = cores_used(pid)
        if used < limit or time.monotonic() - start > timeout:
            return time.monotonic() - start, used


def progress_text(page) -> str:
    bars = page.locator("[data-testid='stProgress']")
    return bars.first.inner_text() if bars.count() else ""


def wait_for_progress(page, needle: str, timeout: float = 180.0) -> str:
    """Wait (without waiting for the run to end) until a progress bar's text has ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = progress_text(page)
        if needle in text:
            return text
        page.wait_for_timeout(200)
    raise AssertionError(f"no progress bar saying {needle!r} within {timeout:.0f} s "
                         f"(last: {progress_text(page)!r})")


def test_stop_ends_training_with_a_clear_state(server, new_session):
    _, page = new_session()
    kit.open_app(page, server.url, "train", f"dataset=digits&model=mlp&hidden={HIDDEN}&seed=4242")
    kit.assert_no_exception(page, "Train")
    page.locator(".st-key-train_button button:visible").click()
    wait_for_progress(page, "Epoch 1 of 30")
    assert "Estimated cost on this server" in page.inner_text("[data-testid='stMain']")
    since = kit.completed_runs(page)
    stop = page.get_by_role("button", name="■ Stop")
    t0 = time.perf_counter()
    stop.click()
    kit.wait_until(page, lambda: any("stopped after epoch" in t for t in kit.alert_texts(page)),
                   timeout=60, what="the stopped-at-epoch notice")
    stopped_in = time.perf_counter() - t0
    kit.wait_for_app(page, since=since)
    note = next(t for t in kit.alert_texts(page) if "stopped after epoch" in t)
    assert "of 30" in note and "No model was stored" in note, note
    assert not page.locator("[data-testid='stProgress']").count(), "a frozen progress bar"
    kit.assert_no_exception(page, "Train after Stop")
    idle_after, used = wait_for_cores_below(server.pid, 0.1, timeout=30)
    assert used < 0.1, f"the server still used {used:.2f} cores 30 s after Stop"
    kit.dump_json("jobs_stop.json", {"stop_to_notice_s": stopped_in, "stop_to_idle_s": idle_after,
                                "cores_after": used})


def test_closed_tab_stops_the_default_model_job(server, new_session):
    """The tab closes while its default model trains: the server log says the job stopped
    (Streamlit stops a disconnected session's script run; the job's next tick is where),
    and the server's CPU use falls back to idle."""
    context, page = new_session()
    kit.open_app(page, server.url, "prune", f"dataset=digits&model=mlp&hidden={HIDDEN}&seed=4343")
    page.locator(".st-key-use_default_model button:visible").click()
    wait_for_progress(page, "epoch 1 of 30")          # the job is training
    busy = cores_used(server.pid, 1.0)
    t0 = time.monotonic()
    context.close()                                   # the student closes the tab mid-training
    stopped = r"job \d+ Training the default model stopped at epoch \d+ of 30"
    deadline = time.monotonic() + 60
    while not re.search(stopped, server.log_text()):
        assert time.monotonic() < deadline, "the default-model job did not stop within 60 s " \
            "of its tab closing:\n" + server.log_text()[-2000:]
        time.sleep(0.2)
    logged_after = time.monotonic() - t0
    idle_after, used = wait_for_cores_below(server.pid, 0.1, timeout=30)
    assert used < 0.1, f"the server still used {used:.2f} cores after the job stopped"
    kit.dump_json("jobs_closed_tab.json", {"busy_cores_before": busy,
                                           "close_to_stopped_log_s": logged_after,
                                           "then_to_idle_s": idle_after, "cores_after": used})
    # nothing half-stored: a new visitor gets the offer again, not a broken page
    _, again = new_session()
    kit.open_app(again, server.url, "prune", f"dataset=digits&model=mlp&hidden={HIDDEN}&seed=4343")
    kit.assert_no_exception(again, "Prune after the abandoned job")
    kit.wait_until(again, lambda: again.locator(".st-key-use_default_model button:visible")
                   .count() == 1, timeout=60, what="the default-model offer")
