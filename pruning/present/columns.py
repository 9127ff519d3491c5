"""Human column names for every table a page shows or offers as a download, accuracy first.

The labs build tidy DataFrames with code names (``test_acc_pruned``, ``tied_at_cutoff``) that
tests, the CLI and the workspace read; a page shows ``readable(df)`` instead:

* each code name becomes words (``test_acc`` → "Test accuracy (after fine-tune)",
  ``test_acc_pruned`` → "Test accuracy (just pruned)", ``x_sd`` → "… (sd over seeds)",
  ``sparsity[layers.0]`` → "Sparsity of layers.0");
* the columns that say which row this is (round, scorer, run, seed, layer) stay in front, then
  come the accuracy columns (test before validation before train, after fine-tuning before just
  pruned, each spread right after its mean), then the rest in their original order.

``number_formats`` tells the page how to print each shown column (fractions as percent).
Pure pandas: no Streamlit.
"""
from __future__ import annotations

import re

import pandas as pd

#: Columns that name the row, kept first in this order.
ID_COLUMNS = ("round", "run", "scorer", "seed", "layer")
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
    "n_seeds": "Seeds",
}
_METRIC = re.compile(r"(train|val|test)_(acc|loss)(_pruned)?")
_FORMATS = {"target_sparsity_pct": "%.1f", "sparsity_pct": "%.1f", "cutoff_score": "%.4g",
            "mean_abs_w": "%.4f", "score_seconds": "%.3f", "threshold": "%.4g"}


def human_name(code: str) -> str:
    """The words for one code column name (unknown names: underscores become spaces)."""
    if code.endswith("_sd"):
        return f"{human_name(code[:-3])} (sd over seeds)"
    if code in _NAMES:
        return _NAMES[code]
    if code.startswith("sparsity[") and code.endswith("]"):
        return f"Sparsity of {code[9:-1]}"
    m = _METRIC.fullmatch(code)
    if m:
        split, what, pruned = m.groups()
        word = "accuracy" if what == "acc" else "loss"
        return f"{_SPLITS[split]} {word} ({'just pruned' if pruned else 'after fine-tune'})"
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def is_accuracy(code: str) -> bool:
    """An accuracy column, or its spread over seeds."""
    m = _METRIC.fullmatch(code.removesuffix("_sd"))
    return bool(m) and m.group(2) == "acc"


def _accuracy_rank(code: str) -> tuple[int, int, int]:
    base = code.removesuffix("_sd")
    split, _, pruned = _METRIC.fullmatch(base).groups()
    return (1 if pruned else 0, list(_SPLITS).index(split), 1 if code.endswith("_sd") else 0)


def column_order(columns) -> list[str]:
    """Row names first, then accuracies (see the module docstring), then the rest."""
    cols = list(columns)
    ids = [c for c in ID_COLUMNS if c in cols]
    acc = sorted((c for c in cols if is_accuracy(c)), key=_accuracy_rank)
    rest = [c for c in cols if c not in ids and c not in acc]
    return [*ids, *acc, *rest]


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` for people: columns reordered (accuracy first) and renamed."""
    ordered = table[column_order(table.columns)]
    return ordered.rename(columns={c: human_name(c) for c in ordered.columns})


def is_fraction(code: str) -> bool:
    """Columns holding a fraction in [0, 1], printed as percent."""
    base = code.removesuffix("_sd")
    return is_accuracy(code) or base in ("sparsity", "target_sparsity") or base.startswith("sparsity[")


def number_formats(table: pd.DataFrame) -> dict[str, str]:
    """Shown (human) column name → a printf format or "percent", for the page's number columns."""
    out = {}
    for c in table.columns:
        if is_fraction(c):
            out[human_name(c)] = "percent"
        elif c in _FORMATS:
            out[human_name(c)] = _FORMATS[c]
    return out


def readable_csv(table: pd.DataFrame) -> str:
    """The table as a download: the same names and order as on screen, full precision."""
    return readable(table).to_csv(index=False)
