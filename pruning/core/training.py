"""Seeded training and masked fine-tuning, with a per-epoch history table.

The data are in-memory tensors, so an epoch is a seeded permutation cut into mini-batches.
After every epoch the model is evaluated on all three splits; the history is a tidy
DataFrame with one row per epoch:

    epoch | train_loss | train_acc | val_loss | val_acc | test_loss | test_acc

Row 0 is the model *before* the first update, so curves start where training started.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from pruning.config import TrainConfig
from pruning.core.data import DataBundle
from pruning.core.masks import (
    apply_masks,
    bind_masks,
    enforce_bound_masks,
    mask_bound_gradients,
    mask_optimizer_state,
)
from pruning.errors import PruningError, check_choice

ProgressFn = Callable[[int, int, dict], None]  # (epoch done, epochs total, metrics row)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Evaluation:
    loss: float
    acc: float


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
             batch_size: int = 4096) -> Evaluation:
    """Mean cross-entropy and accuracy (fraction correct) of ``model`` on ``(X, y)``."""
    if len(y) == 0:
        return Evaluation(float("nan"), float("nan"))
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        logits = model(X[i:i + batch_size])
        yy = y[i:i + batch_size]
        loss_sum += float(F.cross_entropy(logits, yy, reduction="sum"))
        correct += int((logits.argmax(1) == yy).sum())
    model.train(was_training)
    return Evaluation(loss_sum / len(y), correct / len(y))


def evaluate_all(model: nn.Module, data: DataBundle) -> dict[str, float]:
    """``{train_loss, train_acc, val_loss, val_acc, test_loss, test_acc}``."""
    out = {}
    for s in SPLITS:
        e = evaluate(model, *data.split(s))
        out[f"{s}_loss"], out[f"{s}_acc"] = e.loss, e.acc
    return out


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    out = model(X).argmax(1)
    model.train(was_training)
    return out


def validate_train_config(cfg: TrainConfig) -> TrainConfig:
    check_choice("optimizer", cfg.optimizer, ("adam", "sgd"))
    if not isinstance(cfg.epochs, int) or cfg.epochs < 0 or cfg.epochs > 10_000:
        raise PruningError(f"epochs must be a whole number from 0 to 10000, got {cfg.epochs!r}")
    if not isinstance(cfg.batch_size, int) or cfg.batch_size < 1:
        raise PruningError(f"batch size must be a whole number ≥ 1, got {cfg.batch_size!r}")
    for name in ("lr", "weight_decay", "momentum"):
        v = getattr(cfg, name)
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise PruningError(f"{name} must be a finite number ≥ 0, got {v!r}")
    if cfg.lr == 0 and cfg.epochs > 0:
        raise PruningError("learning rate must be above 0 to train")
    if cfg.momentum >= 1:
        raise PruningError(f"momentum must be below 1, got {cfg.momentum}")
    return cfg


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                           weight_decay=cfg.weight_decay)


def train(model: nn.Module, data: DataBundle, cfg: TrainConfig | None = None,
          masks: Mapping[str, torch.Tensor] | None = None,
          progress: ProgressFn | None = None,
          optimizer: torch.optim.Optimizer | None = None,
          should_stop: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Train ``model`` in place for ``cfg.epochs`` epochs; return the per-epoch history.

    With ``masks``, pruned weights are held at exactly zero throughout (gradients and
    optimizer state zeroed where pruned, mask re-applied after each step), so this is the
    fine-tuning step of the prune loop. An ``optimizer`` passed in (e.g. one that has
    momentum from before pruning) gets its state masked first.

    Determinism: the batch order comes from a generator seeded with ``cfg.seed``; with the
    same initial weights and config the history is identical run to run.
    """
    cfg = validate_train_config(cfg or TrainConfig())
    if len(data.y_train) == 0:
        raise PruningError("the training set is empty")
    if optimizer is None and _hand_written_steps_apply(model):
        return _train_mlp_by_hand(model, data, cfg, masks, progress, should_stop)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = optimizer or make_optimizer(model, cfg)
    bound = bind_masks(model, masks) if masks else None
    if masks:
        apply_masks(model, masks)
        mask_optimizer_state(opt, model, masks)
    rows = [{"epoch": 0, **evaluate_all(model, data)}]
    if progress:
        progress(0, cfg.epochs, rows[-1])
    X, y = data.X_train, data.y_train
    n = len(y)
    bs = min(cfg.batch_size, n)
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            # set_to_none: backward writes fresh gradients instead of adding them to zeros
            # (the same values, one pass less over every parameter).
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            if bound:
                mask_bound_gradients(bound)
            opt.step()
            if bound:
                enforce_bound_masks(bound, opt)
        rows.append({"epoch": epoch, **evaluate_all(model, data)})
        if progress:
            progress(epoch, cfg.epochs, rows[-1])
        if should_stop is not None and should_stop():
            break
    model.eval()
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ MLP fast path
def _hand_written_steps_apply(model: nn.Module) -> bool:
    """Plain float32 CPU MLPs are trained with hand-written steps (see ``_train_mlp_by_hand``)."""
    from pruning.core.models import MLP

    return type(model) is MLP and all(p.dtype == torch.float32 and p.device.type == "cpu"
                                      for p in model.parameters())


