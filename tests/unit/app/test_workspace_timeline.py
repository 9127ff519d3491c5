"""The session's timeline (train / prune / fine-tune steps, prune again from the fine-tuned
model, undo, reset) and its run history (records, rename, remove, one tidy CSV)."""
import io
from dataclasses import fields, is_dataclass

import pandas as pd
import pytest
import torch

from pruning.app.runs import (
    iterate_points,
    overlay_points,
    runs_table,
    scorer_points,
)
from pruning.app.workspace import UNDO_DEPTH, Workspace
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.masks import sparsity
from pruning.core.records import finetune_pruned, prune_trained, train_model
from pruning.core.selection import select_by_sparsity
from pruning.errors import PruningError
from pruning.labs.iterate import run_iterate
from pruning.labs.prune_step import compute_scores, prune_config_for
from pruning.present.timeline import runs_overlay, sawtooth_figure, sawtooth_note

FT = TrainConfig(epochs=2, seed=0)


@pytest.fixture(scope="module")
def trained(digits_200):
    return train_model(DataConfig(name="digits", train_size=200, seed=0),
                       ModelConfig(kind="mlp", hidden=(32,)), TrainConfig(epochs=5, seed=0),
                       data=digits_200)


def prune(trained, data, target, start=None):
    model = trained.build(data, None if start is None else start.state)
    scores = compute_scores(model, data, "magnitude", True, 0)
    sel = select_by_sparsity(scores, target, "global",
                             previous=None if start is None else start.masks)
    cfg = prune_config_for("magnitude", "sparsity", target, "global", True, 0)
    return prune_trained(trained, data, cfg, sel.masks, start=start)


def walk(trained, data, ws=None):
    """train → prune 50 % → fine-tune → prune 80 % again → fine-tune."""
    ws = ws or Workspace()
    ws.set_trained(trained)
    p1 = prune(trained, data, 0.5)
    ws.keep_pruned(p1)
    f1 = finetune_pruned(trained, p1, data, FT)
    ws.keep_finetuned(f1)
    start = ws.latest_finetuned()
    assert start is f1
    p2 = prune(trained, data, 0.8, start=start)
    ws.keep_pruned(p2)
    f2 = finetune_pruned(trained, p2, data, FT)
    ws.keep_finetuned(f2)
    return ws, (p1, f1, p2, f2)


def test_prune_again_keeps_every_earlier_pruned_weight_pruned(trained, digits_200):
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    for n, m in p1.masks.items():
        assert not (p2.masks[n] & ~m).any()           # nothing revived
        assert (f2.state[n][~p2.masks[n]] == 0).all()  # pruned stay exactly zero
    assert sparsity(p2.masks) == pytest.approx(0.8, abs=1e-3)  # cumulative: of the original
    assert p2.started_from == "fine-tuned"
    # the second cut starts from the fine-tuned weights, not the dense ones
    name = next(iter(p2.masks))
    keep = p2.masks[name]
    assert torch.equal(p2.state[name][keep], f1.state[name][keep])


def test_last_finetune_pairs_the_fine_tuned_model_with_its_own_pruned_model(trained, digits_200):
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    assert ws.last_finetune() == (p2, f2)
    ws.undo()                                    # back to: pruned again, not fine-tuned yet
    assert ws.pruned is p2 and ws.last_finetune() == (p1, f1)
    assert Workspace().last_finetune() is None


def test_prune_again_refuses_masks_that_revive_a_weight(trained, digits_200):
    ws, (p1, f1, *_ ) = walk(trained, digits_200)
    fresh = prune(trained, digits_200, 0.3)  # does not contain f1's pruned set
    with pytest.raises(PruningError, match="pruned before"):
        prune_trained(trained, digits_200, fresh.prune_config, fresh.masks, start=f1)


