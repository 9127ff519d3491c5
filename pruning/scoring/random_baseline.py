"""Random scores: the control every scorer must beat.

    s_k ~ U(0, 1), independent, from a generator seeded with ``ctx.seed``

A mask from random scores prunes each layer (per-layer scope) or the whole network (global
scope) uniformly at random. Any method that does not end above it after fine-tuning has
learned nothing about which weights matter. The generator is private, so the scores do not
depend on (or disturb) torch's global random state.
"""
from __future__ import annotations

import torch

from pruning.scoring.base import ScoreContext, Scorer, per_weight_seconds


def random_scores(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s ~ U(0, 1), seeded by ``ctx.seed`` only."""
    gen = torch.Generator().manual_seed(ctx.seed + 104729)
    params = dict(ctx.model.named_parameters())
    return {n: torch.rand(params[n].shape, generator=gen) for n in ctx.names}


SCORER = Scorer(
    name="random",
    description="uniform random scores — the baseline any method must beat",
    formula="u ~ U(0, 1), seeded",
    measures="nothing: the floor every scorer must beat",
    source=None,
    needs_data=False, needs_init=False, signed=False,
    cost=per_weight_seconds,
    fn=random_scores,
)
