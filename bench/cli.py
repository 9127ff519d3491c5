"""``python -m bench [--only NAME ...] [--repeats N] [--threads T] [--json F] [--markdown F]``."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback

from .harness import Result, load_average, machine_info, markdown_report

#: name -> (module, function). Order = the issue's table.
ITEMS: dict[str, tuple[str, str]] = {
    "to97": ("training_items", "time_to_97"),
    "stop": ("job_items", "stop_and_estimate"),
    "masks": ("pruning_items", "global_masks"),
    "update": ("interactive_items", "interactive_update"),
    "iterate10": ("pruning_items", "iterative_10"),
    "sweep": ("sweep_items", "generalization_sweep"),
    "start": ("browser_items", "app_start"),
    "slider": ("browser_items", "slider_redraw"),
    "memory": ("browser_items", "session_memory"),
    "move": ("protocol_items", "slider_move"),
    "move_bytes": ("protocol_items", "move_bytes"),
    "first_page": ("protocol_items", "first_page"),
    "bystander": ("bystander_items", "bystander"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help=f"run only these items (repeatable or comma-separated): {', '.join(ITEMS)}")
    p.add_argument("--repeats", type=int, default=5, metavar="N",
                   help="repeats per item; min / median / max are over them (default 5)")
    p.add_argument("--threads", type=int, default=1, metavar="T",
                   help="torch intra-op threads (default 1, as the app's server sets them)")
    p.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = [n.strip() for group in args.only for n in group.split(",") if n.strip()] or list(ITEMS)
    unknown = [n for n in names if n not in ITEMS]
    if unknown:
        print(f"error: unknown item(s) {', '.join(unknown)}; choose from {', '.join(ITEMS)}",
              file=sys.stderr)
        return 2
    if args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    info = machine_info()
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    results: list[Result] = []
    failed = False
    for name in names:
        module, fn = ITEMS[name]
        t0 = time.perf_counter()
        print(f"\n== {name} ({args.repeats} repeats) …", flush=True)
        try:
            bench_fn = getattr(importlib.import_module(f"bench.{module}"), fn)
            res = bench_fn(args.repeats)
        except Exception:  # one broken item must not hide the others' numbers
            traceback.print_exc()
            failed = True
            continue
        results.append(res)
        print(f"{res.title}: {res.headline_text()}  target {res.target or '—'}  -> {res.verdict}"
              f"  ({time.perf_counter() - t0:.0f} s)")
        for label, text in res.details:
            print(f"    {label}: {text}")
        for note in res.notes:
            print(f"    - {note}")
    info["load average (1/5/15 min) at end"] = load_average()
    report = markdown_report(info, results, command.strip())
    print("\n" + report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "command": command, "results": [r.to_json() for r in results]},
                      f, indent=2)
    return 1 if failed else 0
