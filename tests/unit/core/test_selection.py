"""Turning scores into masks: threshold and target-sparsity rules (pruning.core.selection)."""
import math

import pytest
import torch
from torch import nn

from pruning import (
    DataConfig,
    ModelConfig,
    PruningError,
    ScoreContext,
    TrainConfig,
    apply_masks,
    build_model,
    load_dataset,
    prunable_names,
    score,
    select_by_sparsity,
    select_by_threshold,
    train,
)
from pruning.core.masks import count_kept, count_total, ones_masks
from pruning.core.training import evaluate


def _flat(masks):
    return torch.cat([m.flatten() for m in masks.values()])


@pytest.fixture(scope="module")
def tiny_data():
    return load_dataset(DataConfig(name="digits", train_size=120, seed=0))


@pytest.fixture
def tiny_model(tiny_data):
    return build_model(ModelConfig(hidden=(8,)), tiny_data.n_features, tiny_data.n_classes, seed=0)


# --------------------------------------------------------------------------- worked example

def test_worked_example_threshold_keeps_equal_weight_on_a_real_linear_layer():
    layer = nn.Linear(4, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.2, -0.5, -0.1, 0.3]]))  # magnitudes 0.2 .5 .1 .3
    bias_before = layer.bias.detach().clone()
    scores = score("magnitude", ScoreContext(layer, ["weight"]))
    sel = select_by_threshold(scores, 0.3)

    assert sel.masks["weight"].tolist() == [[False, True, False, True]]
    apply_masks(layer, sel.masks)
    w = layer.weight.detach()
    # The kept weights are exactly the ones with magnitude 0.5 and 0.3 (0.3 == threshold stays),
    # unchanged in value and sign; the others are exactly zero.
    assert torch.equal(w, torch.tensor([[0.0, -0.5, 0.0, 0.3]]))
    assert sorted(w.abs()[w != 0].tolist()) == pytest.approx([0.3, 0.5])
    assert torch.equal(layer.bias.detach(), bias_before)  # biases are not in the mask
    assert sel.n_kept == 2 and sel.n_pruned == 2
    assert sel.reached == 0.5
    assert sel.n_tied == 1  # the 0.3 weight sits exactly on the threshold


def test_worked_example_plain_scores():
    sel = select_by_threshold({"w": torch.tensor([0.2, 0.5, 0.1, 0.3], dtype=torch.float64)}, 0.3)
    assert sel.masks["w"].tolist() == [False, True, False, True]


def test_threshold_is_strict_below():
    s = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4])
    for t in s.tolist():
        keep = select_by_threshold({"w": s}, t).masks["w"]
        assert torch.equal(keep, s >= t)
        assert keep[s == t].all()  # the weight equal to the threshold is always kept


def test_threshold_above_every_weight_prunes_all():
    g = torch.Generator().manual_seed(0)
    scores = {"a": torch.rand(5, 7, generator=g), "b": torch.rand(11, generator=g)}
    top = max(float(s.max()) for s in scores.values())
    sel = select_by_threshold(scores, top * 2 + 1)
    assert not _flat(sel.masks).any()
    assert sel.reached == 1.0
    assert all(v == 1.0 for v in sel.per_layer.values())


def test_threshold_zero_keeps_all_nonnegative_scores():
    scores = {"a": torch.rand(20, generator=torch.Generator().manual_seed(1))}
    assert _flat(select_by_threshold(scores, 0.0).masks).all()


def test_threshold_keeps_previously_pruned_pruned():
    s = torch.tensor([5.0, 5.0, 0.1, 5.0])
    prev = {"w": torch.tensor([False, True, True, True])}
    sel = select_by_threshold({"w": s}, 1.0, previous=prev)
    assert sel.masks["w"].tolist() == [False, True, False, True]


# --------------------------------------------------------------------------- sparsity counts

@pytest.mark.parametrize("n", [1, 2, 7, 10, 101, 1000])
@pytest.mark.parametrize("s", [0.0, 0.05, 0.25, 0.3, 0.5, 0.55, 0.9, 0.999, 1.0])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_sparsity_prunes_floor_s_n_plus_half(n, s, scope):
    scores = {"w": torch.rand(n, generator=torch.Generator().manual_seed(n))}
    sel = select_by_sparsity(scores, s, scope=scope)
    k = math.floor(s * n + 0.5)
    assert sel.n_pruned == k
    assert sel.reached == pytest.approx(k / n)
    keep = sel.masks["w"]
    if 0 < k < n:  # the pruned ones are the lowest scores
        assert scores["w"][~keep].max() <= scores["w"][keep].min()


