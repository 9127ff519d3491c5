"""``python -m pruning sweep``: the generalization lab's sparsity sweep, headless.

Example (the measured runs in docs/generalization.md)::

    python -m pruning sweep --preset digits-noisy --json out.json --csv out.csv

Starts from a preset (``pruning.labs.generalization.PRESETS``); any option given overrides it.
Prints the summary table (mean ± sd over seeds per arm and level) and the computed
explanation; ``--csv`` writes the tidy per-run table, ``--json`` the config, summary and runs.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from pruning.cli.output import write_json
from pruning.errors import PruningError


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0.5,0.9, got {text!r}") from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers like 0,1,2, got {text!r}") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def add_sweep_parser(sub) -> argparse.ArgumentParser:
    from pruning.labs.generalization import CONTROLS, PRESETS
    from pruning.scoring import SCORERS

    s = sub.add_parser("sweep", help="generalization lab: sparsity sweep with controls over seeds")
    s.add_argument("--preset", default="digits-noisy", choices=list(PRESETS))
    s.add_argument("--levels", type=_floats, help="sparsity levels, e.g. 0.5,0.8,0.9,0.95")
    s.add_argument("--seeds", type=_ints, help="seeds, e.g. 0,1,2 (default: the preset's)")
    s.add_argument("--epochs", type=int, help="dense training epochs")
    s.add_argument("--finetune-epochs", type=int, help="epochs of masked retraining per level")
    s.add_argument("--scorer", choices=sorted(SCORERS), help="how the pruned arm ranks weights")
    s.add_argument("--rewind", action=argparse.BooleanOptionalAction, default=None,
                   help="rewind survivors to their initial weights before retraining")
    s.add_argument("--train-size", type=int, help="keep only N training examples")
    s.add_argument("--label-noise", type=float, help="fraction of wrong training labels")
    s.add_argument("--weight-decays", type=_floats, help="candidate λ, e.g. 0.001,0.01")
    s.add_argument("--controls", type=_names,
                   help=f"control arms to run, comma-separated from: {', '.join(CONTROLS)}")
    s.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: these small nets gain nothing from a second "
                        "thread, and on a busy 2-core machine two threads ran ~6x slower)")
    s.add_argument("--one-at-a-time", action="store_true",
                   help="train each model separately with train() (slow reference: the same "
                        "protocol, but float rounding differs, so single runs can differ by a "
                        "few points; see docs/generalization.md)")
    s.add_argument("--json", metavar="PATH", help="write config, summary and runs as JSON")
    s.add_argument("--csv", metavar="PATH", help="write the per-run table as CSV")
    s.add_argument("--quiet", action="store_true")
    return s


def config_from_sweep_args(a: argparse.Namespace):
    from pruning.labs.generalization import PRESETS

    cfg = PRESETS[a.preset].config
    data, train = cfg.data, cfg.train
    if a.train_size is not None:
        data = replace(data, train_size=a.train_size)
    if a.label_noise is not None:
        data = replace(data, label_noise=a.label_noise)
    if a.epochs is not None:
        train = replace(train, epochs=a.epochs)
    over = {"data": data, "train": train}
    for field in ("levels", "seeds", "finetune_epochs", "scorer", "rewind", "weight_decays",
                  "controls"):
        value = getattr(a, field)
        if value is not None:
            over[field] = value
    return replace(cfg, **over)


def run_sweep_command(a: argparse.Namespace) -> int:
    import torch

    from pruning.labs.generalization import PRESETS, run_sweep, summarize
    from pruning.present.generalization_text import explain_sweep

    try:
        if a.threads < 1:
            raise PruningError(f"--threads must be at least 1, got {a.threads}")
        torch.set_num_threads(a.threads)
        cfg = config_from_sweep_args(a)

        def progress(frac, msg):
            if not a.quiet:
                print(f"\r[{frac * 100:5.1f} %] {msg:<60}", end="", file=sys.stderr, flush=True)

        result = run_sweep(cfg, progress=progress, batched=not a.one_at_a_time)
        if not a.quiet:
            print(file=sys.stderr)
    except PruningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = summarize(result.runs)
    print(f"preset {cfg.name}: {len(cfg.seeds)} seeds × {len(cfg.levels)} levels in "
          f"{result.seconds:.1f} s ({result.threads} torch thread(s))")
    cols = ["arm", "level", "weight_decay", "hidden", "weights", "train_acc_mean",
            "val_acc_mean", "test_acc_mean", "test_acc_std", "gap_mean"]
    print(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    focus = PRESETS[cfg.name].focus_level if cfg.name in PRESETS else 0.9
    for sentence in explain_sweep(result.runs, summary, focus_level=focus,
                                  history=result.history):
        print("- " + sentence.replace("**", ""))
    if a.json:
        write_json(a.json, result.to_json_dict())
    if a.csv:
        result.runs.to_csv(a.csv, index=False)
    return 0
