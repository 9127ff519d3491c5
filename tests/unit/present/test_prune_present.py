""""What to notice" sentences of the Prune, Fine-tune and Iterate pages (pruning.present.prune):
computed from the numbers they describe."""
import pandas as pd
import torch

from pruning.present.format import pct
from pruning.present.prune import (
    boundary_note,
    dead_units_note,
    finetune_change_note,
    finetune_note,
    histogram_note,
    iterate_note,
    iterate_notice,
    pruning_effect_note,
    replay_note,
    replay_notice,
    unevenness_note,
    unit_images_note,
    zero_check_note,
)

DENSE = {"train_acc": 0.99, "test_acc": 0.97}


def test_pct_never_claims_all_or_none_when_it_is_not():
    assert pct(1.0) == "100.0 %" and pct(0.0) == "0.0 %"
    assert pct(0.99996) == "> 99.9 %" and pct(0.00004) == "< 0.1 %"
    assert pct(0.5) == "50.0 %" and pct(float("nan")) == "n/a"


def test_pruning_effect_note_follows_the_numbers():
    text = pruning_effect_note(DENSE, {"train_acc": 0.60, "test_acc": 0.55}, 0.9, 10)
    assert "90.0 %" in text and "fell from 97.0 % to 55.0 % (-42.0 points)" in text
    up = pruning_effect_note(DENSE, {"train_acc": 0.99, "test_acc": 0.98}, 0.3, 10)
    assert "rose from 97.0 % to 98.0 %" in up and "stayed at about 99.0 %" in up
    assert "Nothing is pruned" in pruning_effect_note(DENSE, DENSE, 0.0, 10)
    full = pruning_effect_note(DENSE, {"train_acc": 0.1, "test_acc": 0.098}, 1.0, 10)
    assert "Every prunable weight is zero" in full and "9.8 %" in full and "10.0 %" in full
    assert "layers.1" in pruning_effect_note(DENSE, {"train_acc": .1, "test_acc": .1}, .9, 10,
                                             ["layers.1"])


def test_unevenness_note_names_the_extremes():
    text = unevenness_note({"a.weight": 0.95, "b.weight": 0.4, "c.weight": 0.7}, "global", "sparsity")
    assert "**a** lost 95.0 %" in text and "**b** only 40.0 %" in text
    assert "same share" in unevenness_note({"a": 0.5, "b": 0.5}, "layer", "sparsity")
    assert "One threshold" in unevenness_note({"a": 0.5, "b": 0.505}, "global", "threshold")
    assert unevenness_note({"a": 0.5}, "global", "sparsity") == ""


def test_histogram_note_handles_every_case():
    s = [0.1, 0.2, 0.3, 0.4]
    assert "above 50.0 % of the scores: those 2 weights" in histogram_note(s, 0.3, "threshold", 2)
    assert "above every score" in histogram_note(s, 1e6, "threshold", 4)
    assert "nothing is pruned" in histogram_note(s, 0.05, "threshold", 0)
    assert "nothing is pruned" in histogram_note(s, None, "sparsity", 0)
    assert "the 2 weights (50.0 %)" in histogram_note(s, 0.2, "sparsity", 2)


def test_dead_units_boundary_and_diagram_notes():
    table = pd.DataFrame({"layer": ["l0", "l1"], "shape": ["300 × 64", "10 × 300"],
                          "dead_neurons": [12, 0]})
    assert "l0: 12 of 300" in dead_units_note(table)
    assert "relu(b)" in dead_units_note(table) and "output only their bias" not in dead_units_note(table)
    assert "still has" in dead_units_note(table.assign(dead_neurons=0))
    assert "25.0 %" in boundary_note(0.25, 0.9, 0.8) and "did not move" in boundary_note(0, .9, .9)


def test_finetune_note_direction_and_gap():
    t = finetune_note(DENSE, {"test_acc": 0.5}, {"test_acc": 0.96}, 0.9, 5)
    assert "fell from 97.0 % to 50.0 %" in t and "brought it back to **96.0 %**" in t
    assert "1.0 points below the dense model" in t
    worse = finetune_note(DENSE, {"test_acc": 0.9}, {"test_acc": 0.8}, 0.9, 1)
    assert "lowered it to **80.0 %**" in worse and "1 epoch " in worse
    assert "No fine-tuning epochs" in finetune_note(DENSE, {"test_acc": .9}, {"test_acc": .9}, .5, 0)
    assert "about the dense model's level" in finetune_note(DENSE, {"test_acc": .9},
                                                            {"test_acc": .971}, .5, 3)


