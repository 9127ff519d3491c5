"""“What shrank?” in words and pictures: a headline a manager can repeat, the "what to notice"
bullets, the bytes and latency charts, and the standalone HTML report.

Every sentence only says what the measured tables of ``pruning.labs.shrink`` show:

* "N % of the weights removed" — share of the *prunable* weights that the masks remove;
* accuracy dense → pruned on the test split;
* storage: ``shrink.best_size`` — the smallest lossless encoding of the pruned model against the
  dense model in plain float32 (the same size axis as the trade-off curve);
* speed: ``shrink.best_speedup`` — the fastest variant the noise gate called faster (beyond the
  A/A timing noise and 10 %), with the range over the middle half of the timed runs, ms per
  batch and µs per example, and the thread count; nothing at all when ``shrink.too_noisy``:
  then the sentence says to measure again. The latency chart marks the same variant.
* ``carry_over``: where a speed-up measured here would, or would not, hold for a larger model.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from pruning.labs.shrink import (
    COMPACT,
    COMPACT_INT8,
    DENSE,
    DENSE_AGAIN,
    DENSE_INT8,
    FASTER,
    MASKED,
    MIN_SPEEDUP,
    MODEL_LABELS,
    NOT_CALLED,
    SLOWER,
    SPARSE,
    VARIANT_MODEL,
    Shrinkage,
    accuracy_table,
    best_size,
    best_speedup,
    counts_table,
    latency_table,
    noise_ratio,
    storage_table,
    too_noisy,
)
from pruning.labs.storage import CSR16, REL5, REL5_INT8
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


def _speed_phrase(s: Shrinkage, row: pd.Series) -> str:
    """``2.0× (1.8–2.2× over the middle half of 9 timed runs; 0.19 ms per batch of 256 =
    0.73 µs per example, 1 thread)``."""
    return (f"{_times(row['speedup_vs_dense'])} ({row['speedup_low']:.1f}–"
            f"{row['speedup_high']:.1f}× over the middle half of {int(row['repeats'])} timed runs; "
            f"{row['median_ms']:.3f} ms per batch of {int(row['batch_size'])} = "
            f"{1000 * row['ms_per_example']:.2f} µs per example, {int(row['threads'])} thread"
            f"{'' if int(row['threads']) == 1 else 's'})")


def size_phrase(s: Shrinkage) -> str:
    """``stored 11.8× smaller: 17 KB instead of 198 KB (relative 5-bit indices, …)``."""
    b = best_size(s)
    if b.ratio < 1.05:
        return (f"not smaller to store: {_kb(b.nbytes)} at best against {_kb(b.dense_bytes)} "
                f"dense ({b.fmt})")
    return (f"stored {_times(b.ratio)} smaller: {_kb(b.nbytes)} instead of {_kb(b.dense_bytes)} "
            f"({b.fmt}, float32 values, {MODEL_LABELS[b.model]})")


def speed_phrase(s: Shrinkage) -> str:
    """The one speed answer: the fastest variant the noise gate called faster, or why none."""
    if too_noisy(s):
        return (f"speed not called: this machine is busy (the same model timed twice differed "
                f"by {_times(noise_ratio(s))}), measure again")
    best = best_speedup(s)
    dense = s.latency.set_index("variant").loc[DENSE]
    if best is None:
        return (f"not measurably faster in any form timed here (dense: {dense['median_ms']:.3f} ms "
                f"per batch of {int(dense['batch_size'])} = {1000 * dense['ms_per_example']:.2f} µs "
                f"per example, {int(dense['threads'])} thread)")
    text = f"fastest: {best['variant']}, {_speed_phrase(s, best)} faster"
    model = VARIANT_MODEL[best["variant"]]
    if model.endswith("int8"):
        text += f", test accuracy {pct(s.model(model).test_acc)}"
    return text


def headline(s: Shrinkage) -> str:
    """One sentence: weights removed; test accuracy; best lossless storage; best measured
    speed (the same answers the charts mark and the report repeats)."""
    d, p = s.model("dense"), s.model("pruned")
    parts = [f"{pct(s.sparsity, 0)} of the weights removed",
             f"test accuracy {pct(d.test_acc)} → {pct(p.test_acc)}",
             size_phrase(s), speed_phrase(s)]
    return "; ".join(parts) + "."


def _verdict_words(s: Shrinkage, variant: str) -> str:
    row = s.latency.set_index("variant").loc[variant]
    v = row["verdict"]
    if v == FASTER:
        return f"{_times(row['speedup_vs_dense'])} faster than dense"
    if v == SLOWER:
        return f"{_times(1 / row['speedup_vs_dense'])} slower than dense"
    if v == NOT_CALLED:
        return (f"{_times(row['speedup_vs_dense'])} as fast as dense in this measurement, but "
                f"the timings are too noisy to trust")
    return "about as fast as dense (within the measurement noise)"


def notes(s: Shrinkage) -> list[str]:
    """The "what to notice" bullets, each computed from the tables."""
    d, p, c = s.model("dense"), s.model("pruned"), s.model("compacted")
    out = []
    out.append(f"The pruned model's `state_dict` file is {_kb(p.dense_file_bytes)}, the dense "
               f"one's {_kb(d.dense_file_bytes)}: a pruned weight is stored as 0.0 and still "
               f"takes 4 bytes. Compressed, zeros are cheap: {_kb(d.dense_gzip_bytes)} → "
               f"{_kb(p.dense_gzip_bytes)}.")
    csr_vs = p.csr_file_bytes / p.dense_file_bytes
    out.append(f"torch's own sparse CSR file takes {_kb(p.csr_file_bytes)} ({pct(csr_vs, 0)} of "
               f"the dense file; COO {_kb(p.coo_file_bytes)}) because torch stores every index "
               f"in 8 bytes. With 16-bit column indices the same CSR matrix takes "
               f"{_kb(p[f'enc:{CSR16}'])}, and with Deep Compression's relative 5-bit indices "
               f"{_kb(p[f'enc:{REL5}'])} ({_kb(p[f'enc:{REL5_INT8}'])} with int8 values).")
    out.append(f"A dense matrix multiply still does all {int(d.macs_dense):,} multiply-adds per "
               f"example; only {int(p.macs_effective):,} ({pct(p.macs_effective / d.macs_dense, 0)}) "
               f"involve a non-zero weight. Hardware or kernels that skip zeros are needed to "
               f"gain from that.")
    lat = s.latency.set_index("variant")
    out.append(f"`torch.sparse` (CSR weights) ran {_verdict_words(s, SPARSE)} on this CPU with "
               f"{int(lat.loc[DENSE, 'threads'])} thread(s) and a batch of "
               f"{int(lat.loc[DENSE, 'batch_size'])}; sparse kernels win only at high sparsity "
               f"and lose to dense ones on small or moderately sparse layers.")
    di, ci = s.model("dense_int8"), s.model("compacted_int8")
    out.append(f"int8 dynamic quantization of the linear layers (post-training, no retraining): "
               f"the dense model's file {_kb(d.dense_file_bytes)} → {_kb(di.dense_file_bytes)}, "
               f"test accuracy {pct(d.test_acc)} → {pct(di.test_acc)}, and it ran "
               f"{_verdict_words(s, DENSE_INT8)}. On top of pruning and compaction: "
               f"{_kb(ci.dense_file_bytes)}, test accuracy {pct(ci.test_acc)}, "
               f"{_verdict_words(s, COMPACT_INT8)}.")
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


def carry_over(s: Shrinkage) -> list[str]:
    """Where the speed measured here would, or would not, carry over to a larger model. The
    measured part is marked as measured; the rest says what it depends on."""
    d, c = s.model("dense"), s.model("compacted")
    lat = s.latency.set_index("variant")
    mac_ratio = d.macs_dense / c.macs_dense if c.macs_dense else float("inf")
    per_example = 1000 * lat.loc[DENSE, "ms_per_example"]
    return [
        f"**Compaction (removing whole {s.unit_name}s)** — measured here: "
        f"{_verdict_words(s, COMPACT)}, for {_times(mac_ratio)} fewer multiply-adds. "
        f"It carries over: a smaller dense model is faster with any ordinary kernel, on CPU or "
        f"GPU. In a larger model the multiply-adds are a larger share of the time, so the "
        f"gain moves toward the {_times(mac_ratio)} ratio; this model takes only "
        f"{per_example:.2f} µs per example, where fixed per-call costs weigh more.",
        f"**Zeros left in (masked model)** — measured here: {_verdict_words(s, MASKED)}. "
        f"This does not change with size: a dense kernel multiplies zeros like any number.",
        f"**torch.sparse CSR** — measured here: {_verdict_words(s, SPARSE)}. It depends on "
        f"the sparsity, layer shapes, batch size and hardware; it does not carry over to a GPU "
        f"or to another sparsity without measuring again. Unstructured sparsity usually needs "
        f"well above 90 % zeros to beat dense kernels.",
        f"**int8 dynamic quantization** — measured here: {_verdict_words(s, DENSE_INT8)} "
        f"(dense), {_verdict_words(s, COMPACT_INT8)} (pruned + compacted). Each call quantizes "
        f"its activations first; on layers this small that overhead can cancel the cheaper "
        f"int8 multiply, while large linear layers usually gain. The size saving (4 bytes → 1 "
        f"per weight) carries over at any size.",
    ]


def compaction_caption(compaction: Compaction) -> str:
    """Under the size table: the hidden widths before and after compaction."""
    return (f"Compaction removed the hidden units whose weights were all pruned: widths "
            f"{'-'.join(map(str, compaction.widths_before))} → "
            f"{'-'.join(map(str, compaction.widths_after))}. The compacted model computes the same "
            f"outputs (up to float rounding).")


# ----------------------------------------------------------------------------- figures
VERDICT_COLOURS = {FASTER: "#009E73", SLOWER: "#D55E00", "reference": "#7f7f7f"}


#: The storage formats a short chart shows (the lesson's one-screen step): torch's file, gzip,
#: the smallest index layout, and int8.
BRIEF_FORMATS = ("torch.save file (float32)", "same file, gzip",
                 "relative 5-bit indices (encoded, no file header)",
                 "torch.save file, linear layers int8 (quantize_dynamic)")


def bytes_figure(s: Shrinkage, height: int = 460, formats: tuple[str, ...] | None = None
                 ) -> go.Figure:
    """Horizontal bars, one pair per storage format (``formats``: only these rows of the
    storage table, e.g. ``BRIEF_FORMATS``): the dense model (grey) and the pruned model (the
    smaller of masked / compacted). The pruned bar of the headline's format is green and
    labelled."""
    t = storage_table(s)
    if formats is not None:
        t = t[t["format"].isin(formats)].reset_index(drop=True)
    dense_kb = t.iloc[:, 1]
    pruned_kb = t.iloc[:, 2:4].min(axis=1)
    best = best_size(s)
    best_row = f"{best.fmt} (encoded, no file header)"
    fmt = [f.replace(" (encoded, no file header)", "") for f in t["format"]]
    colours = ["#009E73" if f == best_row else "#0072B2" for f in t["format"]]
    texts = [f"{v:,.1f} KB" + (" ← smallest" if f == best_row else "") for v, f in
             zip(pruned_kb, t["format"])]
    data = [dict(type="bar", orientation="h", y=fmt, x=list(dense_kb), name="dense model",
                 marker=dict(color="#bbbbbb"), text=[f"{v:,.1f} KB" for v in dense_kb],
                 textposition="outside", cliponaxis=False,
                 hovertemplate="%{y}<br>dense: %{x:,.1f} KB<extra></extra>"),
            dict(type="bar", orientation="h", y=fmt, x=list(pruned_kb),
                 name="pruned model (masked or compacted, the smaller)",
                 marker=dict(color=colours), text=texts, textposition="outside",
                 cliponaxis=False, hovertemplate="%{y}<br>pruned: %{x:,.1f} KB<extra></extra>")]
    spec = dict(barmode="group", yaxis=dict(autorange="reversed", automargin=True),
                # room right of the longest bar for its "… KB" label (outside the bar)
                xaxis=dict(title="KB (measured bytes / 1024)",
                           range=[0, 1.3 * float(max(dense_kb.max(), pruned_kb.max()))]),
                legend=dict(orientation="h", y=-0.2))
    return style.figure(data, spec, "Bytes to store it, by format", height)


def latency_figure(s: Shrinkage, height: int = 440) -> go.Figure:
    """Bars of the median ms per batch with whiskers over the middle half of the runs,
    coloured by the noise gate's verdict (green: faster beyond the noise; red: slower; grey:
    within noise); the fastest called variant is labelled. The A/A re-timing of the dense
    model is in the table, not in the picture."""
    lat = s.latency[s.latency["variant"] != DENSE_AGAIN]
    best = best_speedup(s)
    colours = [VERDICT_COLOURS.get(v, "#a0a0a0") for v in lat["verdict"]]
    texts = [f"{m:.3f} ms<br>{1000 * e:.2f} µs/ex" + ("<br><b>fastest</b>" if best is not None
                                                      and v == best["variant"] else "")
             for m, e, v in zip(lat["median_ms"], lat["ms_per_example"], lat["variant"])]
    fig = go.Figure(go.Bar(
        x=[v.replace(", ", ",<br>") for v in lat["variant"]], y=lat["median_ms"],
        marker_color=colours,
        error_y=dict(type="data", symmetric=False, array=lat["q3_ms"] - lat["median_ms"],
                     arrayminus=lat["median_ms"] - lat["q1_ms"]),
        text=texts, textposition="inside", insidetextanchor="start",
        customdata=list(zip(lat["verdict"], 1000 * lat["ms_per_example"])),
        hovertemplate="%{x}: %{y:.3f} ms per batch, %{customdata[1]:.2f} µs per example"
                      "<br>noise gate: %{customdata[0]}<extra></extra>", name="median"))
    batch, threads = int(lat["batch_size"].iloc[0]), int(lat["threads"].iloc[0])
    fig.update_yaxes(title=f"ms per batch of {batch} (median)", rangemode="tozero")
    return style.layout(fig, f"CPU latency here, {threads} thread(s): green = faster beyond "
                             f"the noise", height)


# ----------------------------------------------------------------------------- report
def report_html(s: Shrinkage, settings: dict, extra_sections: list | None = None,
                lead_sections: list | None = None, lead: str | None = None,
                summary: pd.DataFrame | None = None) -> str:
    """The standalone HTML report (see ``pruning.present.html_report``). It opens with
    ``lead`` (default: the headline) and ``lead_sections`` (the trade-off curve and the
    recipe that reaches it, when measured), then ``summary`` (the page's and the CSV's summary
    table), then this session's model: settings, the headline's numbers, storage, speed,
    accuracy, what carries over; ``extra_sections`` last."""
    from pruning.present.html_report import Section, html_report

    settings_table = pd.DataFrame({"setting": list(settings), "value": [str(v) for v in settings.values()]})
    sections = [
        *(lead_sections or []),
        *([Section("Summary: one row per recipe", [summary])] if summary is not None else []),
        Section("The model in this session", [headline(s), settings_table]),
        Section("Storage", [storage_table(s), bytes_figure(s)]),
        Section("Speed (CPU, measured on the machine that made this report)",
                [latency_table(s), latency_figure(s)]),
        Section("Accuracy", [accuracy_table(s), counts_table(s)]),
        Section("Would this carry over to a larger model?",
                [n.replace("**", "") for n in carry_over(s)]),
        Section("What to notice", [n.replace("`", "") for n in notes(s)]),
        *(extra_sections or []),
    ]
    return html_report("What did pruning buy?", lead or headline(s), sections)


@dataclass(frozen=True)
class LatencyChange:
    """A variant's latency against dense, as a metric shows it: ``delta`` is "−x %"/"+x %"
    when the noise gate decided a direction (``decided``), else "≈ dense"."""

    variant: str
    ms: float
    dense_ms: float
    delta: str
    decided: bool
    help: str


def latency_change(s: Shrinkage, variant: str | None = None) -> LatencyChange:
    """``variant`` (default: the fastest called faster, else the compacted model) against
    dense, using the stored verdict."""
    if variant is None:
        best = best_speedup(s)
        variant = best["variant"] if best is not None else COMPACT
    row = s.latency.set_index("variant").loc[variant]
    dense_ms = s.median_ms(DENSE)
    base = (f"{variant}: median {row['median_ms']:.3f} ms per batch of {int(row['batch_size'])} "
            f"({1000 * row['ms_per_example']:.2f} µs per example, {int(row['threads'])} thread); "
            f"dense: {dense_ms:.3f} ms.")
    if row["verdict"] in (FASTER, SLOWER):
        return LatencyChange(variant, row["median_ms"], dense_ms,
                             f"{100 * (row['median_ms'] / dense_ms - 1):+.0f} %", True, base)
    return LatencyChange(variant, row["median_ms"], dense_ms, "≈ dense", False,
                         base + f" Noise gate: {row['verdict']}.")


def compacted_latency_change(s: Shrinkage) -> LatencyChange:
    """The compacted model against dense (see ``latency_change``)."""
    return latency_change(s, COMPACT)
