"""“What shrank?”, measured: the dense, pruned and compacted models side by side.

``measure_shrinkage`` builds two tidy tables from ``pruning.core.counts`` (counts),
``pruning.labs.measure`` (bytes and latency on this machine) and ``pruning.core.training``
(accuracy):

* ``models``: one row per model (dense, pruned = masked, compacted = dead units removed by
  ``pruning.structured.compact``) — parameters, non-zeros, multiply-adds, file bytes (plain,
  gzip, sparse CSR / COO), train and test accuracy;
* ``latency``: one row per way of running it — the dense model, the pruned model as an ordinary
  dense module (zeros multiplied like any number), with CSR weights (``torch.sparse``), the
  compacted model, and the dense model *again*.

That last row is an A/A check: same model, same input. How far its two medians differ,
``noise_ratio`` ≥ 1, is how much this machine's load moves a timing right now. "X is faster"
(``beats``) needs both: the middle halves of the timed runs do not overlap
(``measure.clearly_faster``) and the gain exceeds the A/A difference and 10 %. When the A/A pair
differs by more than 25 % (``too_noisy``) no speed is called at all, instead of reporting a
speed-up that is really background load.

The headline, the notes and the figures built from these tables are in
``pruning.present.shrink``; the tables below (``*_table``) are the same numbers with readable
column names, for the page and the CSV.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from pruning.core.counts import multiply_adds, parameter_counts
from pruning.core.data import DataBundle
from pruning.core.masks import count_total
from pruning.core.training import evaluate_all
from pruning.labs.measure import (
    clearly_faster,
    storage_sizes,
    time_forward,
    to_sparse_inference,
)
from pruning.structured.compact import Compaction

DENSE, MASKED, SPARSE, COMPACT = "dense", "pruned, masked dense", "pruned, torch.sparse CSR", \
    "pruned, compacted"
DENSE_AGAIN = "dense, timed again (A/A check)"
MIN_SPEEDUP = 1.10     # smaller gains are not called "faster"
MAX_NOISE = 1.25       # A/A pair further apart than this: timings too noisy to call
MODEL_LABELS = {"dense": "dense (trained)", "pruned": "pruned (masked)",
                "compacted": "pruned + compacted"}


@dataclass
class Shrinkage:
    """Everything the page shows. ``models``: one row per model (dense / pruned / compacted);
    ``latency``: one row per inference variant; ``sparsity``: share of prunable weights
    removed; ``units``: hidden units (neurons or channels) before and after compaction."""

    models: pd.DataFrame
    latency: pd.DataFrame
    sparsity: float
    units_before: int
    units_after: int
    unit_name: str = "neuron"   # "channel" for a CNN

    def model(self, key: str) -> pd.Series:
        """The ``models`` row of ``key`` (``dense``, ``pruned`` or ``compacted``)."""
        return self.models.set_index("model").loc[MODEL_LABELS[key]]

    def median_ms(self, variant: str) -> float:
        """Median milliseconds per batch of one latency ``variant`` (``DENSE``, ``MASKED`` …)."""
        return float(self.latency.set_index("variant").loc[variant, "median_ms"])

    @property
    def units_removed(self) -> int:
        return self.units_before - self.units_after


def _model_row(label: str, model: nn.Module, data: DataBundle) -> dict:
    counts = parameter_counts(model)
    macs = multiply_adds(model, data.n_features)
    acc = evaluate_all(model, data)
    return {"model": label, "parameters": counts["total"], "nonzero_parameters": counts["nonzero"],
            "macs_dense": macs["dense"], "macs_effective": macs["effective"],
            **{f"{k}_bytes": v for k, v in storage_sizes(model).items()},
            "train_acc": acc["train_acc"], "test_acc": acc["test_acc"]}


def measure_shrinkage(dense: nn.Module, pruned: nn.Module, compaction: Compaction,
                      masks: dict[str, torch.Tensor], data: DataBundle, batch_size: int = 256,
                      repeats: int = 7, min_run_s: float = 0.02) -> Shrinkage:
    """Measure the three models; time four ways of running them on one test batch.

    Latency variants: the dense model, the pruned model as an ordinary dense module (zeros
    multiplied like any number), the pruned model with CSR weights (``torch.sparse``), and the
    compacted model. The batch is the first ``batch_size`` test examples (repeated when the
    test split is smaller), so every variant sees the same input.
    """
    rows = [_model_row(MODEL_LABELS["dense"], dense, data),
            _model_row(MODEL_LABELS["pruned"], pruned, data),
            _model_row(MODEL_LABELS["compacted"], compaction.model, data)]
    X = data.X_test
    if len(X) == 0:
        X = data.X_train
    reps = -(-int(batch_size) // len(X))
    X = X.repeat(reps, 1)[:int(batch_size)].contiguous()
    latency = time_forward({DENSE: dense, MASKED: pruned, SPARSE: to_sparse_inference(pruned),
                            COMPACT: compaction.model, DENSE_AGAIN: copy.deepcopy(dense)},
                           X, repeats=repeats, min_run_s=min_run_s)
    base = float(latency.loc[latency["variant"] == DENSE, "median_ms"].iloc[0])
    latency["speedup_vs_dense"] = base / latency["median_ms"]
    total = count_total(masks)
    removed = sum(int((~m).sum()) for m in masks.values())
    unit = "channel" if any(isinstance(m, nn.Conv2d) for m in dense.modules()) else "neuron"
    return Shrinkage(pd.DataFrame(rows), latency, removed / total if total else 0.0,
                     sum(compaction.widths_before), sum(compaction.widths_after), unit)


# ----------------------------------------------------------------------------- is it faster?
def noise_ratio(s: Shrinkage) -> float:
    """How far apart the two timings of the same dense model are (≥ 1; 1 = identical)."""
    a, b = s.median_ms(DENSE), s.median_ms(DENSE_AGAIN)
    return max(a / b, b / a)


def too_noisy(s: Shrinkage) -> bool:
    return noise_ratio(s) > MAX_NOISE


def beats(s: Shrinkage, fast: str, slow: str) -> bool:
    """``fast`` ran faster than ``slow`` beyond the noise (see the module docstring)."""
    if too_noisy(s):
        return False
    ratio = s.median_ms(slow) / s.median_ms(fast)
    return clearly_faster(s.latency, fast, slow) and ratio >= max(MIN_SPEEDUP, noise_ratio(s))


# ----------------------------------------------------------------------------- tables
ACCURACY_COLUMNS = {"model": "model", "train_acc": "train accuracy (%)",
                    "test_acc": "test accuracy (%)"}
COUNT_COLUMNS = {"model": "model", "parameters": "parameters", "nonzero_parameters": "non-zero",
                 "macs_dense": "multiply-adds (dense)", "macs_effective": "multiply-adds (non-zero)"}
BYTES_COLUMNS = {"model": "model", "dense_file_bytes": "state_dict file (B)",
                 "dense_gzip_bytes": "gzip (B)", "csr_file_bytes": "CSR file (B)",
                 "coo_file_bytes": "COO file (B)"}
SIZE_COLUMNS = {**COUNT_COLUMNS, **BYTES_COLUMNS}
LATENCY_COLUMNS = {"variant": "variant", "median_ms": "median ms / batch", "q1_ms": "lower quartile",
                   "q3_ms": "upper quartile", "speedup_vs_dense": "speed-up vs dense",
                   "repeats": "timed runs", "calls_per_run": "calls per run",
                   "batch_size": "batch size", "threads": "threads"}


def accuracy_table(s: Shrinkage) -> pd.DataFrame:
    """Accuracy in % (2 decimals: one test example of 360 is 0.28 points)."""
    t = s.models[list(ACCURACY_COLUMNS)].copy()
    t[["train_acc", "test_acc"]] = (100 * t[["train_acc", "test_acc"]]).round(2)
    return t.rename(columns=ACCURACY_COLUMNS)


def size_table(s: Shrinkage) -> pd.DataFrame:
    return s.models[list(SIZE_COLUMNS)].rename(columns=SIZE_COLUMNS)


def counts_table(s: Shrinkage) -> pd.DataFrame:
    return s.models[list(COUNT_COLUMNS)].rename(columns=COUNT_COLUMNS)


def bytes_table(s: Shrinkage) -> pd.DataFrame:
    return s.models[list(BYTES_COLUMNS)].rename(columns=BYTES_COLUMNS)


def latency_table(s: Shrinkage) -> pd.DataFrame:
    t = s.latency[list(LATENCY_COLUMNS)].copy()
    t[["median_ms", "q1_ms", "q3_ms"]] = t[["median_ms", "q1_ms", "q3_ms"]].round(4)
    t["speedup_vs_dense"] = t["speedup_vs_dense"].round(2)
    return t.rename(columns=LATENCY_COLUMNS)


def results_csv_table(s: Shrinkage) -> pd.DataFrame:
    """Everything in one tidy long table for CSV: one row per (subject, quantity)."""
    rows = []
    for _, r in s.models.iterrows():
        for col in s.models.columns.drop("model"):
            rows.append({"subject": r["model"], "quantity": col, "value": float(r[col])})
    for _, r in s.latency.iterrows():
        for col in ("median_ms", "q1_ms", "q3_ms", "speedup_vs_dense", "batch_size", "threads"):
            rows.append({"subject": r["variant"], "quantity": f"latency_{col}",
                         "value": float(r[col])})
    rows.append({"subject": "masks", "quantity": "sparsity_of_prunable_weights",
                 "value": s.sparsity})
    rows.append({"subject": "hidden units", "quantity": "before_compaction", "value": s.units_before})
    rows.append({"subject": "hidden units", "quantity": "after_compaction", "value": s.units_after})
    return pd.DataFrame(rows)
