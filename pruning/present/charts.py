"""The charts several pages share: weight heatmaps, score histograms, training curves, images.

Built here (not in the pages) so tests can read their data. Heatmap data are float32 numpy
arrays (fast to serialise; lists are ~25× slower).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.present.format import pct
from pruning.present.style import (
    FONT_SIZE,
    PRUNED_COLOUR,
    SPLIT_COLOURS,
    SPLIT_LABELS,
    WEIGHT_SCALE,
    figure,
    fixed_margin,
    layout,
)


def as_matrix(weight: torch.Tensor | np.ndarray) -> np.ndarray:
    """A 2-D float32 view: Linear (out, in) as is; Conv (out, in, kh, kw) -> (out, in·kh·kw)."""
    w = weight.detach().cpu().numpy() if torch.is_tensor(weight) else np.asarray(weight)
    w = w.astype(np.float32, copy=False)
    if w.ndim == 1:
        return w[None, :]
    return w.reshape(w.shape[0], -1)


def weight_heatmap(weight, mask=None, title: str = "weights", zmax: float | None = None,
                   height: int = 420) -> go.Figure:
    """Heatmap of a weight matrix (rows = output units, columns = inputs).

    One trace, the weights, with NaN where pruned: a heatmap leaves NaN cells transparent and
    the plot background behind them is ``PRUNED_COLOUR``, so pruned cells show amber. (One
    trace, not a second "mask" heatmap on top: half the data to send and to draw on every
    slider move, and the hover still gives each kept weight's value.) ``fig.data[0].z`` is the
    weight data, NaN = pruned.
    """
    w = as_matrix(weight)
    pruned = np.zeros_like(w, dtype=bool) if mask is None else ~as_matrix(mask).astype(bool)
    z = np.where(pruned, np.nan, w).astype(np.float32)
    kept = w[~pruned]
    if zmax is None:
        zmax = float(np.abs(kept).max()) if kept.size else 1.0
        zmax = zmax or 1.0
    return figure([
        dict(type="heatmap", z=z, colorscale=WEIGHT_SCALE, zmid=0, zmin=-zmax, zmax=zmax,
             colorbar=dict(title=dict(text="w")), name="weights",
             hovertemplate="out %{y}, in %{x}<br>w = %{z:.4f}<extra></extra>"),
    ], heatmap_layout(int(pruned.sum()), pruned.size, w.shape), title, height)


def pruned_count_text(n_pruned: int, n: int) -> str:
    """The line above a weight heatmap: "<b>45,180</b> of 50,200 pruned (90.0 %)"."""
    return f"<b>{n_pruned:,}</b> of {n:,} pruned ({pct(n_pruned / n)})"


def heatmap_layout(n_pruned: int, n: int, shape: tuple[int, int] | None = None) -> dict:
    """The layout of a weight heatmap: amber plot background (where pruned cells show),
    rows top-down, no grid, and the pruned count above the plot. With the matrix ``shape``
    (rows, columns) the unit/input ticks are whole numbers, one per cell when there are at
    most 12 (a 2 × 8 layer otherwise gets ticks at 0.5)."""
    # No grid or zero line: they would show through the transparent (pruned) cells.
    axis = dict(showgrid=False, zeroline=False, automargin=False)

    def ticks(k: int) -> dict:
        return {} if shape is None else dict(tickformat="d", **({"dtick": 1} if k <= 12 else {}))

    return dict(
        plot_bgcolor=PRUNED_COLOUR,
        margin=fixed_margin(l=75, r=100, t=60, b=60),
        yaxis=dict(autorange="reversed", title=dict(text="output unit"), **axis,
                   **ticks(shape[0] if shape else 0)),
        xaxis=dict(title=dict(text="input"), **axis, **ticks(shape[1] if shape else 0)),
        annotations=[dict(text=pruned_count_text(n_pruned, n),
                          xref="paper", yref="paper", x=0,
                          y=1.0, yanchor="bottom", showarrow=False,
                          font=dict(size=FONT_SIZE - 2))],
    )


def histogram_bins(x: np.ndarray, nbins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """``(counts (nbins,), edges (nbins + 1,))``: ``nbins`` equal bins from min(x) to max(x),
    NaN and ±inf left out (``numpy.histogram``; an empty ``x`` gives zero bins)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(1)
    return np.histogram(x, bins=nbins)


def score_histogram(scores, threshold: float | None = None, title: str = "scores",
                    log_x: bool = False, nbins: int = 60, height: int = 380) -> go.Figure:
    """Histogram of scores with the threshold line; the pruned region (< t) is shaded.

    ``scores`` is a tensor, array or dict of them (all concatenated). With ``log_x`` the
    histogram is of log10(score) so that magnitudes spanning decades stay readable.

    The bins are counted here (``histogram_bins``) and drawn as touching bars: the browser
    gets ``nbins`` counts instead of every score (the default model has 50,200, re-sent on
    every slider move of the Prune page). ``fig.data[0].y`` are the counts, ``.x`` the bin
    centres, ``.customdata`` each bin's [low, high) edges.
    """
    s, x, xlabel, floor = histogram_values(scores, log_x)
    counts, edges = histogram_bins(x, nbins)
    spec = dict(xaxis=dict(title=dict(text=xlabel), automargin=False),
                  yaxis=dict(title=dict(text="number of weights"), automargin=False),
                  margin=fixed_margin(l=85, r=25, t=60, b=60), bargap=0)
    spec.update(threshold_marks(s, threshold, edges, counts.size, log_x, floor))
    return figure([dict(type="bar", x=(edges[:-1] + edges[1:]) / 2, y=counts,
                         width=np.diff(edges), customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                         marker=dict(color="#4c72b0", line=dict(width=0)), name="scores",
                         hovertemplate=f"{xlabel} %{{customdata[0]:.4g}} to %{{customdata[1]:.4g}}"
                                       "<br>%{y:,} weights<extra></extra>")],
                   spec, title, height)


def histogram_values(scores, log_x: bool) -> tuple[np.ndarray, np.ndarray, str, float]:
    """``(scores as float32, the values binned, the x label, the log floor)`` of
    ``score_histogram``: with ``log_x`` the values are log10(max(score, floor)), ``floor`` the
    smallest positive score (at least 1e-12)."""
    if isinstance(scores, dict):
        scores = torch.cat([torch.as_tensor(s).flatten() for s in scores.values()])
    s = torch.as_tensor(scores).detach().flatten().cpu().numpy().astype(np.float32)
    if not log_x:
        return s, s, "score", 0.0
    floor = max(float(s[s > 0].min()) if (s > 0).any() else 1e-8, 1e-12)
    return s, np.log10(np.maximum(s, floor)), "log10(score)", floor


def threshold_marks(s: np.ndarray, threshold: float | None, edges: np.ndarray, n_bins: int,
                    log_x: bool, floor: float) -> dict:
    """The layout ``shapes`` and ``annotations`` of ``score_histogram``'s line at
    ``threshold``: the pruned region (< t) shaded, the dashed line, "pruned: n" and the
    threshold's value; ``{}`` without a threshold."""
    if threshold is None:
        return {}
    t = math.log10(max(threshold, floor)) if log_x else threshold
    # What add_vrect / add_vline (annotation top left / top right) would add, in one go.
    n_below = int((s < threshold).sum())
    lo = float(min(edges[0], t)) if n_bins else t
    span = dict(xref="x", y0=0, y1=1, yref="y domain")
    label = dict(y=1, yref="y domain", xref="x", xanchor="left", yanchor="top",
                 showarrow=False)
    return dict(
        shapes=[dict(type="rect", x0=lo, x1=t, fillcolor=PRUNED_COLOUR, opacity=0.25,
                     line=dict(width=0), **span),
                dict(type="line", x0=t, x1=t, line=dict(color="black", width=3, dash="dash"),
                     **span)],
        annotations=[dict(text=f"pruned: {n_below:,}", x=lo, **label),
                     dict(text=f"threshold {threshold:.4g}", x=t, **label)])


def training_curves(history: pd.DataFrame, metric: str = "acc", title: str | None = None,
                    height: int = 380) -> go.Figure:
    """Train / validation / test ``acc`` or ``loss`` against epoch (one line per split)."""
    fig = go.Figure()
    for split in ("train", "val", "test"):
        col = f"{split}_{metric}"
        if col in history:
            y = history[col] * (100 if metric == "acc" else 1)
            fig.add_trace(go.Scatter(x=history["epoch"], y=y, mode="lines+markers",
                                     name=SPLIT_LABELS[split],
                                     line=dict(color=SPLIT_COLOURS[split], width=3)))
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="accuracy (%)" if metric == "acc" else "cross-entropy loss")
    return layout(fig, title or ("accuracy" if metric == "acc" else "loss"), height)


