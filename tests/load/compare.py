"""Capacity of 2 app processes against 1, in one run (``make capacity-compare``).

    python -m tests.load.compare [--students 24] [--duration 60] [--think 0 1]

Runs the capacity load twice, back to back, with the same students and think time: one app
process behind the proxy, then two (``make class`` with ``--replicas 2``); the think time is
short so the processes are saturated and the number of slider moves the class gets through
per second is what the servers can do. Writes test-artifacts/capacity-compare.json with both
reports and ``ratio_moves_per_s`` (2 processes / 1). Both runs go through HAProxy, so the
ratio compares processes, not proxy against no proxy. On a machine shared with other work the
ratio moves with the load: every report carries the load average before and after.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.load.compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=24)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--think", type=float, nargs=2, default=(0.0, 1.0))
    p.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "capacity-compare.json")
    args = p.parse_args(argv)
    reports = {}
    for replicas in (1, 2):
        out = args.out.with_name(f"capacity-{replicas}proc.json")
        subprocess.run([sys.executable, "-m", "tests.load.capacity", "--students",
                        str(args.students), "--duration", str(args.duration), "--think",
                        *map(str, args.think), "--train-share", "0", "--replicas", str(replicas),
                        "--proxy", "--out", str(out)], cwd=ROOT, check=False)
        reports[replicas] = json.loads(out.read_text())
    one, two = reports[1]["moves_per_s"], reports[2]["moves_per_s"]
    result = {"ratio_moves_per_s": (two / one) if one else None, "target_ratio": 1.6,
              "one_process": reports[1], "two_processes": reports[2]}
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in ("ratio_moves_per_s", "target_ratio")} | {
        "moves_per_s": [one, two], "p95_action_s": [reports[1]["p95_action_s"],
                                                    reports[2]["p95_action_s"]],
        "errors": [reports[1]["errors"], reports[2]["errors"]],
        "load_average_before": [reports[1]["load_average_before"],
                                reports[2]["load_average_before"]]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
