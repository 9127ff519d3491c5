"""The Prune page's figures for one model, built once and then only updated as the slider moves.

A slider move changes which weights are pruned, never the weights themselves. Building a
Plotly figure validates every property it is given, and sending it deep-copies and walks it
again (for the layer heatmaps, most of a move's server time without this module:
BENCHMARKS.md). So each figure is built once per model with Plotly, with what does not depend
on the slider — the weights' colour levels, axes, colour bar, the histogram's bars — and kept
as Plotly's own JSON dict; a move makes a new dict that shares every unchanged part and sets
only what changes (``pruning.present.figure_json``): ::

    SliderHeatmap(weight, title, zmax).at(mask)            # the pruned cells and their count
    SliderHistogram(scores, log_x, title).at(line, …)       # the line, the shading, the labels
    SliderImages(images, titles, title).at(kept)           # the pruned pixels of each picture

Each ``at(…)`` returns a new ``FigureJSON`` (drawn by ``ui.charts.show_chart``). Its JSON
equals, property for property, what the one-shot builders return for the same arguments
(``layer_heatmap(…, compact=True)``, ``cutoff_histogram``, ``images_grid``);
``tests/unit/present/test_slider_figures.py`` compares them. Nothing is modified after
``__init__``, so one object may serve every session showing the same model.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
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
from pruning.present.figure_json import FigureJSON, typed_array
from pruning.present.prune import cutoff_histogram, layer_heatmap, score_summary


class SliderHeatmap:
    """``layer_heatmap(weight, mask, title=title, zmax=zmax, compact=True)`` for any ``mask``:
    the dense one-byte levels are kept, a mask only sets its pruned cells to
    ``PRUNED_LEVEL`` and the count above the plot."""

    def __init__(self, weight, title: str, zmax: float, height: int | None = None):
        self.zmax = float(zmax) or 1.0
        self.levels = weight_levels(weight, None, self.zmax)
        self.base = layer_heatmap(weight, None, title=title, zmax=self.zmax, height=height,
                                  compact=True).to_dict()

    def at(self, mask) -> FigureJSON:
        levels = self.levels
        if mask is not None:
            levels = levels.copy()
            levels[~as_matrix(mask).astype(bool)] = PRUNED_LEVEL
        n_pruned = int((levels == PRUNED_LEVEL).sum())
        base, layout = self.base, self.base["layout"]
        count, *notes = layout["annotations"]
        return FigureJSON({
            **base,
            "data": [{**base["data"][0], "z": typed_array(levels)}, *base["data"][1:]],
            "layout": {**layout, "annotations": [
                {**count, "text": pruned_count_text(n_pruned, levels.size)}, *notes]}})


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
        self.base = cutoff_histogram(scores, {}, None, "threshold", log_x=log_x, title=title,
                                     height=height).to_dict()

    def at(self, line: float | None, mode: str,
           masks: Mapping[str, torch.Tensor] | None = None) -> FigureJSON:
        """``line``: the threshold (threshold mode) or the selection's cut-off (sparsity mode,
        where the pruned count comes from ``masks``: ties at the cut-off may be pruned too)."""
        marks = threshold_marks(self.scores, line, self.edges, self.n_bins, self.log_x,
                                self.floor)
        if mode == "sparsity" and line is not None:
            n_pruned = int(sum(int((~masks[n]).sum()) for n in self.names))
            marks["annotations"][0]["text"] = f"pruned: {n_pruned:,}"
            marks["annotations"][1]["text"] = f"cut-off {line:.4g}"
        layout = {k: v for k, v in self.base["layout"].items()
                  if k not in ("shapes", "annotations")}
        for part in ("shapes", "annotations"):
            if marks.get(part):
                layout[part] = marks[part]
        return FigureJSON({**self.base, "layout": layout})


class SliderImages:
    """``images_grid(images, titles, cols=len(images), symmetric=True, title=title,
    masks=kept, height=height)`` for any ``kept`` (not None): the pruned pixels and the
    colour limits of what is left are set per move."""

    def __init__(self, images: np.ndarray, titles: list[str], title: str, height: int = 260):
        self.images = np.asarray(images, dtype=np.float32)
        self.cols = len(self.images)
        self.base = images_grid(self.images, titles, cols=self.cols, symmetric=True,
                                title=title, height=height,
                                masks=np.ones(self.images.shape, bool)).to_dict()

    def at(self, kept: np.ndarray) -> FigureJSON:
        canvas, pruned = grid_canvases(self.images, self.cols, kept)
        m = grid_limit(canvas)
        pruned_trace, weights = self.base["data"]
        return FigureJSON({**self.base, "data": [
            {**pruned_trace, "z": typed_array(pruned)},
            {**weights, "z": typed_array(canvas), "zmin": -m, "zmax": m}]})
