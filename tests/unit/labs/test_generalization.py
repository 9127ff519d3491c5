"""Generalization lab: the sweep on ensembles equals the sweep one model at a time with
``train`` (the ensemble itself is tested in test_ensemble.py), the sweep protocol,
validation-only selection, early stopping, matched small nets, the computed explanation,
the figure data and the ``sweep`` command line."""
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from pruning.cli.main import main
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.counts import mlp_weight_count
from pruning.core.data import load_dataset
from pruning.core.early_stopping import early_stopping_epoch, train_with_early_stopping
from pruning.core.models import build_model
from pruning.core.training import train
from pruning.errors import PruningError
from pruning.labs.generalization import (
    PRESETS,
    SweepConfig,
    _width_groups,
    best_sparsity,
    matched_hidden,
    pick_by_validation,
    run_sweep,
    summarize,
    validate_sweep_config,
)
from pruning.present.generalization_figures import (
    level_label,
    overfitting_figure,
    sweep_figure,
)
from pruning.present.generalization_text import (
    explain_sweep,
    infer_n_test,
    overfit_heading,
)

TINY = SweepConfig(
    data=DataConfig(name="digits", train_size=120, label_noise=0.2),
    model=ModelConfig(hidden=(24, 12)),
    train=TrainConfig(epochs=4, batch_size=32),
    levels=(0.5, 0.8, 0.9), seeds=(0, 1), finetune_epochs=2, patience=2,
    weight_decays=(1e-3, 1e-2), name="tiny")


@pytest.fixture(scope="module")
def tiny_result():
    return run_sweep(TINY)


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits", train_size=100, label_noise=0.1, seed=3))


# ----------------------------------------------------------------------------- the sweep
def test_batched_sweep_equals_reference_sweep():
    """The whole protocol, batched vs one model at a time with ``training.train``."""
    cfg = replace(TINY, levels=(0.5, 0.8), train=replace(TINY.train, epochs=3), rewind=True)
    a, b = run_sweep(cfg, batched=True), run_sweep(cfg, batched=False)
    metrics = ["train_acc", "val_acc", "test_acc", "gap"]
    assert a.runs.drop(columns=metrics).equals(b.runs.drop(columns=metrics))
    np.testing.assert_allclose(a.runs[metrics].to_numpy(), b.runs[metrics].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(a.history[["train_acc", "val_acc", "test_acc"]].to_numpy(),
                               b.history[["train_acc", "val_acc", "test_acc"]].to_numpy(), atol=1e-9)


def test_sweep_has_every_arm_level_and_seed(tiny_result):
    runs = tiny_result.runs
    n = len(TINY.seeds)
    counts = runs.groupby("arm").size().to_dict()
    assert counts == {"dense": n, "pruned": 3 * n, "random": 3 * n, "small_dense": 3 * n,
                      "early_stopping": n, "weight_decay": 2 * n}
    pruned = runs[runs["arm"] == "pruned"]
    wide = mlp_weight_count(64, (24, 12), 10)
    for level, w in zip(pruned["level"], pruned["weights"]):
        assert w == wide - int(np.floor(level * wide + 0.5))   # selection's rounding rule
    np.testing.assert_allclose(pruned["sparsity"], pruned["level"], atol=1e-3)
    np.testing.assert_allclose(runs["gap"], runs["train_acc"] - runs["test_acc"])
    # the small dense nets have about as many weights as the pruned nets they stand beside
    small = runs[runs["arm"] == "small_dense"].groupby("level")["weights"].first()
    kept = pruned.groupby("level")["weights"].first()
    assert ((small - kept).abs() / kept < 0.15).all()


def test_early_stopping_rows_are_the_dense_history_at_the_best_validation_epoch(tiny_result):
    runs, hist = tiny_result.runs, tiny_result.history
    for seed in TINY.seeds:
        h = hist[(hist["arm"] == "dense") & (hist["seed"] == seed)].sort_values("epoch")
        best, _ = early_stopping_epoch(h["val_acc"].tolist(), TINY.patience)
        row = runs[(runs["arm"] == "early_stopping") & (runs["seed"] == seed)].iloc[0]
        assert row["epoch"] == h["epoch"].iloc[best]
        assert row["test_acc"] == h["test_acc"].iloc[best]
        dense = runs[(runs["arm"] == "dense") & (runs["seed"] == seed)].iloc[0]
        assert dense["test_acc"] == pytest.approx(h["test_acc"].iloc[-1])


def test_sweep_is_deterministic_and_seeds_differ(tiny_result):
    again = run_sweep(replace(TINY, controls=()), batched=True)
    mine = tiny_result.runs[tiny_result.runs["arm"].isin(["dense", "pruned"])].reset_index(drop=True)
    assert again.runs.equals(mine)
    d = tiny_result.runs[tiny_result.runs["arm"] == "dense"]
    assert d["test_acc"].nunique() > 1 or d["train_acc"].nunique() > 1


def test_progress_reaches_one_and_never_goes_back():
    seen = []
    run_sweep(replace(TINY, seeds=(0,), levels=(0.5,)), progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:]))


