"""Movement pruning (Sanh, Wolf & Rush 2020): keep the weights that move *away from zero*
while fine-tuning, prune those that move towards it.

Sanh et al. accumulate, over the fine-tuning steps t, the score

    S_k = −Σ_t  ∂L/∂w_k⁽ᵗ⁾ · w_k⁽ᵗ⁾          (signed: negative = being pushed towards zero)

(their hard-movement score, up to the learning rate of the scores). This module computes
exactly that sum: ``accumulate_movement`` fine-tunes a model and, through a gradient hook on
each scored weight, adds −w·∂L/∂w at every optimizer step (w is the value the gradient was
taken at, before the step). The hook sees the raw mini-batch gradient of the loss, whatever
the optimizer (Adam's step is not −η·gradient, but the score is defined on the gradient).

Where the app differs from the paper: Sanh et al. fine-tune a pre-trained transformer and
prune *during* that fine-tuning, re-selecting the mask as the scores evolve on a cubic
sparsity schedule. Here the scores are accumulated over a short *dense* probe fine-tuning of
a copy (``ctx.accumulated_movement`` if the caller ran one, else ``PROBE_EPOCHS`` epochs run
by the scorer), one mask is chosen from them, and it is applied to the weights the probe
started from; the app's own fine-tuning then follows. The change-since-initialisation score
that used to carry this name is ``magnitude_increase`` (Zhou et al. 2019).
"""
from __future__ import annotations

import copy
from typing import Mapping

import torch
from torch import nn

from pruning.config import TrainConfig
from pruning.core.training import train
from pruning.errors import PruningError
from pruning.scoring.base import ScoreContext, Scorer, pass_seconds

#: Epochs of the probe fine-tuning the scorer runs when no accumulated scores are given.
PROBE_EPOCHS = 2


def accumulate_movement(model: nn.Module, data, cfg: TrainConfig, names: list[str],
                        masks: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Fine-tune ``model`` in place with ``cfg`` (masked if ``masks``) and return Sanh et al.'s
    S = −Σ_t w⁽ᵗ⁾ · ∂L/∂w⁽ᵗ⁾ for each parameter in ``names``, summed over every step."""
    params = dict(model.named_parameters())
    scores = {n: torch.zeros_like(params[n], dtype=torch.float32) for n in names}
    handles = []
    for n in names:
        p = params[n]

        def hook(grad, n=n, p=p):
            # Runs during backward(), before the optimizer step: p still holds w⁽ᵗ⁾.
            scores[n].sub_((p.detach() * grad).float())

        handles.append(p.register_hook(hook))
    try:
        train(model, data, cfg, masks=masks)
    finally:
        for h in handles:
            h.remove()
    return scores


def movement(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """S = −Σ_t w·∂L/∂w over a fine-tuning: ``ctx.accumulated_movement``, or a probe of
    ``PROBE_EPOCHS`` epochs on a copy of ``ctx.model`` (seeded by ``ctx.seed``)."""
    if ctx.accumulated_movement is not None:
        missing = [n for n in ctx.names if n not in ctx.accumulated_movement]
        if missing:
            raise PruningError(f"no accumulated movement scores for {', '.join(missing)}")
        return {n: ctx.accumulated_movement[n] for n in ctx.names}
    if ctx.data is None:
        raise PruningError("movement scores weights while the model fine-tunes, and no "
                           "training data were given")
    probe = copy.deepcopy(ctx.model)
    cfg = TrainConfig(epochs=PROBE_EPOCHS, seed=ctx.seed + 1)
    return accumulate_movement(probe, ctx.data, cfg, ctx.names, ctx.masks)


def movement_seconds(ctx: ScoreContext) -> float:
    """``PROBE_EPOCHS`` forward and backward passes over the training split."""
    if ctx.data is None or ctx.accumulated_movement is not None:
        return 0.0
    return pass_seconds(ctx, PROBE_EPOCHS * len(ctx.data.y_train))


SCORER = Scorer(
    name="movement",
    description="−Σ w·∂L/∂w accumulated while fine-tuning (Sanh et al.) — negative = the "
                "weight is being pushed towards zero",
    formula="S = −Σ_t w⁽ᵗ⁾ · ∂L/∂w⁽ᵗ⁾ over the steps of a short fine-tune",
    measures="is fine-tuning pushing the weight away from zero (keep) or towards it (prune)?",
    source="Sanh, Wolf & Rush 2020 (movement pruning)",
    differs="scores come from a short dense probe fine-tuning and one mask is chosen at the "
            "end; the paper re-selects the mask during fine-tuning on a cubic schedule",
    needs_data=True, needs_init=False, signed=True,
    cost=movement_seconds,
    fn=movement,
)
