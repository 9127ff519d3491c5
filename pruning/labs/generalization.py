"""Generalization lab: does pruning help a network that overfits? A sparsity sweep with controls.

The claim under test (the article): "a network with 1000 connections might overfit a small
data set, but after pruning 500 of them it might perform better on unseen data". Whether it
does is an empirical question, so the sweep measures it, over several seeds, next to the
usual ways of fighting overfitting:

  arm              what is trained                                               knob
  ---------------  ------------------------------------------------------------  -----------
  dense            the wide net, trained for all epochs (no early stopping)       —
  pruned           the dense net pruned *iteratively* by the chosen scorer:       sparsity s
                   levels s_1 < s_2 < … are rounds; round i prunes from the
                   previous round's fine-tuned net up to s_i (cumulative, global
                   or per layer), optionally rewinds the survivors to their
                   initial values, then fine-tunes with the mask held fixed
  random           the same rounds with random scores (the control any scorer     sparsity s
                   must beat)
  small_dense      a dense net whose hidden widths are scaled down so it has      weights
                   about as many weights as the pruned net at level s, trained
                   with the dense recipe
  early_stopping   the dense run, restored to its best validation epoch           epoch
                   (``pruning.core.early_stopping``)
  weight_decay     the wide net trained with L2 penalty λ (each candidate λ)      λ

Every arm is run for every seed; seed s fixes the data split, training subset, label noise,
initial weights (shared by dense, weight decay and the pruned arms) and batch order.

Model selection uses the **validation** split only: the best sparsity is the level (dense = 0)
with the highest mean validation accuracy; a control's knob (size, λ) is picked the same way.
The test split only reports.

Speed: members sharing a shape (seeds × arms) are trained together as one
``pruning.core.ensemble.MLPEnsemble`` (one batched matmul per layer for all of them);
``run_sweep(..., batched=False)`` runs the same protocol one model at a time with
``training.train`` and is the reference the tests compare against.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from pruning.config import DataConfig, ModelConfig, PruneConfig, TrainConfig
from pruning.core.counts import mlp_weight_count
from pruning.core.data import DataBundle, load_dataset, validate_data_config
from pruning.core.early_stopping import early_stopping_epoch
from pruning.core.ensemble import (
    EnsembleSplit,
    EvalSet,
    MLPEnsemble,
    eval_set_accuracy,
    member_masks,
    padded_ensemble,
    stack_masks,
    train_ensemble,
)
from pruning.core.masks import apply_masks
from pruning.core.models import build_model, prunable_names
from pruning.core.selection import SCOPES
from pruning.core.training import evaluate_all, train, validate_train_config
from pruning.errors import (
    PruningError,
    check_choice,
    check_fraction,
    check_positive_int,
)
from pruning.loop.experiment import prune_step
from pruning.scoring import SCORERS

SweepProgress = Callable[[float, str], None]  # (fraction done in [0, 1], message)

ARMS = ("dense", "pruned", "random", "small_dense", "early_stopping", "weight_decay")
CONTROLS = ("random", "small_dense", "early_stopping", "weight_decay")
#: The sparsity levels the page offers (with each preset's own levels, all among these).
LEVEL_MENU = (0.1, 0.2, 0.35, 0.5, 0.65, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
ARM_LABELS = {
    "dense": "dense (no early stopping)",
    "pruned": "pruned + fine-tuned",
    "random": "random pruning (control)",
    "small_dense": "small dense net, same #weights",
    "early_stopping": "dense + early stopping",
    "weight_decay": "dense + weight decay",
}
METRICS = ("train_acc", "val_acc", "test_acc", "gap")


@dataclass(frozen=True)
class SweepConfig:
    """Everything that determines a sweep (and so its cache key).

    data, model, train: the dense recipe (``data.seed`` and ``train.seed`` are replaced by
                    each sweep seed; ``train.weight_decay`` must be 0: λ is a control arm).
    levels:         sparsity levels, strictly increasing, each in (0, 1): fraction of the
                    prunable weights removed (cumulative over rounds).
    seeds:          one full set of arms per seed.
    scorer, scope:  how the pruned arm ranks weights (``pruning.scoring``), global or per layer.
    finetune_epochs, finetune_batch_size: masked retraining after each round.
    rewind:         reset survivors to their initial values before retraining (lottery
                    ticket); then ``finetune_epochs`` is the retraining budget per round.
    patience:       early-stopping patience in epochs (validation accuracy).
    weight_decays:  candidate L2 strengths λ for the weight-decay control.
    controls:       which control arms to run (subset of ``CONTROLS``).
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    levels: tuple[float, ...] = (0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
    seeds: tuple[int, ...] = (0, 1, 2)
    scorer: str = "magnitude"
    scope: str = "global"
    finetune_epochs: int = 20
    finetune_batch_size: int | None = 32
    rewind: bool = False
    patience: int = 20
    weight_decays: tuple[float, ...] = (1e-3,)
    include_output: bool = True
    controls: tuple[str, ...] = CONTROLS
    name: str = "custom"

    def key(self) -> str:
        """A stable text key (JSON of every field): equal configs, equal keys."""
        return json.dumps(asdict(self), sort_keys=True)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Preset:
    """A named sweep. ``focus_level`` is the sparsity the explanation reports besides the
    validation pick (the article's 50 % for the 2-D preset, 90 % otherwise)."""

    name: str
    title: str
    description: str
    config: SweepConfig
    focus_level: float = 0.9


def _preset(name: str, title: str, description: str, focus_level: float = 0.9, **kw) -> Preset:
    return Preset(name, title, description, SweepConfig(name=name, **kw), focus_level)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    _preset(
        "digits-noisy", "Noisy digits: made to overfit",
        "8×8 digits with only 200 training images, 20 % of their labels wrong; a wide MLP "
        "(64→256→256→10, ~85,000 weights) trained for 100 epochs without early stopping, so "
        "it memorises the wrong labels.",
        data=DataConfig(name="digits", train_size=200, label_noise=0.2),
        model=ModelConfig(hidden=(256, 256)),
        train=TrainConfig(epochs=100, batch_size=32, lr=1e-3),
        levels=(0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
        finetune_epochs=15, patience=15, weight_decays=(1e-3, 1e-2),
    ),
    _preset(
        "article-2d", "The article's scale: ~1000 weights on a small 2-D set",
        "Two moons with heavy input noise; only 60 training points, 10 % of their labels "
        "flipped (200 clean points each for validation and test). An MLP 2→30→30→2 has 1,020 "
        "weights — the '1000 connections' of the article *Understanding Pruning in Deep Learning* — and is trained for 400 epochs; the "
        "sweep includes 50 % (510 weights pruned).",
        data=DataConfig(name="moons", n_samples=1000, noise=0.35, train_size=60, label_noise=0.1),
        model=ModelConfig(hidden=(30, 30)),
        train=TrainConfig(epochs=400, batch_size=16, lr=3e-3),
        levels=(0.2, 0.35, 0.5, 0.65, 0.8, 0.9), focus_level=0.5,
        finetune_epochs=50, finetune_batch_size=16, patience=50, weight_decays=(1e-3, 1e-2),
    ),
    _preset(
        "mnist1d", "MNIST-1D: where pruning is reported to win",
        "MNIST-1D (procedurally generated 1-D signals of 40 samples, made locally) with 3,000 "
        "training examples; an MLP 40→100→100→10 (15,000 weights) trained for 40 epochs "
        "(Adam, learning rate 0.01, batches of 100). Pruning follows "
        "the lottery-ticket protocol: after each round the survivors are rewound to their "
        "initial values and retrained for the full 40 epochs.",
        data=DataConfig(name="mnist1d", n_samples=5000),
        model=ModelConfig(hidden=(100, 100)),
        train=TrainConfig(epochs=40, batch_size=100, lr=1e-2),
        levels=(0.2, 0.5, 0.7, 0.8, 0.9, 0.95),
        finetune_epochs=40, finetune_batch_size=100, rewind=True, patience=10,
        weight_decays=(1e-3, 1e-2),
    ),
)}


