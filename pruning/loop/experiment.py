"""The whole prune loop: train → score → prune → fine-tune → repeat.

``run_experiment(config)`` trains a dense model (or starts from one you pass), then runs the
schedule's rounds. Each round:

  1. score the surviving weights with the chosen scorer,
  2. select masks for the round's cumulative target (or the threshold),
  3. zero the pruned weights and evaluate ("right after pruning"),
  4. optionally rewind the survivors to their initial values (lottery ticket),
  5. fine-tune with the masks held fixed, and evaluate again.

The result holds a tidy table with one row per round and, for replaying the heatmaps, a
snapshot (weights + masks) of each round.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd
import torch
from torch import nn

from pruning.config import ExperimentConfig, PruneConfig, TrainConfig
from pruning.core.counts import count_parameters
from pruning.core.data import DataBundle, load_dataset
from pruning.core.masks import Masks, apply_masks, count_kept, count_total
from pruning.core.models import (
    build_model,
    layer_label,
    prunable_names,
)
from pruning.core.schedules import SCHEDULES, schedule_targets
from pruning.core.selection import (
    SCOPES,
    Selection,
    check_threshold,
    select_by_sparsity,
    select_by_threshold,
)
from pruning.core.training import evaluate_all, train
from pruning.errors import (
    PruningError,
    check_choice,
    check_fraction,
    check_positive_int,
    check_seed,
)
from pruning.scoring import SCORERS, ScoreContext, score

# (stage, fraction done in [0, 1], message)
LoopProgress = Callable[[str, float, str], None]


@dataclass
class Snapshot:
    """A copy of the prunable weights and masks after a round (round 0 = dense)."""

    round: int
    weights: dict[str, torch.Tensor]
    masks: dict[str, torch.Tensor]


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    dense: dict[str, float]
    dense_history: pd.DataFrame
    rounds: pd.DataFrame
    finetune_histories: list[pd.DataFrame]
    snapshots: list[Snapshot]
    model: nn.Module
    masks: Masks = field(default_factory=dict)

    def to_json_dict(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "dense": self.dense,
            "rounds": self.rounds.to_dict(orient="records"),
        }


def validate_prune_config(cfg: PruneConfig) -> PruneConfig:
    check_choice("scorer", cfg.scorer, SCORERS)
    check_seed(cfg.seed)
    check_choice("scope", cfg.scope, SCOPES)
    check_choice("schedule", cfg.schedule, SCHEDULES)
    if (cfg.sparsity is None) == (cfg.threshold is None):
        raise PruningError("give exactly one of a target sparsity or a threshold")
    if cfg.sparsity is not None:
        check_fraction("sparsity", cfg.sparsity)
    else:
        check_threshold(cfg.threshold)
    check_positive_int("rounds", cfg.rounds)
    if cfg.rounds > 100:
        raise PruningError(f"rounds must be at most 100, got {cfg.rounds}")
    if not isinstance(cfg.finetune_epochs, int) or not 0 <= cfg.finetune_epochs <= 1000:
        raise PruningError(f"fine-tune epochs must be a whole number from 0 to 1000, "
                           f"got {cfg.finetune_epochs!r}")
    return cfg


def round_targets(cfg: PruneConfig) -> list[float | None]:
    """Per-round cumulative targets; for a threshold, ``None`` per round (same threshold)."""
    if cfg.threshold is not None:
        n = 1 if cfg.schedule == "oneshot" else cfg.rounds
        return [None] * n
    return schedule_targets(cfg.schedule, cfg.sparsity, cfg.rounds)


def prune_step(model: nn.Module, data: DataBundle | None, cfg: PruneConfig,
               target: float | None, previous: Masks | None = None,
               names: list[str] | None = None,
               init_state: dict | None = None) -> tuple[Selection, dict[str, torch.Tensor]]:
    """Score and select (does not modify ``model``). Returns (selection, scores).
    ``init_state`` (the untrained weights) is what the ``snip`` scorer looks at."""
    names = names or prunable_names(model, cfg.include_output, cfg.include_bias)
    scores = score(cfg.scorer, ScoreContext(model, names, data, previous, seed=cfg.seed,
                                            init_state=init_state))
    if target is None:
        sel = select_by_threshold(scores, cfg.threshold, previous)
    else:
        sel = select_by_sparsity(scores, target, cfg.scope, previous)
    return sel, scores


def _snapshot(model: nn.Module, names, masks, rnd: int) -> Snapshot:
    params = dict(model.named_parameters())
    return Snapshot(rnd, {n: params[n].detach().clone() for n in names},
                    {n: m.clone() for n, m in masks.items()})


def run_prune_rounds(model: nn.Module, data: DataBundle, prune: PruneConfig,
                     finetune: TrainConfig, initial_state: dict | None = None,
                     progress: LoopProgress | None = None,
                     start_masks: Masks | None = None,
                     round_epochs: list[int] | None = None):
    """Run the schedule's rounds on ``model`` (modified in place).

    Returns (rounds DataFrame, fine-tune histories, snapshots, final masks).
    ``initial_state`` (a state_dict of the untrained model) is needed for ``rewind``.
    ``round_epochs``: fine-tuning epochs of each round (default ``prune.finetune_epochs`` in
    every round); ``schedules.split_epochs`` gives a fixed total. The table's
    ``finetune_epochs`` column records what each round got.
    """
    validate_prune_config(prune)
    if prune.rewind and initial_state is None:
        raise PruningError("rewinding needs the model's initial weights")
    names = prunable_names(model, prune.include_output, prune.include_bias)
    if not names:
        raise PruningError("no prunable weights: allow the output layer or biases to be pruned")
    masks: Masks = ({n: m.clone() for n, m in start_masks.items()} if start_masks
                    else {n: torch.ones_like(p, dtype=torch.bool)
                          for n, p in model.named_parameters() if n in names})
    targets = round_targets(prune)
    if round_epochs is None:
        round_epochs = [prune.finetune_epochs] * len(targets)
    if len(round_epochs) != len(targets) or any(int(e) < 0 for e in round_epochs):
        raise PruningError(f"need one whole number of fine-tuning epochs ≥ 0 per round "
                           f"({len(targets)}), got {list(round_epochs)!r}")
    total_params = count_parameters(model)
    snapshots = [_snapshot(model, names, masks, 0)]
    rows, histories = [], []
    ft_cfg = replace(finetune, epochs=prune.finetune_epochs,
                     batch_size=prune.finetune_batch_size or finetune.batch_size)
    for r, target in enumerate(targets, start=1):
        if progress:
            progress("prune", (r - 1) / len(targets), f"round {r}/{len(targets)}: scoring")
        sel, _ = prune_step(model, data, prune, target, masks, names, initial_state)
        masks = sel.masks
        apply_masks(model, masks)
        after_prune = evaluate_all(model, data)
        if prune.rewind:
            with torch.no_grad():
                params = dict(model.named_parameters())
                for n, p in params.items():
                    p.copy_(initial_state[n])
            apply_masks(model, masks)

        def ft_progress(ep, total, row, r=r):
            if progress:
                frac = (r - 1 + (ep / max(total, 1))) / len(targets)
                progress("finetune", frac, f"round {r}/{len(targets)}: fine-tune epoch {ep}/{total}")

        hist = train(model, data, replace(ft_cfg, epochs=int(round_epochs[r - 1])), masks=masks,
                     progress=ft_progress)
        hist.insert(0, "round", r)
        histories.append(hist)
        after_ft = evaluate_all(model, data)
        nonzero = sum(int((p != 0).sum()) for p in model.parameters())
        row = {
            "round": r,
            "target_sparsity": sel.target if sel.target is not None else float("nan"),
            "threshold": prune.threshold if prune.threshold is not None else float("nan"),
            "sparsity": sel.reached,
            "cutoff_score": sel.cutoff if sel.cutoff is not None else float("nan"),
            "tied_at_cutoff": sel.n_tied,
            "finetune_epochs": int(round_epochs[r - 1]),
            "kept_weights": count_kept(masks),
            "prunable_weights": count_total(masks),
            "nonzero_params": nonzero,
            "total_params": total_params,
        }
        row.update({f"{k}_pruned": v for k, v in after_prune.items()})
        row.update(after_ft)
        row.update({f"sparsity[{layer_label(n)}]": v for n, v in sel.per_layer.items()})
        rows.append(row)
        snapshots.append(_snapshot(model, names, masks, r))
    if progress:
        progress("done", 1.0, "done")
    return pd.DataFrame(rows), histories, snapshots, masks


def train_dense(cfg: ExperimentConfig, data: DataBundle | None = None,
                progress=None) -> tuple[nn.Module, dict, pd.DataFrame, DataBundle]:
    """Build and train the dense model. Returns (model, initial state_dict, history, data)."""
    data = data or load_dataset(cfg.data)
    model = build_model(cfg.model, data.n_features, data.n_classes, data.image_shape,
                        seed=cfg.train.seed)
    init_state = copy.deepcopy(model.state_dict())
    history = train(model, data, cfg.train, progress=progress)
    return model, init_state, history, data


def run_experiment(cfg: ExperimentConfig, data: DataBundle | None = None,
                   progress: LoopProgress | None = None) -> ExperimentResult:
    """Train dense, then prune + fine-tune on the schedule. Deterministic in the seeds."""
    validate_prune_config(cfg.prune)

    def dense_progress(ep, total, row):
        if progress:
            progress("train", ep / max(total, 1), f"dense training: epoch {ep}/{total}")

    model, init_state, history, data = train_dense(cfg, data, dense_progress)
    dense = evaluate_all(model, data)
    dense["nonzero_params"] = sum(int((p != 0).sum()) for p in model.parameters())
    dense["total_params"] = count_parameters(model)
    rounds, hists, snaps, masks = run_prune_rounds(
        model, data, cfg.prune, cfg.train, init_state, progress)
    return ExperimentResult(cfg, dense, history, rounds, hists, snaps, model, masks)
