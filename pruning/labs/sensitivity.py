"""Sensitivity analysis (as in Distiller and NNI): how much does each layer tolerate alone?

For every prunable layer ℓ and every sparsity s in ``SENSITIVITY_LEVELS`` (10 % … 95 %):
prune only layer ℓ to sparsity s (its lowest-scoring weights; every other layer untouched, no
fine-tuning) and measure validation accuracy. Layers whose accuracy stays flat can be pruned
hard; layers whose accuracy falls early are *sensitive*.

Suggested per-layer sparsity (``suggest_sparsities``): the largest tested s such that the
validation accuracy at s *and at every smaller tested sparsity* stays within ``tolerance``
(absolute, in accuracy) of the dense model's; 0 if even 10 % costs more. The suggestion is
made one layer at a time, so pruning all layers together at their suggestions usually costs
more than the tolerance — effects add up. ``evaluate_per_layer`` measures exactly that, and
compares with one uniform sparsity removing the same number of weights.

Validation data is used for every decision here; test accuracy is only reported. The curves
and the sentences about them are drawn in ``pruning.present.structured``.
"""
from __future__ import annotations

import copy
from typing import Mapping

import pandas as pd
import torch
from torch import nn

from pruning.core.masks import apply_masks, count_total
from pruning.core.models import layer_label, prunable_names
from pruning.core.selection import n_to_prune, select_by_sparsity
from pruning.core.training import evaluate, evaluate_all
from pruning.errors import PruningError, check_fraction
from pruning.scoring import ScoreContext, score

SENSITIVITY_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def sensitivity_scan(model: nn.Module, data, levels=SENSITIVITY_LEVELS,
                     scorer: str = "magnitude", include_output: bool = True, seed: int = 0,
                     init_state: Mapping[str, torch.Tensor] | None = None) -> pd.DataFrame:
    """Tidy table: layer, weights, sparsity, val_acc, val_loss (``model`` is not modified).

    One scoring of the whole model (scores do not depend on the sparsity), then for each
    layer and level a copy with only that layer pruned.
    """
    levels = sorted({check_fraction("sparsity", s) for s in levels})
    if not levels:
        raise PruningError("give at least one sparsity level")
    names = prunable_names(model, include_output=include_output)
    if not names:
        raise PruningError("no prunable layers")
    scores = score(scorer, ScoreContext(model, names, data, seed=seed, init_state=init_state))
    params = dict(model.named_parameters())
    X, y = data.split("val")
    if len(y) == 0:
        raise PruningError("sensitivity analysis needs a validation split")
    rows = []
    for n in names:
        original = params[n].detach().clone()
        for s in levels:
            mask = select_by_sparsity({n: scores[n]}, s, "layer").masks[n]
            with torch.no_grad():
                params[n].mul_(mask.to(original.dtype))
            e = evaluate(model, X, y)
            with torch.no_grad():
                params[n].copy_(original)  # restore: the caller's model is left as it was
            rows.append({"layer": layer_label(n), "weights": original.numel(), "sparsity": s,
                         "val_acc": e.acc, "val_loss": e.loss})
    return pd.DataFrame(rows)


def suggest_sparsities(scan: pd.DataFrame, dense_val_acc: float,
                       tolerance: float = 0.01) -> pd.DataFrame:
    """Per layer: the largest sparsity whose accuracy (and every smaller level's) stays
    within ``tolerance`` of dense. columns: layer, weights, suggested_sparsity,
    val_acc_at_suggested, weights_removed."""
    tolerance = check_fraction("tolerance", tolerance)
    rows = []
    for layer, part in scan.groupby("layer", sort=False):
        part = part.sort_values("sparsity")
        ok = (part["val_acc"] >= dense_val_acc - tolerance - 1e-12).tolist()
        best, acc = 0.0, dense_val_acc
        for passed, (_, r) in zip(ok, part.iterrows()):
            if not passed:
                break
            best, acc = float(r["sparsity"]), float(r["val_acc"])
        n = int(part["weights"].iloc[0])
        rows.append({"layer": layer, "weights": n, "suggested_sparsity": best,
                     "val_acc_at_suggested": acc, "weights_removed": n_to_prune(best, n)})
    return pd.DataFrame(rows)


def evaluate_per_layer(model: nn.Module, data, sparsities: Mapping[str, float],
                       scorer: str = "magnitude", seed: int = 0,
                       init_state=None) -> dict:
    """Prune every layer at once to its own sparsity (layer name without ``.weight``), and
    — for comparison — all of the same layers to one uniform sparsity removing the same number
    of weights. Returns {per_layer: metrics, uniform: metrics, uniform_sparsity, removed}."""
    names = [f"{layer}.weight" for layer in sparsities]
    scores = score(scorer, ScoreContext(model, names, data, seed=seed, init_state=init_state))
    masks = {}
    for n in names:
        masks[n] = select_by_sparsity({n: scores[n]}, sparsities[layer_label(n)], "layer").masks[n]
    removed = sum(int((~m).sum()) for m in masks.values())
    total = count_total(masks)
    per_layer = evaluate_all(apply_masks(copy.deepcopy(model), masks), data)
    uniform_s = removed / total if total else 0.0
    uni = select_by_sparsity(scores, uniform_s, "layer").masks
    uniform = evaluate_all(apply_masks(copy.deepcopy(model), uni), data)
    return {"per_layer": per_layer, "uniform": uniform, "uniform_sparsity": uniform_s,
            "removed": removed, "total": total}

