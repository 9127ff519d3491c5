"""The Prune page's figures for one model, built once and then only updated as the slider moves.

A slider move changes which weights are pruned, never the weights themselves. Building a
Plotly figure validates every property it is given (for the layer heatmaps, most of a move's
server time without this module: BENCHMARKS.md), so each figure is built once per model with what does not
depend on the slider — the weights' colour levels, axes, colour bar, the histogram's bars —
and a move only sets what does: ::

    SliderHeatmap(weight, title, zmax).at(mask)            # the pruned cells and their count
    SliderHistogram(scores, log_x, title).at(line, …)       # the line, the shading, the labels
    SliderImages(images, titles, title).at(kept)           # the pruned pixels of each picture

Each ``at(…)`` returns the *same* ``go.Figure`` object, updated in place: draw it (Streamlit
copies it) before the next ``at``. The figure equals, property for property, what the
one-shot builders return for the same arguments (``layer_heatmap(…, compact=True)``,
``cutoff_histogram``, ``images_grid``); ``tests/unit/present/test_slider_figures.py`` compares
their JSON. The objects belong to one session (they are updated in place); they are not
shared through a server-wide cache.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go
import torch

from pruning.present.charts import (
    as_matrix,
    grid_canvases,
    grid_limit,
    histogram_bins,
    histogram_values,
    images_grid,
    pruned_count_text,
    threshold_marks,
)
from pruning.present.compact_heatmap import PRUNED_LEVEL, weight_levels
from pruning.present.prune import cutoff_histogram, layer_heatmap, score_summary


class SliderHeatmap:
    """``layer_heatmap(weight, mask, title=title, zmax=zmax, compact=True)`` for any ``mask``:
    the dense one-byte levels are kept, a mask only sets its pruned cells to
    ``PRUNED_LEVEL`` and the count above the plot."""

    def __init__(self, weight, title: str, zmax: float, height: int | None = None):
        self.zmax = float(zmax) or 1.0
        self.levels = weight_levels(weight, None, self.zmax)
        self.figure = layer_heatmap(weight, None, title=title, zmax=self.zmax, height=height,
                                    compact=True)

    def at(self, mask) -> go.Figure:
        levels = self.levels.copy()
        if mask is not None:
            levels[~as_matrix(mask).astype(bool)] = PRUNED_LEVEL
        n_pruned = int((levels == PRUNED_LEVEL).sum())
        self.figure.data[0].z = levels
        self.figure.layout.annotations[0]["text"] = pruned_count_text(n_pruned, levels.size)
        return self.figure


class SliderHistogram:
    """``cutoff_histogram(scores, masks, line, mode, log_x=log_x, title=title)`` for any line:
    the bars are counted once, a move sets the shading, the line and their two labels."""

    def __init__(self, scores: Mapping[str, torch.Tensor], log_x: bool = False,
                 title: str = "scores", height: int = 380, nbins: int = 60):
        self.names = list(scores)
        self.log_x = log_x
        self.scores, x, _, self.floor = histogram_values(dict(scores), log_x)
        _, self.edges = histogram_bins(x, nbins)
        self.n_bins = len(self.edges) - 1
        #: (min, median, max) of the scores, for ``histogram_note(…, summary=…)``
        self.summary = score_summary(self.scores) if self.scores.size else None
        self.figure = cutoff_histogram(scores, {}, None, "threshold", log_x=log_x, title=title,
                                       height=height)

    def at(self, line: float | None, mode: str,
           masks: Mapping[str, torch.Tensor] | None = None) -> go.Figure:
        """``line``: the threshold (threshold mode) or the selection's cut-off (sparsity mode,
        where the pruned count comes from ``masks``: ties at the cut-off may be pruned too)."""
        marks = threshold_marks(self.scores, line, self.edges, self.n_bins, self.log_x,
                                self.floor)
        if mode == "sparsity" and line is not None:
            n_pruned = int(sum(int((~masks[n]).sum()) for n in self.names))
            marks["annotations"][0]["text"] = f"pruned: {n_pruned:,}"
            marks["annotations"][1]["text"] = f"cut-off {line:.4g}"
        layout = self.figure.layout
        layout.shapes = marks.get("shapes", ())
        layout.annotations = marks.get("annotations", ())
        return self.figure


class SliderImages:
    """``images_grid(images, titles, cols=len(images), symmetric=True, title=title,
    masks=kept, height=height)`` for any ``kept`` (not None): the pruned pixels and the
    colour limits of what is left are set per move."""

    def __init__(self, images: np.ndarray, titles: list[str], title: str, height: int = 260):
        self.images = np.asarray(images, dtype=np.float32)
        self.cols = len(self.images)
        self.figure = images_grid(self.images, titles, cols=self.cols, symmetric=True,
                                  title=title, height=height,
                                  masks=np.ones(self.images.shape, bool))

    def at(self, kept: np.ndarray) -> go.Figure:
        canvas, pruned = grid_canvases(self.images, self.cols, kept)
        m = grid_limit(canvas)
        pruned_trace, weights = self.figure.data
        pruned_trace.z = pruned
        weights.update(z=canvas, zmin=-m, zmax=m)
        return self.figure
