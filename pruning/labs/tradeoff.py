"""The trade-off curve: test accuracy against stored size and against latency, for several
pruning recipes applied to one trained model, every point measured.

Recipes (``RECIPES``), each starting from a copy of the trained weights and each given the
*same* fine-tuning budget, ``finetune_epochs`` epochs in total (``TradeoffConfig``):

* ``one-shot``   — global magnitude pruning to the target in one step, then all the epochs;
* ``iterative``  — the same target in ``iterative_rounds`` rounds (each removing the same
  fraction of the weights still alive), the epochs split evenly between the rounds;
* ``structured`` — remove a fraction of every hidden layer's neurons / channels (L1 norm of
  their incoming weights), fine-tune with those units held at zero, then *compact* (a smaller
  dense model). Its levels are unit fractions; the weight share they remove is measured.

For every level and fine-tuning seed (``seeds`` of them: seed k shuffles the fine-tuning
batches with the trained model's seed + k; the trained model itself is the same for all) we
record the test accuracy. For the first seed's model we also measure

* the stored size: the smallest *lossless* encoding of ``pruning.labs.storage`` (dense float32,
  CSR with 32/16-bit indices or Deep Compression's relative indices) of the model after
  removing dead units (``structured.compact.compact_model``; for the structured recipe the
  compacted model), and
* the latency: ``measure.time_forward`` of that model as a dense module and with torch.sparse
  CSR weights, all points timed interleaved with the dense model (and the dense model again,
  the A/A noise check) on one batch of test examples, timed again while that pair is more than
  25 % apart (up to 3 attempts); the point keeps the faster of its two forms (named in
  ``fastest_form``).

``pareto`` marks the points no other point beats on both axes (smaller-or-equal cost and
higher-or-equal mean accuracy, one of them strictly). Which points lose "at most 1 point"
is decided in ``pruning.present.tradeoff`` with the app's one comparison rule
(``pruning.present.verdict``), from the per-seed accuracies in ``runs``.
"""
from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import pandas as pd
import torch
from torch import nn

from pruning.config import PruneConfig
from pruning.core.data import DataBundle
from pruning.core.masks import apply_masks
from pruning.core.records import TrainedModel
from pruning.core.training import evaluate_all, train
from pruning.errors import LARGEST_SEED, PruningError
from pruning.labs.measure import aa_gap, time_steadily, to_sparse_inference
from pruning.labs.storage import encoded_sizes, smallest_lossless
from pruning.loop.experiment import run_prune_rounds
from pruning.structured.compact import compact, compact_model
from pruning.structured.select import select_units, unit_masks
from pruning.structured.units import unit_scores

ONESHOT, ITERATIVE, STRUCTURED = "one-shot", "iterative", "structured"
RECIPES = (ONESHOT, ITERATIVE, STRUCTURED)
DENSE_POINT = "dense (trained)"
TIMING_DENSE, TIMING_DENSE_AGAIN = "dense", "dense, timed again (A/A check)"
MAX_AA_GAP = 1.25   # A/A pair further apart: time again (up to 3 attempts); then not ranked

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TradeoffConfig:
    """What the curve measures. The defaults cost a few seconds for the default MLP on 2
    cores: 13 recipe levels × 2 seeds × 3 fine-tuning epochs, then 28 models timed."""

    sparsities: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95)  # one-shot and iterative
    unit_fractions: tuple[float, ...] = (0.25, 0.5, 0.75)       # structured
    finetune_epochs: int = 3        # per run, every recipe (iterative: split over its rounds)
    iterative_rounds: int = 3
    seeds: int = 2
    finetune_batch_size: int = 32
    batch_size: int = 256           # examples per timed forward pass
    repeats: int = 7                # timed runs per model
    margin_points: float = 1.0      # "at most this many points of test accuracy"

    def check(self) -> TradeoffConfig:
        if not self.sparsities or not all(0 < s < 1 for s in self.sparsities):
            raise PruningError("sparsities must be fractions strictly between 0 and 1")
        if not self.unit_fractions or not all(0 < f < 1 for f in self.unit_fractions):
            raise PruningError("unit fractions must be fractions strictly between 0 and 1")
        if not 1 <= self.seeds <= 10:
            raise PruningError(f"seeds must be from 1 to 10, got {self.seeds}")
        if not 1 <= self.iterative_rounds <= 10:
            raise PruningError("iterative rounds must be from 1 to 10")
        if self.finetune_epochs < 0 or self.finetune_epochs % self.iterative_rounds:
            raise PruningError("fine-tuning epochs must split evenly over the iterative rounds "
                               "(equal budgets)")
        if not 1 <= self.repeats <= 51 or not 1 <= self.batch_size <= 4096:
            raise PruningError("timing: 1–51 repeats, batches of 1–4096 examples")
        return self

    def budget(self, recipe: str) -> str:
        """The recipe's fine-tuning budget in words (the same total for every recipe)."""
        e = self.finetune_epochs
        epochs = f"{e} epoch{'' if e == 1 else 's'}"
        if recipe == ITERATIVE and self.iterative_rounds > 1:
            r = self.iterative_rounds
            return f"{epochs} ({r} rounds × {e // r})"
        return epochs


