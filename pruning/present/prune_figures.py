"""Figures of the Prune, Fine-tune and Iterate pages that add to ``pruning.present.charts``.

Same conventions as ``pruning.present.charts`` (diverging weight scale, amber = pruned, large fonts).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.present.charts import score_histogram, training_curves, weight_heatmap
from pruning.present.style import FONT_SIZE, SPLIT_COLOURS


def cutoff_histogram(scores: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                     cutoff: float | None, mode: str, log_x: bool = False,
                     title: str = "scores", height: int = 380) -> go.Figure:
    """``figures.score_histogram`` of ``scores`` with the line at ``cutoff``.

    In threshold mode the line is the threshold and "pruned" is exactly ``score < t``. In
    sparsity mode the line is the selection's cut-off (the largest pruned score) and weights
    *at* the cut-off may be pruned too (ties broken by position), so the label and the pruned
    count are taken from ``masks`` instead of from the comparison.
    """
    fig = score_histogram(dict(scores), threshold=cutoff, title=title, log_x=log_x,
                          height=height)
    if mode == "sparsity" and cutoff is not None:
        n_pruned = int(sum(int((~masks[n]).sum()) for n in scores))
        for ann in fig.layout.annotations:
            if ann.text.startswith("pruned:"):
                ann.text = f"pruned: {n_pruned:,}"
            elif ann.text.startswith("threshold"):
                ann.text = f"cut-off {cutoff:.4g}"
    return fig


def recovery_curves(history: pd.DataFrame, dense: Mapping[str, float] | None = None,
                    title: str = "recovery while fine-tuning", height: int = 400) -> go.Figure:
    """Train and test accuracy per fine-tuning epoch. Epoch 0 is the pruned model before any
    update, so the curves start at the accuracy pruning left; ``dense`` adds the dense
    model's accuracies as dashed horizontal lines (the level to recover)."""
    cols = ["epoch"] + [c for c in ("train_acc", "test_acc") if c in history]
    fig = training_curves(history[cols], "acc", title=title, height=height)
    if dense is not None:
        # Labels on the left, where the curves start low after pruning; train above its
        # line and test below, so two close dense levels do not print over each other.
        for split, where in (("train", "top left"), ("test", "bottom left")):
            if f"{split}_acc" in dense:
                fig.add_hline(y=100 * dense[f"{split}_acc"],
                              line=dict(color=SPLIT_COLOURS[split], dash="dash", width=2),
                              annotation_text=f"dense {split}: {100 * dense[f'{split}_acc']:.1f} %",
                              annotation_position=where,
                              annotation_font=dict(size=FONT_SIZE - 2,
                                                   color=SPLIT_COLOURS[split]))
    fig.update_xaxes(title="fine-tuning epoch (0 = right after pruning)")
    fig.update_yaxes(rangemode="tozero")
    return fig



def layer_heatmap(weight, mask=None, title: str = "weights", zmax: float | None = None,
                  height: int | None = None) -> go.Figure:
    """``figures.weight_heatmap`` with whole-number unit/input ticks (a 2 × 8 layer otherwise
    gets ticks at 0.5) and a height that suits the matrix: short for a few output units."""
    rows = weight.shape[0]
    fig = weight_heatmap(weight, mask, title=title, zmax=zmax,
                         height=height or (300 if rows <= 20 else 420))
    cols = np.asarray(fig.data[0].z).shape[1]
    # One update for both axes (each plotly update re-validates the figure; this runs on
    # every slider move of the Prune page).
    fig.update_layout(xaxis=dict(tickformat="d", **({"dtick": 1} if cols <= 12 else {})),
                      yaxis=dict(tickformat="d", **({"dtick": 1} if rows <= 12 else {})))
    return fig
