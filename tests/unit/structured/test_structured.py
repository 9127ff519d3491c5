"""Structured pruning: units, their masks, ``compact`` (a genuinely smaller model with the same
outputs), and the equal-budget comparison with unstructured pruning."""
import copy

import pytest
import torch

from pruning import (
    ModelConfig,
    PruningError,
    TrainConfig,
    build_model,
    train,
)
from pruning.core.counts import count_parameters, weight_count
from pruning.core.masks import apply_masks
from pruning.labs.granularity import compare_granularity
from pruning.present.structured import granularity_figure, granularity_notes
from pruning.structured.compact import compact
from pruning.structured.select import select_units, unit_masks
from pruning.structured.units import unit_layers, unit_scores


@pytest.fixture(scope="module")
def data(digits_200):
    return digits_200


def _model(data, cfg, epochs=2):
    m = build_model(cfg, data.n_features, data.n_classes, data.image_shape, seed=0)
    if epochs:
        train(m, data, TrainConfig(epochs=epochs, seed=0))
    return m


MLP2 = ModelConfig(hidden=(12, 7))
CNN2 = ModelConfig(kind="cnn", channels=(4, 6))


def _random_keep(model, seed):
    gen = torch.Generator().manual_seed(seed)
    keep = {}
    for l in unit_layers(model):
        k = torch.rand(l.size, generator=gen) > 0.5
        k[0] = True  # at least one
        keep[l.module] = k
    return keep


def test_unit_layers_of_mlp_and_cnn(data):
    mlp = _model(data, MLP2, 0)
    assert [(l.module, l.kind, l.size, l.next_module) for l in unit_layers(mlp)] == [
        ("layers.0", "neuron", 12, "layers.1"), ("layers.1", "neuron", 7, "layers.2")]
    cnn = _model(data, CNN2, 0)
    assert [(l.module, l.kind, l.size, l.next_module) for l in unit_layers(cnn)] == [
        ("convs.0", "channel", 4, "convs.1"), ("convs.1", "channel", 6, "head")]


def test_unit_masks_zero_rows_biases_and_next_columns(data):
    m = _model(data, MLP2, 0)
    keep = {"layers.0": torch.tensor([True] * 10 + [False, False]),
            "layers.1": torch.tensor([False] + [True] * 6)}
    masks = unit_masks(m, keep)
    assert not masks["layers.0.weight"][10:].any() and masks["layers.0.weight"][:10].all()
    assert masks["layers.0.bias"].tolist() == keep["layers.0"].tolist()
    assert not masks["layers.1.weight"][:, 10:].any()       # columns of removed neurons
    assert not masks["layers.1.weight"][0].any()            # its own removed row
    assert masks["layers.1.weight"][1:, :10].all()
    assert not masks["layers.2.weight"][:, 0].any() and masks["layers.2.weight"][:, 1:].all()
    assert masks["layers.2.bias"].all()                     # classes are never removed


@pytest.mark.parametrize("cfg", [MLP2, CNN2], ids=["mlp", "cnn"])
@pytest.mark.parametrize("seed", [0, 1])
def test_compacted_model_is_smaller_and_computes_the_same_outputs(data, cfg, seed):
    model = _model(data, cfg)
    keep = _random_keep(model, seed)
    masked = apply_masks(copy.deepcopy(model), unit_masks(model, keep))
    small = compact(masked, keep)
    sizes = [int(k.sum()) for k in keep.values()]
    assert [l.size for l in unit_layers(small)] == sizes
    assert count_parameters(small) < count_parameters(model)
    with torch.no_grad():
        torch.testing.assert_close(small(data.X_test), masked(data.X_test), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(masked(data.X_test), model(data.X_test))  # pruning did something
    if cfg.kind == "mlp":
        d, (h1, h2), c = data.n_features, sizes, data.n_classes
        assert count_parameters(small) == d * h1 + h1 + h1 * h2 + h2 + h2 * c + c
    # The masked model's non-zero weights are exactly the compacted model's weights.
    nonzero = sum(int((mod.weight != 0).sum()) for mod in masked.modules()
                  if isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)))
    assert nonzero <= weight_count(small)


def test_compact_does_not_touch_the_source_and_refuses_empty_layers(data):
    model = _model(data, MLP2, 0)
    before = copy.deepcopy(model.state_dict())
    keep = _random_keep(model, 3)
    compact(model, keep)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    keep["layers.1"] = torch.zeros(7, dtype=torch.bool)
    with pytest.raises(PruningError, match="no units left"):
        compact(model, keep)
    with pytest.raises(PruningError, match="keep-vector"):
        unit_masks(model, {"layers.0": torch.ones(12, dtype=torch.bool)})