@pytest.mark.parametrize("change,message", [
    (dict(levels=(0.9, 0.5)), "strictly increasing"),
    (dict(levels=()), "at least one sparsity level"),
    (dict(levels=(0.0, 0.5)), "above 0"),
    (dict(levels=(0.5, 1.0)), "sparsity level"),
    (dict(seeds=(1, 1)), "without repeats"),
    (dict(model=ModelConfig(kind="cnn")), "model"),
    (dict(train=TrainConfig(weight_decay=0.1)), "without weight decay"),
    (dict(weight_decays=(-1.0,)), "weight decay"),
    (dict(controls=("nope",)), "control"),
    (dict(patience=0), "patience"),
    (dict(scorer="nope"), "scorer"),
])
def test_bad_sweep_configs_are_refused_with_a_message(change, message):
    with pytest.raises(PruningError, match=message):
        validate_sweep_config(replace(TINY, **change))


def test_presets_are_valid_and_keep_their_promises():
    for p in PRESETS.values():
        validate_sweep_config(p.config)
        assert len(p.config.levels) >= 6 and len(p.config.seeds) >= 3
    art = PRESETS["article-2d"]
    d = load_dataset(replace(art.config.data, seed=0))
    assert 900 <= mlp_weight_count(d.n_features, art.config.model.hidden, d.n_classes) <= 1100
    assert 0.5 in art.config.levels and art.focus_level == 0.5
    assert PRESETS["digits-noisy"].config.data.label_noise > 0


def test_config_key_changes_with_any_field():
    assert TINY.key() == replace(TINY).key()
    assert TINY.key() != replace(TINY, rewind=True).key()
    assert TINY.key() != replace(TINY, seeds=(0, 1, 2)).key()


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("target", [50, 300, 1000, 5000, 40000])
def test_matched_hidden_is_the_closest_scaled_width(target):
    h = matched_hidden((256, 256), 64, 10, target)
    got = mlp_weight_count(64, h, 10)
    assert h[0] == h[1]
    # no other common width is closer
    assert all(abs(mlp_weight_count(64, (w, w), 10) - target) >= abs(got - target)
               for w in range(1, 257))


def test_small_nets_are_packed_into_padded_groups_of_at_most_twice_their_weights():
    widths = [(226, 226), (172, 172), (126, 126), (98, 98), (62, 62), (38, 38), (18, 18)]
    groups = _width_groups(widths[::-1], 64, 10)
    assert groups == [widths[:4], widths[4:]]            # widest first, each width once
    for g in groups:
        padded = len(g) * mlp_weight_count(64, g[0], 10)
        assert padded <= 2 * sum(mlp_weight_count(64, w, 10) for w in g)
    # 400, 8 and 4 weights: the first two pad to 800 ≤ 2·408; with the third 1200 > 2·412
    assert _width_groups([(1,), (100,), (2,)], 2, 2) == [[(100,), (2,)], [(1,)]]
    assert len(_width_groups(widths, 64, 10, max_padding=1.0)) == len(widths)


def test_mlp_weight_count():
    assert mlp_weight_count(2, (30, 30), 2) == 1020
    assert mlp_weight_count(64, (256, 256), 10) == 64 * 256 + 256 * 256 + 2560


# ----------------------------------------------------------------------------- early stopping
def test_early_stopping_epoch_rule():
    assert early_stopping_epoch([0.1, 0.5, 0.4, 0.5, 0.3, 0.2], 2) == (1, 3)
    assert early_stopping_epoch([0.1, 0.2, 0.3], 5) == (2, 2)        # never stops: best of all
    assert early_stopping_epoch([0.5, 0.5, 0.5], 1) == (0, 1)        # ties are not improvements
    with pytest.raises(PruningError):
        early_stopping_epoch([0.1], 0)


