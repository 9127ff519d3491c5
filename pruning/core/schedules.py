"""Sparsity schedules: the cumulative target s_t after each round t = 1..n.

* ``oneshot``:   [s_f] — everything at once, one round.
* ``iterative``: each round prunes the same fraction r of the weights *still alive*
                 (lottery-ticket style), s_t = 1 − (1 − r)^t, with r chosen so that
                 s_n = s_f: r = 1 − (1 − s_f)^(1/n). Example: s_f = 0.9, n = 5 → r ≈ 36.9 %.
                 ``iterative_rate_targets`` gives the form with a fixed r (e.g. 20 %).
* ``gradual``:   Zhu & Gupta (2017) cubic ramp from s_i to s_f,
                 s_t = s_f + (s_i − s_f)(1 − t/n)^3 — prunes fast early, gently near the end.

Fair budgets: ``split_epochs(T, n)`` shares a total of T fine-tuning epochs over n rounds, so a
one-shot run (one round of T epochs) and an n-round run see the same number of epochs in all.
"""
from __future__ import annotations

from pruning.errors import (
    PruningError,
    check_choice,
    check_fraction,
    check_positive_int,
)

SCHEDULES = ("oneshot", "iterative", "gradual")


def oneshot_targets(final: float) -> list[float]:
    return [check_fraction("sparsity", final)]


def iterative_targets(final: float, rounds: int) -> list[float]:
    final = check_fraction("sparsity", final)
    rounds = check_positive_int("rounds", rounds)
    if final >= 1.0:  # (1 - 1)^(1/n) = 0: the geometric form would jump to 1 in round 1
        r = None
    else:
        r = 1 - (1 - final) ** (1 / rounds)
    out = []
    for t in range(1, rounds + 1):
        s = 1 - (1 - r) ** t if r is not None else (t / rounds if t < rounds else 1.0)
        out.append(min(max(s, 0.0), 1.0))
    out[-1] = final  # exact at the end despite float rounding
    return out


def iterative_rate_targets(rate: float, rounds: int) -> list[float]:
    """s_t = 1 − (1 − rate)^t: prune ``rate`` of the surviving weights each round."""
    rate = check_fraction("per-round rate", rate)
    rounds = check_positive_int("rounds", rounds)
    return [1 - (1 - rate) ** t for t in range(1, rounds + 1)]


def gradual_targets(final: float, rounds: int, initial: float = 0.0) -> list[float]:
    final = check_fraction("sparsity", final)
    initial = check_fraction("initial sparsity", initial)
    rounds = check_positive_int("rounds", rounds)
    if initial > final:
        raise PruningError(f"initial sparsity {initial} is above the final {final}")
    return [final + (initial - final) * (1 - t / rounds) ** 3 for t in range(1, rounds + 1)]


def schedule_targets(schedule: str, final: float, rounds: int) -> list[float]:
    """Cumulative sparsity target after each round for a named schedule."""
    check_choice("schedule", schedule, SCHEDULES)
    if schedule == "oneshot":
        return oneshot_targets(final)
    if schedule == "iterative":
        return iterative_targets(final, rounds)
    return gradual_targets(final, rounds)


def split_epochs(total: int, rounds: int) -> list[int]:
    """Share ``total`` fine-tuning epochs over ``rounds`` rounds as evenly as whole epochs
    allow; the remainder goes to the last rounds (the sparsest, which need recovery most).
    ``split_epochs(15, 5) == [3, 3, 3, 3, 3]``, ``split_epochs(7, 3) == [2, 2, 3]``."""
    rounds = check_positive_int("rounds", rounds)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise PruningError(f"total fine-tuning epochs must be a whole number ≥ 0, got {total!r}")
    base, extra = divmod(total, rounds)
    return [base + (1 if t >= rounds - extra else 0) for t in range(rounds)]
