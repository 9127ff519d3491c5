"""What the Prune, Fine-tune and Iterate pages show beyond ``pruning.present.charts``: the score
histogram with its cut-off, layer heatmaps, recovery curves, and the "what to notice" sentences.

Every sentence is computed from the numbers the page shows, so it stays true whatever the data,
model or settings. Accuracies are fractions in [0, 1] (as ``training.evaluate_all`` returns
them); sentences print them as percentages and return Markdown text. A change smaller than
``SAME`` (half a point) is called "about the same". Figures follow ``pruning.present.charts``
(diverging weight scale, amber = pruned, large fonts).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.core.models import layer_label
from pruning.present.charts import score_histogram, training_curves, weight_heatmap
from pruning.present.compact_heatmap import compact_weight_heatmap
from pruning.present.format import pct
from pruning.present.style import FONT_SIZE, SPLIT_COLOURS
from pruning.present.verdict import compare, infer_n_test

# ----------------------------------------------------------------------------- sentences
#: Changes smaller than this (in accuracy points, i.e. 0.005 = 0.5 %) are called "about the same".
SAME = 0.005


def _change(before: float, after: float) -> str:
    d = after - before
    if abs(d) < SAME:
        return f"stayed at about {pct(after)} (from {pct(before)})"
    verb = "rose" if d > 0 else "fell"
    return f"{verb} from {pct(before)} to {pct(after)} ({100 * d:+.1f} points)"


def all_pruned_note(test_acc: float, n_classes: int) -> str:
    return (f"**Every prunable weight is zero.** The output no longer depends on the input, so "
            f"the model gives every example the same class: test accuracy is {pct(test_acc)}, "
            f"around chance ({pct(1 / n_classes)} for {n_classes} balanced classes).")


def pruning_effect_note(dense: Mapping[str, float], pruned: Mapping[str, float],
                        sparsity: float, n_classes: int, empty_layers: list[str] | None = None) -> str:
    """What pruning did to accuracy, with special cases for 0 % and 100 % sparsity and for
    layers that lost every weight (then the output is constant too)."""
    if sparsity <= 0:
        return ("**Nothing is pruned** at this setting: this is the dense model, so accuracy is "
                "unchanged.")
    if sparsity >= 1:
        return all_pruned_note(pruned["test_acc"], n_classes)
    text = (f"Pruning **{pct(sparsity)}** of the prunable weights: test accuracy "
            f"{_change(dense['test_acc'], pruned['test_acc'])}; train accuracy "
            f"{_change(dense['train_acc'], pruned['train_acc'])}. No retraining happened: the "
            f"surviving weights are exactly the trained ones.")
    if empty_layers:
        text += (f" ⚠️ Layer {', '.join(empty_layers)} lost **every** weight, so nothing reaches "
                 f"the output from the input: the model predicts one class for everything.")
    return text


def unevenness_note(per_layer: Mapping[str, float], scope: str, mode: str) -> str:
    """Why a global ranking (or one threshold) prunes layers unevenly."""
    if len(per_layer) < 2:
        return ""
    items = sorted(per_layer.items(), key=lambda kv: kv[1])
    (lo_name, lo), (hi_name, hi) = items[0], items[-1]
    short = layer_label
    if scope == "layer" and mode == "sparsity":
        return (f"Per-layer scope: every layer loses the same share "
                f"({pct(lo)} to {pct(hi)}, up to rounding).")
    how = "One threshold" if mode == "threshold" else "One global ranking"
    if hi - lo < 0.01:
        return f"{how} happened to prune every layer about equally here ({pct(lo)}–{pct(hi)})."
    return (f"{how} prunes layers unevenly: **{short(hi_name)}** lost {pct(hi)} of its weights, "
            f"**{short(lo_name)}** only {pct(lo)}. Layers whose scores are smaller overall "
            f"lose more.")


def histogram_note(scores: np.ndarray, cutoff: float | None, mode: str, n_pruned: int,
                   summary: tuple[float, float, float] | None = None) -> str:
    """Where the line sits in the score distribution. ``summary``: the scores' (min, median,
    max) if known already (``score_summary``; the Prune page keeps them between moves)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size == 0:
        return ""
    if cutoff is None:
        return "No line: nothing is pruned at this setting."
    lo, median, hi = summary or score_summary(s)
    if mode == "threshold" and cutoff > hi:
        return (f"The threshold {cutoff:.4g} is above every score (the largest is "
                f"{hi:.4g}), so **every** weight is pruned.")
    if mode == "threshold" and cutoff <= lo:
        return (f"The threshold {cutoff:.4g} is at or below every score (the smallest is "
                f"{lo:.4g}), so nothing is pruned.")
    tail = f" Median score: {median:.4g}, largest: {hi:.4g}."
    if mode == "threshold":
        return (f"The threshold {cutoff:.4g} lies above {pct(float((s < cutoff).mean()))} of the "
                f"scores: those {n_pruned:,} weights are pruned, everything at or right of the "
                f"line stays." + tail)
    return (f"The cut-off {cutoff:.4g} is the largest pruned score: the {n_pruned:,} weights "
            f"({pct(n_pruned / s.size)}) left of the line, and possibly some exactly on it, are "
            f"pruned." + tail)


