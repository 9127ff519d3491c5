"""Sensitivity analysis: one layer at a time, suggestions from a tolerance, the figure."""
import copy

import pandas as pd
import pytest
import torch

from pruning import (
    DataConfig,
    ModelConfig,
    PruningError,
    TrainConfig,
    build_model,
    load_dataset,
    train,
)
from pruning.core.selection import n_to_prune
from pruning.core.training import evaluate
from pruning.labs.sensitivity import (
    SENSITIVITY_LEVELS,
    evaluate_per_layer,
    sensitivity_scan,
    suggest_sparsities,
)
from pruning.present.structured import sensitivity_figure, sensitivity_notes


@pytest.fixture(scope="module")
def trained():
    data = load_dataset(DataConfig(name="digits", train_size=300, seed=0))
    m = build_model(ModelConfig(hidden=(24, 12)), data.n_features, data.n_classes, seed=0)
    train(m, data, TrainConfig(epochs=8, seed=0))
    return m, data


def test_scan_matches_pruning_one_layer_by_hand(trained):
    model, data = trained
    before = copy.deepcopy(model.state_dict())
    scan = sensitivity_scan(model, data)
    assert len(scan) == 3 * len(SENSITIVITY_LEVELS)
    assert list(scan["layer"].unique()) == ["layers.0", "layers.1", "layers.2"]
    for layer, s in (("layers.1", 0.7), ("layers.0", 0.95), ("layers.2", 0.3)):
        m = copy.deepcopy(model)
        w = dict(m.named_parameters())[f"{layer}.weight"]
        k = n_to_prune(s, w.numel())
        with torch.no_grad():
            order = torch.sort(w.abs().flatten(), stable=True).indices
            w.view(-1)[order[:k]] = 0.0
        want = evaluate(m, data.X_val, data.y_val).acc
        got = scan[(scan["layer"] == layer) & (scan["sparsity"] == s)]["val_acc"].item()
        assert got == pytest.approx(want)
    for k, v in model.state_dict().items():  # the caller's model is untouched
        assert torch.equal(v, before[k])


def test_suggestions_take_the_largest_prefix_within_tolerance():
    scan = pd.DataFrame({
        "layer": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
        "weights": [100] * 4 + [50] * 4 + [10] * 4,
        "sparsity": [0.1, 0.5, 0.8, 0.95] * 3,
        "val_acc": [0.90, 0.895, 0.85, 0.40,     # a: within 1 point up to 50 %
                    0.91, 0.85, 0.90, 0.90,      # b: dips at 50 %, recovers: stops at 10 %
                    0.80, 0.90, 0.90, 0.90],     # c: fails at once
        "val_loss": [0.0] * 12})
    sug = suggest_sparsities(scan, dense_val_acc=0.90, tolerance=0.01).set_index("layer")
    assert sug.loc["a", "suggested_sparsity"] == 0.5
    assert sug.loc["a", "val_acc_at_suggested"] == 0.895
    assert sug.loc["b", "suggested_sparsity"] == 0.1
    assert sug.loc["c", "suggested_sparsity"] == 0.0
    assert sug.loc["a", "weights_removed"] == 50
    loose = suggest_sparsities(scan, dense_val_acc=0.90, tolerance=0.10).set_index("layer")
    assert loose.loc["a", "suggested_sparsity"] == 0.8
    with pytest.raises(PruningError):
        suggest_sparsities(scan, 0.9, tolerance=2.0)


def test_per_layer_evaluation_counts_and_uniform_comparison(trained):
    model, data = trained
    out = evaluate_per_layer(model, data, {"layers.0": 0.5, "layers.1": 0.9, "layers.2": 0.0})
    assert out["removed"] == n_to_prune(0.5, 64 * 24) + n_to_prune(0.9, 24 * 12)
    assert out["total"] == 64 * 24 + 24 * 12 + 12 * 10
    assert out["uniform_sparsity"] == pytest.approx(out["removed"] / out["total"])
    assert 0 <= out["per_layer"]["val_acc"] <= 1 and 0 <= out["uniform"]["val_acc"] <= 1


def test_figure_and_notes_follow_the_numbers(trained):
    model, data = trained
    scan = sensitivity_scan(model, data, levels=(0.5, 0.95))
    dense = evaluate(model, data.X_val, data.y_val).acc
    fig = sensitivity_figure(scan, dense, 0.01)
    assert len(fig.data) == 3
    first = fig.data[0]
    assert list(first.x) == [50.0, 95.0]
    assert list(first.y) == pytest.approx((100 * scan[scan["layer"] == "layers.0"]["val_acc"]).tolist())
    sug = suggest_sparsities(scan, dense, 0.01)
    notes = sensitivity_notes(scan, sug, dense)
    at95 = scan[scan["sparsity"] == 0.95].set_index("layer")["val_acc"]
    assert f"{at95.idxmin()} is the most sensitive layer" in notes[0]
    assert f"{100 * at95.min():.1f} %" in notes[0]
    with pytest.raises(PruningError):
        sensitivity_scan(model, data, levels=(1.5,))
