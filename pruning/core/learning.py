"""Has a model finished learning? A check on the training history, before any conclusion is
drawn from pruning it.

A network with more weights than training examples can usually fit its whole training set, so
training accuracy near 100 % is reachable. A model is called **unfinished** when both hold:

1. its final training accuracy is more than ``FAR_PTS`` points below that (``REACHABLE``), and
2. its training loss was still falling at the end: over the last quarter of the epochs (at
   least ``MIN_WINDOW``), it dropped by more than ``FALLING`` (relative).

Then "pruning did not hurt" or "a small gap" says nothing about pruning or generalization:
more epochs would change the model. (A model below ``REACHABLE`` whose loss has flattened is
not flagged: it has converged to what it can fit.)
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Training accuracy an over-parameterised net can reach on its own training set.
REACHABLE = 1.0
#: "Far from reachable": more than this many percentage points below it.
FAR_PTS = 5.0
#: "Still falling": the loss dropped by more than this fraction (0.2 %) over the window.
FALLING = 0.002
#: The window is the last quarter of the epochs, but at least this many.
MIN_WINDOW = 2


@dataclass(frozen=True)
class LearningCheck:
    """``unfinished`` and the numbers behind it (accuracies as fractions)."""

    unfinished: bool
    train_acc: float
    loss_before: float
    loss_after: float
    window: int


def still_rising(history: pd.DataFrame, column: str = "train_acc") -> bool:
    """For histories without a loss column (the sweep's): is ``column`` far below
    ``REACHABLE`` and still rising by more than half a point over the last quarter of epochs?"""
    trained = history[history["epoch"] > 0] if "epoch" in history else history.iloc[1:]
    if len(trained) < MIN_WINDOW + 1:
        return False
    window = max(MIN_WINDOW, len(trained) // 4)
    acc = history[column].to_numpy(float)
    return bool(100 * (REACHABLE - acc[-1]) > FAR_PTS and acc[-1] - acc[-1 - window] > 0.005)


def check_learning(history: pd.DataFrame) -> LearningCheck | None:
    """The check on a per-epoch history (``epoch``, ``train_acc``, ``train_loss``; row 0 before
    training). None when there is nothing to judge (no training, or no loss column)."""
    if history is None or "train_loss" not in history or "train_acc" not in history:
        return None
    trained = history[history["epoch"] > 0] if "epoch" in history else history.iloc[1:]
    if len(trained) < MIN_WINDOW + 1:
        return None
    window = max(MIN_WINDOW, len(trained) // 4)
    loss = history["train_loss"].to_numpy(float)
    before, after = float(loss[-1 - window]), float(loss[-1])
    acc = float(history["train_acc"].iloc[-1])
    far = 100 * (REACHABLE - acc) > FAR_PTS
    falling = before > 0 and (before - after) / before > FALLING
    return LearningCheck(bool(far and falling), acc, before, after, window)
