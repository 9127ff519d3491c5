"""What the Structured & sensitivity page shows: unit scores, the granularity comparison and
the sensitivity curves, each with the "what to notice" sentences computed from its numbers.

The experiments are in ``pruning.labs``: ``structured_run`` (remove units, compact, check the
outputs match), ``granularity`` (whole units vs single weights at the same weight count) and
``sensitivity`` (one layer pruned at a time). This module only draws and words their results.

Accuracies are fractions in [0, 1]; figures and sentences print them as percentages.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruning.labs.granularity import GRANULARITIES
from pruning.labs.structured_run import VERSIONS, StructuredReport
from pruning.present.format import pct
from pruning.present.style import PRUNED_COLOUR, SPLIT_COLOURS, layout
from pruning.present.verdict import compare


# ----------------------------------------------------------------------------- remove units
def unit_scores_figure(report: StructuredReport, height: int | None = None) -> go.Figure:
    """Per hidden layer: every unit's score, sorted, kept units in blue, removed in amber."""
    layers = list(report.scores)
    fig = make_subplots(rows=len(layers), cols=1, subplot_titles=[
        f"{n}: {report.kept_units[n][0]} of {report.kept_units[n][1]} units kept" for n in layers])
    for i, n in enumerate(layers, start=1):
        s = report.scores[n].numpy().astype(np.float32)
        k = report.keep[n].numpy()
        order = np.argsort(-s, kind="stable")
        colours = np.where(k[order], "#1f77b4", PRUNED_COLOUR)
        fig.add_trace(go.Bar(x=np.arange(len(s)), y=s[order], marker_color=colours.tolist(),
                             customdata=order, showlegend=False, name=n,
                             hovertemplate="unit %{customdata}<br>score %{y:.4g}<extra></extra>"),
                      row=i, col=1)
        fig.update_xaxes(title="units, best score first", row=i, col=1, showticklabels=False)
        fig.update_yaxes(title="score", row=i, col=1)
    return layout(fig, f"Unit scores ({report.method}); amber = removed",
                   height or 220 + 200 * len(layers))


def compaction_note(report: StructuredReport) -> str:
    """What compacting bought, from the sizes table: hidden sizes, parameters, the size of the
    saved file (``file_bytes``: real ``torch.save`` bytes, headers included — not the tensors'
    bytes), and how closely the compacted model matches the masked one."""
    sizes = report.sizes.set_index("model")
    dense, small = sizes.loc[VERSIONS["dense"]], sizes.loc[VERSIONS["compacted"]]
    return (f"The compacted model has hidden sizes {small['hidden_units']} instead of "
            f"{dense['hidden_units']}, {dense['stored_params'] - small['stored_params']:,} fewer "
            f"parameters and a {pct((1 - small['file_bytes'] / dense['file_bytes']), 0)} "
            f"smaller saved file ({dense['file_bytes']:,} → {small['file_bytes']:,} bytes), "
            f"and it predicts the same class as the masked model on "
            f"{pct(report.same_predictions)} of test images (largest logit difference "
            f"{report.max_output_difference:.1e}). A masked model with single zeros would keep "
            f"every matrix — and the work — at full size.")


# ----------------------------------------------------------------------------- same budget
GRANULARITY_COLOURS = {"structured": "#d62728", "unstructured": "#1f77b4",
                       "unstructured_layer": "#2ca02c"}
GRANULARITY_LABELS = {"structured": "structured", "unstructured": "unstructured, global",
                      "unstructured_layer": "unstructured, per layer"}


def granularity_figure(table: pd.DataFrame, dense_test_acc: float | None = None,
                       height: int = 420) -> go.Figure:
    """Test accuracy vs remaining weights (%): one colour per granularity, dotted = right
    after pruning, solid = after fine-tuning."""
    fig = go.Figure()
    for g in GRANULARITIES:
        part = table[table["granularity"] == g].sort_values("kept_weights_pct")
        if part.empty:
            continue
        for col, dash, when in (("test_acc_pruned", "dot", "right after pruning"),
                                ("test_acc", "solid", "after fine-tuning")):
            fig.add_trace(go.Scatter(
                x=part["kept_weights_pct"], y=100 * part[col], mode="lines+markers",
                name=f"{GRANULARITY_LABELS[g]}, {when}",
                line=dict(color=GRANULARITY_COLOURS[g], dash=dash, width=3),
                customdata=100 * part["units_removed"],
                hovertemplate="%{x:.1f} % of weights kept (%{customdata:.0f} % of units "
                              "removed)<br>test accuracy %{y:.1f} %<extra></extra>"))
    if dense_test_acc is not None:
        fig.add_hline(y=100 * dense_test_acc, line=dict(color=SPLIT_COLOURS["val"], dash="dash"),
                      annotation_text="dense", annotation_position="bottom right")
    fig.update_xaxes(title="weights kept (%)", autorange="reversed")
    fig.update_yaxes(title="test accuracy (%)")
    return layout(fig, "Same number of weights: single weights vs whole units", height)


