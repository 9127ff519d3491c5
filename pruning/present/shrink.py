"""“What shrank?” in words and pictures: a headline a manager can repeat, the "what to notice"
bullets, the bytes and latency charts, and the standalone HTML report.

Every sentence only says what the measured tables of ``pruning.labs.shrink`` show:

* "N % of the weights removed" — share of the *prunable* weights that the masks remove;
* accuracy dense → pruned on the test split;
* the file: gzip-compressed dense-model file vs gzip-compressed pruned-model file (an
  uncompressed ``state_dict`` is the same size whatever the zeros);
* speed: "faster" only when ``shrink.beats`` says so — beyond the A/A timing noise and 10 % —
  and nothing at all when ``shrink.too_noisy``: then the sentence says to measure again.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from pruning.labs.shrink import (
    COMPACT,
    DENSE,
    DENSE_AGAIN,
    MASKED,
    MIN_SPEEDUP,
    MODEL_LABELS,
    SPARSE,
    Shrinkage,
    accuracy_table,
    beats,
    latency_table,
    noise_ratio,
    size_table,
    too_noisy,
)
from pruning.present import style
from pruning.present.format import pct
from pruning.structured.compact import Compaction


# ----------------------------------------------------------------------------- words
def _kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB" if n >= 10 * 1024 else f"{n / 1024:,.1f} KB"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×"


def _units(s: Shrinkage, n: int) -> str:
    return f"{n} dead {s.unit_name}{'' if n == 1 else 's'}"


def headline(s: Shrinkage) -> str:
    """One sentence: weights removed; test accuracy; compressed file; speed (measured)."""
    d, p = s.model("dense"), s.model("pruned")
    parts = [f"{pct(s.sparsity, 0)} of the weights removed",
             f"test accuracy {pct(d.test_acc)} → {pct(p.test_acc)}"]
    ratio = d.dense_gzip_bytes / p.dense_gzip_bytes
    if ratio >= 1.05:
        parts.append(f"the file is {_times(ratio)} smaller compressed")
    elif ratio <= 1 / 1.05:
        parts.append(f"the compressed file is {_times(1 / ratio)} larger")
    else:
        parts.append("the compressed file is about the same size")
    removed = s.units_removed
    if too_noisy(s):
        parts.append(f"speed not called: this machine is busy (the same model timed twice "
                     f"differed by {_times(noise_ratio(s))}), measure again")
        return "; ".join(parts) + "."
    masked_fast = beats(s, MASKED, DENSE)
    if masked_fast:
        speed = f"the masked model ran {_times(s.median_ms(DENSE) / s.median_ms(MASKED))} faster here"
    else:
        speed = "inference is not faster with the zeros left in"
    if removed == 0:
        speed += f", and no {s.unit_name} died, so none could be removed"
    elif beats(s, COMPACT, DENSE):
        speed += (f"{'' if masked_fast else ','} but removing the {_units(s, removed)} makes it "
                  f"{_times(s.median_ms(DENSE) / s.median_ms(COMPACT))} faster")
    else:
        speed += f", and removing the {_units(s, removed)} did not make it measurably faster"
    parts.append(speed)
    return "; ".join(parts) + "."


def notes(s: Shrinkage) -> list[str]:
    """The "what to notice" bullets, each computed from the tables."""
    d, p, c = s.model("dense"), s.model("pruned"), s.model("compacted")
    out = []
    out.append(f"The pruned model's `state_dict` file is {_kb(p.dense_file_bytes)}, the dense "
               f"one's {_kb(d.dense_file_bytes)}: a pruned weight is stored as 0.0 and still "
               f"takes 4 bytes. Compressed, zeros are cheap: {_kb(d.dense_gzip_bytes)} → "
               f"{_kb(p.dense_gzip_bytes)}.")
    csr_vs = p.csr_file_bytes / p.dense_file_bytes
    out.append(f"Stored as sparse CSR the pruned weights take {_kb(p.csr_file_bytes)} "
               f"({pct(csr_vs, 0)} of the dense file; COO {_kb(p.coo_file_bytes)}): each "
               f"kept weight also stores its 8-byte column index, so sparse storage "
               f"{'pays off' if csr_vs < 1 else 'does not pay off'} at this sparsity.")
    out.append(f"A dense matrix multiply still does all {int(d.macs_dense):,} multiply-adds per "
               f"example; only {int(p.macs_effective):,} ({pct(p.macs_effective / d.macs_dense, 0)}) "
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
               f"{pct((noise_ratio(s) - 1), 0)} apart; speed differences are only called "
               f"when they exceed that and {pct((MIN_SPEEDUP - 1), 0)}.")
    removed = s.units_removed
    if removed:
        same = abs(c.test_acc - p.test_acc) < 1e-9
        out.append(f"Compaction removed {removed} of {s.units_before} hidden {s.unit_name}s whose "
                   f"weights were all pruned: {int(c.parameters):,} parameters instead of "
                   f"{int(d.parameters):,}, "
                   f"a {_kb(c.dense_file_bytes)} file, and "
                   f"{'the same' if same else 'a different'} test accuracy "
                   f"({pct(c.test_acc)}).")
    else:
        out.append(f"No hidden {s.unit_name} lost all its weights, so compaction could not remove "
                   f"any: unstructured pruning spreads zeros; structured pruning removes whole "
                   f"{s.unit_name}s.")
    return out


def compaction_caption(compaction: Compaction) -> str:
    """Under the size table: the hidden widths before and after compaction."""
    return (f"Compaction removed the hidden units whose weights were all pruned: widths "
            f"{'-'.join(map(str, compaction.widths_before))} → "
            f"{'-'.join(map(str, compaction.widths_after))}. The compacted model computes the same "
            f"outputs (up to float rounding).")


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


# ----------------------------------------------------------------------------- report
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


@dataclass(frozen=True)
class LatencyChange:
    """The compacted model's latency against dense, as a metric shows it: ``delta`` is
    "+x %"/"−x %" when the noise check decides a direction (``decided``), else "≈ dense"."""

    compact_ms: float
    dense_ms: float
    delta: str
    decided: bool
    help: str


def compacted_latency_change(s: Shrinkage) -> LatencyChange:
    """Median forward time of the compacted model vs dense; a direction is only shown when
    ``beats`` says one is faster beyond the measured noise (the timed runs do not overlap)."""
    compact_ms, dense_ms = s.median_ms(COMPACT), s.median_ms(DENSE)
    base = f"Median time of one forward pass of the compacted model; dense: {dense_ms:.3f} ms."
    if beats(s, COMPACT, DENSE) or beats(s, DENSE, COMPACT):
        return LatencyChange(compact_ms, dense_ms, f"{100 * (compact_ms / dense_ms - 1):+.0f} %",
                             True, base)
    return LatencyChange(compact_ms, dense_ms, "≈ dense", False,
                         base + " The timed runs overlap: within the noise.")
