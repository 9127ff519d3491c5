"""Pictures of the training data, so the class sees what the network learns from.

  * images (digits, MNIST, Fashion-MNIST): a grid of training images, in pixel units
    (``DataBundle.unstandardize``), titled by class;
  * 2-D toy sets: a scatter of the training points coloured by class;
  * MNIST-1D: a few signals as lines, one per class, stacked with an offset.

Samples are chosen by a seeded round-robin over the classes, so every class appears when there
is room. With label noise the pictures show the label the network is *given* and mark the
examples whose label was changed, because that is exactly what makes training harder.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruning.core.data import DataBundle
from pruning.present.style import CLASS_COLOURS, FONT_SIZE, layout

# Distinct symbols beside the class colours: classes stay apart without relying on colour alone.
CLASS_SYMBOLS = ("circle", "x", "diamond", "square", "triangle-up",
                 "star", "cross", "triangle-down", "pentagon", "hexagon")


def sample_indices(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Up to ``n`` indices into ``y``: classes taken in turn (0, 1, …, 0, 1, …), each class's
    examples in a seeded random order, so the first ``n_classes`` picks cover every class."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    pools = {c: list(rng.permutation(np.flatnonzero(y == c))) for c in np.unique(y)}
    out: list[int] = []
    while len(out) < min(n, len(y)):
        for c in sorted(pools):
            if pools[c] and len(out) < n:
                out.append(int(pools[c].pop()))
    return np.asarray(out, dtype=np.int64)


def _train_arrays(data: DataBundle):
    X = data.unstandardize(data.X_train).numpy()
    return X, data.y_train.numpy(), data.y_train_clean.numpy()


def _label(data: DataBundle, given: int, clean: int) -> str:
    name = data.class_names[given]
    return name if given == clean else f"{name} (is {data.class_names[clean]})"


def image_samples_figure(data: DataBundle, n: int = 16, seed: int = 0, cols: int = 8,
                         height: int | None = None) -> go.Figure:
    """A grid of ``n`` training images (one heatmap per subplot, pixels in [0, 1], dark = ink),
    each titled by its class; a title "7 (is 3)" marks a label changed by label noise."""
    X, y, y_clean = _train_arrays(data)
    idx = sample_indices(y_clean, n, seed)
    c, h, w = data.image_shape
    images = X[idx].reshape(len(idx), c, h, w)[:, 0]
    titles = [_label(data, int(y[i]), int(y_clean[i])) for i in idx]
    cols = max(1, min(cols, len(idx)))
    rows = -(-len(idx) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.015, vertical_spacing=0.12)
    for k, img in enumerate(images):
        fig.add_trace(go.Heatmap(z=np.clip(img, 0, 1).astype(np.float32), colorscale="Greys",
                                 zmin=0, zmax=1, showscale=False, name=titles[k],
                                 hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"),
                      row=k // cols + 1, col=k % cols + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for i in range(1, len(idx) + 1):  # square pixels in every subplot
        fig.update_yaxes(scaleanchor=f"x{'' if i == 1 else i}", row=(i - 1) // cols + 1,
                         col=(i - 1) % cols + 1)
    fig.update_annotations(font_size=FONT_SIZE)
    n_noisy = int((y[idx] != y_clean[idx]).sum())
    title = f"{len(idx)} training images (of {len(y):,})"
    if n_noisy:
        title += f" — {n_noisy} with a wrong label"
    return layout(fig, title, height or 110 + rows * 150)


def scatter_2d_figure(data: DataBundle, max_points: int = 1500, seed: int = 0,
                      height: int = 460) -> go.Figure:
    """Training points in data units, one trace per class (colour and symbol); points whose
    label was changed by label noise are ringed in a separate last trace."""
    X, y, y_clean = _train_arrays(data)
    idx = np.sort(sample_indices(y_clean, max_points, seed))
    X, y, y_clean = X[idx], y[idx], y_clean[idx]
    fig = go.Figure()
    for c in range(data.n_classes):
        sel = y == c
        fig.add_trace(go.Scatter(
            x=X[sel, 0], y=X[sel, 1], mode="markers", name=f"class {data.class_names[c]}",
            marker=dict(color=CLASS_COLOURS[c % len(CLASS_COLOURS)], size=8, opacity=0.8,
                        symbol=CLASS_SYMBOLS[c % len(CLASS_SYMBOLS)])))
    flipped = y != y_clean
    if flipped.any():
        fig.add_trace(go.Scatter(
            x=X[flipped, 0], y=X[flipped, 1], mode="markers", name="label changed by noise",
            marker=dict(size=15, color="rgba(0,0,0,0)", line=dict(color="black", width=2))))
    fig.update_xaxes(title="x₁")
    fig.update_yaxes(title="x₂", scaleanchor="x")
    title = f"{len(idx):,} training points" + (f" (of {len(data.y_train):,})"
                                               if len(idx) < len(data.y_train) else "")
    return layout(fig, title, height)


def signal_samples_figure(data: DataBundle, n: int = 10, seed: int = 0,
                          height: int = 520) -> go.Figure:
    """``n`` training signals as lines, stacked with a vertical offset, labelled by class."""
    X, y, y_clean = _train_arrays(data)
    idx = sample_indices(y_clean, n, seed)
    span = float(np.ptp(X[idx])) or 1.0
    fig = go.Figure()
    for row, i in enumerate(idx):
        offset = -row * span * 0.8
        c = int(y_clean[i])
        fig.add_trace(go.Scatter(
            y=X[i] + offset, mode="lines", name=_label(data, int(y[i]), c),
            line=dict(width=3, color=CLASS_COLOURS[c % len(CLASS_COLOURS)])))
        fig.add_annotation(x=0, y=float(X[i].mean() + offset), text=_label(data, int(y[i]), c),
                           xanchor="right", showarrow=False, font=dict(size=FONT_SIZE - 2))
    fig.update_xaxes(title="position in the signal")
    fig.update_yaxes(showticklabels=False, title="signal (stacked)")
    fig.update_layout(showlegend=False)
    return layout(fig, f"{len(idx)} training signals, labelled by class", height)


def data_samples_figure(data: DataBundle, seed: int = 0) -> go.Figure:
    """The right picture for ``data``: images, a 2-D scatter or 1-D signals."""
    if data.is_image:
        return image_samples_figure(data, n=16, seed=seed)
    if data.n_features == 2:
        return scatter_2d_figure(data, seed=seed)
    return signal_samples_figure(data, n=min(10, data.n_classes), seed=seed)