def granularity_notes(table: pd.DataFrame) -> list[str]:
    """Sentences computed from the table (what to notice). Comparisons go through the shared
    rule (one run = one seed); a global unstructured arm that emptied a layer is called layer
    collapse, and structured is then compared with the per-layer arm instead."""
    notes = []
    n_test = int(table["n_test"].iloc[0]) if "n_test" in table else 100
    more = "no multi-seed run here: retrain with other sidebar seeds to check"
    for f, part in table.groupby("units_removed", sort=True):
        by = part.set_index("granularity")
        s = by.loc["structured"]
        u = by.loc["unstructured"]
        text = (f"Removing {pct(f, 0)} of the units keeps {s['kept_weights']:,} weights "
                f"({s['kept_weights_pct']:.1f} %). After fine-tuning, test accuracy is "
                f"{pct(s['test_acc'])} (structured) vs {pct(u['test_acc'])} "
                f"(unstructured, global ranking, same weight count)")
        empty = str(u.get("empty_layers", "") or "")
        if empty:
            text += (f". ⚠️ The global ranking emptied {empty} — **layer collapse**: no signal "
                     f"crosses that layer, so the gap is about collapse, not granularity")
            if "unstructured_layer" in by.index:
                ul = by.loc["unstructured_layer"]
                v = compare([s["test_acc"]], [ul["test_acc"]], n_test=n_test,
                            a_name="structured", b_name="unstructured per layer", more_seeds=more)
                text += (f". Without collapse (the same share of every layer): "
                         f"{pct(ul['test_acc'])}. {v.sentence}")
            else:
                text += "."
        else:
            v = compare([s["test_acc"]], [u["test_acc"]], n_test=n_test,
                        a_name="structured", b_name="unstructured", more_seeds=more)
            text += f". {v.sentence}"
        text += (f" The structured model really is smaller — {s['macs_per_example']:,} vs "
                 f"{u['macs_per_example']:,} multiply-adds per example when run densely.")
        notes.append(text)
    return notes


# ----------------------------------------------------------------------------- sensitivity
def sensitivity_figure(scan: pd.DataFrame, dense_val_acc: float | None = None,
                       tolerance: float | None = None, height: int = 440) -> go.Figure:
    """Validation accuracy vs sparsity, one line per layer; the dense accuracy and the
    tolerance band below it are shaded."""
    fig = go.Figure()
    for layer, part in scan.groupby("layer", sort=False):
        part = part.sort_values("sparsity")
        fig.add_trace(go.Scatter(
            x=100 * part["sparsity"], y=100 * part["val_acc"], mode="lines+markers",
            name=f"{layer} ({int(part['weights'].iloc[0]):,} w)", line=dict(width=3),
            hovertemplate=f"{layer}<br>%{{x:.0f}} % pruned<br>validation accuracy "
                          f"%{{y:.1f}} %<extra></extra>"))
    if dense_val_acc is not None:
        if tolerance:  # the band is explained in the title: a label inside it hides the lines
            fig.add_hrect(y0=100 * (dense_val_acc - tolerance), y1=100 * dense_val_acc,
                          fillcolor="#7f7f7f", opacity=0.2, line_width=0)
        fig.add_hline(y=100 * dense_val_acc, line=dict(color="#7f7f7f", dash="dash"))
    fig.update_xaxes(title="sparsity of that one layer (%)", range=[0, 100])
    fig.update_yaxes(title="validation accuracy (%)")
    title = "Sensitivity: one layer pruned at a time, no fine-tuning"
    if dense_val_acc is not None:
        title += (f"<br><sup>dashed: dense ({pct(dense_val_acc)})"
                  + (f"; grey band: within {100 * tolerance:.1f} points of it" if tolerance else "")
                  + "</sup>")
    return layout(fig, title, height)


def sensitivity_notes(scan: pd.DataFrame, suggestions: pd.DataFrame, dense_val_acc: float,
                      combined: dict | None = None) -> list[str]:
    """What to notice, computed from the numbers."""
    notes = []
    at_max = scan[scan["sparsity"] == scan["sparsity"].max()].set_index("layer")["val_acc"]
    if len(at_max) > 1:
        worst, best = at_max.idxmin(), at_max.idxmax()
        notes.append(f"At {pct(scan['sparsity'].max(), 0)} sparsity, pruning {worst} alone "
                     f"leaves {pct(at_max[worst])} validation accuracy, pruning {best} "
                     f"alone {pct(at_max[best])} (dense: {pct(dense_val_acc)}): "
                     f"{worst} is the most sensitive layer.")
    big = suggestions.sort_values("weights", ascending=False).iloc[0]
    notes.append(f"The largest layer, {big['layer']} ({int(big['weights']):,} weights), "
                 f"tolerates {pct(big['suggested_sparsity'], 0)} on its own.")
    if combined is not None and combined["total"]:
        pl, un = combined["per_layer"]["val_acc"], combined["uniform"]["val_acc"]
        notes.append(
            f"All layers pruned at once to their suggestions removes {combined['removed']:,} of "
            f"{combined['total']:,} weights ({pct(combined['removed'] / combined['total'])}) "
            f"and gives {pct(pl)} validation accuracy ({100 * (pl - dense_val_acc):+.1f} "
            f"points vs dense); the same number of weights removed uniformly from every layer "
            f"gives {pct(un)}.")
    return notes