# ------------------------------------------------------------------------------ validation
def validate_sweep_config(cfg: SweepConfig) -> SweepConfig:
    """Raise ``PruningError`` with a readable message for any bad field."""
    validate_data_config(cfg.data)
    validate_train_config(cfg.train)
    check_choice("model", cfg.model.kind, ("mlp",))
    if any(int(h) < 1 or int(h) > 4096 for h in cfg.model.hidden) or not cfg.model.hidden:
        raise PruningError(f"hidden sizes must be between 1 and 4096, got {cfg.model.hidden}")
    if cfg.train.weight_decay:
        raise PruningError("the dense recipe must train without weight decay; "
                           "weight decay is one of the controls (weight_decays)")
    levels = [check_fraction("sparsity level", s, allow_one=False) for s in cfg.levels]
    if not levels:
        raise PruningError("give at least one sparsity level")
    if any(s <= 0 for s in levels):
        raise PruningError("sparsity levels must be above 0 (the dense net is level 0 already)")
    if any(b <= a for a, b in zip(levels, levels[1:])):
        raise PruningError(f"sparsity levels must be strictly increasing, got {list(cfg.levels)}")
    if len(cfg.seeds) < 1 or len(set(cfg.seeds)) != len(cfg.seeds):
        raise PruningError(f"give at least one seed, without repeats; got {list(cfg.seeds)}")
    if any(int(s) < 0 for s in cfg.seeds):
        raise PruningError("seeds must be whole numbers ≥ 0")
    check_choice("scorer", cfg.scorer, SCORERS)
    check_choice("scope", cfg.scope, SCOPES)
    if not isinstance(cfg.finetune_epochs, int) or not 0 <= cfg.finetune_epochs <= 1000:
        raise PruningError(f"fine-tune epochs must be a whole number from 0 to 1000, "
                           f"got {cfg.finetune_epochs!r}")
    check_positive_int("patience", cfg.patience)
    for c in cfg.controls:
        check_choice("control", c, CONTROLS)
    for lam in cfg.weight_decays:
        if not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam <= 0:
            raise PruningError(f"weight decay strengths must be finite numbers > 0, got {lam!r}")
    if "weight_decay" in cfg.controls and not cfg.weight_decays:
        raise PruningError("the weight-decay control needs at least one strength λ")
    return cfg