def test_train_with_early_stopping_restores_the_best_epoch(digits):
    cfg = TrainConfig(epochs=25, batch_size=16, lr=0.01, seed=1)
    full = train(build_model(ModelConfig(hidden=(64,)), 64, 10, seed=1), digits, cfg)
    model = build_model(ModelConfig(hidden=(64,)), 64, 10, seed=1)
    res = train_with_early_stopping(model, digits, cfg, patience=3)
    best, stop = early_stopping_epoch(full["val_acc"].tolist(), 3)
    assert (res.best_epoch, res.stopped_epoch) == (best, stop)
    assert len(res.history) == stop + 1
    from pruning.core.training import evaluate
    assert evaluate(model, digits.X_val, digits.y_val).acc == pytest.approx(full["val_acc"][best])
    assert res.metrics["test_acc"] == pytest.approx(full["test_acc"][best])


# ----------------------------------------------------------------------------- selection
def _runs(rows):
    base = dict(weight_decay=0.0, hidden="8", weights=100, sparsity=0.0, epoch=10)
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["gap"] = df["train_acc"] - df["test_acc"]
    return df


def _synthetic(dense_test=(0.70, 0.72, 0.71), pruned_test=(0.80, 0.81, 0.79),
               pruned_val=0.75, es_test=(0.74, 0.75, 0.73)):
    rows = []
    for s in range(3):
        rows.append(dict(arm="dense", level=0.0, seed=s, train_acc=1.0, val_acc=0.70,
                         test_acc=dense_test[s]))
        rows.append(dict(arm="pruned", level=0.5, seed=s, train_acc=0.95, val_acc=pruned_val,
                         test_acc=pruned_test[s]))
        # highest test accuracy but worse validation: must never be chosen
        rows.append(dict(arm="pruned", level=0.9, seed=s, train_acc=0.9, val_acc=0.60,
                         test_acc=0.95))
        rows.append(dict(arm="early_stopping", level=0.0, seed=s, train_acc=0.8, val_acc=0.74,
                         test_acc=es_test[s]))
    return _runs(rows)


def test_best_sparsity_uses_validation_never_test():
    s = summarize(_synthetic())
    assert best_sparsity(s) == 0.5
    s = summarize(_synthetic(pruned_val=0.65))           # dense better on validation
    assert best_sparsity(s) == 0.0
    assert pick_by_validation(s)["pruned"]["arm"] == "dense"


def test_summary_means_and_sample_std():
    s = summarize(_synthetic())
    d = s[s["arm"] == "dense"].iloc[0]
    assert d["test_acc_mean"] == pytest.approx(0.71)
    assert d["test_acc_std"] == pytest.approx(np.std([0.70, 0.72, 0.71], ddof=1))
    assert (d["test_acc_min"], d["test_acc_max"], d["n_seeds"]) == (0.70, 0.72, 3)


# ----------------------------------------------------------------------------- explanation
def test_explanation_reports_the_measured_numbers():
    runs = _synthetic()
    text = " ".join(explain_sweep(runs, focus_level=0.9))
    assert "train 100.0 %, test 71.0 %" in text
    assert "gap of 29.0 points" in text
    assert "At 50 % sparsity** (the sparsity chosen on validation) the train/test gap fell from 29.0 to 15.0 points" in text
    assert "test accuracy rose from 71.0 % to 80.0 %. The pruned net is ahead of the dense net by 9.0 points (mean of 3 seeds; every seed agrees" in text
    assert "At 90 % sparsity" in text
    assert "Early stopping** reached 74.0 % test" in text
    assert "Pruning at 50 % is ahead of the best dense remedy (early stopping) by 6.0 points (mean of 3 seeds; every seed agrees" in text


def test_explanation_never_claims_a_win_that_seeds_do_not_show():
    runs = _synthetic(pruned_test=(0.82, 0.70, 0.74), es_test=(0.74, 0.75, 0.73))
    text = " ".join(explain_sweep(runs))
    assert ("Pruning at 50 % and the best dense remedy (early stopping) are within noise (mean "
            "difference +1.3 points over 3 seeds; pruning at 50 % was higher in 2 and lower in 1 "
            "of 3 seeds)") in text
    assert "every seed" not in text.split("best dense remedy")[-1]


def test_explanation_says_so_when_validation_prefers_the_dense_net():
    text = " ".join(explain_sweep(_synthetic(pruned_val=0.65)))
    assert "Validation preferred the unpruned net" in text
    assert "At 50 % sparsity" not in text


