"""Importance scores: one number per weight, higher = more important.

Every scorer has the same signature::

    scorer(ctx: ScoreContext) -> dict[str, Tensor]   # {param name: scores, same shape}

and is registered in ``SCORERS`` with ``@register(name, description)``. Scores are
non-negative, except those in ``SIGNED`` (``ablation``, ``movement``: lower = prune first; a
threshold t ≥ 0 prunes every negative score); already-pruned weights may score anything
(selection keeps them pruned).

Built in:
  * ``magnitude``  s = |w|                      (Han et al. 2015)
  * ``random``     s ~ U(0, 1), seeded           (the control every result must beat)
  * ``taylor``     s = mean_b |w ⊙ ∂L_b/∂w|      first-order Taylor estimate of the loss
                   change when w is removed, averaged over mini-batches b of the
                   *validation* set (Molchanov et al. 2017/2019).

More, each in its own module (imported at the bottom, so they register themselves):
  * ``ablation``   exact rise in validation loss when w is removed (``pruning.scoring.ablation``)
  * ``obd``        ½·h_kk·w², exact Hessian diagonal (LeCun et al. 1990, ``pruning.scoring.obd``)
  * ``snip``       |w₀ ⊙ ∂L/∂w₀| at initialization (Lee et al. 2019, ``pruning.scoring.snip``;
                   needs ``init_state``)
  * ``movement``   (w_after² − w_before²)/2 over fine-tuning (Sanh et al. 2020,
                   ``pruning.scoring.movement``; needs ``pre_finetune_state`` or ``init_state``)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from pruning.core.data import DataBundle
from pruning.errors import check_choice


@dataclass
class ScoreContext:
    """What a scorer may look at. ``names`` are the prunable parameters to score.

    ``init_state``: the model's initial (untrained) state_dict, for ``snip`` (and as the
    fallback "before" of ``movement``). ``pre_finetune_state``: the state_dict before the
    fine-tuning that led to ``model``'s weights, for ``movement``. Both optional.
    """

    model: nn.Module
    names: list[str]
    data: DataBundle | None = None
    masks: Mapping[str, torch.Tensor] | None = None
    seed: int = 0
    batch_size: int = 256
    init_state: Mapping[str, torch.Tensor] | None = None
    pre_finetune_state: Mapping[str, torch.Tensor] | None = None


Scorer = Callable[[ScoreContext], dict]

SCORERS: dict[str, Scorer] = {}
DESCRIPTIONS: dict[str, str] = {}
NEEDS_DATA: set[str] = set()
SIGNED: set[str] = set()  # scorers whose scores may be negative (lower = prune first)


def register(name: str, description: str, needs_data: bool = False, signed: bool = False):
    def deco(fn: Scorer) -> Scorer:
        SCORERS[name] = fn
        DESCRIPTIONS[name] = description
        if needs_data:
            NEEDS_DATA.add(name)
        if signed:
            SIGNED.add(name)
        return fn
    return deco


def score(name: str, ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """Run the scorer called ``name`` (the error lists the valid names)."""
    check_choice("scorer", name, SCORERS)
    if name in NEEDS_DATA and ctx.data is None:
        from pruning.errors import PruningError
        raise PruningError(f"the {name!r} scorer needs data (a validation set)")
    return {k: v.detach().float() for k, v in SCORERS[name](ctx).items()}


@register("magnitude", "|w| — small weights matter least")
def magnitude(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    params = dict(ctx.model.named_parameters())
    return {n: params[n].detach().abs().clone() for n in ctx.names}


@register("random", "uniform random scores — the baseline any method must beat")
def random_scores(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(ctx.seed + 104729)
    params = dict(ctx.model.named_parameters())
    return {n: torch.rand(params[n].shape, generator=gen) for n in ctx.names}


@register("taylor", "|w · ∂L/∂w| on the validation set — estimated loss increase if removed",
          needs_data=True)
def taylor(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    model, data = ctx.model, ctx.data
    params = dict(model.named_parameters())
    acc = {n: torch.zeros_like(params[n]) for n in ctx.names}
    X, y = data.X_val, data.y_val
    if len(y) == 0:  # no validation data: fall back to the training split
        X, y = data.X_train, data.y_train
    was_training = model.training
    model.eval()
    n_batches = 0
    for i in range(0, len(y), ctx.batch_size):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(X[i:i + ctx.batch_size]), y[i:i + ctx.batch_size]).backward()
        for n in ctx.names:
            acc[n] += (params[n].detach() * params[n].grad).abs()
        n_batches += 1
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return {n: a / max(n_batches, 1) for n, a in acc.items()}


# Scorers kept in their own modules register themselves on import; imported last because
# they import ``register`` and ``ScoreContext`` from here.
from pruning.scoring import ablation, movement, obd, snip  # noqa: E402,F401
