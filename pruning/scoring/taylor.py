"""First-order Taylor importance (Molchanov, Tyree, Karras, Aila & Kautz 2017), per weight.

    s_k = mean_b |w_k · ∂L_b/∂w_k|        over mini-batches b of the validation set

Which criterion. Molchanov et al. 2017 ("Pruning convolutional neural networks for resource
efficient inference", ICLR) score a *feature map* z by the absolute first-order Taylor term
Θ_TE(z) = |mean over its positions of ∂C/∂z · z|, averaged over mini-batches. This is that
criterion with a single weight in place of the feature map: |∂L/∂w · w| per mini-batch,
averaged over the batches. It is *not* their 2019 criterion ("Importance estimation for
neural network pruning", CVPR), which squares the term, (∂L/∂w · w)², and sums it over a
filter: the ranking within one batch is the same, the average over batches can differ.
Molchanov et al. compute it on training mini-batches during fine-tuning and prune one
filter at a time; the app uses the validation split and prunes weights in one cut.

Why: removing w_k moves the weights by δw = −w_k e_k, and to first order the loss changes by
δL ≈ ∂L/∂w_k · δw_k = −w_k · ∂L/∂w_k. The absolute value per batch, averaged over batches of
``ctx.batch_size``, keeps batches whose gradients point different ways from cancelling out.
It is an estimate: exact only when the loss is linear in w_k (``ablation`` measures the change
itself, ``obd`` adds the second-order term). Without validation data it uses the training split.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pruning.core.data import validation_split
from pruning.core.stop import stop_point
from pruning.scoring.base import ScoreContext, Scorer, pass_seconds


def taylor(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s = mean over batches of |w ⊙ ∂L_b/∂w|; the model's mode and weights are left as found."""
    model = ctx.model
    params = dict(model.named_parameters())
    acc = {n: torch.zeros_like(params[n]) for n in ctx.names}
    X, y = validation_split(ctx.data)
    was_training = model.training
    model.eval()
    n_batches = 0
    for i in range(0, len(y), ctx.batch_size):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(X[i:i + ctx.batch_size]), y[i:i + ctx.batch_size]).backward()
        for n in ctx.names:
            acc[n] += (params[n].detach() * params[n].grad).abs()
        n_batches += 1
        stop_point()
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return {n: a / max(n_batches, 1) for n, a in acc.items()}


def taylor_seconds(ctx: ScoreContext) -> float:
    """One forward and backward pass over the validation split."""
    if ctx.data is None:
        return 0.0
    return pass_seconds(ctx, len(validation_split(ctx.data)[1]))


SCORER = Scorer(
    name="taylor",
    description="|w · ∂L/∂w| on the validation set — estimated loss increase if removed",
    formula="mean_b |w · ∂L_b/∂w| (validation batches b)",
    measures="first-order estimate of the loss change if w is removed",
    source="Molchanov et al. 2017 (Taylor criterion Θ_TE, per weight)",
    differs="the paper scores whole feature maps on training batches and prunes one at a "
            "time with fine-tuning in between; here single weights, validation batches, one "
            "cut",
    needs_data=True, needs_init=False, signed=False,
    cost=taylor_seconds,
    fn=taylor,
)
