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
from pruning.core.stop import epoch_done, stop_point
from pruning.errors import PruningError, check_choice, check_seed

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
    check_seed(cfg.seed)
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
    """``torch.optim.Adam`` or ``torch.optim.SGD`` for ``cfg`` (``weight_decay`` is L2 added to
    the gradient, ``momentum`` is SGD's).

    ``fused=True`` runs each step as one fused kernel per parameter tensor instead of the
    default chain of small element-wise operations per parameter, or one multi-tensor
    operation per line of the formula (``foreach=True``). The update is the same formula; on
    the app's small CPU models a step is dominated by per-operation overhead, so fewer, fused
    kernels win: for Adam, fused measured faster than ``foreach`` on this machine. (For SGD,
    one line of arithmetic, all three were level; fused for both keeps one rule.) The figures
    are in BENCHMARKS.md ("Which optimizer step").
    """
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                fused=True)
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                           weight_decay=cfg.weight_decay, fused=True)


def train(model: nn.Module, data: DataBundle, cfg: TrainConfig | None = None,
          masks: Mapping[str, torch.Tensor] | None = None,
          progress: ProgressFn | None = None,
          optimizer: torch.optim.Optimizer | None = None,
          should_stop: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Train ``model`` in place for ``cfg.epochs`` epochs; return the per-epoch history.

    The ordinary PyTorch loop: for every mini-batch, forward, cross-entropy loss, ``backward()``
    (autograd), one ``torch.optim`` step. This is the code that runs for every model.

    With ``masks`` (``{parameter name: bool tensor}``, True = kept), pruned weights are held at
    exactly zero throughout — the fine-tuning step of the prune loop. Three things do it
    (``pruning.core.masks``): the gradient is zeroed where pruned before each step, and after
    each step the optimizer's state (momentum, Adam moments) and the weight are zeroed there
    again. An ``optimizer`` passed in (e.g. one that has momentum from before pruning) gets its
    state masked first.

    ``progress(epoch, epochs, row)`` is called after the evaluation of epoch 0 (before any
    update) and of every epoch; ``should_stop()`` is asked after every epoch and ends training
    early when it returns True (the history then ends at that epoch). A job's stop hook
(``pruning.core.stop``) is asked after every mini-batch; it ends training by raising.

    Determinism: the batch order comes from a generator seeded with ``cfg.seed``; with the
    same initial weights and config the history is identical run to run.
    """
    cfg = validate_train_config(cfg or TrainConfig())
    if len(data.y_train) == 0:
        raise PruningError("the training set is empty")
    opt = optimizer or make_optimizer(model, cfg)
    bound = bind_masks(model, masks) if masks else []  # [(parameter, 0/1 mask)], looked up once
    if masks:
        apply_masks(model, masks)                # start from exact zeros …
        mask_optimizer_state(opt, model, masks)  # … and no stale momentum where pruned

    rows = [{"epoch": 0, **evaluate_all(model, data)}]
    if progress:
        progress(0, cfg.epochs, rows[-1])
    X, y = data.X_train, data.y_train
    n = len(y)
    batch_size = min(cfg.batch_size, n)
    batch_order = torch.Generator().manual_seed(cfg.seed)
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(n, generator=batch_order)  # a fresh shuffle every epoch
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()                      # forget the last step's gradients
            loss = F.cross_entropy(model(X[idx]), y[idx])  # mean over the mini-batch
            loss.backward()
            mask_bound_gradients(bound)          # 1. no gradient reaches a pruned weight
            opt.step()
            enforce_bound_masks(bound, opt)      # 2. + 3. zero its optimizer state and weight
            stop_point()                         # a job's Stop acts here (pruning.core.stop)
        rows.append({"epoch": epoch, **evaluate_all(model, data)})  # (switches to eval and back)
        if progress:
            progress(epoch, cfg.epochs, rows[-1])
        if should_stop is not None and should_stop():
            break
        epoch_done(epoch, cfg.epochs)
    model.eval()
    return pd.DataFrame(rows)
