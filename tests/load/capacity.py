"""Capacity without browsers: a class of simulated students against servers this starts itself.

    python -m tests.load.capacity --students 40 --duration 60 [--replicas 2]    (make capacity)

Starts the app (``--replicas 1``: one ``streamlit run`` process, as ``make run``; more: that many
behind HAProxy, exactly as ``make class`` does, deploy/class_server.py), lets a "teacher" open
the link once (the first visit of a new server) and press "Use a trained default model" (so the
shared model exists; ``--cold`` skips that), then runs Locust in this process with
``--students`` simulated students (tests/load/locustfile.py: Streamlit's websocket protocol,
no browser) who all arrive within ``--arrive`` seconds, take the default model, and act every
few seconds. After ``--duration`` seconds of acting it stops everything and writes a JSON
report (default test-artifacts/capacity.json):

  students, replicas, duration_s        what ran
  actions, p50/p95/p99_action_s         slider moves: send → the run's final message
  first_page_p50/p95_s                  a student's first page (GET + websocket + first run)
  default_model_p50/p95_s               "Use a trained default model" → model shown
  finetune_p50/p95_s, finetunes         the fine-tune actions (``--train-share`` of actions)
  errors, error_samples                 failed actions (exceptions drawn, drops, timeouts)
  bytes_per_move_median                 websocket payload per slider move
  moves_per_s                           completed slider moves per second of the run
  server_cpu_pct_mean/max               CPU of all app processes together (100 = one core)
  server_rss_mib_peak                   their resident memory together, peak
  load_generator_cpu_pct                this process's own CPU (it shares the machine)
  sessions_per_process                  students whose page each process served (proxy)
  sticky_sessions                       students whose websocket reached the process their
                                        cookie names (proxy; must equal students_with_cookie)
  load_average_before/after             this machine's load (a shared machine: read with it)

Exit status 0 when every student got through their first page and there were no errors.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import gevent
from locust import events  # first: Locust patches the standard library for gevent
from locust.env import Environment

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test-artifacts" / "capacity.json"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


def _proc_times(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS KiB) of a process from /proc (0, 0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
                   .splitlines() if line.startswith("VmRSS:"))
        return cpu, rss
    except (OSError, StopIteration, IndexError):
        return 0.0, 0


class _Servers:
    """One app process, or several behind the class proxy."""

    def __init__(self, replicas: int, proxy: bool):
        self.replicas, self.proxy = replicas, proxy or replicas > 1
        self._impl = None

    def __enter__(self):
        if self.proxy:
            from deploy.class_server import ClassServer
            state = ROOT / "test-artifacts" / f"class-{os.getpid()}"
            self._impl = ClassServer(self.replicas, state=state).start()
            self.url, self.pids = self._impl.url, self._impl.pids
        else:
            from tests.browser import kit
            self._impl = kit.start_server("capacity", timeout=120)
            self.url, self.pids = self._impl.url, {"app1": self._impl.pid}
        return self

    def __exit__(self, *exc):
        self._impl.stop()


def run(students: int, duration: float, replicas: int = 1, arrive: float = 2.0,
        train_share: float = 0.05, think: tuple[float, float] = (2.5, 7.5),
        proxy: bool = False, out: Path = DEFAULT_OUT, warm: bool = True) -> dict:
    os.environ["TRAIN_SHARE"] = str(train_share)
    os.environ["THINK_MIN_S"], os.environ["THINK_MAX_S"] = str(think[0]), str(think[1])
    from tests.load import locustfile
    from tests.load.st_protocol import StudentSession

    locustfile.TRAIN_SHARE = train_share
    locustfile.SESSIONS.clear()
    locustfile.Student.wait_time = locustfile.between(*think)
    load_before = os.getloadavg()
    own_cpu_before, own_t0 = time.process_time(), time.monotonic()
    times: dict[str, list[float]] = {}
    sizes: list[int] = []
    errors: list[str] = []
    servers_seen: Counter = Counter()

    def on_request(request_type, name, response_time, response_length, exception=None,
                   context=None, **_):
        if exception is not None:
            errors.append(f"{name}: {type(exception).__name__}: {exception}"[:300])
            return
        times.setdefault(name, []).append(response_time / 1000)
        if name == "slider move":
            sizes.append(response_length)
        if name == "first page" and context and context.get("server"):
            servers_seen[context["server"]] += 1

    events.request.add_listener(on_request)
    with _Servers(replicas, proxy) as servers:
        for _ in range(servers.replicas):       # behind the proxy: one visit per process
            teacher = StudentSession(servers.url)   # a new server's first visit opens Home
            teacher.open("")
            if warm:                                # the teacher shows the default model first
                teacher.goto("prune")
                teacher.click("Use a trained default model")
            teacher.close()
        env = Environment(user_classes=[locustfile.Student], events=events, host=servers.url)
        runner = env.create_local_runner()
        samples: list[tuple[float, float, int]] = []
        stop = {"now": False}

        def sample():
            while not stop["now"]:
                cpu, rss = 0.0, 0
                for pid in servers.pids.values():
                    c, r = _proc_times(pid)
                    cpu, rss = cpu + c, rss + r
                samples.append((time.monotonic(), cpu, rss))
                gevent.sleep(0.5)

        sampler = gevent.spawn(sample)
        t0 = time.monotonic()
        runner.start(students, spawn_rate=students / max(arrive, 0.01))
        gevent.sleep(arrive + duration)
        moves_window = time.monotonic() - t0
        runner.quit()
        stop["now"] = True
        sampler.join(timeout=2)
        sticky = _stickiness(locustfile.SESSIONS) if servers.proxy else None
    events.request.remove_listener(on_request)

    cpu_pct = [100 * (c2 - c1) / (t2 - t1) for (t1, c1, _), (t2, c2, _) in
               zip(samples, samples[1:]) if t2 > t1]
    moves = times.get("slider move", [])
    first = times.get("first page", [])
    report = {
        "students": students, "replicas": replicas, "proxy": servers.proxy,
        "duration_s": duration, "arrive_s": arrive, "think_s": list(think),
        "train_share": train_share, "default_model_trained_before": warm,
        "actions": len(moves),
        "p50_action_s": _pct(moves, 0.50), "p95_action_s": _pct(moves, 0.95),
        "p99_action_s": _pct(moves, 0.99),
        "moves_per_s": len(moves) / moves_window if moves_window else None,
        "first_pages": len(first),
        "first_page_p50_s": _pct(first, 0.50), "first_page_p95_s": _pct(first, 0.95),
        "default_model_p50_s": _pct(times.get("default model", []), 0.50),
        "default_model_p95_s": _pct(times.get("default model", []), 0.95),
        "finetunes": len(times.get("fine-tune", [])),
        "finetune_p50_s": _pct(times.get("fine-tune", []), 0.50),
        "finetune_p95_s": _pct(times.get("fine-tune", []), 0.95),
        "errors": len(errors), "error_samples": errors[:10],
        "bytes_per_move_median": statistics.median(sizes) if sizes else None,
        "server_cpu_pct_mean": statistics.mean(cpu_pct) if cpu_pct else None,
        "server_cpu_pct_max": max(cpu_pct) if cpu_pct else None,
        "server_rss_mib_peak": max(r for *_, r in samples) / 1024 if samples else None,
        "sessions_per_process": dict(servers_seen) if servers.proxy else None,
        "load_generator_cpu_pct": 100 * (time.process_time() - own_cpu_before)
        / max(time.monotonic() - own_t0, 1e-9),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    if sticky is not None:
        report.update(sticky)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return report


def _stickiness(sessions) -> dict:
    """Behind the proxy: did each student's websocket reach the process its cookie names, and
    does a later HTTP request with the same cookies reach it again?"""
    with_cookie = sticky = again = 0
    for s in sessions:
        if not s.server_cookie:
            continue
        with_cookie += 1
        sticky += s.served_by_ws == s.server_cookie
        try:
            again += s.health() == s.server_cookie
        except Exception:  # noqa: BLE001 - counted as not sticky
            pass
    return {"students_with_cookie": with_cookie, "sticky_sessions": sticky,
            "sticky_after_reconnect": again}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.load.capacity", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--duration", type=float, default=60, help="seconds of acting (default 60)")
    p.add_argument("--replicas", type=int, default=1,
                   help="app processes; more than 1 runs them behind HAProxy (make class)")
    p.add_argument("--proxy", action="store_true", help="use the proxy also for one process")
    p.add_argument("--arrive", type=float, default=2.0,
                   help="all students arrive within this many seconds (default 2)")
    p.add_argument("--think", type=float, nargs=2, default=(2.5, 7.5), metavar=("MIN", "MAX"),
                   help="seconds between a student's actions, uniform (default 2.5 7.5: mean 5)")
    p.add_argument("--train-share", type=float, default=0.05,
                   help="share of actions that fine-tune instead of moving the slider")
    p.add_argument("--cold", action="store_true",
                   help="no teacher before the class: the first student's default-model press "
                        "trains it (by default the teacher has opened it once)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    report = run(args.students, args.duration, args.replicas, args.arrive, args.train_share,
                 tuple(args.think), args.proxy, args.out, warm=not args.cold)
    print(json.dumps(report, indent=2))
    ok = report["errors"] == 0 and report["first_pages"] == args.students
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
