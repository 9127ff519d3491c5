"""What each granularity costs: structured (whole units) vs unstructured (single weights)
pruning at the *same number of remaining weights*.

For each fraction f of hidden units removed:
  1. structured: remove f of every hidden layer's units (``pruning.structured.select``), count the
     weights that remain (the compacted model's Linear / Conv2d weights,
     ``pruning.structured.compact``) = the budget B;
  2. unstructured: global magnitude pruning of all Linear / Conv2d weights (output layer
     included) down to the same B weights;
  3. unstructured, per layer: magnitude pruning of the same share of *every* layer down to
     (about) the same B weights — it can never empty a layer;
  4. evaluate all three right after pruning and after fine-tuning (same epochs, masks fixed).

Layer collapse. At high sparsity a global ranking can remove *every* weight of a layer (its
weights are all smaller than the others'); the network is then cut in two and predicts one
class, whatever the granularity. ``empty_layers`` names such layers per row, so the sentences
can say that a gap comes from collapse, and compare structured with the per-layer arm instead.

Biases are not counted in B: unstructured pruning keeps all of them, structured pruning drops
the removed units' biases (a handful). The table also reports what really shrinks: the
parameters a dense computation stores and the multiply-adds it does per example — smaller for
the compacted structured model, unchanged for the masked unstructured one. The figure and the
sentences are drawn in ``pruning.present.structured``.
"""
from __future__ import annotations

import copy

import pandas as pd
from torch import nn

from pruning.config import TrainConfig
from pruning.core.counts import count_parameters, multiply_adds, weight_count
from pruning.core.masks import apply_masks
from pruning.core.models import layer_label, prunable_names
from pruning.core.selection import select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import PruningError, check_fraction
from pruning.scoring import ScoreContext, score
from pruning.structured.compact import compact
from pruning.structured.select import select_units, unit_masks
from pruning.structured.units import unit_layers, unit_scores

GRANULARITIES = ("structured", "unstructured", "unstructured_layer")


def _finetune_and_measure(model: nn.Module, masks, data, finetune: TrainConfig) -> dict:
    pruned = evaluate_all(model, data)
    if finetune.epochs > 0:
        train(model, data, finetune, masks=masks)
    after = evaluate_all(model, data)
    return {**{f"{k}_pruned": v for k, v in pruned.items()}, **after}


def compare_granularity(model: nn.Module, data, fractions=(0.25, 0.5, 0.75, 0.9),
                        method: str = "l1", finetune: TrainConfig | None = None,
                        seed: int = 0) -> pd.DataFrame:
    """One row per (fraction, granularity); ``model`` is not modified.

    columns: units_removed, granularity, kept_weights, kept_weights_pct, stored_params,
    macs_per_example, empty_layers (layers left with no weight, comma-separated),
    {train,val,test}_{loss,acc}_pruned, {train,val,test}_{loss,acc}, n_test.
    """
    fractions = [check_fraction("fraction of units", f) for f in fractions]
    if not fractions:
        raise PruningError("give at least one fraction of units to remove")
    finetune = finetune or TrainConfig(epochs=3, seed=seed)
    unit_layers(model)  # refuses models without units before any work
    scores = unit_scores(model, data, method, seed=seed)
    names = prunable_names(model, include_output=True)
    total_weights = weight_count(model)
    magnitude = score("magnitude", ScoreContext(model, names))
    dense_params = count_parameters(model)
    dense_macs = multiply_adds(model, data.n_features)["dense"]
    rows = []
    for f in fractions:
        keep = select_units(scores, f, "layer")
        masks_s = unit_masks(model, keep)
        m_s = apply_masks(copy.deepcopy(model), masks_s)
        small = compact(m_s, keep)
        budget = weight_count(small)
        common = {"units_removed": f, "kept_weights": budget,
                  "kept_weights_pct": 100.0 * budget / total_weights}
        metrics_s = _finetune_and_measure(m_s, masks_s, data, finetune)
        rows.append({**common, "granularity": "structured", "stored_params": count_parameters(small),
                     "macs_per_example": multiply_adds(small, data.n_features)["dense"],
                     **metrics_s})
        rows[-1]["empty_layers"] = ""
        for granularity, scope in (("unstructured", "global"), ("unstructured_layer", "layer")):
            sel = select_by_sparsity(magnitude, 1 - budget / total_weights, scope)
            m_u = apply_masks(copy.deepcopy(model), sel.masks)
            metrics_u = _finetune_and_measure(m_u, sel.masks, data, finetune)
            empty = [layer_label(n) for n, m in sel.masks.items() if not bool(m.any())]
            rows.append({**common, "kept_weights": sel.n_kept,
                         "kept_weights_pct": 100.0 * sel.n_kept / total_weights,
                         "granularity": granularity, "stored_params": dense_params,
                         "macs_per_example": dense_macs, "empty_layers": ", ".join(empty),
                         **metrics_u})
    df = pd.DataFrame(rows).assign(n_test=len(data.y_test))
    cols = ["units_removed", "granularity", "kept_weights", "kept_weights_pct",
            "stored_params", "macs_per_example", "empty_layers"]
    return df[cols + [c for c in df.columns if c not in cols]]

