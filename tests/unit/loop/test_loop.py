"""The prune loop end to end on a tiny config (pruning.loop.experiment)."""
import math
from dataclasses import replace

import pandas as pd
import pytest
import torch

from pruning import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    PruneConfig,
    PruningError,
    TrainConfig,
    build_model,
    load_dataset,
    prunable_names,
    run_experiment,
    schedule_targets,
)
from pruning.core.counts import count_parameters
from pruning.core.masks import count_kept, count_total
from pruning.core.schedules import SCHEDULES
from pruning.core.selection import SCOPES
from pruning.scoring import SCORERS

REQUIRED = ["round", "target_sparsity", "sparsity", "train_acc_pruned", "test_acc_pruned",
            "train_acc", "test_acc", "nonzero_params", "total_params"]

TINY = ExperimentConfig(
    data=DataConfig(name="digits", seed=0),
    model=ModelConfig(kind="mlp", hidden=(32,)),
    train=TrainConfig(epochs=3, batch_size=64, lr=1e-2, seed=0),
    prune=PruneConfig(scorer="magnitude", scope="global", sparsity=0.8, schedule="iterative",
                      rounds=3, finetune_epochs=1),
)


@pytest.fixture(scope="module")
def data():
    return load_dataset(TINY.data)


@pytest.fixture(scope="module")
def result(data):
    return run_experiment(TINY, data)


def _init_params(cfg, data):
    m = build_model(cfg.model, data.n_features, data.n_classes, data.image_shape,
                    seed=cfg.train.seed)
    return {n: p.detach().clone() for n, p in m.named_parameters()}


def test_rounds_table_has_required_columns(result):
    df = result.rounds
    assert isinstance(df, pd.DataFrame)
    missing = [c for c in REQUIRED if c not in df.columns]
    assert not missing
    assert df["round"].tolist() == list(range(1, TINY.prune.rounds + 1))
    expected_targets = schedule_targets(TINY.prune.schedule, TINY.prune.sparsity,
                                        TINY.prune.rounds)
    assert df["target_sparsity"].tolist() == pytest.approx(expected_targets)
    for c in ("train_acc_pruned", "test_acc_pruned", "train_acc", "test_acc"):
        assert df[c].between(0, 1).all()
    assert (df["total_params"] == count_parameters(result.model)).all()
    assert len(result.finetune_histories) == TINY.prune.rounds
    assert len(result.snapshots) == TINY.prune.rounds + 1  # round 0 = dense


def test_reached_sparsity_equals_mask_sparsity(result):
    df = result.rounds.set_index("round")
    for snap in result.snapshots[1:]:
        masks = snap.masks
        reached = 1 - count_kept(masks) / count_total(masks)
        assert df.loc[snap.round, "sparsity"] == reached
        assert df.loc[snap.round, "kept_weights"] == count_kept(masks)
        # and the target is hit up to the rounding of one weight
        assert abs(reached - df.loc[snap.round, "target_sparsity"]) <= 0.5 / count_total(masks)
    final = result.masks
    assert df["sparsity"].iloc[-1] == 1 - count_kept(final) / count_total(final)
    assert df["sparsity"].is_monotonic_increasing


def test_masks_are_nested_across_rounds(result):
    for prev, cur in zip(result.snapshots, result.snapshots[1:]):
        for n in cur.masks:
            assert not (cur.masks[n] & ~prev.masks[n]).any()  # nothing revived


def test_nonzero_prunable_weights_equal_kept_weights(result):
    df = result.rounds.set_index("round")
    for snap in result.snapshots[1:]:
        nonzero = sum(int(torch.count_nonzero(w)) for w in snap.weights.values())
        assert nonzero == df.loc[snap.round, "kept_weights"]
        for n, w in snap.weights.items():
            assert torch.all(w[~snap.masks[n]] == 0)
    params = dict(result.model.named_parameters())
    names = prunable_names(result.model, TINY.prune.include_output, TINY.prune.include_bias)
    assert set(result.masks) == set(names)
    assert sum(int(torch.count_nonzero(params[n])) for n in names) == count_kept(result.masks)
    all_nonzero = sum(int(torch.count_nonzero(p)) for p in result.model.parameters())
    assert result.rounds["nonzero_params"].iloc[-1] == all_nonzero


def test_after_finetune_equals_last_history_row(result):
    last = result.rounds.iloc[-1]
    hist = result.finetune_histories[-1].iloc[-1]
    for c in ("train_acc", "test_acc", "train_loss"):
        assert last[c] == hist[c]


