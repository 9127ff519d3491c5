"""The Train page's computed notes (the train–test gap, the most frequent mistake) and test predictions."""
import numpy as np
import pandas as pd

from pruning import DataConfig, ModelConfig, TrainConfig, load_dataset
from pruning.core.records import train_model
from pruning.present.training import (
    generalization_note,
    mistake_note,
    predict_test_split,
)


def _m(train, val, test):
    return {"train_acc": train, "val_acc": val, "test_acc": test}


def test_gap_words_follow_the_numbers():
    assert "small gap" in generalization_note(_m(0.99, 0.98, 0.98), 10, epochs=5)
    assert "moderate gap" in generalization_note(_m(0.99, 0.95, 0.94), 10, epochs=5)
    note = generalization_note(_m(1.0, 0.6, 0.55), 10, epochs=5)
    assert "large gap" in note and "overfits" in note and "+45.0 points" in note


def test_test_above_train_is_not_called_overfitting():
    note = generalization_note(_m(0.55, 0.9, 0.9), 10, epochs=5, label_noise=0.5)
    assert "higher on new data" in note and "overfit" in note and "gap" not in note.split(":")[1]
    assert "50 % of the training labels are wrong" in note


def test_zero_epochs_chance_and_label_noise():
    note = generalization_note(_m(0.1, 0.1, 0.09), 10, epochs=0)
    assert "0 epochs" in note and "gap" not in note
    note = generalization_note(_m(0.9, 0.12, 0.11), 10, epochs=5, label_noise=1.0)
    assert "close to chance (10 %)" in note and "100 % of the training labels are wrong" in note


def test_validation_peak_is_reported_only_when_it_dropped():
    h = pd.DataFrame({"epoch": [0, 1, 2, 3], "val_acc": [0.1, 0.9, 0.8, 0.8]})
    assert "peaked at epoch 1" in generalization_note(_m(1, 0.8, 0.8), 10, 3, history=h)
    h["val_acc"] = [0.1, 0.8, 0.85, 0.9]
    assert "peaked" not in generalization_note(_m(1, 0.9, 0.9), 10, 3, history=h)


def test_predictions_match_the_stored_test_accuracy():
    cfg = DataConfig(name="digits", train_size=100, seed=0)
    data = load_dataset(cfg)
    trained = train_model(cfg, ModelConfig(hidden=(16,)), TrainConfig(epochs=2), data=data)
    y_true, y_pred = predict_test_split(trained, data)
    assert (y_true == data.y_test.numpy()).all()
    assert np.mean(y_true == y_pred) == trained.metrics["test_acc"]


def test_mistake_note_names_the_largest_off_diagonal_cell():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 2, 1])
    note = mistake_note(y_true, y_pred, ["a", "b", "c"])
    assert note == "Most frequent mistake: **b** taken for **c** (2 of 4 test mistakes)."
    assert mistake_note(y_true, y_true, ["a", "b", "c"]) == "No test example is misclassified."


def _history(train_acc, losses):
    n = len(losses)
    return pd.DataFrame({"epoch": range(n), "train_loss": losses,
                         "train_acc": [0.1] * (n - 1) + [train_acc]})


def test_an_unfinished_model_is_said_out_loud_before_the_gap_words():
    """issue #13: Small CNN on digits, 55 % train / 54 % test with the loss still falling, was
    called "a small gap: the model does about as well on new data"."""
    from pruning.core.learning import check_learning
    falling = _history(0.555, [2.3, 2.0, 1.9, 1.8, 1.7, 1.62, 1.595, 1.561])
    c = check_learning(falling)
    assert c.unfinished and c.window == 2
    note = generalization_note(_m(0.555, 0.54, 0.54), 10, epochs=7, history=falling)
    assert note.startswith("⚠️ **This model has not finished learning**")
    assert "small gap" not in note and "about as well" not in note
    # flat loss (converged below 100 %) or near-perfect training accuracy: not flagged
    assert not check_learning(_history(0.555, [2.3, 1.0, 0.9, 0.9, 0.9, 0.9])).unfinished
    assert not check_learning(_history(0.99, [2.3, 1.0, 0.5, 0.3, 0.2, 0.1])).unfinished
    assert "not finished" not in generalization_note(_m(0.99, 0.98, 0.98), 10, epochs=5,
                                                     history=_history(0.99, [2, 1, .5, .2, .1]))


def test_a_short_run_of_the_small_cnn_on_digits_is_flagged_when_it_has_not_learned(digits_200):
    """A real short run: three epochs of the Small CNN learn little, and the note says so."""
    from pruning.core.learning import check_learning
    t = train_model(DataConfig(name="digits"), ModelConfig(kind="cnn"),
                    TrainConfig(epochs=3, seed=0), data=digits_200)
    assert t.metrics["train_acc"] < 0.9
    assert check_learning(t.history).unfinished
