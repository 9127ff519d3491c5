"""“What shrank?”, measured: the dense, pruned and compacted models side by side.

``measure_shrinkage`` builds two tidy tables from ``pruning.core.counts`` (counts),
``pruning.labs.measure`` (bytes and latency on this machine) and ``pruning.core.training``
(accuracy):

* ``models``: one row per model (dense, pruned = masked, compacted = dead units removed by
  ``pruning.structured.compact``, and — the rest of the compression stack — the dense and the
  compacted model after post-training int8 dynamic quantization of their linear layers,
  ``measure.quantize_int8``) — parameters, non-zeros, multiply-adds, torch's file bytes
  (plain, gzip, sparse CSR / COO with int64 indices), the bytes of every encoding of
  ``pruning.labs.storage`` (32/16-bit and relative indices), train and test accuracy;
* ``latency``: one row per way of running it — the dense model, the pruned model as an ordinary
  dense module (zeros multiplied like any number), with CSR weights (``torch.sparse``), the
  compacted model, the two int8 models, and the dense model *again*.

That last row is an A/A check: same model, same input. How far its two medians differ,
``noise_ratio`` ≥ 1, is how much this machine's load moves a timing right now; when it is
over 25 % the whole timing is made again (up to 3 attempts, ``measure.time_steadily``) and the
steadiest attempt is kept — its ``attempts`` column says how many were needed. "X is faster"
(``beats``) needs both: the middle halves of the timed runs do not overlap
(``measure.clearly_faster``) and the gain exceeds the A/A difference and 10 %. When the A/A pair
differs by more than 25 % (``too_noisy``) no speed is called at all, instead of reporting a
speed-up that is really background load.

The noise gate decides **once per measurement**: ``with_verdicts`` adds to ``latency`` a
``verdict`` per variant against dense (faster / slower / within noise / not called) and the
speed-up's range over the middle half of the timed runs (dense median ÷ the variant's upper and
lower quartile). Everything that speaks about speed — headline, notes, metric, chart, report,
CSV — reads that column; ``best_speedup`` and ``best_size`` pick the one answer they all give.

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
    gzip_size,
    quantize_int8,
    saved_bytes,
    storage_sizes,
    time_steadily,
    to_sparse_inference,
)
from pruning.labs.storage import DENSE32, FORMATS, encoded_sizes, smallest_lossless
from pruning.structured.compact import Compaction

DENSE, MASKED, SPARSE, COMPACT = "dense", "pruned, masked dense", "pruned, torch.sparse CSR", \
    "pruned, compacted"
DENSE_INT8, COMPACT_INT8 = "dense, int8 dynamic", "pruned, compacted, int8 dynamic"
DENSE_AGAIN = "dense, timed again (A/A check)"
FASTER, SLOWER, SAME, NOT_CALLED = "faster", "slower", "within noise", "not called (machine busy)"
MIN_SPEEDUP = 1.10     # smaller gains are not called "faster"
MAX_NOISE = 1.25       # A/A pair further apart than this: timings too noisy to call
MODEL_LABELS = {"dense": "dense (trained)", "pruned": "pruned (masked)",
                "compacted": "pruned + compacted", "dense_int8": "dense + int8",
                "compacted_int8": "pruned + compacted + int8"}
#: Which model each latency variant runs (for the accuracy and bytes that go with a speed).
VARIANT_MODEL = {DENSE: "dense", MASKED: "pruned", SPARSE: "pruned", COMPACT: "compacted",
                 DENSE_INT8: "dense_int8", COMPACT_INT8: "compacted_int8", DENSE_AGAIN: "dense"}


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

    def __post_init__(self):
        if "verdict" not in self.latency.columns:
            self.latency = with_verdicts(self.latency)

    def model(self, key: str) -> pd.Series:
        """The ``models`` row of ``key`` (``dense``, ``pruned`` or ``compacted``)."""
        return self.models.set_index("model").loc[MODEL_LABELS[key]]

    def median_ms(self, variant: str) -> float:
        """Median milliseconds per batch of one latency ``variant`` (``DENSE``, ``MASKED`` …)."""
        return float(self.latency.set_index("variant").loc[variant, "median_ms"])

    @property
    def units_removed(self) -> int:
        return self.units_before - self.units_after


def _model_row(label: str, model: nn.Module, data: DataBundle,
               quantized: nn.Module | None = None) -> dict:
    """Counts and encodings of ``model``; with ``quantized`` (its int8 version) the file
    bytes and accuracy are the quantized model's and the float encodings do not apply."""
    counts = parameter_counts(model)
    macs = multiply_adds(model, data.n_features)
    measured = quantized if quantized is not None else model
    acc = evaluate_all(measured, data)
    files = storage_sizes(model) if quantized is None else {
        **storage_sizes(model), "csr_file": float("nan"), "coo_file": float("nan")}
    if quantized is not None:
        raw = saved_bytes(quantized.state_dict())
        files.update(dense_file=len(raw), dense_gzip=gzip_size(raw))
    enc = (encoded_sizes(model) if quantized is None
           else dict.fromkeys(FORMATS, float("nan")))
    return {"model": label, "parameters": counts["total"], "nonzero_parameters": counts["nonzero"],
            "macs_dense": macs["dense"], "macs_effective": macs["effective"],
            **{f"{k}_bytes": v for k, v in files.items()},
            **{f"enc:{k}": (float("nan") if v is None else v) for k, v in enc.items()},
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
    dense_q, compact_q = quantize_int8(dense), quantize_int8(compaction.model)
    rows = [_model_row(MODEL_LABELS["dense"], dense, data),
            _model_row(MODEL_LABELS["pruned"], pruned, data),
            _model_row(MODEL_LABELS["compacted"], compaction.model, data),
            _model_row(MODEL_LABELS["dense_int8"], dense, data, dense_q),
            _model_row(MODEL_LABELS["compacted_int8"], compaction.model, data, compact_q)]
    X = data.X_test
    if len(X) == 0:
        X = data.X_train
    reps = -(-int(batch_size) // len(X))
    X = X.repeat(reps, 1)[:int(batch_size)].contiguous()
    latency = time_steadily({DENSE: dense, MASKED: pruned, SPARSE: to_sparse_inference(pruned),
                             COMPACT: compaction.model, DENSE_INT8: dense_q,
                             COMPACT_INT8: compact_q, DENSE_AGAIN: copy.deepcopy(dense)},
                            X, (DENSE, DENSE_AGAIN), MAX_NOISE, repeats=repeats,
                            min_run_s=min_run_s)
    total = count_total(masks)
    removed = sum(int((~m).sum()) for m in masks.values())
    unit = "channel" if any(isinstance(m, nn.Conv2d) for m in dense.modules()) else "neuron"
    return Shrinkage(pd.DataFrame(rows), latency, removed / total if total else 0.0,
                     sum(compaction.widths_before), sum(compaction.widths_after), unit)


# ----------------------------------------------------------------------------- is it faster?
def _noise(lat: pd.DataFrame) -> float:
    a, b = lat.loc[DENSE, "median_ms"], lat.loc[DENSE_AGAIN, "median_ms"]
    return float(max(a / b, b / a))


def _beats(lat: pd.DataFrame, fast: str, slow: str) -> bool:
    if _noise(lat) > MAX_NOISE:
        return False
    ratio = lat.loc[slow, "median_ms"] / lat.loc[fast, "median_ms"]
    flat = lat.reset_index(drop="variant" in lat.columns)
    return clearly_faster(flat, fast, slow) and ratio >= max(MIN_SPEEDUP, _noise(lat))


def with_verdicts(latency: pd.DataFrame) -> pd.DataFrame:
    """``latency`` plus, per variant against dense: ``speedup_vs_dense`` (median ratio),
    ``speedup_low`` / ``speedup_high`` (dense median ÷ the variant's upper / lower quartile:
    the range over the middle half of its timed runs), ``ms_per_example`` and ``verdict`` —
    the one noise-gate decision every sentence and chart uses (see the module docstring)."""
    lat = latency.set_index("variant", drop=False).copy()
    base = float(lat.loc[DENSE, "median_ms"])
    lat["speedup_vs_dense"] = base / lat["median_ms"]
    lat["speedup_low"] = base / lat["q3_ms"]
    lat["speedup_high"] = base / lat["q1_ms"]
    lat["ms_per_example"] = lat["median_ms"] / lat["batch_size"]
    noisy = DENSE_AGAIN in lat.index and _noise(lat) > MAX_NOISE
    verdicts = []
    for v in lat.index:
        if v in (DENSE, DENSE_AGAIN):
            verdicts.append("reference")
        elif noisy:
            verdicts.append(NOT_CALLED)
        elif _beats(lat, v, DENSE):
            verdicts.append(FASTER)
        elif _beats(lat, DENSE, v):
            verdicts.append(SLOWER)
        else:
            verdicts.append(SAME)
    lat["verdict"] = verdicts
    return lat.reset_index(drop=True)


def noise_ratio(s: Shrinkage) -> float:
    """How far apart the two timings of the same dense model are (≥ 1; 1 = identical)."""
    return _noise(s.latency.set_index("variant"))


def too_noisy(s: Shrinkage) -> bool:
    return noise_ratio(s) > MAX_NOISE


def verdict_of(s: Shrinkage, variant: str) -> str:
    """The noise gate's decision for ``variant`` against dense (decided once, stored)."""
    return str(s.latency.set_index("variant").loc[variant, "verdict"])


def beats(s: Shrinkage, fast: str, slow: str) -> bool:
    """``fast`` ran faster than ``slow`` beyond the noise; against dense, this is the stored
    verdict (see ``with_verdicts``)."""
    if slow == DENSE:
        return verdict_of(s, fast) == FASTER
    if fast == DENSE:
        return verdict_of(s, slow) == SLOWER
    return _beats(s.latency.set_index("variant"), fast, slow)


def best_speedup(s: Shrinkage) -> pd.Series | None:
    """The latency row with the largest speed-up among those the noise gate called faster
    (None when none was)."""
    fast = s.latency[s.latency["verdict"] == FASTER]
    return None if fast.empty else fast.sort_values("speedup_vs_dense").iloc[-1]


@dataclass(frozen=True)
class SizeAnswer:
    """The smallest lossless storage of the pruned model against the dense one, both in the
    same family of encodings (``pruning.labs.storage``, float32 values)."""

    model: str          # key of MODEL_LABELS
    fmt: str
    nbytes: int
    dense_bytes: int    # the dense model in plain float32

    @property
    def ratio(self) -> float:
        return self.dense_bytes / self.nbytes


def best_size(s: Shrinkage) -> SizeAnswer:
    """Smallest lossless encoding of the pruned or compacted model (the curve's size axis)."""
    best = None
    for key in ("pruned", "compacted"):
        row = s.model(key)
        sizes = {f: (None if pd.isna(row[f"enc:{f}"]) else int(row[f"enc:{f}"])) for f in FORMATS}
        fmt, nbytes = smallest_lossless(sizes)
        if best is None or nbytes < best.nbytes:
            best = SizeAnswer(key, fmt, nbytes, int(s.model("dense")[f"enc:{DENSE32}"]))
    return best


# ----------------------------------------------------------------------------- tables
ACCURACY_COLUMNS = {"model": "model", "train_acc": "train accuracy (%)",
                    "test_acc": "test accuracy (%)"}
COUNT_COLUMNS = {"model": "model", "parameters": "parameters", "nonzero_parameters": "non-zero",
                 "macs_dense": "multiply-adds (dense)", "macs_effective": "multiply-adds (non-zero)"}
#: The storage table's rows: (format as people say it, column of ``models``).
STORAGE_ROWS = (
    ("torch.save file (float32)", "dense_file_bytes"),
    ("same file, gzip", "dense_gzip_bytes"),
    ("torch sparse CSR file (int64 indices)", "csr_file_bytes"),
    ("torch sparse COO file (int64 indices)", "coo_file_bytes"),
    *((f"{f} (encoded, no file header)", f"enc:{f}") for f in FORMATS),
)
STORAGE_MODELS = ("dense", "pruned", "compacted")
LATENCY_COLUMNS = {"variant": "variant", "median_ms": "ms per batch (median)",
                   "us_per_example": "µs per example", "q1_ms": "lower quartile (ms)",
                   "q3_ms": "upper quartile (ms)", "speedup_vs_dense": "speed-up vs dense",
                   "speedup_range": "speed-up, middle half of runs", "verdict": "noise gate",
                   "repeats": "timed runs", "attempts": "timing attempts",
                   "batch_size": "batch size", "threads": "threads"}


def accuracy_table(s: Shrinkage) -> pd.DataFrame:
    """Accuracy in % (2 decimals: one test example of 360 is 0.28 points)."""
    t = s.models[list(ACCURACY_COLUMNS)].copy()
    t[["train_acc", "test_acc"]] = (100 * t[["train_acc", "test_acc"]]).round(2)
    return t.rename(columns=ACCURACY_COLUMNS)


def counts_table(s: Shrinkage) -> pd.DataFrame:
    return s.models[list(COUNT_COLUMNS)].rename(columns=COUNT_COLUMNS)


def storage_table(s: Shrinkage) -> pd.DataFrame:
    """One row per storage format, one column of KB per model (dense, masked, compacted),
    then the int8 models' torch files; the last column is the dense bytes ÷ the smaller of
    the two pruned ones in that format."""
    rows = []
    for name, col in STORAGE_ROWS:
        kb = [float(s.model(m)[col]) / 1024 for m in STORAGE_MODELS]
        rows.append([name, *kb])
    for name, col in (("torch.save file, linear layers int8 (quantize_dynamic)", "dense_file_bytes"),):
        rows.append([name, float(s.model("dense_int8")[col]) / 1024, float("nan"),
                     float(s.model("compacted_int8")[col]) / 1024])
    t = pd.DataFrame(rows, columns=["format", *(f"{MODEL_LABELS[m]} (KB)" for m in STORAGE_MODELS)])
    kb = t.iloc[:, 1:4]
    t["dense ÷ pruned"] = (kb.iloc[:, 0] / kb.iloc[:, 1:].min(axis=1)).round(2)
    t.iloc[:, 1:4] = kb.round(1)
    return t


def latency_table(s: Shrinkage) -> pd.DataFrame:
    t = s.latency.copy()
    if "attempts" not in t:
        t["attempts"] = 1
    t["us_per_example"] = (1000 * t["ms_per_example"]).round(3)
    t["speedup_range"] = [f"{lo:.2f}–{hi:.2f}×" for lo, hi in zip(t["speedup_low"], t["speedup_high"])]
    t = t[list(LATENCY_COLUMNS)]
    t[["median_ms", "q1_ms", "q3_ms"]] = t[["median_ms", "q1_ms", "q3_ms"]].round(4)
    t["speedup_vs_dense"] = t["speedup_vs_dense"].round(2)
    return t.rename(columns=LATENCY_COLUMNS)


def results_csv_table(s: Shrinkage) -> pd.DataFrame:
    """Everything in one tidy long table (the "full data" file): one row per (subject,
    quantity); values are numbers except the noise gate's verdicts."""
    rows = []
    for _, r in s.models.iterrows():
        for col in s.models.columns.drop("model"):
            rows.append({"subject": r["model"], "quantity": col, "value": float(r[col])})
    for _, r in s.latency.iterrows():
        for col in ("median_ms", "q1_ms", "q3_ms", "ms_per_example", "speedup_vs_dense",
                    "speedup_low", "speedup_high", "batch_size", "threads"):
            rows.append({"subject": r["variant"], "quantity": f"latency_{col}",
                         "value": float(r[col])})
        rows.append({"subject": r["variant"], "quantity": "latency_verdict",
                     "value": r["verdict"]})
    rows.append({"subject": "masks", "quantity": "sparsity_of_prunable_weights",
                 "value": s.sparsity})
    rows.append({"subject": "hidden units", "quantity": "before_compaction", "value": s.units_before})
    rows.append({"subject": "hidden units", "quantity": "after_compaction", "value": s.units_after})
    return pd.DataFrame(rows)
