"""The shared comparison rule: a truth table over sign agreement × size against the margin,
one seed, ties, true seed counts, and pairing by seed index."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pruning.present.verdict import (
    AHEAD,
    BEHIND,
    NO_DATA,
    NOISE,
    ONE_SEED,
    compare,
    compare_diffs,
    margin_for,
    one_example,
)

N = 1000  # one test example = 0.1 points


@pytest.mark.parametrize("diffs_pts, direction", [
    # every seed agrees, mean well above one example and the spread → called
    ([2.0, 2.5, 3.0], AHEAD),
    ([-2.0, -2.5, -3.0], BEHIND),
    # signs disagree, however large the mean → within noise (the old code said "ahead")
    ([10.0, -1.0, -1.0], NOISE),
    ([1.7, 0.0, -1.4], NOISE),
    # every seed agrees but the mean is below one test example → within noise
    ([0.05, 0.06, 0.07], NOISE),
    # every seed agrees but the mean is not larger than the seed spread → within noise
    ([0.2, 0.2, 9.0], NOISE),
    # a tie in one seed breaks agreement
    ([2.0, 0.0, 2.0], NOISE),
    # all ties
    ([0.0, 0.0, 0.0], NOISE),
    # one seed is never called, however large
    ([25.0], ONE_SEED),
    ([-25.0], ONE_SEED),
    ([], NO_DATA),
])
def test_truth_table(diffs_pts, direction):
    v = compare_diffs([d / 100 for d in diffs_pts], n_test=N, a_name="A", b_name="B")
    assert v.direction == direction
    assert v.n_seeds == len(diffs_pts)
    assert v.called == (direction in (AHEAD, BEHIND))
    if diffs_pts:
        assert v.mean_diff == pytest.approx(sum(diffs_pts) / len(diffs_pts))
        assert v.margin >= one_example(N)


def test_margin_is_one_example_or_spread():
    assert one_example(359) == pytest.approx(100 / 359)
    assert margin_for([1.0, 1.0, 1.0], 359) == pytest.approx(100 / 359)
    assert margin_for([0.0, 10.0], 1000) == pytest.approx(math.sqrt(50))


def test_sentences_tell_the_true_counts():
    v = compare_diffs([0.10, -0.01, -0.01], n_test=N, a_name="A", b_name="B")
    assert "within noise" in v.sentence and "3 seeds" in v.sentence
    assert "higher in 1 and lower in 2 of 3 seeds" in v.sentence  # not max(wins, losses) mislabelled as agreement
    assert "ahead" not in v.sentence
    called = compare_diffs([0.02, 0.03, 0.025], n_test=N, a_name="A", b_name="B")
    assert called.sentence.startswith("A is ahead of B by 2.5 points")
    assert "3 seeds" in called.sentence and "every seed" in called.sentence


def test_one_seed_says_so_and_suggests_more():
    v = compare_diffs([0.05], n_test=N, a_name="A", b_name="B")
    assert "One seed" in v.sentence and "several seeds" in v.sentence
    assert "every seed" not in v.sentence and "1 of 1" not in v.sentence
    assert "ahead" not in v.sentence and "behind" not in v.sentence


def test_pairs_series_on_common_seeds_and_sequences_by_position():
    a = pd.Series([0.9, 0.8, 0.7], index=[0, 1, 2])
    b = pd.Series([0.7, 0.5], index=[2, 1])
    v = compare(a, b, n_test=N, a_name="A", b_name="B")
    assert v.n_seeds == 2 and v.diffs == pytest.approx((30.0, 0.0))
    w = compare([0.9, 0.9, 0.9], [0.8, 0.85, 0.8], n_test=N, a_name="A", b_name="B")
    assert w.direction == AHEAD
    with pytest.raises(ValueError):
        compare([0.9], [0.8, 0.7], n_test=N, a_name="A", b_name="B")