@pytest.mark.parametrize("s", [0.0, 0.1, 0.5, 0.77, 1.0])
def test_global_count_is_over_all_layers(s):
    g = torch.Generator().manual_seed(3)
    scores = {"a": torch.rand(3, 5, generator=g), "b": torch.rand(4, generator=g),
              "c": torch.rand(2, 2, 2, generator=g)}
    n = sum(v.numel() for v in scores.values())
    sel = select_by_sparsity(scores, s, scope="global")
    assert sel.n_pruned == math.floor(s * n + 0.5)
    for name, m in sel.masks.items():
        assert m.shape == scores[name].shape and m.dtype == torch.bool


def test_cumulative_targets_are_fractions_of_the_original():
    g = torch.Generator().manual_seed(0)
    n = 1000
    s1 = torch.rand(n, generator=g)
    first = select_by_sparsity({"w": s1}, 0.3).masks
    assert count_kept(first) == n - 300

    # New scores in which the previously pruned weights would now look the MOST important:
    # they must stay pruned anyway.
    s2 = torch.rand(n, generator=g)
    s2[~first["w"]] += 10.0
    second = select_by_sparsity({"w": s2}, 0.5, previous=first)
    keep2 = second.masks["w"]
    assert second.n_pruned == 500  # 50 % of the original, not 0.3 + 0.5·0.7
    assert second.reached == 0.5
    assert not keep2[~first["w"]].any()  # previously pruned stay pruned
    newly = first["w"] & ~keep2
    assert int(newly.sum()) == 200
    assert s2[newly].max() <= s2[keep2].min()  # the extra ones are the lowest survivors

    # Without ``previous`` the same scores would have revived them: the test is meaningful.
    fresh = select_by_sparsity({"w": s2}, 0.5).masks["w"]
    assert fresh[~first["w"]].all()


def test_lower_target_than_already_pruned_keeps_everything_pruned():
    s = torch.rand(100, generator=torch.Generator().manual_seed(2))
    prev = select_by_sparsity({"w": s}, 0.5).masks
    sel = select_by_sparsity({"w": s.flip(0)}, 0.2, previous=prev)
    assert torch.equal(sel.masks["w"], prev["w"])
    assert sel.reached == 0.5 > sel.target


# --------------------------------------------------------------------------- scope

def _two_scale_scores():
    g = torch.Generator().manual_seed(0)
    return {"big": torch.rand(10, 10, generator=g) * 1.0,        # 100 weights, scale 1
            "small": torch.rand(20, 15, generator=g) * 0.01}     # 300 weights, scale 0.01


def test_per_layer_gives_every_layer_the_same_sparsity():
    scores = _two_scale_scores()
    sel = select_by_sparsity(scores, 0.5, scope="layer")
    for name, m in sel.masks.items():
        assert int((~m).sum()) == math.floor(0.5 * m.numel() + 0.5)
        assert sel.per_layer[name] == 0.5
    for name, m in sel.masks.items():  # lowest within each layer
        assert scores[name][~m].max() <= scores[name][m].min()


def test_global_prunes_unevenly_across_scales():
    scores = _two_scale_scores()
    sel = select_by_sparsity(scores, 0.5, scope="global")
    assert sel.reached == 0.5
    # The small-scale layer loses far more than the large-scale one.
    assert sel.per_layer["small"] > 0.5 > sel.per_layer["big"]
    assert sel.per_layer["small"] - sel.per_layer["big"] > 0.3


def test_global_equals_single_ranking_over_concatenation():
    scores = _two_scale_scores()
    sel = select_by_sparsity(scores, 0.37, scope="global")
    flat = torch.cat([v.flatten() for v in scores.values()])
    single = select_by_sparsity({"all": flat}, 0.37, scope="global")
    assert torch.equal(_flat(sel.masks), single.masks["all"])
    # ... and that single ranking is "the k smallest scores".
    k = math.floor(0.37 * flat.numel() + 0.5)
    expected = torch.ones_like(flat, dtype=torch.bool)
    expected[torch.argsort(flat)[:k]] = False
    assert torch.equal(single.masks["all"], expected)


# --------------------------------------------------------------------------- ties

def test_ties_prune_lowest_flat_indices_first_global():
    scores = {"a": torch.ones(3, 4), "b": torch.ones(5)}  # 17 equal scores
    sel = select_by_sparsity(scores, 0.5, scope="global")
    k = math.floor(0.5 * 17 + 0.5)
    assert _flat(sel.masks).tolist() == [False] * k + [True] * (17 - k)
    assert sel.n_tied == 17
    assert sel.cutoff == 1.0


def test_ties_prune_lowest_flat_indices_first_per_layer():
    scores = {"a": torch.full((3, 4), 0.5), "b": torch.full((5,), 0.5)}
    sel = select_by_sparsity(scores, 0.5, scope="layer")
    for name, m in sel.masks.items():
        n = m.numel()
        k = math.floor(0.5 * n + 0.5)
        assert m.flatten().tolist() == [False] * k + [True] * (n - k)
    assert sel.n_tied == 12 + 5


