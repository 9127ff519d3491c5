"""The article's worked example: four weights, one threshold, which ones stay.

Magnitude pruning scores a weight by its size s = |w| and, with a threshold t, keeps it when
s ≥ t (``pruning.core.selection.select_by_threshold`` makes the decision, so this demo and the real
pruning pages follow one rule). With w = (0.2, 0.5, 0.1, 0.3) and t = 0.3, the weights 0.5
and 0.3 stay and 0.2 and 0.1 are pruned: 0.3 stays because only weights *strictly below* the
threshold are pruned.

The decision is made here from the numbers the user typed; the sentence that explains it and
the bar chart are built from the decision in ``pruning.present.thresholds``, so the text stays
true whatever the numbers are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import torch

from pruning.core.selection import check_threshold, select_by_threshold
from pruning.errors import PruningError

WORKED_EXAMPLE_WEIGHTS = (0.2, 0.5, 0.1, 0.3)
WORKED_EXAMPLE_THRESHOLD = 0.3


@dataclass(frozen=True)
class ThresholdDecision:
    """Which of ``weights`` survive ``threshold``; ``kept[i]`` is True when w_i stays."""

    weights: tuple[float, ...]
    threshold: float
    kept: tuple[bool, ...]

    @property
    def scores(self) -> tuple[float, ...]:
        """The magnitudes |w_i| that are compared with the threshold."""
        return tuple(abs(w) for w in self.weights)

    @property
    def kept_weights(self) -> tuple[float, ...]:
        return tuple(w for w, k in zip(self.weights, self.kept) if k)

    @property
    def pruned_weights(self) -> tuple[float, ...]:
        return tuple(w for w, k in zip(self.weights, self.kept) if not k)

    @property
    def tied_weights(self) -> tuple[float, ...]:
        """Weights whose size equals the threshold exactly (they stay: the rule is s ≥ t)."""
        return tuple(w for w, s in zip(self.weights, self.scores) if s == self.threshold)

    @property
    def sparsity(self) -> float:
        """Fraction pruned: #pruned / #weights."""
        return len(self.pruned_weights) / len(self.weights)

    def table(self) -> pd.DataFrame:
        """One row per weight: position, weight, size |w|, decision (``kept`` / ``pruned``)."""
        return pd.DataFrame({
            "weight_no": range(1, len(self.weights) + 1),
            "weight": self.weights,
            "size_abs_w": self.scores,
            "decision": ["kept" if k else "pruned" for k in self.kept],
        })


def check_weights(weights: Sequence) -> tuple[float, ...]:
    """The weights as finite floats (at least one), or a PruningError saying what is wrong."""
    out = []
    for i, w in enumerate(weights, start=1):
        try:
            v = float(w)
        except (TypeError, ValueError):
            raise PruningError(f"weight {i} must be a number, got {w!r}") from None
        if not math.isfinite(v):
            raise PruningError(f"weight {i} must be a finite number, got {w!r}")
        out.append(v)
    if not out:
        raise PruningError("give at least one weight")
    return tuple(out)


def decide_by_threshold(weights: Sequence[float], threshold: float) -> ThresholdDecision:
    """Magnitude pruning of ``weights`` at ``threshold``: keep |w| ≥ t.

    The scores are float64 so that a typed 0.3 equals a threshold of 0.3 exactly (in float32
    both would round, possibly differently after arithmetic).
    """
    w = check_weights(weights)
    t = check_threshold(threshold)
    scores = torch.tensor(w, dtype=torch.float64).abs()
    mask = select_by_threshold({"w": scores}, t).masks["w"]
    return ThresholdDecision(w, t, tuple(bool(k) for k in mask.tolist()))

