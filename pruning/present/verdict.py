"""The one rule every comparing sentence in the app and the CLI goes through.

Two arms A and B were run on the same seeds (seed s of both shares the data split, the training
subset and, where it applies, the initial weights), so the per-seed difference

    d_s = acc_A(s) − acc_B(s)        (in percentage points)

removes the split-to-split variation that moves both arms together. A difference is **called**
(A is ahead of / behind B) only when both hold:

1. every seed agrees in sign (all d_s > 0, or all d_s < 0), and
2. the mean difference is larger than the margin

       margin = max(100 / n_test,  sd(d_s))

   — one test example (below that, the two arms differ by less than one image/point of the
   test set) and the seed spread (the sample standard deviation of the per-seed differences,
   ddof = 1; a mean smaller than the seeds' own scatter is not a finding).

Otherwise the sentence says **within noise** and why. With one seed there is no spread to
measure, so nothing is called: the sentence gives the single difference, says it is one seed
and suggests a run with several seeds. Seed counts printed are the true counts.

Use::

    v = compare(acc_a, acc_b, n_test=359, a_name="Magnitude", b_name="random pruning")
    v.direction   # "ahead" | "behind" | "within noise" | "one seed" | "no data"
    v.sentence    # the Markdown sentence to show
    v.called      # True only for "ahead" / "behind"

Inputs are accuracies as fractions (0…1), one per seed: sequences of equal length (paired by
position) or pandas Series indexed by seed (paired on their common seeds). ``compare_diffs``
takes the per-seed differences (fractions) directly.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

AHEAD, BEHIND, NOISE, ONE_SEED, NO_DATA = "ahead", "behind", "within noise", "one seed", "no data"

#: Differences smaller than this (points) count as exact ties (float noise of a mean).
_TIE = 1e-9

#: What a one-seed sentence suggests, unless the caller names its own control.
MORE_SEEDS = "run it with several seeds (3 or more) to see whether it holds"


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing A with B over paired seeds. Differences are A − B in points.

    direction: ``ahead`` / ``behind`` (called), ``within noise``, ``one seed`` or ``no data``.
    mean_diff: mean of ``diffs`` (NaN with no data).
    diffs: the per-seed differences, in seed order.
    n_seeds: how many seeds were paired (the true count).
    margin: the margin used, max(one test example, sd of ``diffs``), in points.
    sentence: the Markdown sentence a page or the CLI shows.
    """

    direction: str
    mean_diff: float
    diffs: tuple[float, ...]
    n_seeds: int
    margin: float
    sentence: str

    @property
    def called(self) -> bool:
        """True when the rule calls a difference (A is ahead of or behind B)."""
        return self.direction in (AHEAD, BEHIND)

    @property
    def agreeing(self) -> int:
        """How many seeds have the sign of the mean (ties count for neither side)."""
        sign = np.sign(self.mean_diff) if math.isfinite(self.mean_diff) else 0
        return int(sum(1 for d in self.diffs if sign and np.sign(d) == sign and abs(d) > _TIE))


def _cap(sentence: str) -> str:
    """Sentence case: a name that starts the sentence gets its capital letter."""
    return sentence[:1].upper() + sentence[1:]


def _p(x: float) -> str:
    """Points with two decimals below 1 (a margin of 0.28 is not "0.3"), one above."""
    return f"{x:.2f}" if abs(x) < 1 else f"{x:.1f}"


def one_example(n_test: int) -> float:
    """One test example, in percentage points: 100 / n_test."""
    if n_test <= 0:
        raise ValueError("n_test must be a positive count of test examples")
    return 100.0 / n_test


def infer_n_test(accuracies) -> int:
    """The smallest n ≤ 100 000 for which every accuracy is a whole number of examples out
    of n (for tables that did not record their test-set size)."""
    acc = np.asarray(list(accuracies), dtype=float)
    acc = acc[np.isfinite(acc)]
    for n in range(1, 100_001):
        k = acc * n
        if np.all(np.abs(k - np.round(k)) < 1e-6 * n):
            return n
    return 100_000


