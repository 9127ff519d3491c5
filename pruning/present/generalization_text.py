"""What the sweep found, in words computed from its numbers (never a hard-coded claim).

Every comparison is *paired by seed*: seed s of two arms shares the data split, the training
subset, the label noise and (for dense, pruned and weight decay) the initial weights, so the
per-seed difference d_s = acc_a(s) − acc_b(s) removes the split-to-split variation. Every
"ahead / behind" here comes from the shared rule in ``pruning.present.verdict``: every seed agrees
in sign *and* the mean beats max(one test example, the seed spread); otherwise "within noise".
The gap words (small / moderate / large) use the Train page's cut-offs. Knobs (sparsity, λ, small-net size) are chosen on the
validation split; test accuracy only reports.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pruning.core.learning import FAR_PTS, still_rising
from pruning.labs.generalization import (
    ARM_LABELS,
    best_sparsity,
    per_seed,
    pick_by_validation,
    summarize,
)
from pruning.present.format import pct
from pruning.present.training import LARGE_GAP_PTS, SMALL_GAP_PTS
from pruning.present.verdict import AHEAD, BEHIND, Verdict, compare
from pruning.present.verdict import infer_n_test as infer_from_accuracies

#: Read under every sweep: the train–test gap is not the quantity to optimise.
GAP_CAVEAT = ("a smaller gap alone is not better generalization — compare the test accuracies, "
              "and check whether the difference survives across seeds.")

#: Plain-language background shown next to the measurements. General statements only: what
#: *this* sweep shows is computed by ``explain_sweep``.
CAPACITY_TEXT = """
**Capacity** is how many different functions a network can fit. A net with many weights
and few training examples has enough capacity to *memorise* them — including label noise and
other accidents of the sample — instead of learning the rule that also holds for new data.

**Overfitting** shows as a gap: training accuracy keeps rising while accuracy on held-out data
stalls or falls. The train − test gap measures it.

**Pruning removes capacity after training.** That *can* act as a regulariser (fewer free
weights to memorise with), but the surviving weights were chosen by the trained, overfit net,
and fine-tuning on the same noisy labels can memorise them again. So whether pruning helps is
an empirical question, and the fair comparison is with the ordinary remedies: stopping early
on a validation set, weight decay, or simply a smaller dense net.

