"""The generalization sweep: the default (levels × seeds) batched vs one model at a time.

``pruning.generalization.run_sweep(cfg, batched=True)`` trains the members that share a shape
as one batched model; ``batched=False`` runs the same protocol one model at a time with
``training.train``. The default sweep is the Generalization lab's first preset (the page
opens on it), unless the module names another ``DEFAULT_PRESET``.
"""
from __future__ import annotations

import importlib.util

from .harness import Result, Stats, Target, timed


def _default_config():
    from pruning import generalization as gen

    name = getattr(gen, "DEFAULT_PRESET", None) or next(iter(gen.PRESETS))
    return name, gen.PRESETS[name].config


def _warm_up(cfg, run_sweep) -> None:
    """One tiny untimed run of each path, so one-time costs (importing scikit-learn for the
    digits, torch's first fused-Adam set-up) fall on neither side of the comparison."""
    from dataclasses import replace

    tiny = replace(cfg, levels=cfg.levels[:1], seeds=cfg.seeds[:1], finetune_epochs=1,
                   train=replace(cfg.train, epochs=1), patience=1)
    for batched in (True, False):
        run_sweep(tiny, batched=batched)


def generalization_sweep(repeats: int) -> Result:
    target = Target(">=", 3.0, "× faster")
    title = "generalization sweep: batched vs one model at a time"
    if importlib.util.find_spec("pruning.generalization") is None:
        res = Result("sweep", title, target, pending=True)
        res.notes.append("PENDING: pruning/generalization.py does not exist yet.")
        return res
    from pruning.generalization import run_sweep

    name, cfg = _default_config()
    _warm_up(cfg, run_sweep)
    speedups, batched_s, single_s, diffs = [], [], [], []
    for _ in range(repeats):
        tb, _, rb = timed(lambda: run_sweep(cfg, batched=True))
        ts, _, rs = timed(lambda: run_sweep(cfg, batched=False))
        batched_s.append(tb)
        single_s.append(ts)
        speedups.append(ts / tb)
        keys = ["arm", "level", "weight_decay", "seed"]
        merged = rb.runs.merge(rs.runs, on=keys, suffixes=("_b", "_s"))
        diffs.append(float((merged["test_acc_b"] - merged["test_acc_s"]).abs().max()))
    res = Result("sweep", title, target, Stats.of(speedups), headline_unit="×")
    res.detail("batched run_sweep", Stats.of(batched_s), 1, "s")
    res.detail("one model at a time (batched=False)", Stats.of(single_s), 1, "s")
    res.detail("largest |test accuracy difference| between the two, per run",
               Stats.of(diffs), 100, "points", 2)
    res.notes.append(f"preset {name!r}: {len(cfg.levels)} levels × {len(cfg.seeds)} seeds, "
                     f"controls {', '.join(cfg.controls)}; repeat = one batched and one "
                     f"one-at-a-time run, back to back.")
    return res
