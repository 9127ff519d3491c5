"""The article's worked example: four weights, one threshold, which ones stay.

Magnitude pruning scores a weight by its size s = |w| and, with a threshold t, keeps it when
s ≥ t (``pruning.core.selection.select_by_threshold`` makes the decision, so this demo and the real
pruning pages follow one rule). With w = (0.2, 0.5, 0.1, 0.3) and t = 0.3, the weights 0.5
and 0.3 stay and 0.2 and 0.1 are pruned: 0.3 stays because only weights *strictly below* the
threshold are pruned.

Everything here is computed from the numbers the user typed, including the sentence that
explains the result, so the text stays true whatever the numbers are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.core.selection import check_threshold, select_by_threshold
from pruning.errors import PruningError
from pruning.present.style import FONT_SIZE, PRUNED_COLOUR, layout

WORKED_EXAMPLE_WEIGHTS = (0.2, 0.5, 0.1, 0.3)
WORKED_EXAMPLE_THRESHOLD = 0.3
KEPT_COLOUR = "#1f4e9c"  # dark blue: far from the amber of pruned weights, also in grey-scale


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


def _fmt(w: float) -> str:
    return f"{w:g}".replace("-", "−")


def _join(values: Sequence[float]) -> str:
    items = [_fmt(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def decision_sentence(d: ThresholdDecision) -> str:
    """The result in words, built from the numbers (e.g. the article's example gives
    "0.5 and 0.3 stay; 0.2 and 0.1 are pruned; 0.3 stays because only weights strictly below
    the threshold are pruned.")."""
    kept, pruned, tied = d.kept_weights, d.pruned_weights, d.tied_weights
    parts = []
    if kept:
        parts.append(f"{_join(kept)} {'stays' if len(kept) == 1 else 'stay'}")
    else:
        parts.append("no weight stays")
    if pruned:
        parts.append(f"{_join(pruned)} {'is' if len(pruned) == 1 else 'are'} pruned")
    else:
        parts.append("nothing is pruned")
    if tied:
        parts.append(f"{_join(tied)} {'stays' if len(tied) == 1 else 'stay'} because only "
                     f"weights strictly below the threshold are pruned")
    sentence = "; ".join(parts) + "."
    sentence = sentence[0].upper() + sentence[1:] if sentence[0].isalpha() else sentence
    negatives = [w for w in d.weights if w < 0]
    if negatives:
        sentence += (f" Pruning compares the size |w|, so {_join(negatives)} "
                     f"{'counts' if len(negatives) == 1 else 'count'} as "
                     f"{_join([abs(w) for w in negatives])}.")
    n, k = len(d.weights), len(pruned)
    sentence += f" {k} of {n} weights pruned: {100 * d.sparsity:.0f} % sparsity."
    return sentence


def threshold_bars(d: ThresholdDecision, height: int = 380) -> go.Figure:
    """Bar chart of the sizes |w_i| with the threshold line.

    Two bar traces on one category axis (``w1 = 0.2`` …, in input order): trace ``kept``
    (``KEPT_COLOUR``) and trace ``pruned`` (``PRUNED_COLOUR``, hatched so it also reads in
    grey-scale). Each trace's ``x``/``y`` hold only its own bars, so a test can read which
    weights were kept from the figure. The dashed threshold line is a shape; an empty third
    trace only names it in the legend.
    """
    labels = [f"w{i} = {_fmt(w)}" for i, w in enumerate(d.weights, start=1)]
    fig = go.Figure()
    for name, colour, keep, pattern in (("kept", KEPT_COLOUR, True, ""),
                                        ("pruned", PRUNED_COLOUR, False, "/")):
        idx = [i for i, k in enumerate(d.kept) if k == keep]
        fig.add_trace(go.Bar(
            x=[labels[i] for i in idx], y=[d.scores[i] for i in idx], name=name,
            marker=dict(color=colour, pattern=dict(shape=pattern, fgcolor="#5a3b00")),
            text=[name] * len(idx), textposition="outside",
            textfont=dict(size=FONT_SIZE),
            hovertemplate="%{x}<br>|w| = %{y:g}<extra>" + name + "</extra>"))
    line = dict(color="black", width=3, dash="dash")
    fig.add_hline(y=d.threshold, line=line)
    # The line is named in the legend, not by an annotation that would sit on the bars.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line,
                             name=f"threshold t = {_fmt(d.threshold)}"))
    top = max([*d.scores, d.threshold]) or 1.0
    fig.update_xaxes(categoryorder="array", categoryarray=labels, title="")
    fig.update_yaxes(title="size |w|", range=[0, 1.25 * top])
    fig.update_layout(barmode="overlay", bargap=0.35,
                      legend=dict(orientation="h", y=-0.15, x=0))
    return layout(fig, "kept (|w| ≥ t) vs pruned (|w| < t)", height)