def score_summary(scores: np.ndarray) -> tuple[float, float, float]:
    """(min, median, max) of the scores, as ``histogram_note`` prints them (float64)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    return float(s.min()), float(np.median(s)), float(s.max())


def dead_units_note(table: pd.DataFrame) -> str:
    """Units (rows of a weight matrix) whose every incoming weight is pruned."""
    # Plain column walks, not a filtered DataFrame: this runs on every Prune slider move.
    parts = [f"{layer}: {dead} of {shape.split(' × ')[0]}"
             for layer, shape, dead in zip(table["layer"], table["shape"], table["dead_neurons"])
             if dead > 0]
    if not parts:
        return "Every unit still has at least one incoming weight."
    return ("Units with **every incoming weight pruned** (a full amber row) now output a "
            "constant, whatever the input: relu(b) for a hidden unit (0 when its bias b is "
            "negative, else b passed on to the next layer), the bias itself for an output "
            "unit — " + "; ".join(parts) + ".")


def unit_images_note(convolutional: bool, n_units: int, pruned_share: float) -> str:
    """Beside the first-layer pictures: what a picture is, and how much of it was pruned."""
    if convolutional:
        what = (f"Each picture is one first-layer filter's weights (the {n_units} filters with the "
                f"largest weights); the filter slides over the whole image.")
        lost = "these filter weights"
    else:
        what = (f"Each picture is one unit's incoming weights laid out like the input image (the "
                f"{n_units} units with the largest weights).")
        lost = "these pixels' weights"
    if pruned_share <= 0:
        return what + " None of them is pruned at this setting."
    return what + f" Pruning removed {pct(pruned_share)} of {lost} (amber): the unit can no longer see them."


def boundary_note(changed: float, dense_test: float, pruned_test: float) -> str:
    if changed == 0:
        return ("The predicted class is the same everywhere on the plotted plane: at this "
                "setting pruning did not move the decision boundary visibly.")
    return (f"Pruning changed the predicted class on **{pct(changed)}** of the plotted area; "
            f"test accuracy {_change(dense_test, pruned_test)}.")


def diagram_note(n_kept: int, n_total: int, n_cut_units: int, n_units: int) -> str:
    text = (f"{n_kept:,} of {n_total:,} connections remain (line width = |w|, red = positive, "
            f"blue = negative).")
    if n_cut_units:
        text += (f" **{n_cut_units} of {n_units} units** (amber) have lost all their incoming or "
                 f"all their outgoing connections, so they no longer pass anything on.")
    return text


#: Fine-tune page, for a fine-tuned model loaded from a checkpoint file (What shrank?): the
#: file keeps weights and masks, not the run that made them.
LOADED_FINETUNED_NOTE = (
    "This fine-tuned model was **loaded from a checkpoint file**. The file keeps its weights "
    "and masks, not how it was fine-tuned: there is no per-epoch history to draw, and the "
    "'pruned' numbers are those of the loaded weights. Press **Fine-tune** to fine-tune it "
    "again here and see the recovery.")


def finetune_note(dense: Mapping[str, float], pruned: Mapping[str, float],
                  finetuned: Mapping[str, float], sparsity: float, epochs: int) -> str:
    """Pruning's damage and fine-tuning's recovery, in one sentence each."""
    d, p, f = dense["test_acc"], pruned["test_acc"], finetuned["test_acc"]
    first = f"After pruning {pct(sparsity)} of the weights, test accuracy {_change(d, p)}."
    if epochs == 0:
        return first + " No fine-tuning epochs were run, so nothing changed after that."
    second = f" Fine-tuning for {epochs} epoch{'s' if epochs != 1 else ''} "
    if f - p >= SAME:
        second += f"brought it back to **{pct(f)}**"
    elif p - f >= SAME:
        second += f"lowered it to **{pct(f)}**"
    else:
        second += f"left it at about **{pct(f)}**"
    gap = f - d
    if abs(gap) < SAME:
        second += " — about the dense model's level."
    elif gap < 0:
        second += f" — {100 * -gap:.1f} points below the dense model."
    else:
        second += f" — {100 * gap:.1f} points above the dense model."
    return first + second


def zero_check_note(n_nonzero: int, n_pruned: int) -> str:
    if n_nonzero == 0:
        return (f"Check passed: all {n_pruned:,} pruned weights are still **exactly 0.0** after fine-tuning: "
                f"their gradients and optimizer state were zeroed at every step.")
    return (f"Check failed: {n_nonzero:,} of {n_pruned:,} pruned weights are no longer zero: the mask was not "
            f"held during fine-tuning.")


def finetune_change_note(before: torch.Tensor, after: torch.Tensor, mask: torch.Tensor) -> str:
    """Beside the before/after heatmaps of one layer: how far fine-tuning moved its surviving
    weights (``mask`` True = kept), or that there were none."""
    delta = (after - before)[mask]
    if not delta.numel():
        return "Every weight of this layer is pruned: there is nothing left to fine-tune here."
    return (f"Same amber cells in both: fine-tuning moved only the {delta.numel():,} "
            f"surviving weights of this layer (mean |change| {float(delta.abs().mean()):.4f}, "
            f"largest {float(delta.abs().max()):.4f}; same colour scale on both sides).")


def iterate_notice(rounds: pd.DataFrame, dense: Mapping[str, float],
                   baseline: pd.DataFrame | None = None, oneshot: pd.DataFrame | None = None,
                   n_test: int | None = None) -> str:
    """The Iterate page's note under the accuracy chart: ``iterate_note`` and how to read it."""
    return (iterate_note(rounds, dense, baseline, oneshot=oneshot, n_test=n_test)
            + " Dotted lines: right after pruning; solid: after fine-tuning; diamonds: the "
              "dense model. Only measured points are drawn.")


