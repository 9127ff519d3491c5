"""Lottery tickets (Frankle & Carbin 2019): iterative magnitude pruning with rewinding.

    1. initialise θ₀ (seeded), train E epochs → θ_E; keep θ_k, the weights after k epochs
       (k = ``rewind_epoch``; k = 0 is the original lottery ticket, k > 0 "late rewinding",
       Frankle et al. 2020, which helps deeper networks);
    2. round r = 1…R: prune, by magnitude of the weights trained in the previous round, so
       that a fraction (1 − p)^r of the prunable weights survives (p = ``prune_rate``);
       reset the survivors to θ_k and train E − k epochs with the mask held fixed.

Two controls isolate what the ticket owes to its mask and to its initial values:
  * **re-initialised**: the ticket's mask with *fresh* random initial weights (a different
    seed), trained E epochs from scratch — same structure, new initial values. Frankle &
    Carbin's finding: tickets beat this, so the initial values matter, not only the mask;
  * **random pruning**: a random mask with the *same number of weights per layer* as the
    ticket, on the same θ_k — the same initial values, but positions chosen blindly; trained
    E − k epochs like the ticket.

Epochs per arm (the table's ``epochs`` column): dense E, ticket and random E − k (they start
from θ_k, which already had k epochs), re-initialised E (it starts from scratch). With k = 0
every arm trains E epochs. ``n_test`` (the test-set size) sets the smallest difference the
comparing sentences may call (``pruning.present.verdict``).

Optimizer state (Adam's moments) starts afresh after every rewind. The curves and the
sentences comparing the three are drawn in ``pruning.present.lottery``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch
from torch import nn

from pruning.config import ModelConfig, TrainConfig
from pruning.core.learning import check_learning
from pruning.core.masks import Masks, apply_masks, count_kept, count_total
from pruning.core.models import build_model, prunable_names
from pruning.core.selection import SCOPES, select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import (
    PruningError,
    check_choice,
    check_fraction,
    check_positive_int,
)
from pruning.scoring import ScoreContext, score

#: The table's ``variant`` in rounds 1…R (round 0 is ``"dense"``): the ticket and its controls.
VARIANTS = ("ticket", "reinit", "random")

#: Seed offset of the re-initialised control: any seed other than the ticket's.
REINIT_SEED_OFFSET = 1000

LotteryProgress = Callable[[float, str], None]


@dataclass(frozen=True)
class LotteryConfig:
    """rounds R, prune_rate p per round (of the surviving weights), epochs E per training run,
    rewind_epoch k (0 = initial weights), scope of the magnitude ranking."""

    rounds: int = 4
    prune_rate: float = 0.5
    epochs: int = 8
    rewind_epoch: int = 0
    scope: str = "global"
    include_output: bool = True
    seed: int = 0


def validate_lottery_config(cfg: LotteryConfig) -> LotteryConfig:
    check_positive_int("rounds", cfg.rounds)
    if cfg.rounds > 20:
        raise PruningError(f"rounds must be at most 20, got {cfg.rounds}")
    rate = check_fraction("prune rate per round", cfg.prune_rate, allow_one=False)
    if rate <= 0:
        raise PruningError("prune rate per round must be above 0")
    check_positive_int("epochs", cfg.epochs)
    if not isinstance(cfg.rewind_epoch, int) or not 0 <= cfg.rewind_epoch < cfg.epochs:
        raise PruningError(f"rewind epoch must be a whole number from 0 to epochs − 1 "
                           f"({cfg.epochs - 1}), got {cfg.rewind_epoch!r}")
    check_choice("scope", cfg.scope, SCOPES)
    return cfg


def _random_mask_like(masks: Masks, seed: int) -> Masks:
    """Random masks with exactly as many kept weights per layer as ``masks`` (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for n, m in masks.items():
        flat = torch.zeros(m.numel(), dtype=torch.bool)
        flat[torch.randperm(m.numel(), generator=gen)[:int(m.sum())]] = True
        out[n] = flat.view_as(m)
    return out


def _state(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def rewound(template: nn.Module, state: dict, masks: Masks) -> nn.Module:
    """A new module (same architecture as ``template``) holding ``state`` ⊙ ``masks``."""
    model = copy.deepcopy(template)
    model.load_state_dict(state)
    return apply_masks(model, masks)


@dataclass
class LotteryResult:
    """``table``: one row per (round, variant): round, variant, remaining_pct, sparsity,
    kept_weights, epochs (trained by that arm), {train,val,test}_{loss,acc}, n_test; round 0 is
    the dense network, whose ``still_learning`` says whether it had finished learning
    (``pruning.core.learning``).
    ``masks`` / ``random_masks``: the ticket's and the random control's mask per round;
    ``init_state`` θ₀ and ``rewind_state`` θ_k (the weights the survivors are reset to)."""

    config: LotteryConfig
    table: pd.DataFrame
    masks: list[Masks]
    random_masks: list[Masks]
    init_state: dict
    rewind_state: dict


def run_lottery(data, model_cfg: ModelConfig, train_cfg: TrainConfig, cfg: LotteryConfig,
                progress: LotteryProgress | None = None) -> LotteryResult:
    """Train dense, then R rounds of ticket + two controls (module docstring)."""
    cfg = validate_lottery_config(cfg)
    k = cfg.rewind_epoch
    n_runs = 1 + 3 * cfg.rounds
    done = [0]

    def step(msg):
        if progress:
            progress(done[0] / n_runs, msg)
        done[0] += 1

    model = build_model(model_cfg, data.n_features, data.n_classes, data.image_shape,
                        seed=train_cfg.seed)
    theta = {0: _state(model)}

    def keep_rewind_point(epoch, total, row):
        if epoch == k:
            theta[k] = _state(model)

    step("training the dense network")
    dense_history = train(model, data, TrainConfig(**{**train_cfg.__dict__, "epochs": cfg.epochs}),
                          progress=keep_rewind_point)
    dense_check = check_learning(dense_history)
    names = prunable_names(model, include_output=cfg.include_output)
    total = sum(dict(model.named_parameters())[n].numel() for n in names)
    rows = [{"round": 0, "variant": "dense", "remaining_pct": 100.0, "sparsity": 0.0,
             "kept_weights": total, "epochs": cfg.epochs, **evaluate_all(model, data),
             "still_learning": bool(dense_check and dense_check.unfinished)}]
    after_rewind = TrainConfig(**{**train_cfg.__dict__, "epochs": cfg.epochs - k})
    from_scratch = TrainConfig(**{**train_cfg.__dict__, "epochs": cfg.epochs})
    masks = None
    trained = model
    all_masks, all_random = [], []
    for r in range(1, cfg.rounds + 1):
        target = 1 - (1 - cfg.prune_rate) ** r
        scores = score("magnitude", ScoreContext(trained, names))
        masks = select_by_sparsity(scores, target, cfg.scope, masks).masks
        common = {"round": r, "sparsity": 1 - count_kept(masks) / count_total(masks),
                  "kept_weights": count_kept(masks)}
        common["remaining_pct"] = 100.0 * count_kept(masks) / total

        step(f"round {r}/{cfg.rounds}: winning ticket")
        ticket = rewound(model, theta[k], masks)
        train(ticket, data, after_rewind, masks=masks)
        rows.append({**common, "variant": "ticket", "epochs": cfg.epochs - k,
                     **evaluate_all(ticket, data)})

        step(f"round {r}/{cfg.rounds}: same mask, new initial weights")
        reinit = build_model(model_cfg, data.n_features, data.n_classes, data.image_shape,
                             seed=train_cfg.seed + REINIT_SEED_OFFSET + r)
        train(reinit, data, from_scratch, masks=masks)
        rows.append({**common, "variant": "reinit", "epochs": cfg.epochs,
                     **evaluate_all(reinit, data)})

        step(f"round {r}/{cfg.rounds}: random pruning")
        rand_masks = _random_mask_like(masks, cfg.seed + 7 * r)
        rand = rewound(model, theta[k], rand_masks)
        train(rand, data, after_rewind, masks=rand_masks)
        rows.append({**common, "variant": "random", "epochs": cfg.epochs - k,
                     **evaluate_all(rand, data)})
        trained = ticket
        all_masks.append({n: m.clone() for n, m in masks.items()})
        all_random.append(rand_masks)
    if progress:
        progress(1.0, "done")
    df = pd.DataFrame(rows).assign(n_test=len(data.y_test))
    first = ["round", "variant", "remaining_pct", "sparsity", "kept_weights", "epochs"]
    table = df[first + [c for c in df.columns if c not in first]]
    return LotteryResult(cfg, table, all_masks, all_random, theta[0], theta[k])