# ------------------------------------------------------------------------------ sizes
def matched_hidden(hidden: Sequence[int], n_features: int, n_classes: int,
                   target_weights: int) -> tuple[int, ...]:
    """Hidden widths α·h_k (rounded, ≥ 1) whose weight count is closest to ``target_weights``.

    One common factor α keeps the net's shape (a 256-256 net shrinks to a k-k net). The count
    grows monotonically with α, so a bisection on α followed by a look at neighbouring
    roundings finds the closest.
    """
    def widths(a: float) -> tuple[int, ...]:
        return tuple(max(1, int(round(a * h))) for h in hidden)

    def count(a: float) -> int:
        return mlp_weight_count(n_features, widths(a), n_classes)

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if count(mid) < target_weights:
            lo = mid
        else:
            hi = mid
    candidates = {widths(lo), widths(hi)}
    return min(candidates, key=lambda w: (abs(mlp_weight_count(n_features, w, n_classes)
                                             - target_weights), w))


def _weight_names(model_names: Sequence[str]) -> list[str]:
    return [n for n in model_names if n.endswith(".weight")]


def _kept_weights(masks: dict, weight_shapes: dict[str, torch.Size]) -> int:
    """Weight-matrix entries left: kept masked entries plus every unmasked weight matrix."""
    total = 0
    for n, shape in weight_shapes.items():
        total += int(masks[n].sum()) if n in masks else int(np.prod(shape))
    return total


# ------------------------------------------------------------------------------ result
@dataclass
class SweepResult:
    """``runs``: one row per (arm, level, seed, λ) — the tidy table to download.
    ``history``: per-epoch accuracies of the dense and weight-decay runs."""

    config: SweepConfig
    runs: pd.DataFrame
    history: pd.DataFrame
    seconds: float = float("nan")
    threads: int = 1

    def to_json_dict(self) -> dict:
        summary = summarize(self.runs)
        return {
            "config": self.config.to_dict(),
            "seconds": self.seconds,
            "torch_threads": self.threads,
            "best_sparsity": best_sparsity(summary),
            "summary": summary.to_dict(orient="records"),
            "runs": self.runs.to_dict(orient="records"),
        }


RUN_COLUMNS = ["arm", "level", "seed", "weight_decay", "hidden", "weights", "sparsity",
               "epoch", "train_acc", "val_acc", "test_acc", "gap"]


def _row(arm, level, seed, metrics, *, weights, sparsity, hidden, epoch, weight_decay=0.0):
    return {
        "arm": arm, "level": float(level), "seed": int(seed),
        "weight_decay": float(weight_decay), "hidden": ",".join(str(h) for h in hidden),
        "weights": int(weights), "sparsity": float(sparsity), "epoch": int(epoch),
        "train_acc": float(metrics["train_acc"]), "val_acc": float(metrics["val_acc"]),
        "test_acc": float(metrics["test_acc"]),
        "gap": float(metrics["train_acc"]) - float(metrics["test_acc"]),
    }


