"""Human column names for every table a page shows or offers as a download, accuracy first.

The labs build tidy DataFrames with code names (``test_acc_pruned``, ``tied_at_cutoff``) that
tests, the CLI and the workspace read; a page shows ``readable(df)`` instead:

* each code name becomes words (``test_acc`` → "Test accuracy (after fine-tune)",
  ``test_acc_pruned`` → "Test accuracy (just pruned)"; "(after fine-tune)" only beside such a
  twin, ``x_sd`` → "… (sd over seeds)",
  ``sparsity[layers.0]`` → "Sparsity of layers.0");
* the columns that say which row this is (round, scorer, run, seed, layer) stay in front, then
  come the accuracy columns (test before validation before train, after fine-tuning before just
  pruned, each spread right after its mean), then the rest in their original order.

``number_formats`` tells the page how to print each shown column (fractions as percent).
Pure pandas: no Streamlit.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

#: Columns that name the row, kept first in this order.
ID_COLUMNS = ("round", "run", "variant", "model", "units_removed", "granularity", "arm", "level",
              "weight_decay", "scorer", "scorer_a", "scorer_b", "seed", "layer")
_SPLITS = {"test": "Test", "val": "Validation", "train": "Train"}
_NAMES = {
    "round": "Round", "run": "Run", "scorer": "Scorer", "seed": "Seed", "layer": "Layer",
    "shape": "Shape", "prunable": "Prunable", "total": "Weights", "nonzero": "Non-zero weights",
    "target_sparsity_pct": "Target sparsity (%)", "sparsity_pct": "Sparsity (%)",
    "cutoff_score": "Cut-off score", "dead_neurons": "Dead neurons",
    "mean_abs_w": "Mean |w| kept", "target_sparsity": "Target sparsity",
    "threshold": "Threshold", "sparsity": "Sparsity", "tied_at_cutoff": "Weights tied at the cut-off",
    "finetune_epochs": "Fine-tune epochs", "kept_weights": "Weights kept",
    "prunable_weights": "Prunable weights", "nonzero_params": "Non-zero parameters",
    "total_params": "Parameters", "score_seconds": "Scoring time (s)", "pruned_at": "Pruned at",
    "n_seeds": "Seeds", "variant": "Variant", "remaining_pct": "Weights remaining (%)",
    "epochs": "Epochs", "still_learning": "Still learning", "n_test": "Test examples",
    "scorer_a": "Scorer A", "scorer_b": "Scorer B", "jaccard": "Jaccard overlap",
    "weights": "Weights", "all_prune": "Pruned by all", "contested": "Contested",
    "all_keep": "Kept by all", "model": "Model", "hidden_units": "Hidden units",
    "units_removed": "Units removed", "granularity": "Granularity",
    "kept_weights_pct": "Weights kept (%)", "stored_params": "Stored parameters",
    "macs_per_example": "Multiply-adds per example", "empty_layers": "Empty layers",
    "suggested_sparsity": "Suggested sparsity",
    "val_acc_at_suggested": "Validation accuracy at the suggestion",
    "weights_removed": "Weights removed", "arm": "Arm", "level": "Sparsity level",
    "weight_decay": "Weight decay", "hidden": "Hidden units", "epoch": "Epoch",
    "gap": "Train − test accuracy gap", "name": "Parameter", "median_abs_w": "Median |w|",
    "global_threshold": "Global threshold t", "global_sparsity_pct": "Pruned by the global t (%)",
    "per_layer_threshold": "t needed per layer", "per_layer_sparsity_pct": "Pruned per layer (%)",
}
#: Suffixes for a value summarised over seeds.
_SPREADS = {"_sd": "sd over seeds", "_std": "sd over seeds", "_mean": "mean over seeds"}
#: Threshold basics' layer table: |w| over all of a layer's weights (nothing is pruned yet).
THRESHOLD_TABLE_NAMES = {"mean_abs_w": "Mean |w|"}
_METRIC = re.compile(r"(train|val|test)_(acc|loss)(_pruned)?")
_SHARES = ("all_prune", "contested", "all_keep",   # fractions of a layer's weights
           "units_removed", "suggested_sparsity", "level")
_OTHER_ACCURACIES = ("val_acc_at_suggested",)
_FORMATS = {"remaining_pct": "%.1f", "kept_weights_pct": "%.1f", "median_abs_w": "%.4f",
            "global_sparsity_pct": "%.1f", "per_layer_sparsity_pct": "%.1f",
            "per_layer_threshold": "%.4f", "global_threshold": "%.4f", "jaccard": "%.3f", "target_sparsity_pct": "%.1f", "sparsity_pct": "%.1f", "cutoff_score": "%.4g",
            "mean_abs_w": "%.4f", "score_seconds": "%.3f", "threshold": "%.4g"}


def human_name(code: str, after: str = "after fine-tune") -> str:
    """The words for one code column name (unknown names: underscores become spaces).
    ``after`` says when a plain ``test_acc`` was measured, next to a ``test_acc_pruned``; ""
    in a table without one (Lottery's accuracies are simply "Test accuracy")."""
    for suffix, words in _SPREADS.items():
        if code.endswith(suffix):
            return f"{human_name(code.removesuffix(suffix), after)} ({words})"
    if code in _NAMES:
        return _NAMES[code]
    if code.startswith("sparsity[") and code.endswith("]"):
        return f"Sparsity of {code[9:-1]}"
    m = _METRIC.fullmatch(code)
    if m:
        split, what, pruned = m.groups()
        word = "accuracy" if what == "acc" else "loss"
        when = "just pruned" if pruned else after
        return f"{_SPLITS[split]} {word} ({when})" if when else f"{_SPLITS[split]} {word}"
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _base(code: str) -> str:
    """The measured quantity without a seed-summary suffix (``test_acc_sd`` → ``test_acc``)."""
    for suffix in _SPREADS:
        if code.endswith(suffix):
            return code.removesuffix(suffix)
    return code


def is_accuracy(code: str) -> bool:
    """An accuracy column, or its mean or spread over seeds."""
    m = _METRIC.fullmatch(_base(code))
    return (bool(m) and m.group(2) == "acc") or _base(code) in _OTHER_ACCURACIES


def _accuracy_rank(code: str) -> tuple[int, int, int]:
    """After fine-tune before just pruned; test, validation, train; a spread after its mean."""
    spread = int(code.endswith(("_sd", "_std")))
    m = _METRIC.fullmatch(_base(code))
    if m is None:
        return (2, 0, spread)
    split, _, pruned = m.groups()
    return (int(bool(pruned)), list(_SPLITS).index(split), spread)


def column_order(columns) -> list[str]:
    """Row names first, then accuracies (see the module docstring), then the rest."""
    cols = list(columns)
    ids = [c for c in ID_COLUMNS if c in cols]
    acc = sorted((c for c in cols if is_accuracy(c)), key=_accuracy_rank)
    rest = [c for c in cols if c not in ids and c not in acc]
    return [*ids, *acc, *rest]


def shown_names(columns, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Code name → shown name for one table's columns ("after fine-tune" only beside a
    "just pruned" twin); ``names`` overrides a name where a page means something else by it."""
    cols = list(columns)
    after = "after fine-tune" if any(str(c).endswith("_pruned") for c in cols) else ""
    return {c: (names or {}).get(c) or human_name(str(c), after) for c in cols}


def readable(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``table`` for people: columns reordered (accuracy first) and renamed."""
    ordered = table[column_order(table.columns)]
    return ordered.rename(columns=shown_names(ordered.columns, names))


def is_fraction(code: str) -> bool:
    """Columns holding a fraction in [0, 1], printed as percent."""
    base = _base(code)
    return (is_accuracy(code) or base in ("sparsity", "target_sparsity", "gap", *_SHARES)
            or base.startswith("sparsity["))


def number_formats(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Shown (human) column name → a printf format or "percent", for the page's number columns."""
    out, shown = {}, shown_names(table.columns, names)
    for c in table.columns:
        if is_fraction(c):
            out[shown[c]] = "percent"
        elif c in _FORMATS:
            out[shown[c]] = _FORMATS[c]
    return out


def readable_with_formats(table: pd.DataFrame, names: Mapping[str, str] | None = None
                          ) -> tuple[pd.DataFrame, dict[str, str]]:
    """``(readable(table, names), number_formats(table, names))``: what a page shows, made
    once (the Prune page keeps it per slider position)."""
    return readable(table, names), number_formats(table, names)


def readable_csv(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """The table as a download: the same names and order as on screen, full precision."""
    return readable(table, names).to_csv(index=False)