def test_n_tied_counts_only_scores_at_the_cutoff_among_survivors():
    s = torch.tensor([0.1, 0.2, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9])
    sel = select_by_sparsity({"w": s}, 0.5)  # prunes 4: 0.1, 0.2 and two of the four 0.5s
    assert sel.masks["w"].tolist() == [False, False, False, False, True, True, True, True]
    assert sel.cutoff == 0.5
    assert sel.n_tied == 4
    prev = {"w": torch.tensor([True, True, False, True, True, True, True, True])}
    sel2 = select_by_sparsity({"w": s}, 0.5, previous=prev)
    assert sel2.n_tied == 3  # the already-pruned 0.5 is not counted


def test_sparsity_selection_is_deterministic():
    scores = _two_scale_scores()
    a = select_by_sparsity(scores, 0.6, scope="global")
    b = select_by_sparsity({k: v.clone() for k, v in scores.items()}, 0.6, scope="global")
    assert all(torch.equal(a.masks[k], b.masks[k]) for k in scores)


# --------------------------------------------------------------------------- extremes on a model

def test_sparsity_one_prunes_all_and_model_still_evaluates_and_trains(tiny_data, tiny_model):
    names = prunable_names(tiny_model, include_output=True)
    sel = select_by_sparsity(score("magnitude", ScoreContext(tiny_model, names)), 1.0)
    assert not _flat(sel.masks).any() and sel.reached == 1.0
    apply_masks(tiny_model, sel.masks)
    params = dict(tiny_model.named_parameters())
    assert all(torch.count_nonzero(params[n]) == 0 for n in names)

    ev = evaluate(tiny_model, tiny_data.X_test, tiny_data.y_test)
    assert math.isfinite(ev.acc) and 0.0 <= ev.acc <= 1.0 and math.isfinite(ev.loss)
    hist = train(tiny_model, tiny_data, TrainConfig(epochs=1, batch_size=32), masks=sel.masks)
    metric_cols = [c for c in hist.columns if c != "epoch"]
    assert hist[metric_cols].notna().all().all()
    assert all(math.isfinite(v) for v in hist[metric_cols].to_numpy().ravel())
    assert all(torch.count_nonzero(params[n]) == 0 for n in names)


def test_mask_of_ones_changes_nothing(tiny_data, tiny_model):
    X = tiny_data.X_test
    before = tiny_model(X).detach().clone()
    state = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    names = prunable_names(tiny_model, include_bias=True)
    apply_masks(tiny_model, ones_masks(tiny_model, names))
    assert torch.equal(tiny_model(X).detach(), before)
    assert all(torch.equal(state[k], v) for k, v in tiny_model.state_dict().items())


def test_sparsity_zero_selects_mask_of_ones(tiny_model):
    names = prunable_names(tiny_model)
    sel = select_by_sparsity(score("magnitude", ScoreContext(tiny_model, names)), 0.0)
    assert _flat(sel.masks).all() and sel.reached == 0.0 and sel.n_pruned == 0
    assert count_total(sel.masks) == sum(p.numel() for n, p in tiny_model.named_parameters()
                                         if n in names)


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("bad", [float("nan"), -0.1, -1e-9, float("inf"), "abc", None])
def test_bad_threshold_raises_readable_error(bad):
    with pytest.raises(PruningError) as e:
        select_by_threshold({"w": torch.rand(4)}, bad)
    msg = str(e.value)
    assert "threshold" in msg and "≥ 0" in msg
    assert repr(bad) in msg or str(bad) in msg


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "half"])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_bad_sparsity_raises_readable_error(bad, scope):
    with pytest.raises(PruningError) as e:
        select_by_sparsity({"w": torch.rand(4)}, bad, scope=scope)
    msg = str(e.value)
    assert "sparsity" in msg and "between 0 and 1" in msg
    assert str(bad).lower() in msg.lower() or repr(bad) in msg or "nan" in msg.lower()


def test_unknown_scope_lists_valid_choices():
    with pytest.raises(PruningError) as e:
        select_by_sparsity({"w": torch.rand(4)}, 0.5, scope="local")
    msg = str(e.value)
    assert "'local'" in msg and "global" in msg and "layer" in msg


def test_nan_scores_raise():
    with pytest.raises(PruningError, match="NaN"):
        select_by_sparsity({"w": torch.tensor([0.1, float("nan")])}, 0.5)


def test_empty_scores_raise():
    with pytest.raises(PruningError, match="nothing to prune"):
        select_by_sparsity({}, 0.5)