@dataclass
class Tradeoff:
    """``runs``: one row per (recipe, level, seed); ``points``: one row per (recipe, level)
    plus the dense model, with sizes, latency, accuracy summary and Pareto flags; ``timing``:
    ``time_forward``'s table; ``dense_acc``: the trained model's test accuracy on ``n_test``
    examples."""

    config: TradeoffConfig
    dense_acc: float
    n_test: int
    runs: pd.DataFrame
    points: pd.DataFrame
    timing: pd.DataFrame
    seconds: float
    models: dict = field(default_factory=dict, repr=False)   # {point id: state_dict, seed 0}


# ----------------------------------------------------------------------------- one run
def _finetune_seed(trained: TrainedModel, k: int) -> int:
    return (trained.train_config.seed + k) % (LARGEST_SEED + 1)


def run_unstructured(trained: TrainedModel, data: DataBundle, recipe: str, sparsity: float,
                     cfg: TradeoffConfig, seed: int) -> tuple[nn.Module, float]:
    """Global magnitude pruning to ``sparsity`` (one-shot or iterative), fine-tuned with the
    recipe's budget and fine-tuning ``seed``. Returns (model, weight share removed)."""
    rounds = cfg.iterative_rounds if recipe == ITERATIVE else 1
    prune = PruneConfig(scorer="magnitude", scope="global", sparsity=sparsity,
                        schedule="iterative" if recipe == ITERATIVE else "oneshot",
                        rounds=rounds, finetune_epochs=cfg.finetune_epochs // rounds,
                        finetune_batch_size=cfg.finetune_batch_size, seed=seed)
    model = trained.build(data)
    table, _, _, _ = run_prune_rounds(model, data, prune, replace(trained.train_config, seed=seed),
                                      initial_state=trained.init_state)
    return model, float(table["sparsity"].iloc[-1])


def run_structured_recipe(trained: TrainedModel, data: DataBundle, fraction: float,
                          cfg: TradeoffConfig, seed: int) -> nn.Module:
    """Remove ``fraction`` of every hidden layer's units (L1 norm), fine-tune with them held
    at zero, then compact. Returns the compacted model."""
    model = trained.build(data)
    keep = select_units(unit_scores(model, data, "l1"), fraction, "layer")
    masks = unit_masks(model, keep)
    apply_masks(model, masks)
    ft = replace(trained.train_config, epochs=cfg.finetune_epochs,
                 batch_size=cfg.finetune_batch_size, seed=seed)
    if cfg.finetune_epochs:
        train(model, data, ft, masks=masks)
    return compact(model, keep)


def weights_of(model: nn.Module) -> tuple[int, int]:
    """(non-zero, total) entries of the Linear / Conv2d weights (biases not counted)."""
    ws = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    return sum(int((w != 0).sum()) for w in ws), sum(w.numel() for w in ws)


