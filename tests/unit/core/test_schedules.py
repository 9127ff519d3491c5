"""Sparsity schedules: cumulative targets per round (pruning.core.schedules)."""
import math

import pytest

from pruning import SCHEDULES, PruneConfig, PruningError, schedule_targets
from pruning.core.schedules import (
    gradual_targets,
    iterative_rate_targets,
    iterative_targets,
    oneshot_targets,
)
from pruning.loop.experiment import round_targets, validate_prune_config

FINALS = [0.1, 0.5, 0.8, 0.9, 0.99, 1.0]
ROUNDS = [1, 2, 3, 5, 10]


@pytest.mark.parametrize("final", FINALS)
@pytest.mark.parametrize("rounds", ROUNDS)
def test_iterative_increasing_and_ends_exactly_at_final(final, rounds):
    t = schedule_targets("iterative", final, rounds)
    assert len(t) == rounds
    assert t[-1] == final
    assert all(0.0 <= s <= 1.0 for s in t)
    assert all(a < b for a, b in zip(t, t[1:]))


@pytest.mark.parametrize("final", [f for f in FINALS if f < 1.0])
@pytest.mark.parametrize("rounds", [r for r in ROUNDS if r > 1])
def test_iterative_prunes_the_same_fraction_of_survivors_each_round(final, rounds):
    t = iterative_targets(final, rounds)
    alive = [1.0] + [1.0 - s for s in t]
    ratios = [b / a for a, b in zip(alive, alive[1:])]
    r = 1 - (1 - final) ** (1 / rounds)
    assert ratios == pytest.approx([1 - r] * rounds, rel=1e-9)


def test_iterative_zero_final_is_all_zero():
    assert iterative_targets(0.0, 4) == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.5, 1.0])
@pytest.mark.parametrize("rounds", [1, 4, 7])
def test_rate_form_is_one_minus_one_minus_r_to_the_t(rate, rounds):
    t = iterative_rate_targets(rate, rounds)
    assert t == pytest.approx([1 - (1 - rate) ** k for k in range(1, rounds + 1)], abs=1e-15)
    assert all(a <= b for a, b in zip(t, t[1:]))


def test_rate_form_and_final_form_agree():
    r = 0.2
    final = 1 - (1 - r) ** 5
    assert iterative_targets(final, 5) == pytest.approx(iterative_rate_targets(r, 5), rel=1e-12)


@pytest.mark.parametrize("final", FINALS)
@pytest.mark.parametrize("rounds", ROUNDS)
@pytest.mark.parametrize("initial", [0.0, 0.05])
def test_gradual_follows_zhu_gupta(final, rounds, initial):
    # every FINALS value is above every initial here; initial > final: test_gradual_initial_above_final_raises
    t = gradual_targets(final, rounds, initial)
    expected = [final + (initial - final) * (1 - k / rounds) ** 3 for k in range(1, rounds + 1)]
    assert t == pytest.approx(expected, abs=1e-15)
    assert t[-1] == final
    assert all(a <= b for a, b in zip(t, t[1:]))           # monotone
    steps = [t[0] - initial] + [b - a for a, b in zip(t, t[1:])]
    assert all(a >= b - 1e-15 for a, b in zip(steps, steps[1:]))  # fast early, gentle late


def test_gradual_front_loads_more_than_iterative_equal_steps():
    g = schedule_targets("gradual", 0.9, 5)
    assert g[0] > 0.9 / 5
    assert g == gradual_targets(0.9, 5)


def test_gradual_initial_above_final_raises():
    with pytest.raises(PruningError, match="initial sparsity"):
        gradual_targets(0.3, 4, initial=0.5)


@pytest.mark.parametrize("final", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("rounds", [1, 5])
def test_oneshot_is_a_single_round(final, rounds):
    assert schedule_targets("oneshot", final, rounds) == [final]
    assert oneshot_targets(final) == [final]


def test_round_targets_for_threshold_and_oneshot():
    assert round_targets(PruneConfig(sparsity=None, threshold=0.1, rounds=4)) == [None] * 4
    assert round_targets(PruneConfig(sparsity=None, threshold=0.1, schedule="oneshot",
                                     rounds=4)) == [None]
    assert round_targets(PruneConfig(sparsity=0.6, schedule="oneshot", rounds=4)) == [0.6]


# --------------------------------------------------------------------------- bad inputs

def test_unknown_schedule_lists_valid_choices():
    with pytest.raises(PruningError) as e:
        schedule_targets("cosine", 0.5, 3)
    msg = str(e.value)
    assert "'cosine'" in msg and all(s in msg for s in SCHEDULES)


@pytest.mark.parametrize("schedule", ["iterative", "gradual"])
@pytest.mark.parametrize("bad", [0, -1, 2.5, float("nan"), float("inf"), "3"])
def test_bad_rounds_raise(schedule, bad):
    with pytest.raises(PruningError) as e:
        schedule_targets(schedule, 0.5, bad)
    assert "rounds" in str(e.value)


def test_rounds_zero_message():
    with pytest.raises(PruningError) as e:
        schedule_targets("iterative", 0.5, 0)
    assert str(e.value) == "rounds must be at least 1, got 0"


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_final_sparsity_raises(schedule, bad):
    with pytest.raises(PruningError, match="sparsity"):
        schedule_targets(schedule, bad, 3)


@pytest.mark.parametrize("field,bad,needle", [
    ("rounds", 0, "rounds"),
    ("rounds", 101, "at most 100"),
    ("scorer", "nonexistent", "magnitude"),
    ("scope", "local", "global"),
    ("schedule", "cosine", "iterative"),
    ("sparsity", 1.5, "sparsity"),
    ("finetune_epochs", -1, "fine-tune epochs"),
])
def test_validate_prune_config(field, bad, needle):
    with pytest.raises(PruningError, match=needle):
        validate_prune_config(PruneConfig(**{field: bad}))


def test_exactly_one_of_sparsity_and_threshold():
    with pytest.raises(PruningError, match="exactly one"):
        validate_prune_config(PruneConfig(sparsity=0.5, threshold=0.1))
    with pytest.raises(PruningError, match="exactly one"):
        validate_prune_config(PruneConfig(sparsity=None, threshold=None))
    validate_prune_config(PruneConfig(sparsity=None, threshold=0.1))
    with pytest.raises(PruningError, match="threshold"):
        validate_prune_config(PruneConfig(sparsity=None, threshold=math.nan))