**Honest selection.** Every knob here (sparsity, λ, net size, stopping epoch) is chosen on the
*validation* split; the test split only reports. Choosing on the test set would flatter
whichever method has the most knobs. Budgets differ, too: pruned nets are retrained after
every round, so they see more epochs than the dense net they came from.
"""


def overfit_heading(gap: float) -> str:
    """A heading that says what the dense net's mean train − test gap (a fraction) shows; a
    moderate gap or more (the Train page's cut-off) is called overfitting."""
    if 100 * gap >= SMALL_GAP_PTS:
        return f"The dense net overfits: a {pts(gap)}-point train/test gap"
    if gap >= 0.0005:
        return f"The dense net overfits only a little: a {pts(gap)}-point gap"
    return "The dense net does not overfit here"


def infer_n_test(runs: pd.DataFrame) -> int:
    """The test-set size: the ``n_test`` column when the sweep recorded it, else
    ``verdict.infer_n_test`` of the test accuracies."""
    if "n_test" in runs and runs["n_test"].notna().all():
        return int(runs["n_test"].min())
    return infer_from_accuracies(runs["test_acc"])


def pts(x: float) -> str:
    """A difference in percentage points, given as a fraction."""
    return f"{100 * x:.1f}"


def level_text(level: float) -> str:
    return f"{100 * level:.4g} %"


def _moved(before: float, after: float, up: str, down: str, tol: float = 0.0005) -> str:
    if after > before + tol:
        return up
    if after < before - tol:
        return down
    return "stayed"


def _verdict(a: pd.Series, b: pd.Series, a_name: str, b_name: str, n_test: int) -> Verdict:
    """The shared rule, per seed, on two arms' test accuracies."""
    return compare(a, b, n_test=n_test, a_name=a_name, b_name=b_name,
                   more_seeds="rerun the sweep with several seeds (3 or more)")


def _row(summary, arm, level=None):
    rows = summary[summary["arm"] == arm]
    if level is not None:
        rows = rows[np.isclose(rows["level"], level)]
    return None if rows.empty else rows.iloc[0]


def explain_sweep(runs: pd.DataFrame, summary: pd.DataFrame | None = None,
                  focus_level: float = 0.9, n_test: int | None = None,
                  history: pd.DataFrame | None = None) -> list[str]:
    """Markdown sentences describing what the sweep measured.

    Covers: the dense net's gap; the gap and test accuracy at the validation-chosen sparsity
    and at the level closest to ``focus_level``; random pruning at the same sparsity; early
    stopping; weight decay; the small dense net; random pruning at its own validation-picked
    level; the best test accuracy among all validation-picked candidates; and a paired verdict
    of pruning against the best dense remedy. Numbers are means over seeds; every comparison
    goes through ``pruning.present.verdict`` with one test example = 100 / ``n_test`` points
    (``n_test`` defaults to ``infer_n_test(runs)``).
    """
    summary = summarize(runs) if summary is None else summary
    n_test = infer_n_test(runs) if n_test is None else int(n_test)
    n_seeds = int(runs["seed"].nunique())
    dense = _row(summary, "dense")
    out = []
    if history is not None and len(history):
        dense_h = history[history["arm"] == "dense"]
        unfinished = [s for s, h in dense_h.groupby("seed") if still_rising(h.sort_values("epoch"))]
        if unfinished:
            out.append(f"⚠️ **The dense net has not finished learning** in {len(unfinished)} of "
                       f"{dense_h['seed'].nunique()} seeds: training accuracy is more than "
                       f"{FAR_PTS:.0f} points below 100 % and was still rising at the last epoch. "
                       f"Raise the epochs before reading the comparisons below.")
    gap = dense["gap_mean"]
    if gap >= 0.0005:
        size_word = ("a large" if 100 * gap >= LARGE_GAP_PTS else
                     "a moderate" if 100 * gap >= SMALL_GAP_PTS else "only a small")
        gap_text = f"{size_word} train/test gap of {pts(gap)} points"
    else:
        gap_text = (f"no train/test gap (train − test = {pts(gap)} points): this run does not "
                    f"overfit, so there is nothing for pruning to fix")
    out.append(f"**Dense net, trained for all {dense['epoch']:.0f} epochs:** train {pct(dense['train_acc_mean'])}, "
               f"test {pct(dense['test_acc_mean'])} (mean of {n_seeds} seeds) — {gap_text}.")

    levels = sorted(summary.loc[summary["arm"] == "pruned", "level"].unique())
    best = best_sparsity(summary)
    focus = min(levels, key=lambda v: abs(v - focus_level)) if levels else None
    shown = [lv for lv in dict.fromkeys([best, focus]) if lv is not None and lv > 0]
    for lv in shown:
        p = _row(summary, "pruned", lv)
        why = ("the sparsity chosen on validation" if lv == best
               else f"the sweep's level nearest {level_text(focus_level)}")
        gap_move = _moved(gap, p["gap_mean"], "rose", "fell")
        gap_part = (f"the train/test gap {gap_move} from {pts(gap)} to {pts(p['gap_mean'])} points"
                    if gap_move != "stayed" else f"the train/test gap stayed at {pts(gap)} points")
        vs_dense = _verdict(per_seed(runs, "pruned", lv), per_seed(runs, "dense"),
                            "the pruned net", "the dense net", n_test)
        if vs_dense.called:
            acc_part = (f"test accuracy {'rose' if vs_dense.direction == AHEAD else 'fell'} from "
                        f"{pct(dense['test_acc_mean'])} to {pct(p['test_acc_mean'])}")
        else:
            acc_part = (f"mean test accuracy went from {pct(dense['test_acc_mean'])} to "
                        f"{pct(p['test_acc_mean'])}")
        sentence = f"**At {level_text(lv)} sparsity** ({why}) {gap_part}; {acc_part}"
        if gap_move == "fell" and vs_dense.direction != AHEAD and gap - p["gap_mean"] >= 0.01:
            sentence += (" — the gap shrank because training accuracy dropped, not because the "
                         "net got better on new data")
        out.append(sentence + ". " + vs_dense.sentence)
        r = _row(summary, "random", lv)
        if r is not None:
            pr = _verdict(per_seed(runs, "pruned", lv), per_seed(runs, "random", lv),
                          ARM_LABELS["pruned"], "random pruning", n_test)
            out.append(f"Random pruning at {level_text(lv)} reached {pct(r['test_acc_mean'])} "
                       f"test. {pr.sentence}")
    if best == 0:
        out.append("**Validation preferred the unpruned net:** no sparsity level had a higher mean "
                   "validation accuracy than the dense net, so this sweep does not recommend pruning for "
                   "generalization on this data.")

    picks = pick_by_validation(summary)
    contenders = {}
    if best > 0:
        contenders[f"pruning at {level_text(best)}"] = per_seed(runs, "pruned", best)
    if "early_stopping" in picks:
        es = picks["early_stopping"]
        out.append(f"**Early stopping** reached {pct(es['test_acc_mean'])} test (gap {pts(es['gap_mean'])} "
                   f"points), restoring on average epoch {es['epoch']:.0f} of {dense['epoch']:.0f}.")
        contenders["early stopping"] = per_seed(runs, "early_stopping")
    if "weight_decay" in picks:
        wd = picks["weight_decay"]
        out.append(f"**Weight decay** (λ = {wd['weight_decay']:g}, picked on validation) reached "
                   f"{pct(wd['test_acc_mean'])} test (gap {pts(wd['gap_mean'])} points).")
        contenders[f"weight decay λ={wd['weight_decay']:g}"] = per_seed(
            runs, "weight_decay", 0.0, wd["weight_decay"])
    if "small_dense" in picks:
        sd = picks["small_dense"]
        out.append(f"**A small dense net** (hidden {sd['hidden']}, {sd['weights']:,.0f} weights, size "
                   f"picked on validation) reached {pct(sd['test_acc_mean'])} test "
                   f"(gap {pts(sd['gap_mean'])} points).")
        contenders[f"small dense net ({sd['hidden']})"] = per_seed(runs, "small_dense", sd["level"])
    remedies = [k for k in contenders if not k.startswith("pruning")]
    if "random" in picks:
        rp = picks["random"]
        out.append(f"**Random pruning** at {level_text(rp['level'])} (its level picked on "
                   f"validation) reached {pct(rp['test_acc_mean'])} test "
                   f"(gap {pts(rp['gap_mean'])} points).")
        contenders[f"random pruning at {level_text(rp['level'])}"] = per_seed(runs, "random", rp["level"])
    contenders["dense (no early stopping)"] = per_seed(runs, "dense")

    means = {k: float(v.mean()) for k, v in contenders.items()}
    top = max(means, key=means.get)
    # The leader and every candidate the shared rule cannot separate from it.
    ties = {k: _verdict(contenders[k], contenders[top], k, top, n_test)
            for k in contenders if k != top}
    level_with = [k for k, v in ties.items() if v.direction != BEHIND]
    if level_with:
        out.append(f"**Best test accuracy among the validation-picked candidates:** no clear "
                   f"best — {top} has the highest mean ({pct(means[top])}), but "
                   + ", ".join(f"{k} ({pct(means[k])})" for k in level_with)
                   + (" is" if len(level_with) == 1 else " are")
                   + " not separated from it by the rule (every seed agreeing and a mean "
                   "difference above the margin).")
    else:
        out.append(f"**Best test accuracy among the validation-picked candidates:** {top} "
                   f"({pct(means[top])}), ahead of every other candidate in every seed and by "
                   f"more than the margin.")
    prune_key = next((k for k in contenders if k.startswith("pruning")), None)
    others = {k: v for k, v in means.items() if k in remedies}
    if prune_key is not None and others:
        rival = max(others, key=others.get)
        out.append(_verdict(contenders[prune_key], contenders[rival], prune_key,
                            f"the best dense remedy ({rival})", n_test).sentence)
    return out
