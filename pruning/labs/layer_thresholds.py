"""Threshold vs target sparsity on a real model, and why one global threshold prunes layers
unevenly.

Notation: a layer ℓ has n_ℓ weights with magnitude scores s = |w|. For a threshold t the
reached sparsity is the fraction strictly below it (the rule of
``pruning.core.selection.select_by_threshold``):

    sparsity_ℓ(t) = #{s ∈ layer ℓ : s < t} / n_ℓ,     sparsity(t) = Σ_ℓ #{s < t} / Σ_ℓ n_ℓ

i.e. the empirical cumulative distribution of |w| just left of t. The inverse question, "which
threshold reaches a target sparsity p?", has the answer t = s_(k+1), the (k+1)-th smallest
score with k = round(p · n) (the smallest score that stays). Equal scores at the cut-off can
make p unreachable exactly (a threshold keeps or prunes all equal scores together), so the
sparsity that t really reaches is always reported next to it.

Layers have different weight scales (a layer with many inputs is initialised with smaller
weights, ~U(±1/√fan_in), and training moves each layer differently), so the same t lands at a
different point of each layer's distribution: one *global* threshold prunes the small-weight
layers much harder. Pruning each layer to the same fraction (``scope="layer"``) instead needs
a different threshold per layer.

This module computes the tables and the curves as data; the bars, the curve chart and the
sentence about them are in ``pruning.present.thresholds``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from pruning.core.models import layer_label, prunable_names
from pruning.core.selection import (
    check_threshold,
    n_to_prune,
    select_by_sparsity,
    select_by_threshold,
)
from pruning.errors import PruningError, check_fraction

ALL_LAYERS = "all layers (global)"

Scores = Mapping[str, torch.Tensor]


def magnitude_scores(model: nn.Module, include_output: bool = True) -> dict[str, torch.Tensor]:
    """{weight name: |w|} for the prunable weights (biases excluded), in model order."""
    params = dict(model.named_parameters())
    return {n: params[n].detach().abs().clone()
            for n in prunable_names(model, include_output=include_output)}


def layer_shape_label(name: str, shape) -> str:
    """``core.models.layer_label`` with the shape as the reader sees it: ``layers.0.weight`` of
    shape (300, 64) -> ``layers.0 (64→300)``; a conv weight (16, 8, 3, 3) ->
    ``convs.1 (8→16, 3×3)``."""
    base = layer_label(name)
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return f"{base} ({shape[1]}→{shape[0]})"
    if len(shape) == 4:
        return f"{base} ({shape[1]}→{shape[0]}, {shape[2]}×{shape[3]})"
    return f"{base} {tuple(shape)}"


def _as_dict(scores) -> dict[str, torch.Tensor]:
    if isinstance(scores, Mapping):
        if not scores:
            raise PruningError("there are no weights to look at")
        return dict(scores)
    return {"w": torch.as_tensor(scores)}


def _sorted_flat(scores) -> np.ndarray:
    d = _as_dict(scores)
    return np.sort(torch.cat([s.detach().flatten() for s in d.values()]).cpu().numpy())


def sparsity_at_threshold(scores, threshold: float) -> float:
    """Fraction of the weights in ``scores`` (a tensor, or a dict pooled globally) pruned by
    ``threshold`` (score < t), decided by ``select_by_threshold``."""
    return select_by_threshold(_as_dict(scores), threshold).reached


@dataclass(frozen=True)
class ThresholdForSparsity:
    """The threshold that reaches (as closely as a threshold can) a ``target`` sparsity."""

    target: float
    threshold: float
    reached: float
    n_pruned: int
    n_total: int


def threshold_for_sparsity(scores, target: float) -> ThresholdForSparsity:
    """t = the (k+1)-th smallest score, k = round-half-up(target · n) (see module docstring).

    target 0 gives t = 0 (nothing is below it, scores are ≥ 0); target 1 gives the smallest
    float above the largest score, so every weight is strictly below it.
    """
    p = check_fraction("target sparsity", target)
    flat = _sorted_flat(scores)
    n = flat.size
    k = n_to_prune(p, n)
    if k == 0:
        t = 0.0
    elif k >= n:
        t = float(np.nextafter(flat[-1], np.inf))
    else:
        t = float(flat[k])
    reached = sparsity_at_threshold(scores, t)
    return ThresholdForSparsity(p, t, reached, int(round(reached * n)), n)


def layer_threshold_table(scores: Scores, threshold: float) -> pd.DataFrame:
    """One global threshold against per-layer pruning to the same overall sparsity.

    Columns (one row per layer, model order):
      layer, name, shape, weights, median_abs_w, mean_abs_w,
      global_threshold, global_sparsity_pct   — what the one threshold t prunes per layer,
      per_layer_threshold, per_layer_sparsity_pct — pruning every layer to the overall
                                                  sparsity that t reached (``scope="layer"``),
                                                  and the threshold each layer needs for it.
    """
    t = check_threshold(threshold)
    scores = _as_dict(scores)
    glob = select_by_threshold(scores, t)
    overall = glob.reached
    per_layer = select_by_sparsity(scores, overall, scope="layer")
    rows = []
    for name, s in scores.items():
        flat = s.detach().flatten().double()
        rows.append({
            "layer": layer_shape_label(name, s.shape),
            "name": name,
            "shape": " × ".join(str(d) for d in s.shape),
            "weights": int(flat.numel()),
            "median_abs_w": float(flat.median()),
            "mean_abs_w": float(flat.mean()),
            "global_threshold": t,
            "global_sparsity_pct": 100.0 * glob.per_layer[name],
            "per_layer_threshold": threshold_for_sparsity(s, overall).threshold,
            "per_layer_sparsity_pct": 100.0 * per_layer.per_layer[name],
        })
    return pd.DataFrame(rows)


def overall_sparsity_pct(table: pd.DataFrame) -> float:
    """Sparsity of all the table's weights together under the global threshold (in %)."""
    pruned = (table["global_sparsity_pct"] / 100 * table["weights"]).sum()
    return 100.0 * float(pruned / table["weights"].sum())


def sparsity_curves(scores: Scores, n_points: int = 200) -> pd.DataFrame:
    """Tidy (layer, threshold, sparsity_pct): sparsity reached as a function of the threshold,
    per layer and for all layers pooled (``ALL_LAYERS``).

    The grid runs from 0 to the largest per-layer 99th percentile of |w| (beyond it every
    curve is flat near 100 %, and the few huge weights would squash the interesting part).
    Counting uses ``searchsorted(side="left")`` = #{s < t}, the same strict rule as
    ``select_by_threshold``.
    """
    scores = _as_dict(scores)
    flats = {layer_shape_label(n, s.shape): np.sort(s.detach().flatten().double().cpu().numpy())
             for n, s in scores.items()}
    top = max(float(np.quantile(f, 0.99)) for f in flats.values() if f.size) if flats else 1.0
    grid = np.linspace(0.0, top or 1.0, n_points)
    pooled = np.sort(np.concatenate(list(flats.values())))
    frames = []
    for label, f in [*flats.items(), (ALL_LAYERS, pooled)]:
        frames.append(pd.DataFrame({
            "layer": label, "threshold": grid,
            "sparsity_pct": 100.0 * np.searchsorted(f, grid, side="left") / max(f.size, 1)}))
    return pd.concat(frames, ignore_index=True)

