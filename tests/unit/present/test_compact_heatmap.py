"""The one-byte weight heatmap: the levels round the weights to 1/127 of the scale, pruned
cells (and only they) sit at the pruned level, the colour scale maps that level to amber, and
the figure carries a quarter of the float heatmap's bytes."""
import numpy as np
import plotly.io
import pytest
import torch

from pruning.present.charts import weight_heatmap
from pruning.present.compact_heatmap import (
    PRUNED_LEVEL,
    STEPS,
    compact_weight_heatmap,
    level_colorscale,
    pruned_cells,
    weight_levels,
)
from pruning.present.prune import layer_heatmap
from pruning.present.style import PRUNED_COLOUR


def _layer(rows=300, cols=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=gen)
    return w, torch.rand(rows, cols, generator=gen) > 0.6


def test_levels_round_kept_weights_and_mark_exactly_the_pruned_ones():
    w, mask = _layer(30, 12)
    zmax = float(w.abs().max())
    levels = weight_levels(w, mask, zmax)
    assert levels.dtype == np.int8
    np.testing.assert_array_equal(levels == PRUNED_LEVEL, ~mask.numpy())
    kept = mask.numpy()
    back = levels[kept].astype(float) * zmax / STEPS
    assert np.abs(back - w.numpy()[kept]).max() <= zmax / STEPS / 2 + 1e-6
    assert levels[kept].min() >= -STEPS  # a kept weight never lands on the pruned level


def test_weights_beyond_zmax_are_clipped_not_wrapped():
    levels = weight_levels(torch.tensor([[5.0, -5.0, 0.0]]), None, zmax=1.0)
    assert levels.tolist() == [[STEPS, -STEPS, 0]]


def test_colour_scale_is_amber_at_the_pruned_level_only():
    scale = level_colorscale()
    positions = [p for p, _ in scale]
    assert positions == sorted(positions) and positions[0] == 0.0 and positions[-1] == 1.0
    assert scale[0][1] == scale[1][1] == PRUNED_COLOUR
    first_weight = (-STEPS - PRUNED_LEVEL) / (STEPS - PRUNED_LEVEL)
    assert scale[2][0] < first_weight and scale[2][1] != PRUNED_COLOUR


def test_figure_has_same_count_and_layout_as_the_float_heatmap_with_a_quarter_of_the_bytes():
    w, mask = _layer()
    small = compact_weight_heatmap(w, mask, title="layer")
    full = weight_heatmap(w, mask, title="layer")
    assert small.layout.annotations[0].text == full.layout.annotations[0].text
    assert small.layout.plot_bgcolor == full.layout.plot_bgcolor
    assert pruned_cells(small.data[0].z) == pruned_cells(full.data[0].z) == int((~mask).sum())
    assert small.data[0].zmin == PRUNED_LEVEL and small.data[0].zmax == STEPS
    small_bytes, full_bytes = len(plotly.io.to_json(small)), len(plotly.io.to_json(full))
    assert small_bytes < 0.3 * full_bytes, (small_bytes, full_bytes)
    # the colour bar speaks weight units: its ends are ±zmax
    ticks = small.data[0].colorbar.ticktext
    assert float(ticks[0]) == pytest.approx(-float(w[mask].abs().max()), rel=0.05)


def test_layer_heatmap_compact_keeps_whole_number_ticks():
    w = torch.arange(16, dtype=torch.float32).reshape(2, 8) - 8
    fig = layer_heatmap(w, w.abs() > 3, zmax=8.0, compact=True)
    assert fig.layout.xaxis.dtick == 1 and fig.layout.height == 300
    assert pruned_cells(fig.data[0].z) == int((w.abs() <= 3).sum())
