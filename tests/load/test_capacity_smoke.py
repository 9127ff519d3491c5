"""Short runs of the capacity load generator (``make capacity``), as the test suite's smoke
version: a few simulated students for a few seconds, in a subprocess (Locust patches the
standard library for gevent, which must not happen inside pytest).

One app process: every student gets their first page, the default model, and slider moves,
with no errors, and the report has the fields ``make capacity`` promises. Two processes behind
HAProxy (``make class``), every client on 127.0.0.1: the students spread over both processes,
each student's websocket reaches the process its affinity cookie names, and a later request
with the same cookies does too."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _capacity(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "capacity.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.load.capacity", "--out", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.exists(), f"no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(out.read_text())
    assert proc.returncode == 0, f"{report}\n{proc.stderr[-3000:]}"
    return report


@pytest.mark.timeout(1000)
def test_a_few_students_on_one_server(tmp_path):
    r = _capacity(tmp_path, "--students", "3", "--duration", "12", "--think", "0.5", "1.5",
                  "--train-share", "0.2")
    for field in ("students", "p95_action_s", "first_page_p95_s", "errors", "p50_action_s",
                  "p99_action_s", "server_cpu_pct_mean", "server_rss_mib_peak"):
        assert field in r, field
    assert r["students"] == 3 and r["first_pages"] == 3 and r["errors"] == 0
    assert r["actions"] >= 3 and r["p95_action_s"] > 0
    assert r["default_model_p95_s"] is not None
    assert r["bytes_per_move_median"] > 0 and r["server_rss_mib_peak"] > 0


@pytest.mark.timeout(1200)
def test_two_processes_behind_the_proxy_spread_and_keep_sessions(tmp_path):
    r = _capacity(tmp_path, "--students", "4", "--duration", "8", "--think", "0.5", "1.5",
                  "--train-share", "0", "--replicas", "2")
    assert r["proxy"] is True and r["errors"] == 0 and r["first_pages"] == 4
    per_process = r["sessions_per_process"]
    assert sorted(per_process) == ["app1", "app2"] and min(per_process.values()) >= 1, per_process
    assert r["students_with_cookie"] == 4
    assert r["sticky_sessions"] == 4, "a websocket reached another process than its cookie names"
    assert r["sticky_after_reconnect"] == 4, "a later request left the session's process"