def test_a_smaller_gap_with_lower_test_accuracy_is_not_called_an_improvement():
    runs = _synthetic(pruned_test=(0.60, 0.61, 0.62))   # test falls by 10 points ...
    runs.loc[runs["arm"] == "pruned", "train_acc"] = 0.70  # ... and train by more: gap 29 -> 9
    runs["gap"] = runs["train_acc"] - runs["test_acc"]
    text = " ".join(explain_sweep(runs))
    assert "test accuracy fell from 71.0 % to 61.0 %" in text
    assert "The pruned net is behind the dense net by 10.0 points (mean of 3 seeds" in text
    assert "the gap shrank because training accuracy dropped" in text
    assert "rose" not in text.split("**At 50 %")[1].split("**At 90 %")[0]


def test_random_pruning_is_a_candidate_but_not_a_dense_remedy():
    runs = _synthetic()
    extra = _runs([dict(arm="random", level=lv, seed=s, train_acc=0.8, val_acc=va, test_acc=te)
                   for s in range(3) for lv, va, te in ((0.5, 0.78, 0.90), (0.9, 0.5, 0.2))])
    text = " ".join(explain_sweep(pd.concat([runs, extra], ignore_index=True)))
    assert "**Random pruning** at 50 % (its level picked on validation) reached 90.0 % test" in text
    assert "candidates:** random pruning at 50 % (90.0 %), ahead of every other" in text
    assert "the best dense remedy (early stopping)" in text


def test_explanation_says_when_there_is_no_gap_to_close():
    runs = _synthetic(dense_test=(1.0, 1.0, 1.0))
    text = " ".join(explain_sweep(runs))
    assert "no train/test gap (train − test = 0.0 points)" in text
    assert "gap of" not in text.split("**At")[0]


def test_explanation_names_every_leader_of_a_tie():
    runs = _synthetic(pruned_test=(0.74, 0.74, 0.74), es_test=(0.74, 0.74, 0.74))
    text = " ".join(explain_sweep(runs))
    assert "candidates:** no clear best" in text and "early stopping (74.0 %)" in text
    assert "are within noise (mean difference +0.00 points over 3 seeds; every seed tied)" in text


def test_overfit_heading_follows_the_gap():
    assert overfit_heading(0.214) == "The dense net overfits: a 21.4-point train/test gap"
    assert "only a little" in overfit_heading(0.02)
    assert overfit_heading(-0.03) == "The dense net does not overfit here"


def test_n_test_comes_from_the_runs_or_the_accuracy_grid():
    runs = _synthetic()
    assert infer_n_test(runs) == 100
    assert infer_n_test(runs.assign(n_test=359)) == 359


def test_a_mean_win_with_disagreeing_seeds_is_not_called_and_counts_are_true():
    # issue #13: +10 / −1 / −1 printed "ahead in 2 of 3 seeds"; per seed +1.7 / 0 / −1.4
    # named the higher mean "the best".
    runs = _synthetic(pruned_test=(0.84, 0.73, 0.72), es_test=(0.74, 0.74, 0.73))
    text = " ".join(explain_sweep(runs))
    tail = text.split("Best test accuracy")[-1]
    assert "within noise" in tail and "higher in 1 and lower in 2 of 3 seeds" in tail
    assert "ahead" not in tail.split("not separated")[-1]
    assert "no clear best" in tail


def test_one_seed_is_never_called_and_never_every_seed():
    runs = _synthetic()
    runs = runs[runs["seed"] == 0]
    text = " ".join(explain_sweep(runs))
    assert "One seed only" in text and "several seeds" in text
    assert "every seed (1 of 1)" not in text and "ahead of" not in text


# ----------------------------------------------------------------------------- figures
def _trace(fig, name, row_axis="y"):
    found = [t for t in fig.data if t.name == name and t.yaxis == row_axis]
    assert found, f"no trace {name!r} on {row_axis}"
    return found[0]


def test_sweep_figure_plots_means_spread_controls_and_the_validation_pick(tiny_result):
    s = summarize(tiny_result.runs)
    fig = sweep_figure(s)
    pruned = s[s["arm"] == "pruned"].sort_values("level")
    dense = s[s["arm"] == "dense"].iloc[0]
    t = _trace(fig, "pruned + fine-tuned")
    assert list(t.x) == [level_label(0.0)] + [level_label(v) for v in pruned["level"]]
    np.testing.assert_allclose(t.y, 100 * np.r_[dense["test_acc_mean"], pruned["test_acc_mean"]])
    np.testing.assert_allclose(t.error_y.array, 100 * np.r_[dense["test_acc_std"], pruned["test_acc_std"]])
    gap = _trace(fig, "pruned + fine-tuned", "y2")
    np.testing.assert_allclose(gap.y, 100 * np.r_[dense["gap_mean"], pruned["gap_mean"]])
    for name in ("random pruning (control)", "small dense net, same #weights",
                 "dense (no early stopping)"):
        _trace(fig, name)
    es = [t for t in fig.data if t.name.startswith("dense + early stopping") and t.showlegend]
    wd = [t for t in fig.data if t.name.startswith("dense + weight decay") and t.showlegend]
    assert es and wd
    es_mean = s[s["arm"] == "early_stopping"].iloc[0]["test_acc_mean"]
    assert es[0].y[0] == pytest.approx(100 * es_mean)
    star = _trace(fig, "best on validation")
    assert list(star.x) == [level_label(best_sparsity(s))]


