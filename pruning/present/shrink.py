"""“What shrank?”: the dense, pruned and compacted models side by side, every number measured.

``measure_shrinkage`` builds three tidy tables (one row per model or variant) from
``pruning.core.counts`` (counts), ``pruning.labs.measure`` (bytes and latency on this machine) and
``pruning.core.training`` (accuracy). ``headline`` turns them into one sentence a manager can
repeat, and ``notes`` into the "what to notice" bullets; both only say what the numbers show:

* "N % of the weights removed" — share of the *prunable* weights that the masks remove;
* accuracy dense → pruned on the test split;
* the file: gzip-compressed dense-model file vs gzip-compressed pruned-model file (an
  uncompressed ``state_dict`` is the same size whatever the zeros);
* speed: the dense model is timed twice (an A/A check: same model, same input). How far its two
  medians differ, ``noise_ratio``, is how much this machine's load moves a timing right now.
  "X is faster" needs both: the middle halves of the timed runs do not overlap
  (``measure.clearly_faster``) and the gain exceeds the A/A difference and 10 % (``beats``).
  When the A/A pair differs by more than 25 % the sentence says the timing is too noisy to
  call, instead of reporting a speed-up that is really background load.

Figures (bytes, latency) are built here too, so tests can read their data.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
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
from pruning.present import style
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


# ----------------------------------------------------------------------------- words
def _kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB" if n >= 10 * 1024 else f"{n / 1024:,.1f} KB"


def _row(s: Shrinkage, key: str) -> pd.Series:
    return s.models.set_index("model").loc[MODEL_LABELS[key]]


def _lat(s: Shrinkage, variant: str) -> float:
    return float(s.latency.set_index("variant").loc[variant, "median_ms"])


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×"


def noise_ratio(s: Shrinkage) -> float:
    """How far apart the two timings of the same dense model are (≥ 1; 1 = identical)."""
    a, b = _lat(s, DENSE), _lat(s, DENSE_AGAIN)
    return max(a / b, b / a)


def too_noisy(s: Shrinkage) -> bool:
    return noise_ratio(s) > MAX_NOISE


def beats(s: Shrinkage, fast: str, slow: str) -> bool:
    """``fast`` ran faster than ``slow`` beyond the noise (see the module docstring)."""
    if too_noisy(s):
        return False
    ratio = _lat(s, slow) / _lat(s, fast)
    return clearly_faster(s.latency, fast, slow) and ratio >= max(MIN_SPEEDUP, noise_ratio(s))


def _units(s: Shrinkage, n: int) -> str:
    return f"{n} dead {s.unit_name}{'' if n == 1 else 's'}"


def headline(s: Shrinkage) -> str:
    """One sentence: weights removed; test accuracy; compressed file; speed (measured)."""
    d, p = _row(s, "dense"), _row(s, "pruned")
    parts = [f"{100 * s.sparsity:.0f} % of the weights removed",
             f"test accuracy {100 * d.test_acc:.1f} % → {100 * p.test_acc:.1f} %"]
    ratio = d.dense_gzip_bytes / p.dense_gzip_bytes
    if ratio >= 1.05:
        parts.append(f"the file is {_times(ratio)} smaller compressed")
    elif ratio <= 1 / 1.05:
        parts.append(f"the compressed file is {_times(1 / ratio)} larger")
    else:
        parts.append("the compressed file is about the same size")
    removed = s.units_before - s.units_after
    if too_noisy(s):
        parts.append(f"speed not called: this machine is busy (the same model timed twice "
                     f"differed by {_times(noise_ratio(s))}), measure again")
        return "; ".join(parts) + "."
    masked_fast = beats(s, MASKED, DENSE)
    if masked_fast:
        speed = f"the masked model ran {_times(_lat(s, DENSE) / _lat(s, MASKED))} faster here"
    else:
        speed = "inference is not faster with the zeros left in"
    if removed == 0:
        speed += f", and no {s.unit_name} died, so none could be removed"
    elif beats(s, COMPACT, DENSE):
        speed += (f"{'' if masked_fast else ','} but removing the {_units(s, removed)} makes it "
                  f"{_times(_lat(s, DENSE) / _lat(s, COMPACT))} faster")
    else:
        speed += f", and removing the {_units(s, removed)} did not make it measurably faster"
    parts.append(speed)
    return "; ".join(parts) + "."


def notes(s: Shrinkage) -> list[str]:
    """The "what to notice" bullets, each computed from the tables."""
    d, p, c = _row(s, "dense"), _row(s, "pruned"), _row(s, "compacted")
    out = []
    out.append(f"The pruned model's `state_dict` file is {_kb(p.dense_file_bytes)}, the dense "
               f"one's {_kb(d.dense_file_bytes)}: a pruned weight is stored as 0.0 and still "
               f"takes 4 bytes. Compressed, zeros are cheap: {_kb(d.dense_gzip_bytes)} → "
               f"{_kb(p.dense_gzip_bytes)}.")
    csr_vs = p.csr_file_bytes / p.dense_file_bytes
    out.append(f"Stored as sparse CSR the pruned weights take {_kb(p.csr_file_bytes)} "
               f"({100 * csr_vs:.0f} % of the dense file; COO {_kb(p.coo_file_bytes)}): each "
               f"kept weight also stores its 8-byte column index, so sparse storage "
               f"{'pays off' if csr_vs < 1 else 'does not pay off'} at this sparsity.")
    out.append(f"A dense matrix multiply still does all {int(d.macs_dense):,} multiply-adds per "
               f"example; only {int(p.macs_effective):,} ({100 * p.macs_effective / d.macs_dense:.0f} %) "
               f"involve a non-zero weight. Hardware or kernels that skip zeros are needed to "
               f"gain from that.")
    lat = s.latency.set_index("variant")
    sparse_ratio = lat.loc[DENSE, "median_ms"] / lat.loc[SPARSE, "median_ms"]
    if too_noisy(s):
        sparse_word = (f"{_times(sparse_ratio)} as fast as dense in this measurement, but the "
                       f"timings are too noisy to trust")
    elif beats(s, SPARSE, DENSE):
        sparse_word = f"{_times(sparse_ratio)} faster than dense"
    elif beats(s, DENSE, SPARSE):
        sparse_word = f"{_times(1 / sparse_ratio)} slower than dense"
    else:
        sparse_word = "about as fast as dense (within the measurement noise)"
    out.append(f"`torch.sparse` (CSR weights) ran {sparse_word} on this CPU with "
               f"{int(lat.loc[DENSE, 'threads'])} thread(s) and a batch of "
               f"{int(lat.loc[DENSE, 'batch_size'])}; sparse kernels win only at high sparsity "
               f"and lose to dense ones on small or moderately sparse layers.")
    out.append(f"Timing noise right now: the same dense model timed twice came out "
               f"{100 * (noise_ratio(s) - 1):.0f} % apart; speed differences are only called "
               f"when they exceed that and {100 * (MIN_SPEEDUP - 1):.0f} %.")
    removed = s.units_before - s.units_after
    if removed:
        same = abs(c.test_acc - p.test_acc) < 1e-9
        out.append(f"Compaction removed {removed} of {s.units_before} hidden {s.unit_name}s whose "
                   f"weights were all pruned: {int(c.parameters):,} parameters instead of "
                   f"{int(d.parameters):,}, "
                   f"a {_kb(c.dense_file_bytes)} file, and "
                   f"{'the same' if same else 'a different'} test accuracy "
                   f"({100 * c.test_acc:.1f} %).")
    else:
        out.append(f"No hidden {s.unit_name} lost all its weights, so compaction could not remove "
                   f"any: unstructured pruning spreads zeros; structured pruning removes whole "
                   f"{s.unit_name}s.")
    return out


# ----------------------------------------------------------------------------- figures
def bytes_figure(s: Shrinkage, height: int = 420) -> go.Figure:
    """Grouped bars: for each model, its file size plain and gzip-compressed, and for the pruned
    models also as sparse CSR and COO files (KB). The dense model's sparse files are only in
    the table."""
    kinds = [("dense_file_bytes", "state_dict file", "#4c72b0"),
             ("dense_gzip_bytes", "same file, gzip", "#55a868"),
             ("csr_file_bytes", "sparse CSR file", "#c44e52"),
             ("coo_file_bytes", "sparse COO file", "#8172b2")]
    fig = go.Figure()
    pruned_rows = s.models["model"] != MODEL_LABELS["dense"]
    for col, name, colour in kinds:
        # Sparse storage of the dense model (no zeros, indices on top) would be a bar several
        # times taller than everything else; it stays in the table, not in the picture.
        rows = s.models[pruned_rows] if col in ("csr_file_bytes", "coo_file_bytes") else s.models
        kb = rows[col] / 1024
        fig.add_trace(go.Bar(x=rows["model"], y=kb, name=name, marker_color=colour,
                             text=[f"{v:,.0f}" if v >= 10 else f"{v:.1f}" for v in kb],
                             textposition="outside",
                             hovertemplate="%{x}<br>" + name + ": %{y:,.1f} KB<extra></extra>"))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.2))
    fig.update_yaxes(title="KB (measured bytes / 1024)")
    return style.layout(fig, "Bytes on disk", height)


def latency_figure(s: Shrinkage, height: int = 420) -> go.Figure:
    """Bars of the median ms per batch, with whiskers from the lower to the upper quartile
    (the A/A re-timing of the dense model is in the table, not in the picture)."""
    lat = s.latency[s.latency["variant"] != DENSE_AGAIN]
    fig = go.Figure(go.Bar(
        x=[v.replace(", ", ",<br>") for v in lat["variant"]], y=lat["median_ms"], marker_color=["#7f7f7f", "#4c72b0", "#c44e52", "#55a868"][:len(lat)],
        error_y=dict(type="data", symmetric=False, array=lat["q3_ms"] - lat["median_ms"],
                     arrayminus=lat["median_ms"] - lat["q1_ms"]),
        text=[f"{v:.3f} ms" for v in lat["median_ms"]], textposition="outside",
        hovertemplate="%{x}: %{y:.3f} ms per batch<extra></extra>", name="median"))
    batch, threads = int(lat["batch_size"].iloc[0]), int(lat["threads"].iloc[0])
    fig.update_yaxes(title=f"ms per batch of {batch} (median)", rangemode="tozero")
    return style.layout(fig, f"CPU latency on this machine ({threads} thread(s))", height)


# ----------------------------------------------------------------------------- tables & report
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


def report_html(s: Shrinkage, settings: dict, extra_sections: list | None = None) -> str:
    """The standalone HTML report of this comparison (see ``pruning.present.html_report``).
    ``settings``: {name: value} shown as a table; ``extra_sections``: more ``Section``s
    (training curves, per-layer table, code) appended at the end."""
    from pruning.present.html_report import Section, html_report

    settings_table = pd.DataFrame({"setting": list(settings), "value": [str(v) for v in settings.values()]})
    sections = [
        Section("Settings", [settings_table]),
        Section("Accuracy", [accuracy_table(s)]),
        Section("Size", [size_table(s), bytes_figure(s)]),
        Section("Speed (CPU, measured on the machine that made this report)",
                [latency_table(s), latency_figure(s)]),
        Section("What to notice", [n.replace("`", "") for n in notes(s)]),
        *(extra_sections or []),
    ]
    return html_report("What did pruning buy?", headline(s), sections)