class _Progress:
    """Fraction of the planned work done; work ∝ members · weights · epochs · examples."""

    def __init__(self, total: float, fn: SweepProgress | None):
        self.total, self.done, self.fn = max(total, 1e-9), 0.0, fn

    def add(self, amount: float, message: str) -> None:
        self.done += amount
        if self.fn:
            self.fn(min(self.done / self.total, 1.0), message)


def _plan(cfg: SweepConfig, n_train: int, n_features: int, n_classes: int) -> float:
    wide = mlp_weight_count(n_features, cfg.model.hidden, n_classes)
    n_seeds = len(cfg.seeds)
    n_wd = len(cfg.weight_decays) if "weight_decay" in cfg.controls else 0
    prune_members = 2 if "random" in cfg.controls else 1
    work = n_seeds * (1 + n_wd) * wide * cfg.train.epochs
    work += n_seeds * prune_members * wide * cfg.finetune_epochs * len(cfg.levels)
    if "small_dense" in cfg.controls:
        work += n_seeds * cfg.train.epochs * sum(wide * (1 - s) for s in cfg.levels)
    return work * n_train


def planned_work(cfg: SweepConfig, data: DataBundle) -> float:
    """The sweep's work in weight · epoch · example units (what its progress bar counts),
    for ``data`` = the first seed's bundle: the job runner prices it before the sweep starts."""
    return _plan(cfg, len(data.y_train), data.n_features, data.n_classes)


def largest_ensemble(cfg: SweepConfig) -> int:
    """Most networks trained side by side at once (one ``MLPEnsemble``): every seed's dense
    net and weight-decay nets, or every seed's pruned arms."""
    n_wd = len(cfg.weight_decays) if "weight_decay" in cfg.controls else 0
    return len(cfg.seeds) * max(1 + n_wd, len(_pruning_arms(cfg)))


def _bundles(cfg: SweepConfig) -> dict[int, DataBundle]:
    return {int(s): load_dataset(replace(cfg.data, seed=int(s))) for s in cfg.seeds}


def _prune_config(cfg: SweepConfig, scorer: str, seed: int) -> PruneConfig:
    return PruneConfig(scorer=scorer, scope=cfg.scope, sparsity=cfg.levels[-1],
                       schedule="iterative", rounds=len(cfg.levels),
                       finetune_epochs=cfg.finetune_epochs,
                       finetune_batch_size=cfg.finetune_batch_size, rewind=cfg.rewind,
                       include_output=cfg.include_output, seed=seed)


def _finetune_config(cfg: SweepConfig, seed: int) -> TrainConfig:
    return replace(cfg.train, epochs=cfg.finetune_epochs, seed=seed,
                   batch_size=cfg.finetune_batch_size or cfg.train.batch_size)


def _pruning_arms(cfg: SweepConfig) -> list[tuple[str, str]]:
    arms = [("pruned", cfg.scorer)]
    if "random" in cfg.controls:
        arms.append(("random", "random"))
    return arms


def _small_nets(cfg: SweepConfig, data: DataBundle, kept: dict[float, int]):
    """{hidden widths: [levels]} for the small-dense control (equal widths trained once)."""
    out: dict[tuple[int, ...], list[float]] = {}
    for level in cfg.levels:
        h = matched_hidden(cfg.model.hidden, data.n_features, data.n_classes, kept[level])
        out.setdefault(h, []).append(level)
    return out


def _width_groups(widths: Sequence[tuple[int, ...]], n_features: int, n_classes: int,
                  max_padding: float = 2.0) -> list[list[tuple[int, ...]]]:
    """The small nets' widths, widest first, packed into groups that each train as one padded
    ensemble (``pruning.core.ensemble.padded_ensemble``). A group takes the next width while
    its padded size (members × the widest net's weights) stays within ``max_padding`` × the
    weights its members really have: small nets cost per step more than per weight, so a
    little wasted arithmetic buys many fewer steps."""
    def count(w):
        return mlp_weight_count(n_features, w, n_classes)

    groups: list[list[tuple[int, ...]]] = []
    for w in sorted(widths, key=count, reverse=True):
        if groups:
            grown = groups[-1] + [w]
            widest = tuple(max(layer) for layer in zip(*grown))
            if len(grown) * count(widest) <= max_padding * sum(count(v) for v in grown):
                groups[-1] = grown
                continue
        groups.append([w])
    return groups