def budget_text(df: pd.DataFrame) -> str:
    """A rounds table's fine-tuning budget: "3 rounds, 15 fine-tuning epochs" (or "")."""
    if "finetune_epochs" not in df or not len(df):
        return ""
    n, e = len(df), int(df["finetune_epochs"].sum())
    return f"{n} round{'s' if n != 1 else ''}, {e} fine-tuning epoch{'s' if e != 1 else ''}"


def accuracy_vs_sparsity(rounds: pd.DataFrame, dense: dict | None = None,
                         baseline: pd.DataFrame | None = None, baseline_name: str = "random",
                         title: str = "accuracy vs sparsity", height: int = 420,
                         others: Sequence[tuple[pd.DataFrame, str]] = ()) -> go.Figure:
    """Test and train accuracy against reached sparsity: right after pruning (dotted) and
    after fine-tuning (solid), one marker per measured round. ``dense`` adds the 0 % point as
    its own markers — it is not joined to round 1 by a line, since nothing between was
    measured (a one-shot run is one point, not a straight line from 0 %). ``baseline`` (another
    rounds table, e.g. random pruning) is drawn in grey, ``others`` ((table, label) pairs, e.g.
    a one-shot control) in their own colours; every legend entry carries its run's budget."""
    fig = go.Figure()

    def add(df, label, colour_train, colour_test, dash_after="solid", width=3):
        x = 100 * df["sparsity"]
        budget = budget_text(df)
        tail = f" — {budget}" if budget else ""
        for split, colour in (("train", colour_train), ("test", colour_test)):
            for suffix, dash, name in (("_pruned", "dot", "right after pruning"),
                                       ("", dash_after, "after fine-tuning")):
                fig.add_trace(go.Scatter(x=x, y=100 * df[f"{split}_acc{suffix}"],
                                         mode="lines+markers", name=f"{label}{split}, {name}{tail}",
                                         line=dict(color=colour, dash=dash, width=width),
                                         marker=dict(size=9)))

    add(rounds, "", SPLIT_COLOURS["train"], SPLIT_COLOURS["test"])
    if baseline is not None and len(baseline):
        add(baseline, f"{baseline_name}: ", "#9ecae1", "#bdbdbd", width=2)
    for (df, label), (c_train, c_test) in zip(others, (("#fdae6b", "#e6550d"),
                                                         ("#c7e9c0", "#31a354"))):
        if df is not None and len(df):
            add(df, f"{label}: ", c_train, c_test, width=2)
    if dense is not None:
        for split in ("train", "test"):
            fig.add_trace(go.Scatter(x=[0.0], y=[100 * dense[f"{split}_acc"]], mode="markers",
                                     name=f"dense {split}",
                                     marker=dict(color=SPLIT_COLOURS[split], size=12,
                                                 symbol="diamond")))
    fig.update_xaxes(title="weights pruned (%)", range=[-2, 102])
    fig.update_yaxes(title="accuracy (%)")
    # The legend goes under the plot, one entry a line: its entries carry each run's budget
    # and are long, and on the right they took most of a 1280-px projector's width.
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-0.22,
                                  yanchor="top"))
    return layout(fig, title, height + 30 * len(fig.data))


