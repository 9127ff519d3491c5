"""What a finished training run says: the train–test gap in words, and the confusion matrix's
test predictions with its most frequent mistake.

The generalization gap is  gap = train accuracy − test accuracy  (in percentage points). The
words used for it follow fixed cut-offs (|gap| below 3 points: small; below 10: moderate; else
large; 3 or more points below zero: test beats train, e.g. with wrong training labels), so the
sentence describes the numbers rather than asserting a result. Chance level is 1 / #classes: a
test accuracy within 10 points of it means the model has learnt no usable rule.

Nothing here trains: ``predict_test_split`` runs one forward pass of a copy of the trained
model over the test split, for the confusion matrix (``pruning.present.charts``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pruning.core.data import DataBundle
from pruning.core.learning import check_learning
from pruning.core.records import TrainedModel
from pruning.core.training import predict
from pruning.present.format import pct

SMALL_GAP_PTS = 3.0
LARGE_GAP_PTS = 10.0
NEAR_CHANCE_PTS = 10.0


def unfinished_note(history: pd.DataFrame | None) -> str:
    """"This model has not finished learning …" when ``core.learning.check_learning`` says so
    (training accuracy far below reachable and the loss still falling), else ""."""
    c = check_learning(history) if history is not None else None
    if c is None or not c.unfinished:
        return ""
    return (f"⚠️ **This model has not finished learning**: training accuracy is "
            f"{pct(c.train_acc)} (a network like this can usually fit its training set) and the "
            f"training loss was still falling ({c.loss_before:.3f} → {c.loss_after:.3f} over the "
            f"last {c.window} epochs). Train it for more epochs before drawing any conclusion "
            f"about pruning or generalization from it.")


def predict_test_split(trained: TrainedModel, data: DataBundle) -> tuple[np.ndarray, np.ndarray]:
    """(true labels, predicted labels) on the test split, from a fresh copy of the model."""
    model = trained.build(data)
    return data.y_test.numpy(), predict(model, data.X_test).numpy()


def generalization_note(metrics: dict, n_classes: int, epochs: int,
                        label_noise: float = 0.0, history: pd.DataFrame | None = None) -> str:
    """One or two sentences on the train–test gap, chance level, label noise and the best
    validation epoch, all from the numbers given."""
    train, val, test = (100 * metrics[f"{s}_acc"] for s in ("train", "val", "test"))
    chance = 100 / n_classes
    gap = train - test
    parts = []
    if epochs == 0:
        parts.append(f"With 0 epochs the weights were never updated: test accuracy is "
                     f"{test:.1f} % (chance is {chance:.0f} %).")
    elif test < chance + NEAR_CHANCE_PTS:
        parts.append(f"Test accuracy {test:.1f} % is close to chance ({chance:.0f} %): the model "
                     f"has not learnt a rule that works on new data.")
    unfinished = unfinished_note(history)
    if unfinished:
        parts.insert(0, unfinished)
    if epochs > 0 and unfinished:
        parts.append(f"Train {train:.1f} %, test {test:.1f} % ({gap:+.1f} points): the gap of an "
                     f"unfinished model does not say how it generalizes.")
    elif epochs > 0:
        if gap <= -SMALL_GAP_PTS:
            verdict = ("the model scores higher on new data than on its own training data, "
                       "so it does not overfit")
        elif gap < SMALL_GAP_PTS:
            verdict = "a small gap: the model does about as well on new data as on its training data"
        elif gap < LARGE_GAP_PTS:
            verdict = "a moderate gap: it starts to fit its training data better than new data"
        else:
            verdict = "a large gap: it overfits, fitting its training data much better than new data"
        parts.append(f"Train {train:.1f} %, test {test:.1f} %: {verdict} ({gap:+.1f} points).")
    if label_noise > 0:
        parts.append(f"{pct(label_noise, 0)} of the training labels are wrong on purpose, so "
                     f"training accuracy is measured against partly wrong answers; validation "
                     f"and test labels are clean.")
    if history is not None and len(history) > 2 and "val_acc" in history:
        best = history.loc[history["val_acc"].idxmax()]
        last = history.iloc[-1]
        if int(best["epoch"]) < int(last["epoch"]) and best["val_acc"] - last["val_acc"] >= 0.01:
            parts.append(f"Validation accuracy peaked at epoch {int(best['epoch'])} "
                         f"({pct(best['val_acc'])}) and ended at "
                         f"{pct(last['val_acc'])}.")
    return " ".join(parts)


def mistake_note(y_true: np.ndarray, y_pred: np.ndarray, class_names) -> str:
    """Beside the confusion matrix: the most frequent (true, predicted) pair among the test
    mistakes — the largest off-diagonal cell — and how many mistakes there are in all."""
    wrong = (y_true != y_pred)
    if not wrong.any():
        return "No test example is misclassified."
    pairs = pd.Series(list(zip(y_true[wrong], y_pred[wrong]))).value_counts()
    (a, b), k = pairs.index[0], int(pairs.iloc[0])
    return (f"Most frequent mistake: **{class_names[a]}** taken for "
            f"**{class_names[b]}** ({k} of {int(wrong.sum())} test mistakes).")
