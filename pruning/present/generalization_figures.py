"""Figures of the generalization lab (Plotly, built here so tests can read their data).

* ``sweep_figure``: test accuracy (top) and train − test gap (bottom) against sparsity for the
  pruned arm and the level-wise controls (random pruning, small dense net), with the dense,
  early-stopping and weight-decay results as horizontal lines and bands. Points are means
  over seeds, error bars / bands ± 1 sample standard deviation; a star marks the sparsity
  chosen on the validation split.
* ``overfitting_figure``: the dense run's train / validation / test accuracy per epoch
  (mean over seeds, band = min … max), with each seed's early-stopping epoch.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruning.labs.generalization import ARM_LABELS, best_sparsity, pick_by_validation
from pruning.present.style import FONT_SIZE, SPLIT_COLOURS, SPLIT_LABELS, layout

ARM_COLOURS = {
    "dense": "#222222",
    "pruned": "#2ca02c",
    "random": "#8c8c8c",
    "small_dense": "#9467bd",
    "early_stopping": "#ff7f0e",
    "weight_decay": "#17becf",
}
ARM_DASH = {"pruned": "solid", "random": "dash", "small_dense": "dot",
            "dense": "dot", "early_stopping": "dash", "weight_decay": "dashdot"}


def level_label(level: float) -> str:
    """0.9 -> '90 %', 0.95 -> '95 %', 0.985 -> '98.5 %' (category labels of the x axis)."""
    return f"{100 * level:.4g} %"


def _band(fig, x, mean, std, colour, name, row, showlegend=False):
    """Shaded mean ± std band (two traces: upper, then lower filled to it)."""
    upper = [m + s for m, s in zip(mean, std)]
    lower = [m - s for m, s in zip(mean, std)]
    fig.add_trace(go.Scatter(x=x, y=upper, mode="lines", line=dict(width=0), hoverinfo="skip",
                             showlegend=False, name=f"{name} +1 sd", legendgroup=name),
                  row=row, col=1)
    fig.add_trace(go.Scatter(x=x, y=lower, mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor=_rgba(colour, 0.15), hoverinfo="skip",
                             showlegend=showlegend, name=f"{name} −1 sd", legendgroup=name),
                  row=row, col=1)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def sweep_figure(summary: pd.DataFrame, title: str = "Sparsity sweep with controls",
                 height: int = 720) -> go.Figure:
    """Test accuracy and train − test gap (both in percentage points) vs sparsity level.

    Trace names (legend, and what tests read): ``pruned + fine-tuned``, ``random pruning
    (control)``, ``small dense net, same #weights`` (level-wise lines, each starting at the
    dense net = 0 %), ``pruned: train accuracy``, ``dense (no early stopping)``, ``dense +
    early stopping``, ``dense + weight decay (λ=…)`` (horizontal lines), ``best on
    validation`` (star). Row 2 repeats the arms for the gap (legend entries hidden).
    """
    dense = summary[summary["arm"] == "dense"]
    if dense.empty:
        raise ValueError("the summary has no dense row")
    dense_row = dense.iloc[0]
    levels = sorted(summary.loc[summary["arm"] == "pruned", "level"].unique())
    x_all = [level_label(0.0)] + [level_label(v) for v in levels]
    n_seeds = int(dense_row["n_seeds"])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.64, 0.36],
                        vertical_spacing=0.08,
                        subplot_titles=(f"test accuracy (%) — mean ± 1 sd over {n_seeds} seeds",
                                        "train − test gap (percentage points)"))

    def series(arm: str, metric: str):
        rows = summary[summary["arm"] == arm].sort_values("level")
        rows = pd.concat([dense, rows], ignore_index=True)  # every level-wise arm starts dense
        x = [level_label(v) for v in rows["level"]]
        return x, rows, (100 * rows[f"{metric}_mean"]).tolist(), (100 * rows[f"{metric}_std"]).tolist()

    for arm in ("pruned", "random", "small_dense"):
        if not (summary["arm"] == arm).any():
            continue
        for row, metric in ((1, "test_acc"), (2, "gap")):
            x, rows, mean, std = series(arm, metric)
            custom = [[int(w), h, 100 * lo, 100 * hi] for w, h, lo, hi in
                      zip(rows["weights"], rows["hidden"], rows[f"{metric}_min"], rows[f"{metric}_max"])]
            fig.add_trace(go.Scatter(
                x=x, y=mean, mode="lines+markers", name=ARM_LABELS[arm], legendgroup=arm,
                showlegend=row == 1,
                line=dict(color=ARM_COLOURS[arm], dash=ARM_DASH[arm], width=3 if arm == "pruned" else 2),
                error_y=dict(type="data", array=std, visible=True, thickness=1.5),
                customdata=custom,
                hovertemplate=(f"{ARM_LABELS[arm]}<br>sparsity %{{x}}<br>"
                               + ("test" if metric == "test_acc" else "gap")
                               + " %{y:.1f} (seeds: %{customdata[2]:.1f} … %{customdata[3]:.1f})"
                               "<br>%{customdata[0]:,} weights, hidden %{customdata[1]}<extra></extra>")),
                row=row, col=1)
        if arm == "pruned":
            x, rows, mean, std = series(arm, "train_acc")
            fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name="pruned: train accuracy",
                                     line=dict(color=ARM_COLOURS[arm], dash="dot", width=1.5),
                                     hovertemplate="pruned, train accuracy %{y:.1f}<extra></extra>"),
                          row=1, col=1)

    picks = pick_by_validation(summary)
    for arm in ("dense", "early_stopping", "weight_decay"):
        if arm not in picks:
            continue
        r = picks[arm]
        name = ARM_LABELS[arm]
        if arm == "weight_decay":
            name = f"{name} (λ={r['weight_decay']:g}, picked on validation)"
        if arm == "early_stopping":
            name = f"{name} (mean epoch {r['epoch']:.0f})"
        for row, metric in ((1, "test_acc"), (2, "gap")):
            mean, std = 100 * r[f"{metric}_mean"], 100 * r[f"{metric}_std"]
            if arm != "dense":
                _band(fig, x_all, [mean] * len(x_all), [std] * len(x_all), ARM_COLOURS[arm], name, row)
            fig.add_trace(go.Scatter(
                x=x_all, y=[mean] * len(x_all), mode="lines", name=name, legendgroup=arm,
                showlegend=row == 1,
                line=dict(color=ARM_COLOURS[arm], dash=ARM_DASH[arm], width=2),
                hovertemplate=f"{name}<br>{'test' if metric == 'test_acc' else 'gap'} "
                              f"{mean:.1f} ± {std:.1f}<extra></extra>"),
                row=row, col=1)

    best = best_sparsity(summary)
    b = summary[(summary["arm"] == ("dense" if best == 0 else "pruned"))
                & (summary["level"] == best)].iloc[0]
    fig.add_trace(go.Scatter(
        x=[level_label(best)], y=[100 * b["test_acc_mean"]], mode="markers",
        name="best on validation", marker=dict(symbol="star", size=20, color="#ffd700",
                                               line=dict(color="black", width=1.5)),
        hovertemplate=(f"chosen on validation: {level_label(best)}<br>validation "
                       f"{100 * b['val_acc_mean']:.1f}, test {100 * b['test_acc_mean']:.1f}"
                       "<extra></extra>")), row=1, col=1)

    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_all)
    fig.update_xaxes(title="weights pruned (sparsity level)", row=2, col=1)
    fig.update_yaxes(title="test accuracy (%)", row=1, col=1)
    fig.update_yaxes(title="gap (points)", row=2, col=1)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, x=0,
                                  font=dict(size=FONT_SIZE - 3)))
    fig = layout(fig, title, height)
    fig.update_layout(margin=dict(l=60, r=20, t=80, b=140))
    return fig


def overfitting_figure(history: pd.DataFrame, patience_epochs: dict[int, int] | None = None,
                       title: str = "Dense net: accuracy per epoch, training vs held-out data",
                       height: int = 420) -> go.Figure:
    """Mean (line) and min … max over seeds (band) of the dense run's accuracy per epoch.

    ``patience_epochs``: {seed: early-stopping epoch}; each is marked with a diamond on the
    mean test curve. Traces named ``train``, ``validation``, ``test`` (+ band traces)."""
    dense = history[history["arm"] == "dense"]
    fig = go.Figure()
    g = dense.groupby("epoch")
    epochs = sorted(dense["epoch"].unique())
    for split in ("train", "val", "test"):
        col = f"{split}_acc"
        mean = (100 * g[col].mean()).tolist()
        lo, hi = (100 * g[col].min()).tolist(), (100 * g[col].max()).tolist()
        colour = SPLIT_COLOURS[split]
        fig.add_trace(go.Scatter(x=epochs + epochs[::-1], y=hi + lo[::-1], fill="toself",
                                 fillcolor=_rgba(colour, 0.15), line=dict(width=0),
                                 hoverinfo="skip", showlegend=False,
                                 name=f"{SPLIT_LABELS[split]} range"))
        fig.add_trace(go.Scatter(x=epochs, y=mean, mode="lines", name=SPLIT_LABELS[split],
                                 line=dict(color=colour, width=3),
                                 hovertemplate=f"{SPLIT_LABELS[split]}: %{{y:.1f}} % at epoch %{{x}}"
                                               "<extra></extra>"))
    if patience_epochs:
        mean_test = 100 * g["test_acc"].mean()
        xs = list(patience_epochs.values())
        fig.add_trace(go.Scatter(x=xs, y=[float(mean_test.loc[e]) for e in xs], mode="markers",
                                 name="early-stopping epoch (per seed)",
                                 marker=dict(symbol="diamond", size=13,
                                             color=ARM_COLOURS["early_stopping"],
                                             line=dict(color="black", width=1)),
                                 hovertemplate="early stopping restores epoch %{x}<extra></extra>"))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="accuracy (%)")
    return layout(fig, title, height)