# ----------------------------------------------------------------------------- the curve
def _batch(data: DataBundle, batch_size: int) -> torch.Tensor:
    X = data.X_test if len(data.X_test) else data.X_train
    reps = -(-batch_size // len(X))
    return X.repeat((reps,) + (1,) * (X.dim() - 1))[:batch_size].contiguous()


def pareto(cost: pd.Series, acc: pd.Series) -> pd.Series:
    """True for points that no other point beats: cost ≤ and accuracy ≥, one strictly."""
    flags = []
    for i in cost.index:
        dominated = ((cost <= cost[i]) & (acc >= acc[i]) &
                     ((cost < cost[i]) | (acc > acc[i]))).any()
        flags.append(not dominated)
    return pd.Series(flags, index=cost.index)


def measure_tradeoff(trained: TrainedModel, data: DataBundle,
                     cfg: TradeoffConfig | None = None,
                     progress: Progress | None = None) -> Tradeoff:
    """Run every recipe at every level for every seed, then size and time the points (see the
    module docstring). Deterministic in the trained model and ``cfg`` except the latencies."""
    cfg = (cfg or TradeoffConfig()).check()
    t0 = time.perf_counter()
    plan = ([(r, s) for r in (ONESHOT, ITERATIVE) for s in cfg.sparsities]
            + [(STRUCTURED, f) for f in cfg.unit_fractions])
    dense_model = trained.build(data)
    dense_acc = evaluate_all(dense_model, data)["test_acc"]
    _, total_weights = weights_of(dense_model)
    runs, first = [], {}
    n_jobs = len(plan) * cfg.seeds
    for i, (recipe, level) in enumerate(plan):
        for k in range(cfg.seeds):
            if progress:
                progress((i * cfg.seeds + k) / (n_jobs + 1),
                         f"{recipe} {level:.0%}, seed {k + 1}/{cfg.seeds} "
                         f"({i * cfg.seeds + k + 1}/{n_jobs})")
            seed = _finetune_seed(trained, k)
            if recipe == STRUCTURED:
                model = run_structured_recipe(trained, data, level, cfg, seed)
            else:
                model, _ = run_unstructured(trained, data, recipe, level, cfg, seed)
                model = compact_model(model).model    # dead units out: same function
            nonzero, _ = weights_of(model)
            acc = evaluate_all(model, data)["test_acc"]
            point = f"{recipe} {level:g}"
            runs.append({"point": point, "recipe": recipe, "level": level, "seed_index": k,
                         "finetune_seed": seed, "weights_removed": 1 - nonzero / total_weights,
                         "test_acc": acc})
            if k == 0:
                first[point] = model
    if progress:
        progress(n_jobs / (n_jobs + 1), "timing every point (interleaved with the dense model)")
    X = _batch(data, cfg.batch_size)
    timed = {TIMING_DENSE: dense_model, TIMING_DENSE_AGAIN: copy.deepcopy(dense_model)}
    for point, model in first.items():
        timed[f"{point} | dense kernels"] = model
        timed[f"{point} | torch.sparse CSR"] = to_sparse_inference(model)
    timing = time_steadily(timed, X, (TIMING_DENSE, TIMING_DENSE_AGAIN), MAX_AA_GAP,
                           repeats=cfg.repeats, min_run_s=0.01)
    runs = pd.DataFrame(runs)
    points = _points(trained, cfg, dense_model, dense_acc, runs, first, timing)
    if progress:
        progress(1.0, "done")
    return Tradeoff(cfg, dense_acc, len(data.y_test), runs, points, timing, time.perf_counter() - t0,
                    {p: {k: v.clone() for k, v in m.state_dict().items()}
                     for p, m in first.items()})


def _points(trained, cfg, dense_model, dense_acc, runs, first, timing) -> pd.DataFrame:
    lat = timing.set_index("variant")
    batch = cfg.batch_size

    def row(point, recipe, level, model, accs, forms):
        sizes = encoded_sizes(model)
        fmt, nbytes = smallest_lossless(sizes)
        best = min(forms, key=lambda f: lat.loc[f, "median_ms"])
        drops = [100 * (dense_acc - a) for a in accs]
        return {"point": point, "recipe": recipe, "level": level,
                "budget": "none (trained)" if recipe == DENSE_POINT else cfg.budget(recipe),
                "weights_removed": 1 - weights_of(model)[0] / weights_of(dense_model)[1],
                "test_acc_mean": sum(accs) / len(accs), "test_acc_min": min(accs),
                "test_acc_max": max(accs), "seeds": len(accs),
                "worst_loss_points": max(drops),
                "stored_bytes": nbytes, "stored_format": fmt,
                "dense_float32_bytes": sizes["dense float32"],
                "latency_ms_per_batch": float(lat.loc[best, "median_ms"]),
                "latency_q1_ms": float(lat.loc[best, "q1_ms"]),
                "latency_q3_ms": float(lat.loc[best, "q3_ms"]),
                "latency_us_per_example": 1000 * float(lat.loc[best, "median_ms"]) / batch,
                "fastest_form": best.split(" | ")[-1],
                "batch_size": batch, "threads": int(lat.loc[best, "threads"])}

    rows = [row(DENSE_POINT, DENSE_POINT, 0.0, dense_model, [dense_acc], [TIMING_DENSE])]
    for point, model in first.items():
        r = runs[runs["point"] == point]
        rows.append(row(point, r["recipe"].iloc[0], float(r["level"].iloc[0]), model,
                        list(r["test_acc"]), [f"{point} | dense kernels",
                                              f"{point} | torch.sparse CSR"]))
    pts = pd.DataFrame(rows)
    pts["pareto_size"] = pareto(pts["stored_bytes"], pts["test_acc_mean"])
    steady = aa_gap(timing, TIMING_DENSE, TIMING_DENSE_AGAIN) <= MAX_AA_GAP
    pts["pareto_latency"] = (pareto(pts["latency_ms_per_batch"], pts["test_acc_mean"]) if steady
                             else False)
    return pts


def noise_ratio(t: Tradeoff) -> float:
    """How far apart the dense model's two timings came out (≥ 1)."""
    return aa_gap(t.timing, TIMING_DENSE, TIMING_DENSE_AGAIN)


def latency_too_noisy(t: Tradeoff) -> bool:
    """The A/A pair stayed more than ``MAX_AA_GAP`` apart in every attempt: the latency axis
    is shown but not ranked (no Pareto front on it)."""
    return noise_ratio(t) > MAX_AA_GAP


def model_key(trained: TrainedModel, cfg: TradeoffConfig) -> str:
    """A key for caching: the trained weights' bytes, the configs and ``cfg``."""
    h = hashlib.sha1()
    for name in sorted(trained.state):
        h.update(name.encode())
        h.update(trained.state[name].detach().contiguous().numpy().tobytes())
    h.update(repr((trained.data_config, trained.model_config, trained.train_config,
                   asdict(cfg))).encode())
    return h.hexdigest()
