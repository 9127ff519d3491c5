"""What the Threshold page shows: the worked example in words and bars, one layer's threshold
and sparsity, and why one global threshold prunes layers unevenly — figures and sentences
computed from ``pruning.labs.threshold_example`` and ``pruning.labs.layer_thresholds``.

The rule everywhere is the one of ``pruning.core.selection.select_by_threshold``: a weight is
pruned when its size |w| is strictly below the threshold t, so a weight exactly at t stays —
the sentences say so whenever it happens.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.labs.layer_thresholds import (
    ALL_LAYERS,
    ThresholdForSparsity,
    overall_sparsity_pct,
)
from pruning.labs.threshold_example import ThresholdDecision
from pruning.present.format import pct
from pruning.present.style import FONT_SIZE, PRUNED_COLOUR, layout

KEPT_COLOUR = "#1f4e9c"  # dark blue: far from the amber of pruned weights, also in grey-scale
GLOBAL_COLOUR = "#1f4e9c"
PER_LAYER_COLOUR = "#7f7f7f"
# Okabe–Ito colours without the orange/yellow that could be mistaken for "pruned" amber.
LAYER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#999999")


# ----------------------------------------------------------------------------- four weights
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
    sentence += f" {k} of {n} weights pruned: {pct(d.sparsity, 0)} sparsity."
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


# ----------------------------------------------------------------------------- one layer
def one_layer_note(scores: torch.Tensor, threshold: float, reached: float,
                   need: ThresholdForSparsity, target_pct: int) -> str:
    """One layer both ways: what ``threshold`` prunes (``reached``, from ``sparsity_at_threshold``)
    and which threshold a target of ``target_pct`` % needs (``need``); when equal sizes at the
    cut make the target unreachable exactly, says what is reached instead."""
    n = scores.numel()
    note = (f"{pct(reached)} of this layer's weights are smaller "
            f"than t = {threshold:.3g}; half of them are smaller than {float(scores.median()):.3g} "
            f"(the median |w|). To prune {target_pct} % you need t = {need.threshold:.3g}")
    if abs(need.reached - target_pct / 100) > 0.5 / n:
        note += (f", which reaches {pct(need.reached, 2)}: equal sizes at the cut are kept "
                 f"or pruned together, and a share of {n:,} weights is rounded")
    return note + "."


# ----------------------------------------------------------------------------- every layer
def layer_sparsity_figure(table: pd.DataFrame, height: int = 420) -> go.Figure:
    """Grouped bars per layer: % pruned by the one global threshold (trace 0) vs % pruned
    when every layer is pruned to the same overall sparsity (trace 1); a dotted line at the
    overall sparsity (named in the legend by an empty trace 2)."""
    t = float(table["global_threshold"].iloc[0]) if len(table) else 0.0
    # Two-line tick labels ("layers.0" over "(64→300)") stay horizontal and readable.
    x = [str(l).replace(" (", "<br>(") for l in table["layer"]]
    fig = go.Figure([
        go.Bar(x=x, y=table["global_sparsity_pct"], name=f"one global threshold t = {t:.3g}",
               marker_color=GLOBAL_COLOUR, text=[f"{v:.0f} %" for v in table["global_sparsity_pct"]],
               textposition="outside", textfont=dict(size=FONT_SIZE)),
        go.Bar(x=x, y=table["per_layer_sparsity_pct"],
               name="per layer, same overall sparsity", marker_color=PER_LAYER_COLOUR,
               text=[f"{v:.0f} %" for v in table["per_layer_sparsity_pct"]],
               textposition="outside", textfont=dict(size=FONT_SIZE)),
    ])
    if len(table):
        overall = overall_sparsity_pct(table)
        line = dict(color="black", dash="dot", width=2)
        fig.add_hline(y=overall, line=line)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line,
                                 name=f"overall: {overall:.1f} %"))  # legend entry only
    fig.update_yaxes(title="weights pruned (%)", range=[0, 115])
    fig.update_xaxes(title="", type="category", tickangle=0)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.3, x=0))
    return layout(fig, "% of each layer pruned", height)


def sparsity_curve_figure(curves: pd.DataFrame, threshold: float | None = None,
                          height: int = 440) -> go.Figure:
    """Sparsity (%) against threshold: one line per layer, a thick dark line for all layers
    pooled; a dashed vertical line at ``threshold``. Where the line crosses the curves is
    what that one threshold prunes in each layer."""
    fig = go.Figure()
    layers = [l for l in dict.fromkeys(curves["layer"]) if l != ALL_LAYERS]
    for i, label in enumerate(layers):
        c = curves[curves["layer"] == label]
        fig.add_trace(go.Scatter(x=c["threshold"], y=c["sparsity_pct"], mode="lines", name=label,
                                 line=dict(width=3, color=LAYER_COLOURS[i % len(LAYER_COLOURS)])))
    c = curves[curves["layer"] == ALL_LAYERS]
    fig.add_trace(go.Scatter(x=c["threshold"], y=c["sparsity_pct"], mode="lines", name=ALL_LAYERS,
                             line=dict(width=5, color="black", dash="dot")))
    if threshold is not None:
        fig.add_vline(x=threshold, line=dict(color=PRUNED_COLOUR, width=4, dash="dash"),
                      annotation_text=f"t = {threshold:.3g}", annotation_position="bottom right",
                      annotation_font_size=FONT_SIZE)
    fig.update_xaxes(title="threshold t on |w|")
    fig.update_yaxes(title="weights pruned (%)", range=[-2, 102])
    fig.update_layout(legend=dict(orientation="h", y=-0.2, x=0))
    return layout(fig, "sparsity reached by each threshold", height)


def uneven_pruning_note(table: pd.DataFrame) -> str:
    """What to notice in ``layer_threshold_table``, computed from its numbers."""
    if len(table) < 2:
        return "The model has one prunable layer, so a global threshold and a per-layer one agree."
    t = float(table["global_threshold"].iloc[0])
    hi = table.loc[table["global_sparsity_pct"].idxmax()]
    lo = table.loc[table["global_sparsity_pct"].idxmin()]
    spread = hi["global_sparsity_pct"] - lo["global_sparsity_pct"]
    overall = overall_sparsity_pct(table)
    if spread < 5:
        return (f"At t = {t:.3g} the layers lose about the same share (from "
                f"{lo['global_sparsity_pct']:.0f} % to {hi['global_sparsity_pct']:.0f} %); "
                f"move the threshold to see them drift apart.")
    note = (f"One threshold t = {t:.3g} prunes {hi['global_sparsity_pct']:.0f} % of "
            f"{hi['layer']} but only {lo['global_sparsity_pct']:.0f} % of {lo['layer']} "
            f"({overall:.1f} % overall)")
    if hi["median_abs_w"] < lo["median_abs_w"]:
        note += (f", because the weights of {hi['layer']} are smaller (median |w| "
                 f"{hi['median_abs_w']:.3g} vs {lo['median_abs_w']:.3g}).")
    else:
        note += (f"; their median |w| are {hi['median_abs_w']:.3g} and "
                 f"{lo['median_abs_w']:.3g}.")
    note += (f" Pruning per layer to the same {overall:.1f} % would need a different threshold "
             f"in each layer (from {table['per_layer_threshold'].min():.3g} to "
             f"{table['per_layer_threshold'].max():.3g}).")
    return note
