"""Validation ablation: the exact increase in validation loss when one weight is removed.
(Biases work the same way: a bias is a weight whose input is the constant 1.)

    s_k = L_val(w with w_k := 0) − L_val(w)          (one number per weight, *signed*)

This is the literal reading of "use a validation set to find the connections that contribute
least" (the pruning article's second criterion; Mozer & Smolensky 1989 called it the
*relevance* of a unit). Unlike Taylor or OBD it is not an estimate: the network is really
evaluated with that one weight set to zero. A negative s_k means the validation loss *drops*
when w_k goes: ranking ascending prunes those weights first.

How it is exact *and* affordable (batched). Removing w_k = W[o, q] of a Linear or Conv2d layer
changes only output unit (channel) ``o`` of that layer, by exactly its own contribution:

    z'[:, o, :] = z[:, o, :] − W[o, q] · P[:, q, :]

where P (N, Q, L) are the layer's input patches (``F.unfold``; for a Linear layer Q = inputs,
L = 1) and z (N, O, L) its output. So the layers *before* it run once; a forward hook swaps the
layer's output for K such perturbed copies stacked along the batch axis (K·N examples), and
only the layers *after* it run K times. The loss of each copy minus the unperturbed loss is s_k.

Cost: one pass of the rest of the network over the whole validation split *per weight*. What
dominates on a CPU is writing the K perturbed copies of the activations, so the cost is
estimated (``ablation_cost``) in units of

    units = Σ_layers  n_weights(layer) · N_val · (activation values from that layer on
                                                   + multiply-adds after it / 50)

(the /50: a multiply-add in a dense layer is far cheaper than writing an activation copy),
done at about ``UNITS_PER_SECOND`` on one core; ``SCORER.cost`` gives the seconds. For scale:
the 64-300-100-10 MLP on digits (50,200 weights, 360 validation images) is 8.5·10⁹ units,
64-128-64-10 is 1.4·10⁹. Above ``MAX_ABLATION_UNITS`` the scorer refuses with a
``PruningError`` that says so. Per-unit ablation (a whole neuron or channel,
``unit_ablation_scores``) costs one pass per unit and is always affordable here.
"""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from pruning.core.data import validation_split
from pruning.core.stop import stop_point
from pruning.errors import PruningError
from pruning.scoring.base import ScoreContext, Scorer

#: Refuse per-weight ablation above this many cost units (see the module docstring):
#: about 15 s of one CPU core, so a page stays responsive.
MAX_ABLATION_UNITS = 1.5e9
#: Throughput (units per second, one core), to turn units into the seconds users see.
UNITS_PER_SECOND = 1e8

#: Elements of one stacked, perturbed layer output (K·N·O·L floats); bounds memory (~32 MB).
_CHUNK_ELEMENTS = 8_000_000


def _module_of(model: nn.Module, param_name: str) -> nn.Module:
    mod_name, _, kind = param_name.rpartition(".")
    if kind not in ("weight", "bias"):
        raise PruningError(f"validation ablation scores weights and biases, not {param_name!r}")
    mod = model.get_submodule(mod_name)
    if isinstance(mod, nn.Conv2d) and (mod.groups != 1 or isinstance(mod.padding, str)):
        raise PruningError("validation ablation supports ordinary Conv2d layers only")
    if not isinstance(mod, (nn.Linear, nn.Conv2d)):
        raise PruningError(f"validation ablation supports Linear and Conv2d weights, not {param_name!r}")
    return mod


