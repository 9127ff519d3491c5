"""Where a real server's time goes: ``streamlit run serve.py`` (the app as `make run` serves it) with cProfile in its script threads.

    python -m bench.profile_server [--moves 20] [--top 40] [--out test-artifacts/profile.pstats]

Starts the app in a child process whose every script-run thread (Streamlit runs each script
run, full or fragment, in a thread of its own) is profiled between two signals: SIGUSR1 starts,
SIGUSR2 writes the merged statistics and stops. One simulated student (tests/load/st_protocol,
the websocket protocol a browser speaks) opens the Prune page and takes the default model
without profiling, then profiling covers (1) a second student's first page and (2) ``--moves``
moves of the Prune slider. Prints the functions with the most cumulative and own time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(out: str, argv: list[str]) -> None:
    """In the server process: profile script threads between SIGUSR1 and SIGUSR2."""
    profiles: list[cProfile.Profile] = []
    active = threading.Event()

    def hook(*_):
        threading.current_thread()
        sys.setprofile(None)
        if active.is_set() and threading.current_thread().name.startswith("ScriptRunner"):
            p = cProfile.Profile()
            profiles.append(p)
            p.enable()

    def start(*_):
        active.set()
        threading.setprofile(hook)

    def stop(*_):
        active.clear()
        threading.setprofile(None)
        for p in profiles:
            p.disable()
        if profiles:
            stats = pstats.Stats(profiles[0])
            for p in profiles[1:]:
                stats.add(p)
            stats.dump_stats(out)
        Path(out + ".done").write_text(str(len(profiles)))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from streamlit.web import cli
    sys.argv = ["streamlit", *argv]
    cli.main()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_server", description=__doc__)
    p.add_argument("--moves", type=int, default=20)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--out", default=str(ROOT / "test-artifacts" / "profile.pstats"))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args, rest = p.parse_known_args(argv)
    if args.child:
        _child(args.out, rest)
        return 0
    sys.path.insert(0, str(ROOT))
    from tests.browser import kit
    from tests.load.st_protocol import StudentSession

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    done = Path(args.out + ".done")
    done.unlink(missing_ok=True)
    port = kit.free_port()
    import subprocess
    log = open(Path(args.out).with_suffix(".log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.profile_server", "--child", "--out", args.out, "run",
         "serve.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = f"http://127.0.0.1:{port}"
    try:
        kit.StreamlitServer(port, proc, Path(log.name), log).wait_healthy(120)
        warm = StudentSession(url)
        warm.open("prune")
        warm.click("Use a trained default model")
        label = "Target sparsity (% of prunable weights removed)"
        warm.set_slider(label, 80.0)
        StudentSession(url).open("prune").seconds  # imports and caches warmed
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        first = StudentSession(url)
        t_first = first.open("prune").seconds
        values = [50 + (i * 37) % 46 for i in range(args.moves)]
        moves = [warm.set_slider(label, float(v)) for v in values]
        proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        warm.close()
        first.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    secs = sorted(m.seconds for m in moves)
    print(f"first page (profiled): {t_first * 1e3:.0f} ms; slider moves (profiled) median "
          f"{secs[len(secs) // 2] * 1e3:.0f} ms over {len(secs)}; bytes median "
          f"{sorted(m.bytes for m in moves)[len(moves) // 2]:,}")
    stats = pstats.Stats(args.out)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