def test_overfitting_figure_shows_mean_curves_and_stop_epochs(tiny_result):
    h = tiny_result.history
    fig = overfitting_figure(h, {0: 2, 1: 3})
    test = [t for t in fig.data if t.name == "test"][0]
    dense = h[h["arm"] == "dense"]
    np.testing.assert_allclose(test.y, 100 * dense.groupby("epoch")["test_acc"].mean().to_numpy())
    marks = [t for t in fig.data if t.name.startswith("early-stopping")][0]
    assert list(marks.x) == [2, 3]


# ----------------------------------------------------------------------------- data, CLI
def test_mnist1d_is_generated_locally_without_the_network(monkeypatch):
    import requests

    def no_network(*a, **k):
        raise AssertionError("MNIST-1D must not be downloaded")

    monkeypatch.setattr(requests, "get", no_network)
    b = load_dataset(DataConfig(name="mnist1d", n_samples=300, seed=1))
    assert b.n_features == 40 and b.n_classes == 10
    assert sum(b.sizes().values()) == 300


def test_cli_sweep_writes_csv_and_json(tmp_path, capsys):
    csv, js = tmp_path / "runs.csv", tmp_path / "out.json"
    rc = main(["sweep", "--preset", "digits-noisy", "--levels", "0.5,0.9", "--seeds", "0,1",
               "--epochs", "2", "--finetune-epochs", "1", "--controls", "random,early_stopping",
               "--threads", "1", "--quiet", "--csv", str(csv), "--json", str(js)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Dense net, trained for all 2 epochs" in out
    runs = pd.read_csv(csv)
    assert set(runs["arm"]) == {"dense", "pruned", "random", "early_stopping"}
    assert sorted(runs["seed"].unique()) == [0, 1]
    payload = json.loads(js.read_text())
    assert payload["config"]["levels"] == [0.5, 0.9]
    assert payload["best_sparsity"] in (0.0, 0.5, 0.9)
    assert len(payload["runs"]) == len(runs)


@pytest.mark.parametrize("argv,message", [
    (["--levels", "0.9,0.5"], "strictly increasing"),
    (["--levels", "abc"], "expected numbers"),
    (["--threads", "0"], "threads"),
    (["--controls", "bogus"], "control"),
])
def test_cli_sweep_bad_input_is_one_line_and_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc_info:
        rc = main(["sweep", "--quiet", *argv])
        raise SystemExit(rc)
    assert exc_info.value.code == 2
    assert message in capsys.readouterr().err


def test_one_at_a_time_help_does_not_promise_the_same_numbers(capsys):
    """issue #13: 13 of 75 noisy-digits rows differ between the two paths (float rounding)."""
    from pruning.cli.main import build_parser
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--help"])
    text = capsys.readouterr().out
    assert "same numbers" not in text and "float rounding differs" in " ".join(text.split())


def test_cli_warns_when_rewinding_with_a_short_budget(capsys):
    from pruning.cli.main import main
    code = main(["run", "--dataset", "digits", "--hidden", "8", "--epochs", "2", "--sparsity",
                 "0.5", "--rounds", "1", "--finetune-epochs", "1", "--rewind", "--quiet",
                 "--train-size", "100"])
    assert code == 0
    assert "retrains only 1 epoch(s) against 2" in capsys.readouterr().err


def test_an_unfinished_dense_net_is_said_before_the_sweep_sentences():
    runs = _synthetic()
    rows = [dict(arm="dense", seed=s, weight_decay=0.0, epoch=e, train_acc=0.3 + 0.05 * e,
                 val_acc=0.3, test_acc=0.3) for s in range(3) for e in range(9)]
    text = explain_sweep(runs, history=pd.DataFrame(rows))
    assert text[0].startswith("⚠️ **The dense net has not finished learning** in 3 of 3 seeds")
    done = [dict(r, train_acc=1.0) for r in rows]
    assert "not finished" not in explain_sweep(runs, history=pd.DataFrame(done))[0]