def margin_for(diffs_points: Sequence[float], n_test: int) -> float:
    """The rule's margin in points: max(one test example, sample sd of the per-seed diffs)."""
    d = np.asarray(diffs_points, dtype=float)
    spread = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    return max(one_example(n_test), spread)


def _paired(a, b) -> np.ndarray:
    """Per-seed differences a − b (fractions) on common seeds."""
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        common = a.index.intersection(b.index)
        return a.loc[common].to_numpy(float) - b.loc[common].to_numpy(float)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        common = [k for k in a if k in b]
        return np.array([a[k] for k in common], float) - np.array([b[k] for k in common], float)
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError("the two arms need one value per seed each (paired by position)")
    return a - b


def compare(a, b, *, n_test: int, a_name: str, b_name: str,
            more_seeds: str = MORE_SEEDS) -> Verdict:
    """Compare arm A with arm B, paired by seed; accuracies as fractions. See the module doc."""
    return compare_diffs(_paired(a, b), n_test=n_test, a_name=a_name, b_name=b_name,
                         more_seeds=more_seeds)


def compare_diffs(diffs, *, n_test: int, a_name: str, b_name: str,
                  more_seeds: str = MORE_SEEDS) -> Verdict:
    """Apply the rule to per-seed differences A − B (fractions)."""
    d = tuple(float(x) * 100 for x in np.asarray(diffs, float).ravel())
    n = len(d)
    one = one_example(n_test)
    if n == 0:
        return Verdict(NO_DATA, float("nan"), d, 0, one,
                       f"No paired runs of {a_name} and {b_name} to compare.")
    mean = float(np.mean(d))
    margin = margin_for(d, n_test)
    if n == 1:
        if abs(mean) <= _TIE:
            what = f"{a_name} and {b_name} scored the same"
        else:
            what = (f"{a_name} scored {abs(mean):.1f} points {'above' if mean > 0 else 'below'} "
                    f"{b_name}")
        sentence = (f"One seed only: {what} (one test example = {one:.2f} points). One seed "
                    f"cannot tell a difference from seed-to-seed noise — {more_seeds}.")
        return Verdict(ONE_SEED, mean, d, 1, margin, _cap(sentence))
    pos = sum(x > _TIE for x in d)
    neg = sum(x < -_TIE for x in d)
    agree = pos == n or neg == n
    big = abs(mean) > margin
    lo, hi = min(d, key=abs), max(d, key=abs)
    if agree and big:
        direction = AHEAD if mean > 0 else BEHIND
        word = "ahead of" if mean > 0 else "behind"
        span = (f"{abs(lo):.1f} points in each" if f"{abs(lo):.1f}" == f"{abs(hi):.1f}"
                else f"from {abs(lo):.1f} to {abs(hi):.1f} points")
        sentence = (f"{a_name} is {word} {b_name} by {abs(mean):.1f} points (mean of {n} seeds; "
                    f"every seed agrees, {span}; margin {_p(margin)} points).")
        return Verdict(direction, mean, d, n, margin, _cap(sentence))
    if not agree:
        ties = n - pos - neg
        why = (f"{a_name} was higher in {pos} and lower in {neg} of {n} seeds"
               + (f", tied in {ties}" if ties else "")) if pos or neg else "every seed tied"
    else:
        why = (f"every seed agrees, but the mean is not larger than the margin of "
               f"{_p(margin)} points: one test example is {_p(one)}, the seed spread "
               f"{_p(float(np.std(d, ddof=1)))}")
    sign = "+" if mean >= 0 else "−"
    sentence = (f"{a_name} and {b_name} are within noise (mean difference {sign}{_p(abs(mean))} "
                f"points over {n} seeds; {why}).")
    return Verdict(NOISE, mean, d, n, margin, _cap(sentence))