def test_timeline_records_every_step_and_the_sawtooth(trained, digits_200):
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    frame = ws.timeline_frame()
    assert list(frame["kind"]) == ["train", "prune", "fine-tune", "prune", "fine-tune"]
    assert list(frame["test_acc"]) == pytest.approx(
        [trained.metrics["test_acc"], p1.metrics["test_acc"], f1.metrics["test_acc"],
         p2.metrics["test_acc"], f2.metrics["test_acc"]])
    assert list(frame["sparsity"]) == pytest.approx([0, 0.5, 0.5, 0.8, 0.8], abs=1e-3)
    assert "from the fine-tuned model" in frame["label"][3]
    fig = sawtooth_figure(frame)
    test, train = fig.data[0], fig.data[1]
    assert list(test.y) == pytest.approx(list(100 * frame["test_acc"]))
    assert list(train.y) == pytest.approx(list(100 * frame["train_acc"]))
    assert list(fig.layout.xaxis.ticktext) == ["train", "cut", "fine-tune", "cut", "fine-tune"]
    assert [a.text for a in fig.layout.annotations] == ["dense", "50 %", "50 %", "80 %", "80 %"]
    note = sawtooth_note(frame)
    assert "step 2 cut to 50.0 %" in note and "step 5 fine-tuned" in note


def test_undo_steps_back_through_the_models_and_reset_forgets_all(trained, digits_200):
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    assert ws.undo().kind == "fine-tune"
    assert ws.pruned is p2 and ws.finetuned is None
    assert ws.undo().kind == "prune"
    assert ws.pruned is p1 and ws.finetuned is f1
    ws.undo(), ws.undo()
    assert ws.trained is trained and ws.pruned is None and ws.finetuned is None
    assert ws.undo().kind == "train"
    assert ws.trained is None and not ws.timeline and ws.undo() is None
    assert len(ws.runs) == 5  # undo does not erase the run history
    ws.reset()
    assert ws.runs == [] and ws.timeline == [] and ws.trained is None


def test_undo_depth_bounds_the_models_kept(trained, digits_200):
    ws = Workspace()
    ws.set_trained(trained)
    p = prune(trained, digits_200, 0.5)
    for _ in range(UNDO_DEPTH + 3):
        ws.keep_pruned(p)
    kept = [s.has_models for s in ws.timeline]
    assert kept.count(True) == UNDO_DEPTH and kept[-UNDO_DEPTH:] == [True] * UNDO_DEPTH
    for _ in range(UNDO_DEPTH - 1):
        assert ws.undo() is not None
    assert not ws.can_undo() and ws.undo() is None  # the step before is too old


def test_a_new_dense_model_starts_a_new_chain(trained, digits_200):
    ws, _ = walk(trained, digits_200)
    ws.set_trained(trained)
    assert ws.latest_finetuned() is None and ws.pruned is None
    frame = ws.timeline_frame()
    assert list(frame["model"]) == [1, 1, 1, 1, 1, 2]
    fig = sawtooth_figure(frame)
    assert len(fig.layout.shapes) == 1  # the "new model" line


