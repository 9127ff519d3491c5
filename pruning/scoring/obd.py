"""Optimal Brain Damage (LeCun, Denker & Solla 1990): a second-order saliency.

    s_k = ½ · h_kk · w_k²,        h_kk = ∂²L/∂w_k²   (diagonal of the Hessian of the loss)

Why: near a minimum of the training loss the gradient is ≈ 0, so a Taylor expansion of the
loss change when the weights move by δw is δL ≈ ½ Σ_k h_kk δw_k² (+ off-diagonal terms, which
OBD ignores). Deleting w_k is δw_k = −w_k, hence s_k.

Which diagonal — exact, not an estimate. Both models here are built from layers that are
linear in any single weight and from piecewise-linear operations (ReLU, max- and average
pooling), so the logits f are piecewise *linear* in one weight: ∂²f/∂w_k² = 0 (almost
everywhere, and exactly as autograd differentiates ReLU). The Hessian diagonal of the
cross-entropy is then exactly the Gauss–Newton diagonal, which for softmax cross-entropy is the
"true Fisher" diagonal:

    h_kk = 1/N Σ_i J_ik^T (diag(p_i) − p_i p_iᵀ) J_ik
         = 1/N Σ_i Σ_c p_ic · (∂ℓ(x_i, c)/∂w_k)²

with p_i = softmax(f(x_i)), ℓ(x, c) = −log p_c(x) and J_ik = ∂f(x_i)/∂w_k; the second line
uses diag(p) − ppᵀ = Σ_c p_c (e_c − p)(e_c − p)ᵀ and ∂ℓ(x, c)/∂f = p − e_c. So h_kk needs the
per-example gradients for every class as the label, weighted by the model's own probability of
that class (torch.func: ``vmap`` over examples and classes). This is *not* the empirical
Fisher (squared gradients with the true label only), a cheaper stand-in that differs from the
Hessian. The tests check ``hessian_diagonal`` against ``torch.autograd.functional.hessian``.

Data: the training split, because OBD expands around a minimum of the *training* loss; at most
``OBD_MAX_EXAMPLES`` examples (a seeded random subset above that; the Hessian diagonal of the
loss on that subset is then what is computed, exactly). Cost: N·C per-example gradients
(512·10 for digits), each with P values to square and sum (``obd_seconds``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from pruning.core.data import training_subset
from pruning.errors import PruningError
from pruning.scoring.base import (
    FLOATS_PER_SECOND,
    ScoreContext,
    Scorer,
    pass_seconds,
    scored_weights,
)

OBD_MAX_EXAMPLES = 512

#: Floats of one chunk of per-example, per-class gradients (bounds memory, ~64 MB).
_CHUNK_FLOATS = 16_000_000


def hessian_diagonal(model: nn.Module, names, X: torch.Tensor) -> dict[str, torch.Tensor]:
    """Diagonal of ∇²_w L for L = mean_i CE(f(x_i), ·), restricted to the parameters ``names``.

    Exact for piecewise-linear networks (module docstring); it does not need labels, because
    the Hessian of softmax cross-entropy with respect to the logits does not depend on them.
    """
    if len(X) == 0:
        raise PruningError("OBD needs training examples")
    was_training = model.training
    model.eval()
    params = {n: p.detach() for n, p in model.named_parameters()}
    wanted = {n: params[n] for n in names}
    fixed = {n: p for n, p in params.items() if n not in wanted}

    def loss_one(w, x, c):
        logits = functional_call(model, {**fixed, **w}, (x.unsqueeze(0),))
        return F.cross_entropy(logits, c.unsqueeze(0))

    per_class = vmap(grad(loss_one), in_dims=(None, None, 0))
    per_example = vmap(per_class, in_dims=(None, 0, None))
    with torch.no_grad():
        probs = torch.softmax(model(X), dim=1)  # (N, C)
    n_classes = probs.shape[1]
    classes = torch.arange(n_classes)
    n_params = sum(w.numel() for w in wanted.values())
    chunk = max(1, _CHUNK_FLOATS // max(1, n_classes * n_params))
    acc = {n: torch.zeros_like(w) for n, w in wanted.items()}
    for i in range(0, len(X), chunk):
        g = per_example(wanted, X[i:i + chunk], classes)  # {name: (B, C, *shape)}
        p = probs[i:i + chunk]
        for n in acc:
            acc[n] += torch.einsum("bc,bc...->...", p, g[n].detach() ** 2)
    model.train(was_training)
    return {n: a / len(X) for n, a in acc.items()}


def obd(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s_k = ½ h_kk w_k² on (up to ``OBD_MAX_EXAMPLES``) training examples."""
    X, _ = training_subset(ctx.data, OBD_MAX_EXAMPLES, ctx.seed)
    h = hessian_diagonal(ctx.model, ctx.names, X)
    params = dict(ctx.model.named_parameters())
    return {n: 0.5 * h[n] * params[n].detach() ** 2 for n in ctx.names}


def obd_seconds(ctx: ScoreContext) -> float:
    """N·C per-example gradients (N ≤ ``OBD_MAX_EXAMPLES``, C classes): each a forward and
    backward pass of one example, plus its P gradient values squared and summed."""
    if ctx.data is None:
        return 0.0
    n = min(len(ctx.data.y_train), OBD_MAX_EXAMPLES)
    per_gradient = pass_seconds(ctx, 1) + scored_weights(ctx) / FLOATS_PER_SECOND
    return n * ctx.data.n_classes * per_gradient


SCORER = Scorer(
    name="obd",
    description="½·h·w² with the exact Hessian diagonal h (Optimal Brain Damage) — "
                "estimated loss increase, second order",
    formula="½ · h_ww · w², h_ww = ∂²L_train/∂w² (exact)",
    measures="second-order estimate of the loss change if w is removed",
    source="LeCun, Denker & Solla 1990 (Optimal Brain Damage)",
    differs="the Hessian diagonal is computed exactly (the paper approximates it by "
            "back-propagating second derivatives), and weights are deleted in one step "
            "rather than a few at a time with retraining",
    needs_data=True, needs_init=False, signed=False,
    cost=obd_seconds,
    fn=obd,
)
