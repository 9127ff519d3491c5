"""The Prune page's figures carry what they show and not more: one heatmap trace per layer
(NaN = pruned, drawn amber by the plot background) and a histogram of counts, not of scores."""
import numpy as np
import pytest
import torch

from pruning.present import style
from pruning.present.charts import histogram_bins, score_histogram, weight_heatmap
from pruning.present.style import PRUNED_COLOUR


def test_heatmap_is_one_trace_with_nan_exactly_where_pruned():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(30, 12, generator=gen)
    mask = torch.rand(30, 12, generator=gen) > 0.4
    fig = weight_heatmap(w, mask)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(np.isnan(z), ~mask.numpy())
    np.testing.assert_allclose(z[mask.numpy()], w[mask].numpy(), rtol=1e-6)
    # NaN cells are transparent: amber must be the background, with no grid drawn over it
    assert fig.layout.plot_bgcolor == PRUNED_COLOUR
    assert fig.layout.xaxis.showgrid is False and fig.layout.yaxis.showgrid is False
    n_pruned = int((~mask).sum())
    assert f"<b>{n_pruned:,}</b> of 360 pruned" in fig.layout.annotations[0].text


def test_heatmap_without_mask_has_no_nan():
    z = np.asarray(weight_heatmap(torch.ones(3, 4)).data[0].z, dtype=float)
    assert not np.isnan(z).any()


def test_fixed_margins_grow_with_classroom_fonts():
    normal = weight_heatmap(torch.ones(3, 4)).layout.margin
    try:
        style.set_font_scale(style.CLASSROOM_FONT_SCALE)
        big = weight_heatmap(torch.ones(3, 4)).layout.margin
    finally:
        style.set_font_scale(1.0)
    assert normal.autoexpand is False and big.autoexpand is False
    assert big.l > normal.l and big.r > normal.r and big.b > normal.b


@pytest.mark.parametrize("log_x", [False, True])
def test_histogram_sends_counts_that_add_up_to_every_score(log_x):
    gen = torch.Generator().manual_seed(1)
    scores = {"a": torch.rand(500, generator=gen), "b": torch.rand(20, 7, generator=gen) * 3}
    fig = score_histogram(scores, threshold=0.4, log_x=log_x, nbins=40)
    bars = fig.data[0]
    assert bars.type == "bar" and len(bars.y) == 40
    assert int(np.sum(bars.y)) == 640
    lo_hi = np.asarray(bars.customdata, dtype=float)
    flat = torch.cat([s.flatten() for s in scores.values()]).numpy()
    x = np.log10(flat) if log_x else flat
    assert lo_hi[0, 0] == pytest.approx(x.min(), rel=1e-6)
    assert lo_hi[-1, 1] == pytest.approx(x.max(), rel=1e-6)
    np.testing.assert_allclose(np.asarray(bars.x), lo_hi.mean(axis=1))
    texts = [a.text for a in fig.layout.annotations]
    assert f"pruned: {int((flat < 0.4).sum()):,}" in texts


def test_histogram_bins_match_numpy_and_skip_non_finite():
    x = np.array([0.0, 1.0, 1.0, 2.0, np.nan, np.inf, -np.inf])
    counts, edges = histogram_bins(x, 4)
    ref_counts, ref_edges = np.histogram([0.0, 1.0, 1.0, 2.0], bins=4)
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_allclose(edges, ref_edges)
    empty_counts, _ = histogram_bins(np.array([np.nan]), 4)
    assert empty_counts.size == 0
    fig = score_histogram(torch.tensor([]), threshold=0.5)  # no scores: an empty chart, no error
    assert len(fig.data[0].y) == 0
