"""SNIP (Lee, Ajanthan & Torr 2019): connection sensitivity at *initialization*.

Give every weight a gate c_k (w_k → c_k·w_k) and ask how much the loss reacts to the gate:

    g_k = ∂L(c ⊙ w₀)/∂c_k |_{c=1} = w₀_k · ∂L/∂w_k (w₀),      s_k = |g_k| / Σ_j |g_j|

evaluated at the *initial* weights w₀ on one mini-batch of training data. SNIP prunes once,
before any training, and then trains the sparse network; it never looks at trained weights.
Here it scores the model's initial weights (``ScoreContext.init_state``, required), with the
already-pruned connections held at zero. The batch: a seeded random mini-batch of up to
``SNIP_BATCH`` training examples (the paper uses one training mini-batch).

As published (``pruning.labs.scorer_compare``): the mask is chosen at w₀ and the sparse
network is then trained from w₀ with the mask held fixed, for the same epochs the other
scorers' dense training + fine-tuning get. Where the app differs: the Prune and Iterate pages
apply SNIP's mask to the *trained* weights (one mask among the others, for comparison) —
that is not SNIP, and their method note says so.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from pruning.core.data import training_subset
from pruning.core.masks import apply_masks
from pruning.errors import PruningError
from pruning.scoring.base import ScoreContext, Scorer, pass_seconds

SNIP_BATCH = 512


def snip(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s = |w₀ ⊙ ∂L/∂w₀| / Σ|…| on a training mini-batch, at ``ctx.init_state`` (masked)."""
    if ctx.init_state is None:
        raise PruningError("SNIP scores the network's initial (untrained) weights, and they "
                           "were not given here")
    model = copy.deepcopy(ctx.model)  # ctx.model keeps its trained weights
    model.load_state_dict(ctx.init_state)
    if ctx.masks:
        apply_masks(model, ctx.masks)
    model.eval()
    X, y = training_subset(ctx.data, SNIP_BATCH, ctx.seed)
    params = dict(model.named_parameters())
    wanted = [params[n] for n in ctx.names]
    grads = torch.autograd.grad(F.cross_entropy(model(X), y), wanted)
    g = {n: (p.detach() * gr).abs() for n, p, gr in zip(ctx.names, wanted, grads)}
    total = sum(float(v.sum()) for v in g.values()) or 1.0
    return {n: v / total for n, v in g.items()}


def snip_seconds(ctx: ScoreContext) -> float:
    """One forward and backward pass over the mini-batch (≤ ``SNIP_BATCH`` examples)."""
    if ctx.data is None:
        return 0.0
    return pass_seconds(ctx, min(len(ctx.data.y_train), SNIP_BATCH))


SCORER = Scorer(
    name="snip",
    description="|w₀ · ∂L/∂w₀| at the initial weights (SNIP) — chosen before training",
    formula="|w₀ · ∂L/∂w₀| / Σ, at the initial weights w₀",
    measures="how much the untrained network's loss reacts to each connection",
    source="Lee, Ajanthan & Torr 2019 (SNIP)",
    differs="Compare scorers does what the paper does (mask at initialisation, then the sparse "
            "net is trained); the Prune and Iterate pages apply SNIP's mask to the trained "
            "weights instead, which the paper never does",
    needs_data=True, needs_init=True, signed=False,
    cost=snip_seconds,
    fn=snip,
)
