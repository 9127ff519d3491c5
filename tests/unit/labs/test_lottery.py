"""Lottery tickets: rewinding, the two controls, reproducibility, the figure and notes."""
import pytest
import torch

from pruning import (
    ModelConfig,
    PruningError,
    TrainConfig,
    build_model,
    train,
)
from pruning.labs.lottery import LotteryConfig, rewound, run_lottery
from pruning.present.lottery import (
    budget_caption,
    epochs_note,
    lottery_figure,
    lottery_notes,
)

MODEL = ModelConfig(hidden=(16,))
TRAIN = TrainConfig(epochs=99, seed=0)  # epochs come from LotteryConfig


@pytest.fixture(scope="module")
def data(digits_200):
    return digits_200


@pytest.fixture(scope="module")
def result(data):
    return run_lottery(data, MODEL, TRAIN, LotteryConfig(rounds=2, prune_rate=0.5, epochs=3,
                                                         rewind_epoch=1))


def test_table_rounds_variants_and_sparsity(result):
    t = result.table
    assert len(t) == 1 + 3 * 2
    assert t.iloc[0]["variant"] == "dense" and t.iloc[0]["remaining_pct"] == 100.0
    for r, left in ((1, 50.0), (2, 25.0)):
        part = t[t["round"] == r]
        assert set(part["variant"]) == {"ticket", "reinit", "random"}
        assert part["remaining_pct"].tolist() == pytest.approx([left] * 3, abs=0.05)
        assert part["kept_weights"].nunique() == 1


def test_masks_nest_and_random_control_matches_per_layer_counts(result):
    m1, m2 = result.masks
    for n in m1:
        assert not (m2[n] & ~m1[n]).any()  # pruned weights never come back
    for ticket, rand in zip(result.masks, result.random_masks):
        for n in ticket:
            assert int(rand[n].sum()) == int(ticket[n].sum())
            assert not torch.equal(rand[n], ticket[n])


def test_rewind_point_is_the_state_after_k_epochs(data, result):
    fresh = build_model(MODEL, data.n_features, data.n_classes, seed=TRAIN.seed)
    for k, v in fresh.state_dict().items():
        assert torch.equal(result.init_state[k], v)
    train(fresh, data, TrainConfig(epochs=1, seed=TRAIN.seed))  # epoch 1 of the same run
    for k, v in fresh.state_dict().items():
        torch.testing.assert_close(result.rewind_state[k], v)
    ticket = rewound(fresh, result.rewind_state, result.masks[0])
    w = ticket.layers[0].weight
    m = result.masks[0]["layers.0.weight"]
    assert torch.equal(w[m], result.rewind_state["layers.0.weight"][m])
    assert torch.all(w[~m] == 0)


def test_reproducible_and_validated(data):
    cfg = LotteryConfig(rounds=1, epochs=2)
    a = run_lottery(data, MODEL, TRAIN, cfg).table
    b = run_lottery(data, MODEL, TRAIN, cfg).table
    assert a.equals(b)
    with pytest.raises(PruningError, match="rewind epoch"):
        run_lottery(data, MODEL, TRAIN, LotteryConfig(epochs=2, rewind_epoch=2))
    with pytest.raises(PruningError, match="prune rate"):
        run_lottery(data, MODEL, TRAIN, LotteryConfig(prune_rate=0.0))


def test_figure_and_notes(result):
    t = result.table
    fig = lottery_figure(t)
    assert [tr.name for tr in fig.data] == ["winning ticket (rewound)",
                                                  "same mask, new random init", "random pruning"]
    ticket = fig.data[0]
    assert ticket.x[0] == 100.0  # every curve starts at the dense network
    assert list(ticket.y[1:]) == pytest.approx((100 * t[t["variant"] == "ticket"]["test_acc"]).tolist())
    assert fig.layout.xaxis.type == "log"
    notes = lottery_notes(t)
    dense = t[t["variant"] == "dense"]["test_acc"].item()
    assert f"{100 * dense:.1f} %" in " ".join(notes)
    last = t[t["round"] == 2].set_index("variant")["test_acc"]
    assert f"random pruning {100 * last['random']:.1f} %" in " ".join(notes)
    # issue #13: one seed never concludes "the initial values mattered"
    assert "mattered" not in " ".join(notes)
    assert "One seed only" in notes[-1]
    assert "other seeds" in notes[-1]


def test_epochs_per_arm_are_recorded_and_told(data):
    t = run_lottery(data, MODEL, TRAIN, LotteryConfig(rounds=1, epochs=3, rewind_epoch=1)).table
    e = t.set_index("variant")["epochs"]
    assert (e["dense"], e["ticket"], e["reinit"], e["random"]) == (3, 2, 3, 2)
    assert "winning ticket (rewound) 2" in epochs_note(t) and "(every arm" not in epochs_note(t)
    assert "the tickets and the random controls 2" in budget_caption(1, 0.5, 3, 1)
    assert (t["n_test"] == len(data.y_test)).all()


def test_budget_caption_counts_what_remains_and_the_runs():
    text = budget_caption(3, 0.2, 10)
    assert "After 3 round(s), 51.2 % of the prunable weights remain." in text
    assert "10 training runs of 10 epochs" in text


def test_an_unfinished_dense_network_is_said_first():
    import pandas as pd
    rows = [dict(round=0, variant="dense", remaining_pct=100.0, test_acc=0.33, train_acc=0.35,
                 epochs=8, still_learning=True, n_test=1000)]
    rows += [dict(round=1, variant=v, remaining_pct=50.0, test_acc=0.3, train_acc=0.3, epochs=8,
                  n_test=1000) for v in ("ticket", "reinit", "random")]
    notes = lottery_notes(pd.DataFrame(rows))
    assert notes[0].startswith("⚠️ **The dense network has not finished learning**")


def test_mnist1d_note_says_why_the_dense_run_is_below_the_paper():
    import pandas as pd

    from pruning.present.lottery import published_numbers_note
    t = pd.DataFrame([dict(round=0, variant="dense", test_acc=0.33, train_acc=0.52, epochs=8,
                           still_learning=True)])
    note = published_numbers_note("mnist1d", t, 600)
    assert "This run's dense network reached 33.0 %" in note
    assert "600 training examples" in note and "4,000" in note and "8 epochs" in note
    assert "reached" not in published_numbers_note("mnist1d", t.assign(test_acc=0.6), 4000)