class _Stopped(Exception):
    """Raised from the per-epoch hook when ``should_stop()`` says so."""


def _train_mlp_by_hand(model: nn.Module, data: DataBundle, cfg: TrainConfig,
                       masks: Mapping[str, torch.Tensor] | None, progress: ProgressFn | None,
                       should_stop: Callable[[], bool] | None) -> pd.DataFrame:
    """``train`` for a plain MLP, as a one-member ``pruning.core.ensemble.BatchedMLP``.

    The same protocol step for step: the batch order from ``randperm(n, generator=seed)`` per
    epoch, the same mini-batches, the loss ``mean_b CE``, L2 weight decay added to the gradient,
    Adam (β = 0.9, 0.999, ε = 1e-8) or SGD with momentum, and masks held at zero (gradient,
    optimizer state and weight zeroed where pruned after every step); the model is evaluated
    with ``evaluate_all`` after every epoch. Only how the arithmetic is done differs: the
    gradients are written out by hand (``batched.mlp_backward``: ∂L/∂W_l = gᵀ·h_l,
    ∂L/∂h_l = g·W_l ⊙ [h_l > 0]) instead of recorded by autograd, and Adam runs as one fused
    kernel. Results agree with the autograd path to float32 rounding (tested), not bit for bit.

    Why: for the app's small nets the per-operation overhead of autograd and of
    ``torch.optim.Adam``'s per-parameter loop cost about three times the arithmetic; by hand
    an epoch of the default digits MLP takes ~10 ms instead of ~18 ms (BENCHMARKS.md, "epoch").
    """
    from pruning.core.ensemble import BatchedMLP, BatchedSplit, train_batched

    if masks:
        apply_masks(model, masks)  # unknown names and wrong shapes fail here, as in the loop above
    stacked = BatchedMLP.from_models([model])
    split = BatchedSplit(data.X_train.flatten(1)[None], data.y_train[None])
    member_masks = {name: m.to(torch.bool)[None] for name, m in masks.items()} if masks else None
    targets = [p for layer in model.layers for p in (layer.weight, layer.bias)]
    rows: list[dict] = []

    def after_epoch(epoch: int, trained: BatchedMLP) -> None:
        with torch.no_grad():  # the member's weights back into the caller's model
            sources = [t[0] for w, b in zip(trained.weights, trained.biases) for t in (w, b)]
            for target, source in zip(targets, sources):
                target.copy_(source)
        rows.append({"epoch": epoch, **evaluate_all(model, data)})
        if progress:
            progress(epoch, cfg.epochs, rows[-1])
        if epoch and should_stop is not None and should_stop():
            raise _Stopped

    try:
        train_batched(stacked, split, cfg, [cfg.seed], weight_decay=[cfg.weight_decay],
                      masks=member_masks, on_epoch=after_epoch)
    except _Stopped:
        pass
    model.eval()
    return pd.DataFrame(rows)