def test_select_units_removes_lowest_and_keeps_one_per_layer():
    scores = {"a": torch.tensor([0.5, 0.1, 0.9, 0.3]), "b": torch.tensor([2.0, 1.0])}
    keep = select_units(scores, 0.5)
    assert keep["a"].tolist() == [True, False, True, False]
    assert keep["b"].tolist() == [True, False]
    keep = select_units(scores, 1.0)
    assert keep["a"].tolist() == [False, False, True, False]  # the best one is put back
    assert keep["b"].tolist() == [True, False]


def test_norm_scores_by_hand(data):
    model = _model(data, CNN2, 0)
    s1 = unit_scores(model, data, "l1")
    s2 = unit_scores(model, data, "l2")
    w = model.convs[1].weight.detach()
    for o in range(w.shape[0]):
        assert s1["convs.1"][o].item() == pytest.approx(float(w[o].abs().sum()), rel=1e-5)
        assert s2["convs.1"][o].item() == pytest.approx(float(w[o].pow(2).sum().sqrt()), rel=1e-5)
    with pytest.raises(PruningError, match="unknown unit score"):
        unit_scores(model, data, "nope")


def test_equal_budget_comparison(data):
    model = _model(data, ModelConfig(hidden=(16, 8)), 3)
    before = copy.deepcopy(model.state_dict())
    table = compare_granularity(model, data, (0.5, 0.75), "l1", TrainConfig(epochs=1, seed=0))
    assert len(table) == 6 and set(table["granularity"]) == {"structured", "unstructured",
                                                              "unstructured_layer"}
    for f, part in table.groupby("units_removed"):
        s = part[part["granularity"] == "structured"].iloc[0]
        u = part[part["granularity"] == "unstructured"].iloc[0]
        ul = part[part["granularity"] == "unstructured_layer"].iloc[0]
        assert s["kept_weights"] == u["kept_weights"]  # the same budget
        assert abs(ul["kept_weights"] - s["kept_weights"]) <= 3  # per-layer rounding
        assert ul["empty_layers"] == ""
        assert s["stored_params"] < u["stored_params"] == count_parameters(model)
        assert s["macs_per_example"] < u["macs_per_example"]
    s50 = table[(table["units_removed"] == 0.5) & (table["granularity"] == "structured")].iloc[0]
    # 64·8 + 8·4 + 4·10 weights remain with 8 and 4 hidden units
    assert s50["kept_weights"] == 64 * 8 + 8 * 4 + 4 * 10
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    fig = granularity_figure(table, 0.9)
    assert len(fig.data) == 6
    unstructured_ft = [t for t in fig.data if t.name == "unstructured, global, after fine-tuning"][0]
    assert sorted(unstructured_ft.y) == sorted(
        (100 * table[table["granularity"] == "unstructured"]["test_acc"]).tolist())
    notes = granularity_notes(table)
    assert len(notes) == 2 and f"{int(s50['kept_weights']):,} weights" in notes[0]
    assert all("One seed only" in n and " is ahead by" not in n for n in notes)


def test_layer_collapse_is_detected_and_said():
    """issue #13: a global arm that emptied a layer is called layer collapse, and structured is
    compared with the per-layer arm instead of being "ahead by 31.8 points"."""
    import pandas as pd
    base = dict(units_removed=0.9, kept_weights=100, kept_weights_pct=5.0, stored_params=10,
                macs_per_example=10, n_test=359)
    table = pd.DataFrame([
        {**base, "granularity": "structured", "empty_layers": "", "test_acc": 0.80},
        {**base, "granularity": "unstructured", "empty_layers": "layers.1", "test_acc": 0.10},
        {**base, "granularity": "unstructured_layer", "empty_layers": "", "test_acc": 0.79}])
    note = granularity_notes(table)[0]
    assert "layer collapse" in note and "emptied layers.1" in note
    assert "unstructured per layer" in note and "One seed only" in note
    assert "ahead" not in note


def test_structured_sizes_come_from_saved_bytes(data):
    from pruning import DataConfig
    from pruning.core.records import train_model
    from pruning.labs.measure import saved_bytes
    from pruning.labs.structured_run import run_structured
    from pruning.present.structured import compaction_note
    trained = train_model(DataConfig(), ModelConfig(hidden=(16, 8)), TrainConfig(epochs=1, seed=0),
                          data=data)
    rep = run_structured(trained, data, "l1", 0.5, 0, 0)
    sizes = rep.sizes.set_index("model")
    dense = sizes.iloc[0]
    assert dense["file_bytes"] == len(saved_bytes(trained.build(data).state_dict()))
    small = sizes.loc["compacted (smaller dense)"]
    want = f"{100 * (1 - small['file_bytes'] / dense['file_bytes']):.0f} % smaller saved file"
    assert want in compaction_note(rep)
