"""Interactive pruning helpers (pruning.labs.prune_step), the page figures (pruning.present.prune)
and prune + fine-tune rounds on a copy of a trained model (pruning.labs.iterate)."""
import math

import numpy as np
import pytest
import torch

from pruning import (
    DataConfig,
    ModelConfig,
    PruneConfig,
    PruningError,
    TrainConfig,
)
from pruning.core.records import finetune_pruned, prune_trained, train_model
from pruning.labs.iterate import run_iterate
from pruning.labs.prune_step import (
    compute_scores,
    describe_prune_config,
    first_layer_units,
    nonzero_at_pruned,
    prune_config_for,
    select,
    sparsity_table,
    threshold_slider_range,
)
from pruning.present.prune import cutoff_histogram, recovery_curves


@pytest.fixture(scope="module")
def data(digits_200):
    return digits_200


@pytest.fixture(scope="module")
def trained(data):
    return train_model(DataConfig(name="digits", train_size=200), ModelConfig(hidden=(16, 8)),
                       TrainConfig(epochs=2), data=data)


def test_scores_once_select_many(trained, data):
    scores = compute_scores(trained.build(data), data, "magnitude")
    assert list(scores) == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    no_out = compute_scores(trained.build(data), data, "magnitude", include_output=False)
    assert list(no_out) == ["layers.0.weight", "layers.1.weight"]
    a = select(scores, "sparsity", 0.5, "global")
    b = select(scores, "sparsity", 0.5, "layer")
    assert a.reached == pytest.approx(0.5, abs=1e-3) and b.reached == pytest.approx(0.5, abs=1e-2)
    for n, s in b.per_layer.items():
        assert s == pytest.approx(math.floor(0.5 * scores[n].numel() + 0.5) / scores[n].numel())
    t = select(scores, "threshold", 0.05, "layer")  # scope does not matter for a threshold
    assert t.masks.keys() == scores.keys()
    for n in scores:
        assert torch.equal(t.masks[n], scores[n] >= 0.05)
        assert torch.equal(select(scores, "threshold", 0.05, "global").masks[n], t.masks[n])
    with pytest.raises(PruningError, match="mode"):
        select(scores, "percent", 0.5)


def test_threshold_slider_top_prunes_every_weight(trained, data):
    scores = compute_scores(trained.build(data), data, "magnitude")
    top, step = threshold_slider_range(scores)
    s_max = max(float(s.max()) for s in scores.values())
    assert s_max < top <= 1.2 * s_max and step == pytest.approx(top / 400)
    assert select(scores, "threshold", top).reached == 1.0
    for v in (3e-5, 0.99, 1.0, 123.0):  # rounding never lands on or below the max
        t, _ = threshold_slider_range({"w": torch.tensor([v])})
        assert not bool((torch.tensor([v]) >= t).any())


def test_sparsity_table_says_what_was_asked_and_what_was_reached(trained, data):
    scores = compute_scores(trained.build(data), data, "magnitude", include_output=False)
    sel = select(scores, "sparsity", 0.6, "layer")
    pruned = prune_trained(trained, data, PruneConfig(), sel.masks)
    table = sparsity_table(trained.build(data, pruned.state), sel, "layer", "sparsity")
    assert list(table["prunable"]) == [True, True, False]
    assert list(table["target_sparsity_pct"][:2]) == [60.0, 60.0]
    assert np.isnan(table["target_sparsity_pct"].iloc[2])
    for row, n in zip(table.itertuples(), scores):
        assert row.sparsity_pct == pytest.approx(100 * sel.per_layer[n])
        assert row.cutoff_score == pytest.approx(sel.cutoffs[n])
    assert table["sparsity_pct"].iloc[2] == 0.0
    g = sparsity_table(trained.build(data, pruned.state), select(scores, "sparsity", 0.6),
                       "global", "sparsity")
    assert g["target_sparsity_pct"].isna().all()  # no per-layer target in global scope


def test_nonzero_at_pruned_and_masked_finetuning(trained, data):
    scores = compute_scores(trained.build(data), data, "magnitude")
    sel = select(scores, "sparsity", 0.8)
    pruned = prune_trained(trained, data, PruneConfig(), sel.masks)
    assert sum(nonzero_at_pruned(pruned.state, pruned.masks).values()) == 0
    ft = finetune_pruned(trained, pruned, data, TrainConfig(epochs=2, optimizer="sgd", lr=0.05))
    assert nonzero_at_pruned(ft.state, ft.masks) == {n: 0 for n in sel.masks}
    broken = {k: v.clone() for k, v in ft.state.items()}
    idx = torch.nonzero(~sel.masks["layers.1.weight"])[0]
    broken["layers.1.weight"][tuple(idx)] = 1e-3
    assert nonzero_at_pruned(broken, ft.masks)["layers.1.weight"] == 1


def test_first_layer_units_fold_rows_into_images():
    w = torch.zeros(5, 16)
    w[3] = 2.0   # the largest row comes first
    w[1] = 1.0
    mask = torch.ones(5, 16, dtype=torch.bool)
    mask[3, :4] = False
    imgs, kept, titles = first_layer_units(w, mask, (1, 4, 4), n_units=2)
    assert imgs.shape == (2, 4, 4) and titles == ["unit 3", "unit 1"]
    assert (imgs[0] == 2.0).all() and (imgs[1] == 1.0).all()
    assert kept[0, 0].tolist() == [False] * 4 and kept[0, 1:].all() and kept[1].all()
    conv = torch.randn(4, 1, 3, 3)
    imgs, kept, _ = first_layer_units(conv, None, (1, 8, 8), n_units=8)
    assert imgs.shape == (4, 3, 3) and kept is None
    with pytest.raises(PruningError):
        first_layer_units(torch.zeros(3, 10), None, (1, 4, 4))