def test_dense_metrics(result):
    assert result.dense["total_params"] == count_parameters(result.model)
    assert result.dense["nonzero_params"] > result.rounds["nonzero_params"].iloc[0]
    assert len(result.dense_history) == TINY.train.epochs + 1
    assert result.to_json_dict()["config"]["prune"]["rounds"] == TINY.prune.rounds


def test_same_seed_identical_different_seed_different(result, data):
    again = run_experiment(TINY, data)
    pd.testing.assert_frame_equal(result.rounds, again.rounds, check_exact=True)
    pd.testing.assert_frame_equal(result.dense_history, again.dense_history, check_exact=True)
    sa, sb = result.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert all(torch.equal(result.masks[k], again.masks[k]) for k in result.masks)

    other = run_experiment(replace(TINY, train=replace(TINY.train, seed=1)), data)
    so = other.model.state_dict()
    assert any(not torch.equal(sa[k], so[k]) for k in sa)
    assert not result.dense_history.equals(other.dense_history)


def test_same_seed_identical_when_loading_data_itself():
    cfg = replace(TINY, data=replace(TINY.data, train_size=60),
                  train=replace(TINY.train, epochs=1),
                  prune=replace(TINY.prune, rounds=2, scorer="random"))
    a, b = run_experiment(cfg), run_experiment(cfg)
    pd.testing.assert_frame_equal(a.rounds, b.rounds, check_exact=True)
    assert all(torch.equal(a.masks[k], b.masks[k]) for k in a.masks)


def _no_finetune(rewind):
    return replace(TINY, prune=replace(TINY.prune, rounds=2, finetune_epochs=0, rewind=rewind))


def test_rewind_resets_survivors_to_initial_weights(data):
    cfg = _no_finetune(rewind=True)
    res = run_experiment(cfg, data)
    init = _init_params(cfg, data)
    params = dict(res.model.named_parameters())
    for n, m in res.masks.items():
        assert torch.equal(params[n].detach(), init[n] * m)
    for n, p in params.items():  # everything not pruned (biases) is rewound too
        if n not in res.masks:
            assert torch.equal(p.detach(), init[n])
    # every round's snapshot is the initial weights times that round's mask
    for snap in res.snapshots[1:]:
        for n, w in snap.weights.items():
            assert torch.equal(w, init[n] * snap.masks[n])


def test_without_rewind_survivors_keep_trained_values(data):
    """The counter-case: the rewind test would fail if rewinding did nothing."""
    cfg = _no_finetune(rewind=False)
    res = run_experiment(cfg, data)
    init = _init_params(cfg, data)
    dense = res.snapshots[0].weights
    params = dict(res.model.named_parameters())
    for n, m in res.masks.items():
        assert not torch.equal(params[n].detach(), init[n] * m)
        assert torch.equal(params[n].detach(), dense[n] * m)  # no fine-tuning: trained × mask


def test_threshold_experiment_prunes_below_threshold(data):
    cfg = replace(TINY, prune=replace(TINY.prune, sparsity=None, threshold=0.05,
                                      schedule="oneshot", finetune_epochs=0))
    res = run_experiment(cfg, data)
    assert len(res.rounds) == 1
    assert math.isnan(res.rounds["target_sparsity"].iloc[0])
    dense = res.snapshots[0].weights
    for n, m in res.masks.items():
        assert torch.equal(m, dense[n].abs() >= 0.05)


def test_rewind_without_initial_state_raises(data):
    from pruning.loop.experiment import run_prune_rounds
    model = build_model(TINY.model, data.n_features, data.n_classes)
    with pytest.raises(PruningError, match="initial weights"):
        run_prune_rounds(model, data, replace(TINY.prune, rewind=True), TINY.train)


@pytest.mark.parametrize("prune_kw,train_kw,needles", [
    (dict(rounds=0), {}, ["rounds", "at least 1"]),
    (dict(scorer="nonexistent"), {}, ["'nonexistent'", *SCORERS]),
    (dict(scope="local"), {}, ["'local'", *SCOPES]),
    (dict(schedule="cosine"), {}, ["'cosine'", *SCHEDULES]),
    (dict(sparsity=float("nan")), {}, ["sparsity", "NaN"]),
    ({}, dict(epochs=-1), ["epochs", "-1"]),
])
def test_run_experiment_bad_inputs(data, prune_kw, train_kw, needles):
    cfg = replace(TINY, prune=replace(TINY.prune, **prune_kw),
                  train=replace(TINY.train, **train_kw))

    with pytest.raises(PruningError) as e:
        run_experiment(cfg, data)
    for needle in needles:
        assert needle in str(e.value)