def _plain(value, seen=0):
    """Only data types a store can save: no modules, functions or open handles."""
    if is_dataclass(value):
        return all(_plain(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, (str, int, float, bool, type(None), torch.Tensor, pd.DataFrame))


def test_every_new_field_is_plain_data(trained, digits_200):
    ws, _ = walk(trained, digits_200)
    assert _plain(ws.timeline) and _plain(ws.runs) and _plain(ws.run_counter)


# ----------------------------------------------------------------------------- run history
def test_runs_are_kept_renamed_removed_and_downloaded_accuracy_first(trained, digits_200):
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    assert [r.kind for r in ws.runs] == ["train", "prune", "fine-tune", "prune", "fine-tune"]
    assert [r.id for r in ws.runs] == [1, 2, 3, 4, 5]
    ft_run = ws.runs[2]
    assert ft_run.settings["fine-tune epochs"] == "2"
    assert list(ft_run.points["stage"]) == ["dense", "after pruning", "after fine-tuning"]
    assert ws.rename_run(3, "  first  cut ") and ws.run(3).name == "first cut"
    assert not ws.rename_run(3, "   ") and ws.run(3).name == "first cut"
    assert ws.remove_run(1) and ws.run(1) is None and not ws.remove_run(1)
    table = runs_table(ws.runs)
    assert list(table.columns[:3]) == ["test accuracy (%)", "train accuracy (%)",
                                       "weights pruned (%)"]
    assert not any("_" in c for c in table.columns)
    back = pd.read_csv(io.StringIO(table.to_csv(index=False)))
    row = back[(back["run"] == "first cut") & (back["stage"] == "after fine-tuning")].iloc[0]
    assert row["test accuracy (%)"] == pytest.approx(100 * f1.metrics["test_acc"], abs=0.01)
    assert row["weights pruned (%)"] == pytest.approx(50.0, abs=0.1)
    assert len(back) == 2 + 3 + 2 + 3


def test_two_iterate_runs_overlay_on_one_chart(trained, digits_200):
    from pruning.config import PruneConfig
    ws = Workspace()
    ws.set_trained(trained)
    for schedule, rounds in (("oneshot", 1), ("iterative", 3)):
        cfg = PruneConfig(scorer="magnitude", scope="global", sparsity=0.8, schedule=schedule,
                          rounds=rounds, finetune_epochs=1, seed=0)
        res = run_iterate(trained, digits_200, cfg, FT, with_baseline=schedule == "iterative")
        ws.add_run("iterate", {"schedule": schedule},
                   iterate_points(res.rounds, res.dense, "magnitude", res.baseline_rounds))
    a, b = ws.runs[1:]
    fig = runs_overlay(overlay_points([a, b]))
    names = [t.meta for t in fig.data]
    assert f"{a.name} — magnitude: test" in names and f"{b.name} — magnitude: test" in names
    assert f"{b.name} — random baseline: test" in names
    b_test = next(t for t in fig.data if t.meta == f"{b.name} — magnitude: test")
    assert len(b_test.x) == 1 + 2 * 3  # dense, then each round after pruning and fine-tuning
    assert b_test.x[-1] == pytest.approx(80.0, abs=0.1)


def test_same_named_runs_stay_separate_lines(trained, digits_200):
    ws = Workspace()
    ws.set_trained(trained)
    ws.set_trained(trained)
    ws.rename_run(2, ws.runs[0].name)
    fig = runs_overlay(overlay_points(ws.runs), show_train=False)
    assert len({t.meta for t in fig.data}) == 2


def test_scorer_comparison_points_one_series_per_scorer():
    table = pd.DataFrame([{"scorer": "magnitude", "sparsity": 0.8, "train_acc_pruned": 0.5,
                           "test_acc_pruned": 0.4, "train_acc": 0.9, "test_acc": 0.85},
                          {"scorer": "random", "sparsity": 0.8, "train_acc_pruned": 0.1,
                           "test_acc_pruned": 0.1, "train_acc": 0.6, "test_acc": 0.55}])
    pts = scorer_points(table, {"train_acc": 1.0, "test_acc": 0.95})
    assert sorted(set(pts["series"])) == ["magnitude", "random"]
    assert len(pts) == 6



def test_timeline_and_runs_survive_the_store_round_trip(trained, digits_200):
    from pruning.app.store import decode_workspace, workspace_bytes
    ws, (p1, f1, p2, f2) = walk(trained, digits_200)
    ws.rename_run(2, "the first cut")
    raw, dropped = workspace_bytes(ws)
    assert not dropped
    back = decode_workspace(raw)
    assert list(back.timeline_frame()["test_acc"]) == list(ws.timeline_frame()["test_acc"])
    assert [r.name for r in back.runs] == [r.name for r in ws.runs] and back.run_counter == 5
    pd.testing.assert_frame_equal(back.runs[2].points, ws.runs[2].points)
    # shared records stay shared: undo after a restart still finds the models before
    assert back.timeline[2].finetuned is back.timeline[3].finetuned or \
        back.timeline[3].finetuned is None
    assert back.undo().kind == "fine-tune" and back.undo().kind == "prune"
    assert back.finetuned is back.timeline[-1].finetuned is not None
    assert torch.equal(back.finetuned.state[next(iter(f1.state))], f1.state[next(iter(f1.state))])


def test_a_setting_named_like_a_measured_column_gets_its_own_column():
    """A scorer comparison keeps its sparsity as the setting "weights pruned (%)": the table
    must still have unique column names (pyarrow refuses duplicates: the Runs page crashed)."""
    import pandas as pd

    from pruning.app.runs import RunRecord, runs_table
    points = pd.DataFrame({"test_acc": [0.9], "train_acc": [1.0], "sparsity": [0.8],
                           "stage": ["pruned"], "series": ["magnitude"], "step": [1]})
    run = RunRecord(id=1, name="#1 scorers", kind="scorers", points=points,
                    settings={"weights pruned (%)": "80 %", "scorer": "magnitude"})
    table = runs_table([run])
    assert table.columns.is_unique, list(table.columns)
    assert table["weights pruned (%)"].iloc[0] == 80.0
    assert table["weights pruned (%) (setting)"].iloc[0] == "80 %"
