"""Early stopping on the validation split: the classic dense-net defence against overfitting.

Rule (Keras' ``EarlyStopping(patience=P, restore_best_weights=True)`` on validation accuracy):

  * the best epoch b is the first epoch with the highest validation accuracy seen so far
    (epoch 0 = before any update counts too);
  * training stops at the first epoch e with e − b ≥ P (no new best for P epochs);
  * the weights of epoch b are restored, so the result is the model of epoch b.

If no stop happens within the epoch budget, the best epoch of the whole run is restored. The
test split is never looked at, so the test accuracy of the restored model is an honest estimate.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
from torch import nn

from pruning.config import TrainConfig
from pruning.core.data import DataBundle
from pruning.core.training import ProgressFn, train
from pruning.errors import check_positive_int


def early_stopping_epoch(val_acc: Sequence[float], patience: int) -> tuple[int, int]:
    """``(best epoch, stop epoch)`` for validation accuracies ``val_acc[e]``, e = 0, 1, ….

    >>> early_stopping_epoch([0.1, 0.5, 0.4, 0.5, 0.3, 0.2], patience=2)
    (1, 3)
    """
    patience = check_positive_int("patience", patience)
    best, best_acc = 0, float("-inf")
    for e, acc in enumerate(val_acc):
        if acc > best_acc:
            best, best_acc = e, float(acc)
        elif e - best >= patience:
            return best, e
    return best, len(val_acc) - 1


@dataclass
class EarlyStoppingResult:
    history: pd.DataFrame  # rows up to and including the stop epoch
    best_epoch: int
    stopped_epoch: int
    metrics: dict          # the row of the best epoch (the restored model's numbers)


def train_with_early_stopping(model: nn.Module, data: DataBundle, cfg: TrainConfig,
                              patience: int, progress: ProgressFn | None = None
                              ) -> EarlyStoppingResult:
    """Train like ``training.train`` but stop after ``patience`` epochs without a new best
    validation accuracy, and restore the best epoch's weights into ``model`` (in place)."""
    patience = check_positive_int("patience", patience)
    val_acc: list[float] = []
    best_state: dict = {}

    def watch(epoch, total, row):
        val_acc.append(row["val_acc"])
        best, _ = early_stopping_epoch(val_acc, patience)
        if best == epoch:  # a new best: keep a copy to restore later
            best_state.clear()
            best_state.update(copy.deepcopy(model.state_dict()))
        if progress:
            progress(epoch, total, row)

    def should_stop() -> bool:
        best, _ = early_stopping_epoch(val_acc, patience)
        return len(val_acc) - 1 - best >= patience

    history = train(model, data, cfg, progress=watch, should_stop=should_stop)
    best, stopped = early_stopping_epoch(history["val_acc"].tolist(), patience)
    model.load_state_dict(best_state)
    model.eval()
    return EarlyStoppingResult(history, best, stopped,
                               history.iloc[best].drop("epoch").to_dict())
