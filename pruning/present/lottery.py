"""Lottery tickets, shown: accuracy against weights remaining for the ticket and its two
controls, and what the table says about "the mask or the initial values?".

The experiment is ``pruning.labs.lottery`` (its docstring has the procedure and the controls).
Weights remaining fall geometrically, (1 − p)^r after round r, so the x axis is logarithmic:
equal steps on it are equal rounds. Every curve starts at the dense network (round 0).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pruning.labs.lottery import VARIANTS
from pruning.present.format import pct
from pruning.present.style import layout
from pruning.present.verdict import compare

VARIANT_LABELS = {"dense": "dense", "ticket": "winning ticket (rewound)",
                  "reinit": "same mask, new random init", "random": "random pruning"}
VARIANT_COLOURS = {"ticket": "#d62728", "reinit": "#1f77b4", "random": "#7f7f7f"}


def lottery_figure(table: pd.DataFrame, height: int = 440) -> go.Figure:
    """Test accuracy vs weights remaining (log axis, reversed: pruning goes right), one line
    per variant; the dense network is the dashed line."""
    fig = go.Figure()
    dense = table[table["variant"] == "dense"]
    for v in VARIANTS:
        part = table[table["variant"] == v].sort_values("remaining_pct", ascending=False)
        if part.empty:
            continue
        part = pd.concat([dense, part])  # every curve starts at the dense network
        fig.add_trace(go.Scatter(
            x=part["remaining_pct"], y=100 * part["test_acc"], mode="lines+markers",
            name=VARIANT_LABELS[v], line=dict(color=VARIANT_COLOURS[v], width=3),
            hovertemplate="%{x:.1f} % of weights left<br>test accuracy %{y:.1f} %<extra></extra>"))
    if not dense.empty:
        fig.add_hline(y=100 * float(dense["test_acc"].iloc[0]),
                      line=dict(color="#2ca02c", dash="dash"),
                      annotation_text="dense", annotation_position="bottom left")
    ticks = sorted(set(table["remaining_pct"].round(2)), reverse=True)
    fig.update_xaxes(title="weights remaining (%, log scale)", type="log", autorange="reversed",
                     tickvals=ticks, ticktext=[f"{t:.3g} %" for t in ticks])
    fig.update_yaxes(title="test accuracy (%)")
    return layout(fig, "Lottery tickets vs controls", height)


def lottery_notes(table: pd.DataFrame) -> list[str]:
    """What to notice, computed from the table."""
    dense = float(table.loc[table["variant"] == "dense", "test_acc"].iloc[0])
    t = table[table["variant"] == "ticket"].set_index("round")
    if t.empty:
        return []
    notes = []
    d = table[table["variant"] == "dense"].iloc[0]
    if bool(d.get("still_learning", False)):
        notes.append(f"⚠️ **The dense network has not finished learning**: {pct(d['train_acc'])} "
                     f"training accuracy after {int(d.get('epochs', 0))} epochs, with the loss "
                     f"still falling. Every run here is as short, so raise the epochs before "
                     f"reading anything about tickets into the curves.")
    best_round = int(t["test_acc"].idxmax())
    best = t.loc[best_round]
    verb = "above" if best["test_acc"] > dense else "equal to" if best["test_acc"] == dense else "below"
    notes.append(f"The best ticket keeps {best['remaining_pct']:.1f} % of the weights and reaches "
                 f"{pct(best['test_acc'])} test accuracy, {verb} the dense network's "
                 f"{pct(dense)} ({100 * (best['test_acc'] - dense):+.1f} points).")
    close = t[t["test_acc"] >= dense - 0.01]
    if not close.empty:
        sparsest = close.loc[close["remaining_pct"].idxmin()]
        notes.append(f"The sparsest ticket within 1 point of dense keeps "
                     f"{sparsest['remaining_pct']:.1f} % of the weights "
                     f"({pct(sparsest['test_acc'])} test accuracy).")
    last = int(t.index.max())
    row = table[table["round"] == last].set_index("variant")["test_acc"]
    order = sorted(("ticket", "reinit", "random"), key=lambda v: -row[v])
    notes.append(f"At the sparsest point ({t.loc[last, 'remaining_pct']:.1f} % of weights left): "
                 + ", ".join(f"{VARIANT_LABELS[v]} {pct(row[v])}" for v in order) + ".")
    n_test = int(table["n_test"].iloc[0]) if "n_test" in table else 100
    r = table[table["round"] == last].set_index("variant")["test_acc"]
    v = compare([r["ticket"]], [r["reinit"]], n_test=n_test,
                a_name="the winning ticket", b_name="the same mask with new initial weights",
                more_seeds="run it again with other seeds (the sidebar's seed) to see whether "
                           "the initial values really matter here")
    notes.append(f"At the sparsest point: {v.sentence}")
    return notes


def epochs_note(table: pd.DataFrame) -> str:
    """How many epochs each arm trained (the ``epochs`` column): with a rewind to epoch k the
    ticket and the random control train E − k, the re-initialised control E."""
    if "epochs" not in table:
        return ""
    e = table.drop_duplicates("variant").set_index("variant")["epochs"]
    parts = [f"{VARIANT_LABELS[v]} {int(e[v])}" for v in ("dense", *VARIANTS) if v in e]
    same = e.nunique() == 1
    return ("Epochs per training run: " + ", ".join(parts)
            + (" (every arm the same)." if same else
               " — rewound arms start from weights that already had the missing epochs."))


#: Training examples in the MNIST-1D paper's default split (5,000 samples, 80 % for training).
MNIST1D_PAPER_TRAIN = 4000


def published_numbers_note(dataset: str, table: pd.DataFrame | None = None,
                           n_train: int | None = None) -> str:
    """A published small-scale result to compare the run with (MNIST-1D, Greydanus 2020),
    worded for the data set the run used; with the run's ``table`` and training-set size, it
    says why this run's dense accuracy is below the published one when it is."""
    if dataset == "mnist1d":
        text = ("For scale: the MNIST-1D paper (Greydanus 2020) reports a ticket at about 91 % "
                "sparsity reaching about 75 % test accuracy, against about 62 % for the dense MLP "
                "— a published number, not this run.")
        if table is not None and len(table):
            d = table[table["variant"] == "dense"].iloc[0]
            if d["test_acc"] < 0.55:
                why = []
                if n_train is not None and n_train < MNIST1D_PAPER_TRAIN:
                    why.append(f"it learns from {n_train:,} training examples, the paper's "
                               f"split from {MNIST1D_PAPER_TRAIN:,}")
                if bool(d.get("still_learning", False)):
                    why.append(f"{int(d['epochs'])} epochs were not enough for it to finish "
                               f"learning")
                text += (f" This run's dense network reached {pct(d['test_acc'])}"
                         + (": " + "; and ".join(why) if why else "")
                         + ". Compare the ticket with this run's dense line, not with the "
                           "published numbers.")
        return text
    return ("Published small-scale numbers to compare with: on MNIST-1D (Greydanus 2020) a "
            "ticket reached about 75 % test accuracy at about 91 % sparsity, against about "
            "62 % dense. Choose MNIST-1D in the sidebar to try it here.")


def budget_caption(rounds: int, prune_rate: float, epochs: int, rewind_epoch: int = 0) -> str:
    """What a lottery run will cost: after r rounds that each prune a fraction p of the
    survivors, (1 − p)^r of the weights remain; the dense run plus three retrainings per round
    (ticket, reinitialised, random mask) make 1 + 3r training runs. With a rewind to epoch k
    the ticket and the random control train E − k epochs, the others E."""
    remaining = (1 - prune_rate) ** rounds
    head = (f"After {rounds} round(s), {pct(remaining)} of the prunable weights remain. "
            f"{1 + 3 * rounds} training runs")
    k = int(rewind_epoch)
    if k == 0:
        return f"{head} of {int(epochs)} epochs."
    return (f"{head}: the dense run and the re-initialised controls {int(epochs)} epochs each; "
            f"the tickets and the random controls {int(epochs) - k} (they restart from the "
            f"weights after epoch {k}).")