def _expected_kept(cfg: SweepConfig, data: DataBundle) -> dict[float, int]:
    """Weights left at each level (the selection's rounding rule, from the shapes alone)."""
    from pruning.core.selection import select_by_sparsity

    model = build_model(cfg.model, data.n_features, data.n_classes, seed=0)
    names = prunable_names(model, cfg.include_output, False)
    params = dict(model.named_parameters())
    shapes = {n: p.shape for n, p in params.items() if n.endswith(".weight")}
    scores = {n: torch.zeros(params[n].shape) for n in names}
    return {lv: _kept_weights(select_by_sparsity(scores, lv, cfg.scope).masks, shapes)
            for lv in cfg.levels}


# ------------------------------------------------------------------------------ sweep
def run_sweep(cfg: SweepConfig, progress: SweepProgress | None = None,
              batched: bool = True) -> SweepResult:
    """Run every arm for every seed; see the module docstring for the protocol.

    ``batched=False`` trains one model at a time with ``training.train`` (slow reference).
    """
    validate_sweep_config(cfg)
    start = time.perf_counter()
    bundles = _bundles(cfg)
    first = bundles[int(cfg.seeds[0])]
    prog = _Progress(_plan(cfg, len(first.y_train), first.n_features, first.n_classes), progress)
    if progress:
        progress(0.0, "starting")
    run = _run_batched if batched else _run_one_at_a_time
    runs, history = run(cfg, bundles, prog)
    runs_df = pd.DataFrame(runs, columns=RUN_COLUMNS)
    # The test-set size of each seed's split: one test example = 100 / n_test points, the
    # smallest difference the verdicts may call (``pruning.present.verdict``).
    runs_df["n_test"] = runs_df["seed"].map({s: len(b.y_test) for s, b in bundles.items()})
    order = {a: i for i, a in enumerate(ARMS)}
    runs_df = (runs_df.assign(_o=runs_df["arm"].map(order))
               .sort_values(["_o", "level", "weight_decay", "seed"], kind="stable")
               .drop(columns="_o").reset_index(drop=True))
    hist_df = pd.DataFrame(history, columns=["arm", "seed", "weight_decay", "epoch",
                                             "train_acc", "val_acc", "test_acc"])
    hist_df = (hist_df.assign(_o=hist_df["arm"].map(order))
               .sort_values(["_o", "weight_decay", "seed", "epoch"], kind="stable")
               .drop(columns="_o").reset_index(drop=True))
    if progress:
        progress(1.0, "done")
    return SweepResult(cfg, runs_df, hist_df, time.perf_counter() - start,
                       torch.get_num_threads())


def _early_stopping_rows(cfg, history_rows, wide_weights, hidden):
    """Rows of the early-stopping arm, read off each dense run's per-epoch history."""
    rows = []
    for seed in cfg.seeds:
        h = [r for r in history_rows if r["arm"] == "dense" and r["seed"] == seed]
        h.sort(key=lambda r: r["epoch"])
        best, _ = early_stopping_epoch([r["val_acc"] for r in h], cfg.patience)
        rows.append(_row("early_stopping", 0.0, seed, h[best], weights=wide_weights,
                         sparsity=0.0, hidden=hidden, epoch=h[best]["epoch"]))
    return rows


def _groups(bundles: dict[int, DataBundle]) -> list[list[int]]:
    """Seeds whose splits have equal sizes can share one ensemble."""
    groups: dict[tuple, list[int]] = {}
    for s, b in bundles.items():
        groups.setdefault(tuple(b.sizes().values()), []).append(s)
    return list(groups.values())


def _stack(bundles, seeds, split) -> EnsembleSplit:
    X = torch.stack([bundles[s].split(split)[0] for s in seeds])
    y = torch.stack([bundles[s].split(split)[1] for s in seeds])
    return EnsembleSplit(X, y)


def _batched_eval(model: MLPEnsemble, data: EvalSet) -> dict[str, list[float]]:
    """``{"train_acc": [acc of member 0, …], "val_acc": …, "test_acc": …}``."""
    return {f"{s}_acc": acc.tolist() for s, acc in eval_set_accuracy(model, data).items()}