def replay_notice(rounds: pd.DataFrame, r: int, layer: str, layer_sparsity: float) -> str:
    """The note under the replay heatmap: ``replay_note`` and how to read the colours."""
    return (replay_note(rounds, r, layer, layer_sparsity)
            + " The colour scale is the same for every round.")


def iterate_note(rounds: pd.DataFrame, dense: Mapping[str, float],
                 baseline: pd.DataFrame | None = None, tolerance: float = 0.01,
                 oneshot: pd.DataFrame | None = None, n_test: int | None = None) -> str:
    """The last round's numbers, the largest sparsity still within ``tolerance`` of the
    dense test accuracy after fine-tuning, and the comparisons with the random baseline and
    the one-shot control — through the shared rule (``pruning.present.verdict``; one run is
    one seed, so it says so instead of naming a winner)."""
    last = rounds.iloc[-1]
    budget = (f" after {budget_words(rounds)} in all" if "finetune_epochs" in rounds else "")
    text = (f"At **{pct(last['sparsity'])}** sparsity, test accuracy was "
            f"{pct(last['test_acc_pruned'])} right after pruning and {pct(last['test_acc'])} "
            f"after fine-tuning{budget} (dense: {pct(dense['test_acc'])}).")
    ok = rounds[rounds["test_acc"] >= dense["test_acc"] - tolerance]
    if len(ok):
        text += (f" The sparsest model at most {100 * tolerance:.0f} point below the dense "
                 f"test accuracy had {pct(ok['sparsity'].max())} of its weights pruned.")
    else:
        text += (f" Every round ended more than {100 * tolerance:.0f} point below the dense "
                 f"test accuracy.")
    tables = [t for t in (rounds, baseline, oneshot) if t is not None and len(t)]
    n = n_test or infer_n_test(pd.concat([t["test_acc"] for t in tables]))
    if baseline is not None and len(baseline):
        b = baseline.iloc[-1]
        v = compare([last["test_acc"]], [b["test_acc"]], n_test=n,
                    a_name="the chosen scorer", b_name="random pruning",
                    more_seeds="change the sidebar's seed and run again to see whether it holds")
        text += (f" Random pruning to {pct(b['sparsity'])} ended at {pct(b['test_acc'])}. "
                 + v.sentence)
    if oneshot is not None and len(oneshot):
        o = oneshot.iloc[-1]
        v = compare([last["test_acc"]], [o["test_acc"]], n_test=n,
                    a_name=f"this schedule ({len(rounds)} round(s))",
                    b_name=f"one-shot pruning with the same {budget_words(oneshot)}",
                    more_seeds="change the sidebar's seed and run again to see whether it holds")
        text += (f" One-shot pruning to {pct(o['sparsity'])} ended at {pct(o['test_acc'])}. "
                 + v.sentence)
    return text


