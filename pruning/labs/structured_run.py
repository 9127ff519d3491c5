"""One structured-pruning run, inspected: which units go, and proof that compacting is exact.

``run_structured`` removes a fraction of every hidden layer's units from a trained model, then
measures three versions side by side:

  * dense      — the trained model;
  * masked     — the same shapes, removed rows / columns / biases set to zero;
  * compacted  — ``pruning.structured.compact.compact``: a smaller dense model without those
                 units.

The masked and compacted models compute the same function; ``max_output_difference`` is the
largest |logit difference| between them on the test split (float rounding only), and
``same_predictions`` the share of test examples where they predict the same class. After a
short masked fine-tune the compacted model is rebuilt and compared again. The unit-score
chart and the sentence about the sizes are drawn in ``pruning.present.structured``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import pandas as pd
import torch

from pruning.core.counts import (
    count_parameters,
    dense_bytes,
    multiply_adds,
    weight_count,
)
from pruning.core.masks import apply_masks
from pruning.core.training import evaluate_all, train
from pruning.errors import check_fraction
from pruning.labs.measure import saved_bytes
from pruning.structured.compact import compact
from pruning.structured.select import select_units, unit_masks
from pruning.structured.units import check_method, unit_layers, unit_scores

#: The ``model`` column of ``StructuredReport.sizes``, in row order.
VERSIONS = {"dense": "dense", "masked": "masked (zeros, same shapes)",
            "compacted": "compacted (smaller dense)", "finetuned": "compacted, after fine-tuning"}

@dataclass
class StructuredReport:
    """One run: the unit scores and keep-vectors per hidden layer, ``sizes`` (one row per model
    version: hidden_units, stored_params, nonzero_params, weights, dense_bytes (the tensors'
    bytes), file_bytes (what ``torch.save`` of the state_dict really writes),
    macs_per_example, test_acc, val_acc) and the masked-vs-compacted comparison."""

    method: str
    fraction: float
    scores: dict[str, torch.Tensor]     # {hidden layer: unit scores}
    keep: dict[str, torch.Tensor]       # {hidden layer: bool, True = kept}
    sizes: pd.DataFrame                 # one row per model version
    max_output_difference: float
    same_predictions: float
    max_output_difference_finetuned: float
    kept_units: dict[str, tuple[int, int]]  # {layer: (kept, total)}


def _hidden_sizes(model) -> str:
    return " · ".join(str(l.size) for l in unit_layers(model))


def _row(version: str, model, data, metrics: dict) -> dict:
    nonzero = sum(int((p != 0).sum()) for p in model.parameters())
    return {"model": version, "hidden_units": _hidden_sizes(model),
            "stored_params": count_parameters(model), "nonzero_params": nonzero,
            "weights": weight_count(model), "dense_bytes": dense_bytes(model),
            "file_bytes": len(saved_bytes(model.state_dict())),
            "macs_per_example": multiply_adds(model, data.n_features)["dense"],
            "test_acc": metrics["test_acc"], "val_acc": metrics["val_acc"]}


@torch.no_grad()
def _compare_outputs(a, b, X) -> tuple[float, float]:
    a.eval(), b.eval()
    la, lb = a(X), b(X)
    return float((la - lb).abs().max()), float((la.argmax(1) == lb.argmax(1)).float().mean())


def run_structured(trained, data, method: str = "l1", fraction: float = 0.5,
                   finetune_epochs: int = 2, seed: int = 0) -> StructuredReport:
    """See the module docstring. ``trained`` is a ``TrainedModel`` (never modified)."""
    check_method(method)
    fraction = check_fraction("fraction of units", fraction)
    model = trained.build(data)
    scores = unit_scores(model, data, method, seed=seed, init_state=trained.init_state)
    keep = select_units(scores, fraction, "layer")
    masks = unit_masks(model, keep)
    masked = apply_masks(copy.deepcopy(model), masks)
    small = compact(masked, keep)
    diff, same = _compare_outputs(masked, small, data.X_test)
    rows = [_row(VERSIONS["dense"], model, data, evaluate_all(model, data)),
            _row(VERSIONS["masked"], masked, data, evaluate_all(masked, data)),
            _row(VERSIONS["compacted"], small, data, evaluate_all(small, data))]
    diff_ft = float("nan")
    if finetune_epochs > 0:
        tuned = copy.deepcopy(masked)
        train(tuned, data, replace(trained.train_config, epochs=finetune_epochs, seed=seed),
              masks=masks)
        small_ft = compact(tuned, keep)
        diff_ft, _ = _compare_outputs(tuned, small_ft, data.X_test)
        rows.append(_row(VERSIONS["finetuned"], small_ft, data, evaluate_all(small_ft, data)))
    kept = {n: (int(k.sum()), k.numel()) for n, k in keep.items()}
    return StructuredReport(method, fraction, scores, keep, pd.DataFrame(rows), diff, same,
                            diff_ft, kept)