class _SweepPlan(NamedTuple):
    """What both sweep paths (batched and one at a time) derive from the config and the first
    seed's data: the sizes D → hidden → C, the full net's weight count Σ in·out (``wide``), the
    training-set size, the weight decays to try and the weights kept at each level."""

    first: DataBundle
    D: int
    C: int
    hidden: tuple[int, ...]
    wide: int
    n_train: int
    wds: tuple[float, ...]
    kept_at: dict


def _sweep_plan(cfg: SweepConfig, bundles: dict[int, DataBundle]) -> _SweepPlan:
    first = next(iter(bundles.values()))
    D, C = first.n_features, first.n_classes
    hidden = tuple(int(h) for h in cfg.model.hidden)
    wds = tuple(cfg.weight_decays) if "weight_decay" in cfg.controls else ()
    return _SweepPlan(first, D, C, hidden, mlp_weight_count(D, hidden, C), len(first.y_train), wds,
                 _expected_kept(cfg, first))


def _run_batched(cfg: SweepConfig, bundles: dict[int, DataBundle], prog: _Progress):
    runs: list[dict] = []
    history: list[dict] = []
    first, D, C, hidden, wide, n_train, wds, kept_at = _sweep_plan(cfg, bundles)

    for seeds in _groups(bundles):
        splits = {s: _stack(bundles, seeds, s) for s in ("train", "val", "test")}

        # ---- dense phase: for each seed, the plain dense net and one net per λ.
        members = [(s, 0.0) for s in seeds] + [(s, lam) for lam in wds for s in seeds]
        m_seeds = [s for s, _ in members]
        m_idx = {s: i for i, s in enumerate(seeds)}
        model = MLPEnsemble.from_seeds(cfg.model, D, C, m_seeds)
        init_states = [model.member_state(i) for i in range(len(seeds))]
        dsplits = {k: EnsembleSplit(sp.X[[m_idx[s] for s in m_seeds]], sp.y[[m_idx[s] for s in m_seeds]])
                   for k, sp in splits.items()}

        deval = EvalSet.of(dsplits)
        last: dict[str, list[float]] = {}

        def record(epoch, mdl, members=members, deval=deval, last=last):
            acc = _batched_eval(mdl, deval)
            last.update(acc)
            for i, (s, lam) in enumerate(members):
                history.append({"arm": "dense" if lam == 0 else "weight_decay", "seed": s,
                                "weight_decay": lam, "epoch": epoch,
                                **{k: v[i] for k, v in acc.items()}})
            if epoch:
                prog.add(len(members) * wide * n_train, f"dense training: epoch {epoch}/{cfg.train.epochs}")

        train_ensemble(model, dsplits["train"], cfg.train, m_seeds,
                      weight_decay=[lam for _, lam in members], on_epoch=record)
        final = last  # the evaluation after the last epoch (or of the untrained nets)
        for i, (s, lam) in enumerate(members):
            metrics = {k: v[i] for k, v in final.items()}
            runs.append(_row("dense" if lam == 0 else "weight_decay", 0.0, s, metrics,
                             weights=wide, sparsity=0.0, hidden=hidden,
                             epoch=cfg.train.epochs, weight_decay=lam))
        dense_states = [model.member_state(i) for i in range(len(seeds))]

        # ---- pruning phase: magnitude (or the chosen scorer) and random, level by level.
        arms = _pruning_arms(cfg)
        p_members = [(arm, scorer, s) for arm, scorer in arms for s in seeds]
        p_seeds = [s for _, _, s in p_members]
        pmodel = MLPEnsemble.from_seeds(cfg.model, D, C, p_seeds)
        pmodel.load_member_states([dense_states[m_idx[s]] for s in p_seeds])
        p_init = [init_states[m_idx[s]] for s in p_seeds]
        psplits = {k: EnsembleSplit(sp.X[[m_idx[s] for s in p_seeds]], sp.y[[m_idx[s] for s in p_seeds]])
                   for k, sp in splits.items()}
        shapes = {n: p.shape[1:] for n, p in pmodel.named_parameters()
                  if n.endswith(".weight")}
        peval = EvalSet.of(psplits)
        masks = None
        for li, level in enumerate(cfg.levels):
            new = []
            for i, (arm, scorer, s) in enumerate(p_members):
                prev = member_masks(masks, i) if masks is not None else None
                sel, _ = prune_step(pmodel.member(i), bundles[s], _prune_config(cfg, scorer, s),
                                    level, prev)
                new.append(sel.masks)
            masks = stack_masks(new)
            apply_masks(pmodel, masks)
            if cfg.rewind:
                pmodel.load_member_states(p_init)
                apply_masks(pmodel, masks)
            ft = _finetune_config(cfg, 0)

            def ft_progress(epoch, mdl, li=li):
                if epoch:
                    prog.add(len(p_members) * wide * n_train,
                             f"pruning: level {li + 1}/{len(cfg.levels)}, fine-tune epoch "
                             f"{epoch}/{cfg.finetune_epochs}")

            train_ensemble(pmodel, psplits["train"], ft, p_seeds, masks=masks, on_epoch=ft_progress)
            acc = _batched_eval(pmodel, peval)
            for i, (arm, _, s) in enumerate(p_members):
                mm = member_masks(masks, i)
                n_prunable = sum(int(v.numel()) for v in mm.values())
                n_kept = sum(int(v.sum()) for v in mm.values())
                runs.append(_row(arm, level, s, {k: v[i] for k, v in acc.items()},
                                 weights=_kept_weights(mm, shapes),
                                 sparsity=1 - n_kept / n_prunable, hidden=hidden,
                                 epoch=cfg.finetune_epochs))

        # ---- small dense nets: all widths of a group as one padded ensemble.
        if "small_dense" in cfg.controls:
            small = _small_nets(cfg, first, kept_at)
            for group in _width_groups(list(small), D, C):
                nets = [(widths, s) for widths in group for s in seeds]
                smodel, _ = padded_ensemble(  # (the padding stays 0 without masks)
                    [build_model(replace(cfg.model, hidden=w), D, C, seed=s) for w, s in nets])
                rows_of = [m_idx[s] for _, s in nets]
                ssplits = {k: EnsembleSplit(sp.X[rows_of], sp.y[rows_of]) for k, sp in splits.items()}
                work = sum(len(seeds) * mlp_weight_count(D, w, C) * n_train * len(small[w])
                           for w in group)
                names = ", ".join(str(w) for w in group)

                def s_progress(epoch, mdl, work=work, names=names):
                    if epoch:
                        prog.add(work, f"small dense nets {names}: epoch {epoch}/{cfg.train.epochs}")

                train_ensemble(smodel, ssplits["train"], cfg.train, [s for _, s in nets],
                               on_epoch=s_progress)
                acc = _batched_eval(smodel, EvalSet.of(ssplits))
                for i, (widths, s) in enumerate(nets):
                    w_small = mlp_weight_count(D, widths, C)
                    for level in small[widths]:
                        runs.append(_row("small_dense", level, s, {k: v[i] for k, v in acc.items()},
                                         weights=w_small, sparsity=1 - w_small / wide,
                                         hidden=widths, epoch=cfg.train.epochs))

    if "early_stopping" in cfg.controls:
        runs.extend(_early_stopping_rows(cfg, history, wide, hidden))
    return runs, history