def budget_words(rounds: pd.DataFrame) -> str:
    """"15 fine-tuning epochs" (a rounds table's total budget) or "fine-tuning budget"."""
    if "finetune_epochs" not in rounds:
        return "fine-tuning budget"
    e = int(rounds["finetune_epochs"].sum())
    return f"{e} fine-tuning epoch{'s' if e != 1 else ''}"


def replay_note(rounds: pd.DataFrame, r: int, layer: str, layer_sparsity: float) -> str:
    """One line for the replay slider: what round r did."""
    if r == 0:
        return "Round 0 is the dense trained model: nothing pruned yet."
    row = rounds[rounds["round"] == r].iloc[0]
    return (f"After round {r}: {pct(row['sparsity'])} of all prunable weights pruned "
            f"({pct(layer_sparsity)} of **{layer.removesuffix('.weight')}**); test accuracy "
            f"{pct(row['test_acc_pruned'])} right after pruning, {pct(row['test_acc'])} after "
            f"fine-tuning.")


# ----------------------------------------------------------------------------- figures
def cutoff_histogram(scores: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                     cutoff: float | None, mode: str, log_x: bool = False,
                     title: str = "scores", height: int = 380) -> go.Figure:
    """``charts.score_histogram`` of ``scores`` with the line at ``cutoff``.

    In threshold mode the line is the threshold and "pruned" is exactly ``score < t``. In
    sparsity mode the line is the selection's cut-off (the largest pruned score) and weights
    *at* the cut-off may be pruned too (ties broken by position), so the label and the pruned
    count are taken from ``masks`` instead of from the comparison.
    """
    fig = score_histogram(dict(scores), threshold=cutoff, title=title, log_x=log_x,
                          height=height)
    if mode == "sparsity" and cutoff is not None:
        n_pruned = int(sum(int((~masks[n]).sum()) for n in scores))
        for ann in fig.layout.annotations:
            if ann.text.startswith("pruned:"):
                ann.text = f"pruned: {n_pruned:,}"
            elif ann.text.startswith("threshold"):
                ann.text = f"cut-off {cutoff:.4g}"
    return fig


def recovery_curves(history: pd.DataFrame, dense: Mapping[str, float] | None = None,
                    title: str = "recovery while fine-tuning", height: int = 400) -> go.Figure:
    """Train and test accuracy per fine-tuning epoch. Epoch 0 is the pruned model before any
    update, so the curves start at the accuracy pruning left; ``dense`` adds the dense
    model's accuracies as dashed horizontal lines (the level to recover)."""
    cols = ["epoch"] + [c for c in ("train_acc", "test_acc") if c in history]
    fig = training_curves(history[cols], "acc", title=title, height=height)
    if dense is not None:
        # Labels on the left, where the curves start low after pruning; train above its
        # line and test below, so two close dense levels do not print over each other.
        for split, where in (("train", "top left"), ("test", "bottom left")):
            if f"{split}_acc" in dense:
                fig.add_hline(y=100 * dense[f"{split}_acc"],
                              line=dict(color=SPLIT_COLOURS[split], dash="dash", width=2),
                              annotation_text=f"dense {split}: {100 * dense[f'{split}_acc']:.1f} %",
                              annotation_position=where,
                              annotation_font=dict(size=FONT_SIZE - 2,
                                                   color=SPLIT_COLOURS[split]))
    fig.update_xaxes(title="fine-tuning epoch (0 = right after pruning)")
    fig.update_yaxes(rangemode="tozero")
    return fig


def layer_heatmap(weight, mask=None, title: str = "weights", zmax: float | None = None,
                  height: int | None = None, compact: bool = False) -> go.Figure:
    """``charts.weight_heatmap`` with whole-number unit/input ticks (a 2 × 8 layer otherwise
    gets ticks at 0.5) and a height that suits the matrix: short for a few output units.
    ``compact``: one byte per cell (``compact_heatmap``), for figures re-sent on every move."""
    rows = weight.shape[0]
    build = compact_weight_heatmap if compact else weight_heatmap
    # Whole-number ticks come from ``heatmap_layout`` (one build: each plotly update would
    # re-validate the figure, and this runs on every move of the Prune page's slider).
    return build(weight, mask, title=title, zmax=zmax, height=height or (300 if rows <= 20 else 420))
