"""Magnitude increase (Zhou, Lan, Liu & Yosinski 2019, "Deconstructing lottery tickets"):
keep the weights that grew the most over training.

    s_k = |w_k| − |w₀_k|        (w₀ = the initial weights; signed: negative = shrank)

Zhou et al. compare mask criteria for lottery tickets; "magnitude increase" is one of them,
and it finds tickets about as well as the final magnitude |w|. It needs the initial weights
(``ScoreContext.init_state``). The app's version is the paper's formula; the paper uses it
inside iterative lottery-ticket rounds with rewinding, the app also on a trained model once.
(This score used to be shown under the name "movement"; ``movement`` is now Sanh et al.'s.)
"""
from __future__ import annotations

import torch

from pruning.errors import PruningError
from pruning.scoring.base import ScoreContext, Scorer, per_weight_seconds


def magnitude_increase(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s = |w| − |w₀| with w₀ = ``ctx.init_state``; signed."""
    if ctx.init_state is None:
        raise PruningError("magnitude increase compares the weights with their initial "
                           "values, and the initial weights were not given")
    params = dict(ctx.model.named_parameters())
    out = {}
    for n in ctx.names:
        w1 = params[n].detach()
        w0 = ctx.init_state[n].to(w1.dtype)
        if w0.shape != w1.shape:
            raise PruningError(f"the initial weights do not match {n}'s shape")
        out[n] = w1.abs() - w0.abs()
    return out


SCORER = Scorer(
    name="magnitude_increase",
    description="|w| − |w₀| — how much the weight grew since initialization (Zhou et al.); "
                "negative = it shrank",
    formula="|w| − |w₀|",
    measures="did training make the weight larger (keep) or smaller (prune)?",
    source="Zhou, Lan, Liu & Yosinski 2019 (magnitude increase)",
    differs="the paper uses it inside lottery-ticket rounds with rewinding; here it can also "
            "prune a trained model once",
    needs_data=False, needs_init=True, signed=True,
    cost=per_weight_seconds,
    fn=magnitude_increase,
)
