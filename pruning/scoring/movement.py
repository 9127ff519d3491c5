"""Movement pruning (Sanh, Wolf & Rush 2020): keep the weights that move *away from zero*
while fine-tuning, prune those that move towards it.

Sanh et al. accumulate over the fine-tuning steps t the score S_k = −Σ_t ∂L/∂w_k⁽ᵗ⁾ · w_k⁽ᵗ⁾.
For plain gradient descent with step η, −η·∂L/∂w⁽ᵗ⁾ = Δw⁽ᵗ⁾, so

    η·S_k = Σ_t Δw_k⁽ᵗ⁾ w_k⁽ᵗ⁾ = (w_k,T² − w_k,0²)/2 − Σ_t (Δw_k⁽ᵗ⁾)²/2

(an exact identity; the tests check it): for small steps the score is the change of ½w² between
the start and the end of fine-tuning. This scorer uses that endpoint form,

    s_k = (w_k,after² − w_k,before²) / 2        (signed: negative = moved towards zero)

so it needs only two snapshots: ``ScoreContext.pre_finetune_state`` (before) and the model
itself (after). With Adam the steps are not −η·gradient, so the endpoint form is the same
idea — did the weight grow or shrink? — not Sanh et al.'s accumulated sum itself.

Without a pre-fine-tuning snapshot it falls back to the initial weights (``init_state``): the
movement over the whole training, which has the sign of Zhou et al. (2019)'s "magnitude
increase" |w_final| − |w_init|. Without either it raises ``PruningError``.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from pruning.config import TrainConfig
from pruning.core.training import train
from pruning.errors import PruningError
from pruning.scoring.base import ScoreContext, Scorer, per_weight_seconds


def movement(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s = (w² − w_before²)/2, w_before = ``pre_finetune_state``, else ``init_state``; signed."""
    before = ctx.pre_finetune_state if ctx.pre_finetune_state is not None else ctx.init_state
    if before is None:
        raise PruningError("movement compares the weights before and after fine-tuning, and "
                           "neither those before fine-tuning nor the initial weights were given")
    params = dict(ctx.model.named_parameters())
    out = {}
    for n in ctx.names:
        w1 = params[n].detach()
        w0 = before[n].to(w1.dtype)
        if w0.shape != w1.shape:
            raise PruningError(f"the weights before fine-tuning do not match {n}'s shape")
        out[n] = (w1 ** 2 - w0 ** 2) / 2
    return out


SCORER = Scorer(
    name="movement",
    description="(w_after² − w_before²)/2 — weights that grew while fine-tuning, or since "
                "initialization when no fine-tuning is at hand (Sanh et al.); "
                "negative = moved towards zero",
    formula="(w_after² − w_before²) / 2 over a short fine-tune",
    measures="did the weight grow (keep) or shrink towards zero (prune)?",
    source="Sanh, Wolf & Rush 2020 (movement pruning)",
    needs_data=False, needs_init=True, signed=True,
    cost=per_weight_seconds,
    fn=movement,
)


def finetune_for_movement(model: nn.Module, data, cfg: TrainConfig,
                          masks: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Fine-tune ``model`` in place (masked if ``masks``) and return its weights *before*,
    ready for ``ScoreContext(model, …, pre_finetune_state=…)``."""
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    train(model, data, cfg, masks=masks)
    return before