def _patches(mod: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Input patches P (N, Q, L) with z = W.reshape(O, Q) @ P + b, reshaped (N, O, L)."""
    if isinstance(mod, nn.Linear):
        return x.reshape(x.shape[0], -1, 1)
    return F.unfold(x, mod.kernel_size, dilation=mod.dilation, padding=mod.padding,
                    stride=mod.stride)


def _n_features(model: nn.Module) -> int:
    first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
    if isinstance(first, nn.Linear):
        return first.in_features
    c, h, w = model.image_shape
    return c * h * w


@torch.no_grad()
def layer_sizes(model: nn.Module) -> dict[str, tuple[int, int, int]]:
    """Per Linear / Conv2d module, in execution order: (O, L, multiply-adds) for one example
    (O output units or channels, L output positions: 1 for Linear, H·W for Conv2d)."""
    sizes, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            def hook(m, inp, out, name=name):  # returns None: the output is left unchanged
                positions = int(out[0, 0].numel()) if out.dim() > 2 else 1
                sizes[name] = (int(out.shape[1]), positions, m.weight.numel() * positions)
            hooks.append(mod.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(1, _n_features(model)))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return sizes


def ablation_cost(model: nn.Module, n_weights: Mapping[str, int], n_examples: int) -> float:
    """Estimated cost units of ablating ``n_weights[param name]`` weights (module docstring)."""
    sizes = layer_sizes(model)
    order = list(sizes)
    units = 0.0
    for pname, k in n_weights.items():
        after = order[order.index(pname.rpartition(".")[0]):]
        acts = sum(sizes[m][0] * sizes[m][1] for m in after)
        macs = sum(sizes[m][2] for m in after[1:])
        units += k * n_examples * (acts + macs / 50)
    return units


@torch.no_grad()
def _perturbed_losses(model: nn.Module, mod: nn.Module, X: torch.Tensor, y: torch.Tensor,
                      perturb) -> torch.Tensor:
    """Mean loss of K perturbed networks, shape (K,).

    ``perturb(z, P)`` gets the layer's output z (N, O, L) and input patches P (N, Q, L) and
    returns the K perturbed outputs stacked as (K, N, O, L).
    """
    k_holder = {}

    def hook(m, inp, out):
        z = out.reshape(out.shape[0], out.shape[1], -1)
        zk = perturb(z, _patches(m, inp[0]))
        k_holder["k"] = zk.shape[0]
        return zk.reshape(zk.shape[0] * out.shape[0], *out.shape[1:])

    handle = mod.register_forward_hook(hook)
    try:
        logits = model(X)
    finally:
        handle.remove()
    k = k_holder["k"]
    losses = F.cross_entropy(logits, y.repeat(k), reduction="none")
    return losses.view(k, len(y)).mean(1)


def _chunk(n_examples: int, n_out: int, n_pos: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, n_examples * n_out * n_pos))


def _live_weights(model: nn.Module, names, alive: Mapping[str, torch.Tensor] | None
                  ) -> dict[str, torch.Tensor]:
    """{name: bool mask of the weights worth evaluating}: non-zero and, if given, ``alive``."""
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        live = params[n].detach() != 0
        if alive is not None and n in alive:
            live &= alive[n].bool()
        out[n] = live
    return out


@torch.no_grad()
def weight_ablation_scores(model: nn.Module, names, X: torch.Tensor, y: torch.Tensor,
                           alive: Mapping[str, torch.Tensor] | None = None,
                           max_units: float | None = MAX_ABLATION_UNITS) -> dict[str, torch.Tensor]:
    """{name: ΔL (same shape as the weight)}: loss with that weight zeroed minus the loss.

    Weights that are already zero (or not ``alive``) score exactly 0: removing them changes
    nothing, so they are not evaluated. Raises ``PruningError`` when the estimated cost is
    above ``max_units`` (None = no limit).
    """
    if len(y) == 0:
        raise PruningError("validation ablation needs validation (or training) examples")
    params = dict(model.named_parameters())
    mods = {n: _module_of(model, n) for n in names}
    todo = {n: (mods[n], live) for n, live in _live_weights(model, names, alive).items()}
    n_eval = sum(int(live.sum()) for _, live in todo.values())
    if max_units is not None:
        units = ablation_cost(model, {n: int(live.sum()) for n, (_, live) in todo.items()}, len(y))
        if units > max_units:
            raise PruningError(
                f"validation ablation runs the network once per weight: {n_eval:,} weights × "
                f"{len(y):,} validation examples would take about "
                f"{units / UNITS_PER_SECOND:,.0f} s here (the limit is about "
                f"{max_units / UNITS_PER_SECOND:,.0f} s). Use a smaller model (e.g. hidden "
                f"sizes 32, or CNN channels 4,8), or ablate whole neurons on the Structured page.")
    was_training = model.training
    model.eval()
    sizes = layer_sizes(model)
    base = F.cross_entropy(model(X), y).item()
    out = {}
    for n, (mod, live) in todo.items():
        is_bias = n.endswith(".bias")
        # A bias b_o is a weight whose input patch is constant 1: z[:, o, :] includes + b_o.
        w2 = params[n].detach().reshape(params[n].shape[0], -1)  # (O, Q), Q = 1 for a bias
        idx = torch.nonzero(live.reshape(w2.shape), as_tuple=False)  # (M, 2) rows (o, q)
        delta = torch.zeros(w2.numel())
        n_out, n_pos, _ = sizes[n.rpartition(".")[0]]
        chunk = _chunk(len(y), n_out, n_pos)
        for start in range(0, len(idx), chunk):
            o, q = idx[start:start + chunk, 0], idx[start:start + chunk, 1]

            def perturb(z, P, o=o, q=q):
                zk = z.unsqueeze(0).repeat(len(o), 1, 1, 1)  # (K, N, O, L)
                if is_bias:
                    contrib = w2[o, 0][:, None, None].expand(len(o), z.shape[0], z.shape[2])
                else:
                    contrib = w2[o, q][:, None, None] * P[:, q, :].permute(1, 0, 2)  # (K, N, L)
                zk[torch.arange(len(o)), :, o, :] -= contrib
                return zk

            delta[o * w2.shape[1] + q] = _perturbed_losses(model, mod, X, y, perturb) - base
            stop_point()
        out[n] = delta.view_as(params[n])
    model.train(was_training)
    return out


@torch.no_grad()
def unit_ablation_scores(model: nn.Module, module_name: str, X: torch.Tensor,
                         y: torch.Tensor) -> torch.Tensor:
    """ΔL (O,) for removing each output unit (neuron / channel) of ``module_name``:
    its whole output is set to 0, which is what zeroing its incoming weights and its bias
    does (and ReLU(0) = 0, so the next layer receives nothing from it)."""
    was_training = model.training
    model.eval()
    mod = model.get_submodule(module_name)
    n_out, n_pos, _ = layer_sizes(model)[module_name]
    base = F.cross_entropy(model(X), y).item()
    chunk = _chunk(len(y), n_out, n_pos)
    out = torch.zeros(n_out)
    for start in range(0, n_out, chunk):
        units = torch.arange(start, min(start + chunk, n_out))

        def perturb(z, P, units=units):
            zk = z.unsqueeze(0).repeat(len(units), 1, 1, 1)
            zk[torch.arange(len(units)), :, units, :] = 0.0
            return zk

        out[units] = _perturbed_losses(model, mod, X, y, perturb) - base
        stop_point()
    model.train(was_training)
    return out


def ablation(ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """s_k = L_val(w_k := 0) − L_val(w), exact (see the module docstring); signed."""
    X, y = validation_split(ctx.data)
    return weight_ablation_scores(ctx.model, ctx.names, X, y, ctx.masks)


def ablation_seconds(ctx: ScoreContext) -> float:
    """``ablation_cost`` of the live weights over the validation split, in seconds."""
    if ctx.data is None:
        return 0.0
    live = _live_weights(ctx.model, ctx.names, ctx.masks)
    units = ablation_cost(ctx.model, {n: int(v.sum()) for n, v in live.items()},
                          len(validation_split(ctx.data)[1]))
    return units / UNITS_PER_SECOND


SCORER = Scorer(
    name="ablation",
    description="exact rise in validation loss when the weight is removed — slow: small models only",
    formula="L_val(w := 0) − L_val",
    measures="the exact loss change if w is removed (signed)",
    source="the validation-set criterion of the article Understanding Pruning in Deep "
           "Learning; Mozer & Smolensky 1989",
    differs="Mozer & Smolensky remove whole units and estimate the change with a derivative; "
            "here each weight is removed and the loss change is measured exactly",
    needs_data=True, needs_init=False, signed=True,
    cost=ablation_seconds,
    fn=ablation,
)
