"""Threshold vs sparsity on real weights, and the global-vs-per-layer comparison."""
import numpy as np
import pytest
import torch

from pruning import DataConfig, ModelConfig, TrainConfig, build_model, load_dataset
from pruning.core.selection import select_by_threshold
from pruning.core.training import train
from pruning.errors import PruningError
from pruning.labs import layer_thresholds as lt
from pruning.present import thresholds


@pytest.fixture(scope="module")
def scores():
    data = load_dataset(DataConfig(name="digits", train_size=200, seed=0))
    model = build_model(ModelConfig(hidden=(32, 16)), data.n_features, data.n_classes, seed=0)
    train(model, data, TrainConfig(epochs=3, seed=0))
    return lt.magnitude_scores(model)


def test_magnitude_scores_are_abs_of_every_weight_matrix(scores):
    assert list(scores) == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    assert all((s >= 0).all() for s in scores.values())
    assert lt.layer_shape_label("layers.0.weight", (32, 64)) == "layers.0 (64→32)"
    assert lt.layer_shape_label("convs.1.weight", (16, 8, 3, 3)) == "convs.1 (8→16, 3×3)"


def test_sparsity_at_threshold_counts_strictly_below():
    s = torch.tensor([0.2, 0.5, 0.1, 0.3])
    assert lt.sparsity_at_threshold(s, 0.3) == 0.5
    assert lt.sparsity_at_threshold(s, 0.30001) == 0.75
    assert lt.sparsity_at_threshold({"a": s, "b": torch.tensor([1.0, 1.0, 1.0, 1.0])}, 0.3) == 0.25


@pytest.mark.parametrize("target", [0.0, 0.1, 0.5, 0.9, 0.97, 1.0])
def test_threshold_for_sparsity_reaches_the_target(scores, target):
    res = lt.threshold_for_sparsity(scores, target)
    n = sum(s.numel() for s in scores.values())
    assert res.n_total == n
    # Trained float weights have no exact ties, so the target is met to one weight.
    assert abs(res.reached - target) <= 1 / n
    assert res.reached == select_by_threshold(scores, res.threshold).reached
    # t is the smallest score that stays: a hair above it prunes that weight too, and the
    # largest pruned score as a threshold would keep it (so it reaches less)
    flat = np.sort(torch.cat([s.flatten() for s in scores.values()]).numpy())
    if 0 < target < 1:
        assert res.threshold in flat
        upper = float(np.nextafter(np.float32(res.threshold), np.float32(np.inf)))
        assert lt.sparsity_at_threshold(scores, upper) > res.reached
    if target > 0:
        largest_pruned = float(flat[res.n_pruned - 1])
        assert lt.sparsity_at_threshold(scores, largest_pruned) < res.reached


def test_threshold_for_sparsity_reports_ties_honestly():
    s = torch.tensor([0.1, 0.1, 0.1, 0.1, 0.5])
    res = lt.threshold_for_sparsity(s, 0.4)  # would need to split the four equal 0.1s
    assert res.threshold == pytest.approx(0.1)
    assert res.reached == 0.0  # a threshold keeps all equal scores together
    with pytest.raises(PruningError):
        lt.threshold_for_sparsity(s, 1.5)


def test_layer_table_global_vs_per_layer(scores):
    t = lt.threshold_for_sparsity(scores, 0.6).threshold
    table = lt.layer_threshold_table(scores, t)
    assert list(table["name"]) == list(scores)
    sel = select_by_threshold(scores, t)
    for _, row in table.iterrows():
        assert row["global_sparsity_pct"] == pytest.approx(100 * sel.per_layer[row["name"]])
        s = scores[row["name"]]
        assert row["median_abs_w"] == pytest.approx(float(s.double().median()))
        # the per-layer threshold really reaches the per-layer sparsity in that layer
        assert lt.sparsity_at_threshold(s, row["per_layer_threshold"]) == pytest.approx(
            row["per_layer_sparsity_pct"] / 100, abs=1 / s.numel())
    assert lt.overall_sparsity_pct(table) == pytest.approx(100 * sel.reached)
    # per layer: every layer loses the overall share (up to rounding one weight)
    for _, row in table.iterrows():
        assert abs(row["per_layer_sparsity_pct"] - 100 * sel.reached) <= 100 / row["weights"]
    # global: the layers differ (they have different weight scales)
    assert table["global_sparsity_pct"].max() - table["global_sparsity_pct"].min() > 5


def test_uneven_note_names_the_extreme_layers(scores):
    t = lt.threshold_for_sparsity(scores, 0.6).threshold
    table = lt.layer_threshold_table(scores, t)
    note = thresholds.uneven_pruning_note(table)
    hi = table.loc[table["global_sparsity_pct"].idxmax()]
    lo = table.loc[table["global_sparsity_pct"].idxmin()]
    assert f"prunes {hi['global_sparsity_pct']:.0f} % of {hi['layer']}" in note
    assert f"only {lo['global_sparsity_pct']:.0f} % of {lo['layer']}" in note
    flat = lt.layer_threshold_table({"a": torch.ones(10), "b": torch.ones(10)}, 0.5)
    assert "about the same share" in thresholds.uneven_pruning_note(flat)


def test_sparsity_curves_agree_with_selection(scores):
    curves = lt.sparsity_curves(scores, n_points=50)
    assert set(curves["layer"]) == {*(lt.layer_shape_label(n, s.shape) for n, s in scores.items()),
                                   lt.ALL_LAYERS}
    pooled = curves[curves["layer"] == lt.ALL_LAYERS]
    for t, pct in zip(pooled["threshold"].iloc[::7], pooled["sparsity_pct"].iloc[::7]):
        assert pct == pytest.approx(100 * select_by_threshold(scores, float(t)).reached)
    assert (np.diff(pooled["sparsity_pct"]) >= 0).all()  # more threshold never prunes less


def test_figures_carry_the_table_numbers(scores):
    table = lt.layer_threshold_table(scores, 0.05)
    fig = thresholds.layer_sparsity_figure(table)
    assert list(fig.data[0].y) == list(table["global_sparsity_pct"])
    assert list(fig.data[1].y) == list(table["per_layer_sparsity_pct"])
    curves = lt.sparsity_curves(scores)
    fig = thresholds.sparsity_curve_figure(curves, threshold=0.05)
    assert [tr.name for tr in fig.data][-1] == lt.ALL_LAYERS
    assert fig.layout.shapes[0].x0 == 0.05


def test_one_layer_note_says_when_equal_sizes_block_the_target():
    s = torch.tensor([0.1, 0.1, 0.1, 0.1, 0.5, 0.7])
    reached = lt.sparsity_at_threshold(s, 0.3)
    note = thresholds.one_layer_note(s, 0.3, reached, lt.threshold_for_sparsity(s, 0.5), 50)
    assert note.startswith("66.7 % of this layer's weights are smaller than t = 0.3;")
    assert "To prune 50 % you need t = 0.1, which reaches 0.00 %" in note
    assert "equal sizes at the cut" in note and note.endswith(".")
    exact = thresholds.one_layer_note(s, 0.3, reached, lt.threshold_for_sparsity(s, 0.0), 0)
    assert exact.endswith("To prune 0 % you need t = 0.")
