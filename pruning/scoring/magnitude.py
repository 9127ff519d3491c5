"""Magnitude (Han et al. 2015): small weights matter least.

    s_k = |w_k|

The cheapest guess at importance: a weight near zero contributes little to any pre-activation
it feeds, whatever the data. It ignores how large the inputs it multiplies are and how much the
loss reacts, which is what the data-driven scorers add.
"""
from __future__ import annotations

import torch

from pruning.scoring.base import ScoreContext, Scorer, per_weight_seconds


def magnitude(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s = |w| (copies: changing the scores does not touch the model)."""
    params = dict(ctx.model.named_parameters())
    return {n: params[n].detach().abs().clone() for n in ctx.names}


SCORER = Scorer(
    name="magnitude",
    description="|w| — small weights matter least",
    formula="|w|",
    measures="small weights matter least",
    source="Han et al. 2015",
    differs="Han et al. prune with a per-layer threshold in several prune-retrain rounds; "
            "here one global or per-layer cut, repeated only on the Iterate page",
    needs_data=False, needs_init=False, signed=False,
    cost=per_weight_seconds,
    fn=magnitude,
)