def _run_one_at_a_time(cfg: SweepConfig, bundles: dict[int, DataBundle], prog: _Progress):
    """The same protocol with ordinary modules and ``training.train`` (reference, slow)."""
    runs: list[dict] = []
    history: list[dict] = []
    first, D, C, hidden, wide, n_train, wds, kept_at = _sweep_plan(cfg, bundles)
    small = _small_nets(cfg, first, kept_at) if "small_dense" in cfg.controls else {}

    for s in cfg.seeds:
        data = bundles[s]
        for lam in (0.0, *wds):
            model = build_model(cfg.model, D, C, seed=s)
            if lam == 0:
                init_state = copy.deepcopy(model.state_dict())
            hist = train(model, data, replace(cfg.train, seed=s, weight_decay=lam))
            arm = "dense" if lam == 0 else "weight_decay"
            for r in hist.to_dict(orient="records"):
                history.append({"arm": arm, "seed": s, "weight_decay": lam, "epoch": int(r["epoch"]),
                                "train_acc": r["train_acc"], "val_acc": r["val_acc"],
                                "test_acc": r["test_acc"]})
            runs.append(_row(arm, 0.0, s, evaluate_all(model, data), weights=wide, sparsity=0.0,
                             hidden=hidden, epoch=cfg.train.epochs, weight_decay=lam))
            if lam == 0:
                dense_state = copy.deepcopy(model.state_dict())
            prog.add(wide * cfg.train.epochs * n_train, f"seed {s}: dense training")

        for arm, scorer in _pruning_arms(cfg):
            model = build_model(cfg.model, D, C, seed=s)
            model.load_state_dict(copy.deepcopy(dense_state))
            shapes = {n: p.shape for n, p in model.named_parameters() if n.endswith(".weight")}
            masks = None
            for level in cfg.levels:
                sel, _ = prune_step(model, data, _prune_config(cfg, scorer, s), level, masks)
                masks = sel.masks
                apply_masks(model, masks)
                if cfg.rewind:
                    model.load_state_dict(copy.deepcopy(init_state))
                    apply_masks(model, masks)
                train(model, data, _finetune_config(cfg, s), masks=masks)
                n_prunable = sum(int(v.numel()) for v in masks.values())
                runs.append(_row(arm, level, s, evaluate_all(model, data),
                                 weights=_kept_weights(masks, shapes),
                                 sparsity=1 - sel.n_kept / n_prunable, hidden=hidden,
                                 epoch=cfg.finetune_epochs))
                prog.add(wide * cfg.finetune_epochs * n_train, f"seed {s}: {arm} at {level:.0%}")

        for widths, levels in small.items():
            model = build_model(replace(cfg.model, hidden=widths), D, C, seed=s)
            train(model, data, replace(cfg.train, seed=s))
            w_small = mlp_weight_count(D, widths, C)
            metrics = evaluate_all(model, data)
            for level in levels:
                runs.append(_row("small_dense", level, s, metrics, weights=w_small,
                                 sparsity=1 - w_small / wide, hidden=widths,
                                 epoch=cfg.train.epochs))
            prog.add(w_small * cfg.train.epochs * n_train * len(levels), f"seed {s}: small nets")

    if "early_stopping" in cfg.controls:
        runs.extend(_early_stopping_rows(cfg, history, wide, hidden))
    return runs, history


