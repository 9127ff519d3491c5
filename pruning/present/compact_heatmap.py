"""A weight heatmap in one byte per cell, for the figures that are re-sent on every slider move.

``charts.weight_heatmap`` sends each weight as float32 (NaN = pruned): the default model's three
layers (50,200 weights) are 200 kB, 268 kB as the base64 text Plotly's JSON carries, on every
move of the Prune page's slider. What the picture needs is a colour per cell, and a colour scale
has far fewer distinguishable steps than float32 has values; so here each weight is rounded to
one of 255 levels::

    level = round(127 · w / zmax)  ∈ {-127 … 127}   (w clipped to ±zmax)
    level = -128                                   where the weight is pruned

sent as int8 (1 byte a cell: a quarter of the bytes). The colour scale maps -128 to amber
(``PRUNED_COLOUR``) and -127 … 127 to the usual blue–white–red weight scale, so the picture is
the float one's to within 1/254 of the scale; the colour bar is labelled in weight units.
The hover shows a cell's row and column but no value: a rounded level would be a wrong number
(the exact weights are in the table and the downloads).

``fig.data[0].z`` is the int8 level matrix; ``pruned_cells(z)`` counts pruned cells in it (and
NaN cells in a float heatmap of ``charts.weight_heatmap``).
"""
from __future__ import annotations

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from pruning.present.charts import as_matrix, heatmap_layout
from pruning.present.style import PRUNED_COLOUR, WEIGHT_SCALE, figure

#: The level of a pruned cell (the one value weights never round to).
PRUNED_LEVEL = -128
#: Weights are rounded to -STEPS … STEPS.
STEPS = 127


def weight_levels(weight, mask, zmax: float) -> np.ndarray:
    """The int8 level matrix described in the module docstring (rows = output units)."""
    w = as_matrix(weight)
    zmax = float(zmax) or 1.0
    levels = np.clip(np.rint(w * (STEPS / zmax)), -STEPS, STEPS).astype(np.int8)
    if mask is not None:
        levels[~as_matrix(mask).astype(bool)] = PRUNED_LEVEL
    return levels


def level_colorscale() -> list[list]:
    """Plotly colour scale over [PRUNED_LEVEL, STEPS]: amber for the pruned level, then
    ``WEIGHT_SCALE`` stretched over -STEPS … STEPS."""
    span = STEPS - PRUNED_LEVEL                  # 255 levels above the lowest
    first = (-STEPS - PRUNED_LEVEL) / span       # where -127 sits (1/255)
    scale = [[0.0, PRUNED_COLOUR], [first / 2, PRUNED_COLOUR]]
    for pos, colour in plotly.colors.get_colorscale(WEIGHT_SCALE):
        scale.append([first + (1 - first) * float(pos), colour])
    scale[2][0] = first / 2 + 1e-9              # a sharp edge between amber and the weights
    return scale


def compact_weight_heatmap(weight, mask=None, title: str = "weights",
                           zmax: float | None = None, height: int = 420) -> go.Figure:
    """``charts.weight_heatmap``'s figure (title, pruned count, axes: ``heatmap_layout``) with
    the one-byte levels as its data."""
    w = as_matrix(weight)
    if zmax is None:
        kept = w if mask is None else w[as_matrix(mask).astype(bool)]
        zmax = float(np.abs(kept).max()) if kept.size else 1.0
    zmax = zmax or 1.0
    levels = weight_levels(w, mask, zmax)
    ticks = np.linspace(-zmax, zmax, 5)
    return figure([
        dict(type="heatmap", z=levels, zmin=PRUNED_LEVEL, zmax=STEPS,
             colorscale=level_colorscale(), name="weights",
             colorbar=dict(title=dict(text="w"), tickvals=np.rint(ticks * STEPS / zmax).tolist(),
                           ticktext=[f"{t:.2g}" for t in ticks]),
             hovertemplate="out %{y}, in %{x}<extra></extra>"),
    ], heatmap_layout(int((levels == PRUNED_LEVEL).sum()), levels.size, levels.shape), title,
        height)


def pruned_cells(z) -> int:
    """Pruned cells of a heatmap's ``z``: cells at ``PRUNED_LEVEL`` in the one-byte form, NaN
    cells in ``charts.weight_heatmap``'s float form."""
    z = np.asarray(z)
    if np.issubdtype(z.dtype, np.integer):
        return int((z == PRUNED_LEVEL).sum())
    return int(np.isnan(z.astype(float)).sum())
