"""Tables shown or downloaded carry human column names, accuracy first
(pruning.present.columns), on the labs' real tables: Prune's per-layer table, Iterate's rounds,
Compare scorers' summary."""
import io
import re

import pandas as pd
import pytest

from pruning import DataConfig, ModelConfig, PruneConfig, TrainConfig
from pruning.core.masks import apply_masks
from pruning.core.records import train_model
from pruning.labs import layer_thresholds as lt
from pruning.labs.iterate import run_iterate
from pruning.labs.prune_step import compute_scores, select, sparsity_table
from pruning.labs.scorer_compare import compare_scorers
from pruning.present.columns import (
    ID_COLUMNS,
    THRESHOLD_TABLE_NAMES,
    human_name,
    number_formats,
    readable,
    readable_csv,
)

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$|^[a-z]+\[")   # test_acc, tied_at_cutoff, sparsity[..]


@pytest.fixture(scope="module")
def trained(digits_200):
    return train_model(DataConfig(name="digits", train_size=200), ModelConfig(hidden=(16, 8)),
                       TrainConfig(epochs=1), data=digits_200)


@pytest.fixture(scope="module")
def tables(trained, digits_200):
    model = trained.build(digits_200)
    sel = select(compute_scores(model, digits_200, "magnitude"), "sparsity", 0.5, "layer")
    layer = sparsity_table(apply_masks(model, sel.masks), sel, "layer")
    rounds = run_iterate(trained, digits_200, PruneConfig(sparsity=0.5, schedule="iterative",
                                                          rounds=2, finetune_epochs=1),
                         TrainConfig(), with_baseline=True).rounds
    scorers = compare_scorers(trained, digits_200, ["magnitude", "random"], sparsity=0.5,
                              finetune_epochs=1, n_seeds=2).table
    return {"prune layers": layer, "iterate rounds": rounds, "compare scorers": scorers}


def _headers_are_human(shown: pd.DataFrame):
    bad = [c for c in shown.columns if SNAKE.search(c) or "_" in c]
    assert not bad, bad


def test_no_code_name_in_any_shown_or_downloaded_header(tables):
    for name, table in tables.items():
        _headers_are_human(readable(table))
        downloaded = pd.read_csv(io.StringIO(readable_csv(table)))
        _headers_are_human(downloaded)
        assert len(downloaded) == len(table), name


def test_accuracy_comes_first_after_the_row_names(tables):
    for name in ("iterate rounds", "compare scorers"):
        table = tables[name]
        ids = [c for c in ID_COLUMNS if c in table.columns]
        shown = list(readable(table).columns)
        assert shown[len(ids)] == "Test accuracy (after fine-tune)", (name, shown)
        first_other = next(i for i, c in enumerate(shown[len(ids):]) if "accuracy" not in c)
        assert all("accuracy" in c for c in shown[len(ids):len(ids) + first_other])
        assert "Test accuracy (just pruned)" in shown


def test_names_say_what_the_code_means():
    assert human_name("tied_at_cutoff") == "Weights tied at the cut-off"
    assert human_name("train_loss_pruned") == "Train loss (just pruned)"
    assert human_name("val_acc_sd") == "Validation accuracy (after fine-tune) (sd over seeds)"
    assert human_name("sparsity[layers.0]") == "Sparsity of layers.0"
    assert human_name("something_new") == "Something new"


def test_values_are_kept_and_fractions_print_as_percent(tables):
    rounds = tables["iterate rounds"]
    shown = readable(rounds)
    assert list(shown["Test accuracy (after fine-tune)"]) == list(rounds["test_acc"])
    formats = number_formats(rounds)
    assert formats["Test accuracy (after fine-tune)"] == "percent"
    assert formats["Sparsity"] == "percent"
    assert set(formats) <= set(shown.columns)
    assert set(number_formats(tables["prune layers"])) <= set(readable(tables["prune layers"]).columns)


def test_after_fine_tune_only_beside_a_just_pruned_twin():
    lottery_like = pd.DataFrame({"round": [1], "variant": ["ticket"], "sparsity": [0.5],
                                 "epochs": [3], "train_acc": [0.9], "test_acc": [0.8]})
    shown = list(readable(lottery_like).columns)
    assert shown[:3] == ["Round", "Variant", "Test accuracy"], shown
    assert "Train accuracy" in shown and not any("fine-tune" in c for c in shown)


def test_structured_and_generalization_columns_read_as_words():
    # The code names of Structured's granularity/suggestion tables and Generalization's summary.
    codes = ["units_removed", "granularity", "kept_weights", "kept_weights_pct", "stored_params",
             "macs_per_example", "empty_layers", "test_acc_pruned", "test_acc", "n_test",
             "suggested_sparsity", "val_acc_at_suggested", "weights_removed", "arm", "level",
             "weight_decay", "hidden", "weights", "epoch", "train_acc_mean", "test_acc_std",
             "gap_mean", "gap_std"]
    shown = readable(pd.DataFrame({c: [0.5] for c in codes}))
    _headers_are_human(shown)
    names = list(shown.columns)
    n_ids = sum(c in ID_COLUMNS for c in codes)
    assert names[n_ids].startswith("Test accuracy"), names
    spread = names.index("Test accuracy (after fine-tune) (sd over seeds)")
    assert names[spread - 1] == "Test accuracy (after fine-tune)", names   # a spread follows its mean
    formats = number_formats(pd.DataFrame({c: [0.5] for c in codes}))
    assert formats["Train − test accuracy gap (mean over seeds)"] == "percent"
    assert formats["Units removed"] == "percent" and formats["Weights kept (%)"] == "%.1f"


def test_threshold_table_reads_as_words_and_a_page_can_rename_a_column(trained, digits_200):
    scores = compute_scores(trained.build(digits_200), digits_200, "magnitude")
    table = lt.layer_threshold_table(scores, 0.05)
    shown = readable(table, THRESHOLD_TABLE_NAMES)
    _headers_are_human(shown)
    assert "Mean |w|" in shown.columns and "Mean |w| kept" not in shown.columns
    assert "Mean |w| kept" in readable(table).columns
    assert set(number_formats(table, THRESHOLD_TABLE_NAMES)) <= set(shown.columns)