def test_zero_check_note():
    assert zero_check_note(0, 900).startswith("Check passed") and "900" in zero_check_note(0, 900)
    assert zero_check_note(3, 900).startswith("Check failed") and "3 of 900" in zero_check_note(3, 900)


def _rounds(sp, pruned, ft):
    return pd.DataFrame({"round": range(1, len(sp) + 1), "sparsity": sp,
                         "test_acc_pruned": pruned, "test_acc": ft})


def test_iterate_and_replay_notes():
    rounds = _rounds([0.5, 0.75, 0.9], [0.95, 0.9, 0.7], [0.97, 0.965, 0.93])
    text = iterate_note(rounds, DENSE)
    assert "**90.0 %**" in text and "70.0 % right after pruning and 93.0 %" in text
    assert "had 75.0 % of its weights pruned" in text
    base = _rounds([0.5, 0.75, 0.9], [0.9, 0.5, 0.2], [0.95, 0.8, 0.6])
    with_base = iterate_note(rounds, DENSE, base, n_test=1000)
    assert "Random pruning to 90.0 % ended at 60.0 %" in with_base
    # issue #13: one run never concludes which scorer is better, nor that it "did not matter"
    assert "One seed only: the chosen scorer scored 33.0 points above random" in with_base
    assert "matter" not in iterate_note(rounds, DENSE, _rounds([0.5, 0.75, 0.9], [0.9, 0.5, 0.2],
                                                               [0.95, 0.8, 0.93]))
    one = _rounds([0.9], [0.3], [0.90]).assign(finetune_epochs=15)
    both = iterate_note(rounds.assign(finetune_epochs=5), DENSE, oneshot=one, n_test=1000)
    assert "after 15 fine-tuning epochs in all" in both
    assert "one-shot pruning with the same 15 fine-tuning epochs" in both and "One seed" in both
    bad = _rounds([0.9], [0.2], [0.5])
    assert "more than 1 point below" in iterate_note(bad, DENSE)
    assert "Round 0" in replay_note(rounds, 0, "layers.0.weight", 0.0)
    r2 = replay_note(rounds, 2, "layers.0.weight", 0.6)
    assert "After round 2: 75.0 %" in r2 and "60.0 % of **layers.0**" in r2


def test_unit_images_note_says_what_a_picture_is():
    mlp = unit_images_note(False, 8, 0.25)
    assert "laid out like the input image" in mlp and "25.0 % of these pixels' weights" in mlp
    assert "filter" in unit_images_note(True, 8, 0.5)
    assert "None of them is pruned" in unit_images_note(False, 8, 0.0)


def test_finetune_change_note_measures_only_the_survivors():
    before = torch.tensor([[0.5, 0.0], [1.0, 0.0]])
    after = torch.tensor([[0.6, 0.0], [0.7, 0.0]])
    mask = torch.tensor([[True, False], [True, False]])
    note = finetune_change_note(before, after, mask)
    assert "moved only the 2 surviving weights" in note
    assert "mean |change| 0.2000" in note and "largest 0.3000" in note
    none_left = finetune_change_note(before, after, torch.zeros(2, 2, dtype=torch.bool))
    assert none_left.startswith("Every weight of this layer is pruned")


def test_page_notices_add_how_to_read_the_chart():
    rounds = _rounds([0.5, 0.9], [0.95, 0.7], [0.97, 0.93])
    assert iterate_notice(rounds, DENSE).startswith(iterate_note(rounds, DENSE))
    assert "Dotted lines: right after pruning" in iterate_notice(rounds, DENSE)
    r1 = replay_notice(rounds, 1, "layers.0.weight", 0.5)
    assert r1.startswith(replay_note(rounds, 1, "layers.0.weight", 0.5))
    assert r1.endswith("The colour scale is the same for every round.")


def test_accuracy_chart_draws_only_measured_points_with_each_budget():
    from pruning.present.charts import accuracy_vs_sparsity
    one = pd.DataFrame({"round": [1], "sparsity": [0.9], "finetune_epochs": [15],
                        "train_acc_pruned": [0.3], "train_acc": [0.9],
                        "test_acc_pruned": [0.3], "test_acc": [0.9]})
    fig = accuracy_vs_sparsity(one, dense={"train_acc": 1.0, "test_acc": 0.97})
    runs = [t for t in fig.data if not t.name.startswith("dense")]
    # issue #13: a one-shot run is one point, not a straight line from the dense model at 0 %
    assert all(list(t.x) == [90.0] for t in runs)
    assert all(t.name.endswith("1 round, 15 fine-tuning epochs") for t in runs)
    dense = [t for t in fig.data if t.name.startswith("dense")]
    assert [t.mode for t in dense] == ["markers", "markers"]
