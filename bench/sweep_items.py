"""The generalization sweep: the default (levels × seeds) batched vs one model at a time.

``pruning.labs.generalization.run_sweep(cfg, batched=True)`` trains the members that share a shape
as one batched model; ``batched=False`` runs the same protocol one model at a time with
``training.train``. The default sweep is the Generalization lab's first preset (the page
opens on it), unless the module names another ``DEFAULT_PRESET``.
"""
from __future__ import annotations

import importlib.util
from dataclasses import replace

from .fixtures import peak_matmul_flops
from .harness import Result, Stats, Target, timed


def _default_config():
    from pruning.labs import generalization as gen

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


def sweep_matmul_flops(cfg) -> float:
    """FLOPs of the matrix products the sweep's protocol asks for, whichever way it is run.

    Per example and epoch a dense net with MACs = Σ_l in_l·out_l multiply-adds costs 6·MACs to
    train (forward, input and weight gradients; 2 FLOPs per MAC) and 2·MACs to evaluate; every
    epoch evaluates all three splits. Masked nets still multiply their zeros (dense kernels).
        dense arms:  seeds·(1 + #λ) · E · (6·MACs·N_train + 2·MACs·N_all)
        pruned arms: seeds·#arms · levels · E_ft · (same), at the wide net's MACs
        small nets:  seeds · E · (same) per distinct width, at that net's MACs
    Evaluations at epoch 0 and the scoring are left out, so this is a floor: the sweep cannot
    take less than FLOPs ÷ peak however it batches, so a batched/one-at-a-time ratio is bounded
    by (one-at-a-time time) ÷ (FLOPs ÷ peak)."""
    from pruning.core.counts import mlp_weight_count
    from pruning.labs import generalization as gen

    data = gen._bundles(replace(cfg, seeds=cfg.seeds[:1]))[int(cfg.seeds[0])]
    n_train, n_all = len(data.y_train), sum(data.sizes().values())
    per_mac = 6 * n_train + 2 * n_all
    wide = mlp_weight_count(data.n_features, cfg.model.hidden, data.n_classes)
    n_seeds = len(cfg.seeds)
    n_wd = len(cfg.weight_decays) if "weight_decay" in cfg.controls else 0
    flops = n_seeds * (1 + n_wd) * cfg.train.epochs * per_mac * wide
    flops += (n_seeds * len(gen._pruning_arms(cfg)) * len(cfg.levels) * cfg.finetune_epochs
              * per_mac * wide)
    if "small_dense" in cfg.controls:
        for widths in gen._small_nets(cfg, data, gen._expected_kept(cfg, data)):
            flops += (n_seeds * cfg.train.epochs * per_mac
                      * mlp_weight_count(data.n_features, widths, data.n_classes))
    return float(flops)


def generalization_sweep(repeats: int) -> Result:
    target = Target(">=", 3.0, "× faster")
    title = "generalization sweep: batched vs one model at a time"
    if importlib.util.find_spec("pruning.labs.generalization") is None:
        res = Result("sweep", title, target, pending=True)
        res.notes.append("PENDING: pruning/generalization.py does not exist yet.")
        return res
    from pruning.labs.generalization import run_sweep

    name, cfg = _default_config()
    _warm_up(cfg, run_sweep)
    flops = sweep_matmul_flops(cfg)
    speedups, batched_s, single_s, diffs, floors = [], [], [], [], []
    for _ in range(repeats):
        floors.append(flops / peak_matmul_flops())
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
    res.detail(f"floor: the protocol's matrix products, {flops / 1e9:.0f} GFLOP ÷ peak fp32 matmul",
               Stats.of(floors), 1, "s")
    res.detail("best ratio any batching could reach: one at a time ÷ floor",
               Stats.of([s_ / f for s_, f in zip(single_s, floors)]), 1, "×")
    res.detail("largest |test accuracy difference| between the two, per run",
               Stats.of(diffs), 100, "points", 2)
    res.notes.append(f"preset {name!r}: {len(cfg.levels)} levels × {len(cfg.seeds)} seeds, "
                     f"controls {', '.join(cfg.controls)}; repeat = one batched and one "
                     f"one-at-a-time run, back to back.")
    return res