def images_grid(images: np.ndarray, titles: list[str] | None = None, cols: int = 8,
                title: str = "", symmetric: bool = False, height: int | None = None,
                masks: np.ndarray | None = None) -> go.Figure:
    """Small images (N, H, W) in a grid, one heatmap.

    ``symmetric`` uses the diverging weight scale around 0 (for incoming-weight pictures);
    otherwise greys (for data samples). With ``masks`` (N, H, W bool, True = kept) pruned
    pixels are drawn in ``PRUNED_COLOUR``.
    """
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    pad = 1
    canvas, pruned = grid_canvases(images, cols, masks)
    traces = []
    if masks is not None:
        traces.append(dict(type="heatmap", z=pruned,
                           colorscale=[[0, PRUNED_COLOUR], [1, PRUNED_COLOUR]],
                           showscale=False, hoverinfo="skip", name="pruned"))
    if symmetric:
        m = grid_limit(canvas)
        traces.append(dict(type="heatmap", z=canvas, colorscale=WEIGHT_SCALE, zmid=0, zmin=-m,
                           zmax=m, showscale=True, name="weights"))
    else:
        traces.append(dict(type="heatmap", z=canvas, colorscale="Greys", showscale=False,
                           name="pixels"))
    spec = dict(yaxis=dict(autorange="reversed", showticklabels=False, scaleanchor="x"),
                  xaxis=dict(showticklabels=False))
    if titles:
        spec["annotations"] = [
            dict(x=(i % cols) * (w + pad) + (w - 1) / 2, y=(i // cols) * (h + pad) - 0.6, text=t,
                 showarrow=False, yanchor="bottom", font=dict(size=FONT_SIZE - 4))
            for i, t in enumerate(titles[:n])]
    return figure(traces, spec, title, height or 120 + rows * 110)


def grid_canvases(images: np.ndarray, cols: int, masks: np.ndarray | None = None,
                  pad: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``images_grid``'s two pictures: the images tiled ``cols`` to a row with ``pad`` NaN
    between them (pruned pixels NaN too), and 1.0 where a pixel is pruned, NaN elsewhere."""
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    canvas = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, np.float32)
    pruned = np.full_like(canvas, np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = images[i]
        if masks is not None:
            cell = np.where(~np.asarray(masks[i], bool), 1.0, np.nan)
            pruned[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = cell
            canvas[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w][
                ~np.asarray(masks[i], bool)] = np.nan
    return canvas, pruned


def grid_limit(canvas: np.ndarray) -> float:
    """The symmetric colour limit of an incoming-weight grid: max |w| over what is shown."""
    return float(np.nanmax(np.abs(canvas))) if np.isfinite(canvas).any() else 1.0


def confusion_matrix_figure(y_true, y_pred, class_names, title="confusion matrix (test)",
                            height: int = 460) -> go.Figure:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    k = len(class_names)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    fig = go.Figure(go.Heatmap(z=cm, x=list(class_names), y=list(class_names), colorscale="Blues",
                               text=cm, texttemplate="%{text}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_xaxes(title="predicted", type="category")
    fig.update_yaxes(title="true", autorange="reversed", type="category")
    return layout(fig, title, height)