def test_prune_config_for_and_its_description():
    cfg = prune_config_for("magnitude", "sparsity", 0.9, "global", True, 0)
    assert (cfg.sparsity, cfg.threshold, cfg.schedule) == (0.9, None, "oneshot")
    assert describe_prune_config(cfg) == "90.0 % target, global, magnitude scores"
    t = prune_config_for("taylor", "threshold", 0.01, "layer", False, 0)
    assert (t.sparsity, t.threshold) == (None, 0.01)
    assert describe_prune_config(t) == "threshold 0.01, taylor scores, output layer kept dense"


def test_cutoff_histogram_counts_ties_from_the_masks():
    scores = {"w": torch.tensor([0.1, 0.2, 0.2, 0.2, 0.5])}
    sel = select(scores, "sparsity", 0.6)  # 3 pruned: 0.1 and two of the three 0.2s
    fig = cutoff_histogram(scores, sel.masks, sel.cutoff, "sparsity")
    texts = [a.text for a in fig.layout.annotations]
    assert "pruned: 3" in texts and "cut-off 0.2" in texts
    thr = select(scores, "threshold", 0.2)
    texts = [a.text for a in cutoff_histogram(scores, thr.masks, 0.2, "threshold").layout.annotations]
    assert "pruned: 1" in texts and any(t.startswith("threshold 0.2") for t in texts)


def test_recovery_curves_start_at_epoch_zero_with_dense_lines(trained):
    hist = trained.history
    fig = recovery_curves(hist, trained.metrics)
    assert [t.name for t in fig.data] == ["train", "test"]
    assert list(fig.data[1].y) == pytest.approx(list(100 * hist["test_acc"]))
    assert [s.y0 for s in fig.layout.shapes] == pytest.approx(
        [100 * trained.metrics["train_acc"], 100 * trained.metrics["test_acc"]])


def test_run_iterate_works_on_a_copy_and_adds_a_random_baseline(trained, data):
    before = {k: v.clone() for k, v in trained.state.items()}
    cfg = PruneConfig(scorer="magnitude", sparsity=0.8, schedule="iterative", rounds=3,
                      finetune_epochs=1)
    seen = []
    run = run_iterate(trained, data, cfg, TrainConfig(), with_baseline=True,
                      progress=lambda stage, frac, msg: seen.append(frac))
    assert list(run.rounds["round"]) == [1, 2, 3]
    assert run.rounds["sparsity"].iloc[-1] == pytest.approx(0.8, abs=1e-3)
    assert list(run.baseline_rounds["sparsity"]) == pytest.approx(list(run.rounds["sparsity"]), abs=1e-3)
    assert len(run.snapshots) == 4 and run.layer_names[0] == "layers.0.weight"
    assert not (~run.snapshots[0].masks["layers.0.weight"]).any()
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and 0.45 < max(
        f for f in seen if f < 0.51) <= 0.5
    for k, v in trained.state.items():  # the (possibly shared) trained model is untouched
        assert torch.equal(v, before[k])
    with pytest.raises(PruningError):
        run_iterate(trained, data, PruneConfig(sparsity=1.5), TrainConfig())


def test_layer_heatmap_keeps_the_weight_data_and_uses_whole_number_ticks():
    from pruning.present.prune import layer_heatmap
    w = torch.arange(16, dtype=torch.float32).reshape(2, 8) - 8
    mask = w.abs() > 3
    fig = layer_heatmap(w, mask, zmax=8.0)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert int(np.isnan(z).sum()) == int((~mask).sum())
    assert fig.layout.xaxis.dtick == 1 and fig.layout.yaxis.dtick == 1
    assert fig.layout.height == 300
    big = layer_heatmap(torch.zeros(300, 64))
    assert big.layout.xaxis.dtick is None and big.layout.height == 420


def test_iterate_gives_one_shot_the_same_total_budget_and_rewind_the_full_one(trained, data):
    from pruning.core.schedules import split_epochs
    from pruning.labs.iterate import round_budget
    assert split_epochs(15, 5) == [3] * 5 and split_epochs(7, 3) == [2, 2, 3]
    cfg = PruneConfig(sparsity=0.8, schedule="iterative", rounds=3, finetune_epochs=9)
    run = run_iterate(trained, data, cfg, TrainConfig(), total_epochs=3, with_oneshot=True)
    assert list(run.rounds["finetune_epochs"]) == [1, 1, 1]
    assert list(run.oneshot_rounds["finetune_epochs"]) == [3]
    assert run.total_epochs == 3 and run.n_test == len(data.y_test)
    assert run.oneshot_rounds["sparsity"].iloc[-1] == pytest.approx(run.rounds["sparsity"].iloc[-1])
    dense_epochs = trained.train_config.epochs
    full, warn = round_budget(PruneConfig(sparsity=0.8, rounds=2, rewind=True), 4, dense_epochs)
    assert full == [dense_epochs] * 2 and warn == []
    short, warn = round_budget(PruneConfig(sparsity=0.8, rounds=2, rewind=True), 4, dense_epochs, 1)
    assert short == [1, 1] and "retrains only 1 epoch" in warn[0]
