"""Decision boundaries of a classifier on 2-D data, as in TensorFlow Playground.

A regular grid of ``resolution × resolution`` points covers the data (plus a margin); the
model predicts every grid point, and the figure colours the plane by the prediction with
the data points on top. Comparing two grids (e.g. before and after pruning) gives the share
of the plotted area whose predicted class changed.

Coordinates are the data's original units: the grid is standardized with the training
split's mean and standard deviation (``DataBundle.feature_mean/std``) before it reaches the
model, exactly as the training inputs were.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from pruning.core.data import DataBundle
from pruning.errors import PruningError
from pruning.present.style import CLASS_COLOURS, FONT_SIZE, layout

#: One marker shape per class beside the class colour (style.CLASS_COLOURS).
CLASS_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "x", "star", "cross",
                 "triangle-down")


@dataclass(frozen=True)
class BoundaryGrid:
    """Predictions on a grid. ``xs`` (nx,), ``ys`` (ny,) in data units; ``proba`` (ny, nx, C)
    softmax probabilities; ``classes`` (ny, nx) the argmax (row i is ``ys[i]``)."""

    xs: np.ndarray
    ys: np.ndarray
    proba: np.ndarray

    @property
    def classes(self) -> np.ndarray:
        return self.proba.argmax(axis=2)


def _points(data: DataBundle) -> np.ndarray:
    """Every split's inputs in original units, (N, 2)."""
    X = torch.cat([data.X_train, data.X_val, data.X_test])
    return data.unstandardize(X).numpy()


def plot_range(data: DataBundle, margin: float = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((x_min, x_max), (y_min, y_max))`` covering all points plus ``margin`` of the span."""
    if data.n_features != 2:
        raise PruningError(f"decision boundaries need 2-D inputs; this data set has "
                           f"{data.n_features} features")
    P = _points(data)
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-6)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


@torch.no_grad()
def boundary_grid(model: nn.Module, data: DataBundle, resolution: int = 120,
                  margin: float = 0.1) -> BoundaryGrid:
    """The model's class probabilities on a ``resolution²`` grid over the data (see module
    docstring for the units). Does not modify ``model``."""
    if not 2 <= int(resolution) <= 1000:
        raise PruningError(f"grid resolution must be between 2 and 1000, got {resolution}")
    (x0, x1), (y0, y1) = plot_range(data, margin)
    xs = np.linspace(x0, x1, int(resolution), dtype=np.float32)
    ys = np.linspace(y0, y1, int(resolution), dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx): row i has y = ys[i]
    grid = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
    if data.feature_mean is not None:
        grid = (grid - data.feature_mean) / data.feature_std
    was_training = model.training
    model.eval()
    proba = torch.softmax(model(grid), dim=1).numpy()
    model.train(was_training)
    return BoundaryGrid(xs, ys, proba.reshape(len(ys), len(xs), -1).astype(np.float32))


def changed_fraction(before: BoundaryGrid, after: BoundaryGrid) -> float:
    """Share of grid points whose predicted class differs between two grids (same grid)."""
    if before.proba.shape != after.proba.shape:
        raise PruningError("the two boundary grids have different shapes")
    return float((before.classes != after.classes).mean())


def _two_class_scale(c0: str, c1: str) -> list:
    # class 0 colour → white at p = 0.5 (the boundary) → class 1 colour
    return [[0.0, c0], [0.5, "#ffffff"], [1.0, c1]]


def boundary_figure(grid: BoundaryGrid, data: DataBundle, split: str = "train",
                    title: str = "decision boundary", height: int = 460,
                    max_points: int = 600) -> go.Figure:
    """The plane coloured by the prediction, with the ``split``'s points on top.

    Two classes: trace 0 is P(class 1) on a class-0 → white → class-1 scale, so the boundary
    is the white band and the colour depth is the confidence. More classes: trace 0 is the
    predicted class in the class colours. Then one scatter trace per class (colour *and*
    marker shape differ, for colour-blind viewers). At most ``max_points`` points are drawn
    (the first ones of the split, which is already shuffled).
    """
    k = grid.proba.shape[2]
    if k == 2:
        z = grid.proba[:, :, 1]
        bg = go.Heatmap(x=grid.xs, y=grid.ys, z=z.astype(np.float32), zmin=0, zmax=1,
                        colorscale=_two_class_scale(CLASS_COLOURS[0], CLASS_COLOURS[1]),
                        opacity=0.55, colorbar=dict(title="P(class 1)"), name="prediction",
                        hovertemplate="x %{x:.2f}, y %{y:.2f}<br>P(class 1) = %{z:.2f}<extra></extra>")
    else:
        steps = []
        for c in range(k):
            colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
            steps += [[c / k, colour], [(c + 1) / k, colour]]
        bg = go.Heatmap(x=grid.xs, y=grid.ys, z=grid.classes.astype(np.float32), zmin=0,
                        zmax=k, colorscale=steps, opacity=0.45, showscale=False,
                        name="prediction",
                        hovertemplate="x %{x:.2f}, y %{y:.2f}<br>predicted %{z}<extra></extra>")
    fig = go.Figure([bg])
    X, y = data.split(split)
    P = data.unstandardize(X[:max_points]).numpy()
    yy = y[:max_points].numpy()
    for c in range(k):
        sel = yy == c
        fig.add_trace(go.Scatter(
            x=P[sel, 0], y=P[sel, 1], mode="markers", name=f"class {data.class_names[c]}",
            marker=dict(color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                        symbol=CLASS_SYMBOLS[c % len(CLASS_SYMBOLS)], size=8,
                        line=dict(color="white", width=1))))
    fig.update_xaxes(title="x₁", range=[float(grid.xs[0]), float(grid.xs[-1])])
    fig.update_yaxes(title="x₂", range=[float(grid.ys[0]), float(grid.ys[-1])])
    fig.update_layout(legend=dict(orientation="h", y=-0.15, font=dict(size=FONT_SIZE - 2)))
    return layout(fig, title, height)