# ------------------------------------------------------------------------------ summaries
def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof = 1; 0 for one seed), min and max over seeds of
    every metric, per (arm, level, weight_decay). Columns: arm, level, weight_decay, hidden,
    weights, epoch, n_seeds, then ``{metric}_{mean,std,min,max}`` for train/val/test acc and gap.
    """
    keys = ["arm", "level", "weight_decay"]
    g = runs.groupby(keys, sort=False)
    out = g.agg(hidden=("hidden", "first"), weights=("weights", "mean"),
                epoch=("epoch", "mean"), n_seeds=("seed", "nunique")).reset_index()
    for m in METRICS:
        stats = g[m].agg(["mean", "std", "min", "max"]).reset_index(drop=True)
        stats["std"] = stats["std"].fillna(0.0)
        for st in ("mean", "std", "min", "max"):
            out[f"{m}_{st}"] = stats[st].to_numpy()
    return out


def best_sparsity(summary: pd.DataFrame) -> float:
    """The level with the highest mean validation accuracy among the dense net (0) and the
    pruned levels; ties go to the lower sparsity. Test accuracy plays no part."""
    cand = summary[summary["arm"].isin(["dense", "pruned"])].sort_values("level", kind="stable")
    if cand.empty:
        raise PruningError("the sweep has no dense or pruned results")
    return float(cand.loc[cand["val_acc_mean"].idxmax(), "level"])


def pick_by_validation(summary: pd.DataFrame) -> dict[str, pd.Series]:
    """Per arm, the row (level or λ) with the highest mean validation accuracy.

    For the pruned arm the dense net is a candidate too (level 0), so "pruned" may come back
    as the dense row when validation prefers no pruning."""
    picks = {}
    for arm in ARMS:
        rows = summary[summary["arm"] == arm]
        if arm == "pruned":
            rows = summary[summary["arm"].isin(["dense", "pruned"])]
        if rows.empty:
            continue
        rows = rows.sort_values(["level", "weight_decay"], kind="stable")
        picks[arm] = rows.loc[rows["val_acc_mean"].idxmax()]
    return picks


def per_seed(runs: pd.DataFrame, arm: str, level: float = 0.0,
             weight_decay: float = 0.0, metric: str = "test_acc") -> pd.Series:
    """``metric`` of one (arm, level, λ) indexed by seed (for paired comparisons)."""
    if arm == "pruned" and level == 0.0:
        arm = "dense"
    sel = runs[(runs["arm"] == arm) & np.isclose(runs["level"], level)
               & np.isclose(runs["weight_decay"], weight_decay)]
    return sel.set_index("seed")[metric].sort_index()
