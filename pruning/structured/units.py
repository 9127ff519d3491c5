"""Units — neurons of an MLP, channels of a CNN — and how important each one is.

A *unit* is one output of a hidden layer: row o of a Linear weight (a neuron) or filter o of a
Conv2d weight (a channel), together with its bias b_o. Removing it means z_o ≡ 0; because
ReLU(0) = 0, the next layer then receives nothing from it, so the matching input column
(Linear) or input channel (Conv2d) of the next layer can go too. The output layer's units
are the classes and are never removed.

Unit scores (higher = more important), one tensor of shape (units,) per layer:
  * ``l1``        Σ_q |W[o, q]|            incoming weights (Li et al. 2017, "Pruning Filters
                                            for Efficient ConvNets")
  * ``l2``        ‖W[o, :]‖₂
  * ``taylor``    mean_b |Σ_{n∈b, positions} z_o · ∂L_b/∂z_o|  on validation mini-batches b —
                  the first-order estimate of the loss change when z_o → 0 (Molchanov et al.
                  2017). Because z_o is linear in the unit's own parameters,
                  Σ_q W[o,q]·∂L/∂W[o,q] + b_o·∂L/∂b_o = Σ z_o·∂L/∂z_o: it is also the group
                  Taylor score of the unit's weights and bias (Molchanov et al. 2019) — the
                  per-weight ``taylor`` scorer extended to neurons. The tests check both forms.
  * ``ablation``  exact rise in validation loss when the unit is removed
                  (``pruning.scoring.ablation.unit_ablation_scores``; signed)
  * ``random``    seeded U(0, 1): the control
  * ``sum:<scorer>`` the sum over the unit's incoming weights of any weight scorer's scores
                  (e.g. ``sum:obd``)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from pruning.core.data import validation_split
from pruning.core.stop import stop_point
from pruning.errors import PruningError
from pruning.scoring import SCORERS, ScoreContext, score
from pruning.scoring.ablation import unit_ablation_scores

UNIT_METHODS = ("l1", "l2", "taylor", "ablation", "random")
#: The Structured page's unit scores: the methods above and a weight scorer summed over a unit.
UNIT_OPTIONS = (*UNIT_METHODS, "sum:obd", "sum:snip")

UNIT_METHOD_LABELS = {
    "l1": "L1 norm of incoming weights",
    "l2": "L2 norm of incoming weights",
    "taylor": "Taylor |z·∂L/∂z| (validation)",
    "ablation": "exact ablation (validation loss rise)",
    "random": "random (control)",
}


@dataclass(frozen=True)
class UnitLayer:
    """A hidden layer whose units may be removed: ``module`` produces them, ``next_module``
    consumes them (its input columns / channels)."""

    module: str
    kind: str        # "neuron" or "channel"
    size: int
    next_module: str


def model_kind(model: nn.Module) -> str:
    """``mlp`` or ``cnn`` for the app's two models, recognised by their structure (not by
    class identity, which a reloaded module would change)."""
    layers = getattr(model, "layers", None)
    if isinstance(layers, nn.ModuleList) and all(isinstance(m, nn.Linear) for m in layers):
        return "mlp"
    convs, head = getattr(model, "convs", None), getattr(model, "head", None)
    if (isinstance(convs, nn.ModuleList) and all(isinstance(m, nn.Conv2d) for m in convs)
            and isinstance(head, nn.Linear)):
        return "cnn"
    raise PruningError("structured pruning works on the app's MLP and CNN only")


def unit_layers(model: nn.Module) -> list[UnitLayer]:
    """The hidden layers of the app's MLP (neurons) or SmallCNN (channels), in order."""
    if model_kind(model) == "mlp":
        n = len(model.layers)
        return [UnitLayer(f"layers.{i}", "neuron", model.layers[i].out_features, f"layers.{i + 1}")
                for i in range(n - 1)]
    n = len(model.convs)
    return [UnitLayer(f"convs.{i}", "channel", model.convs[i].out_channels,
                      f"convs.{i + 1}" if i + 1 < n else "head") for i in range(n)]


def by_unit(next_weight: torch.Tensor, units: int) -> torch.Tensor:
    """The next layer's weight as a view of shape (out, units, …): index 1 is the unit it reads.

    Linear after a neuron layer and Conv2d after a channel layer already are; the CNN's head
    reads ``head_cells`` inputs per channel of the last conv (its pooled regions, channel-major),
    so its (out, units·cells) matrix is viewed as (out, units, cells). Writing into the view
    writes into the weight."""
    if next_weight.shape[1] == units:
        return next_weight
    return next_weight.view(next_weight.shape[0], units, -1)


def check_method(method: str) -> str:
    if method in UNIT_METHODS:
        return method
    if method.startswith("sum:") and method[4:] in SCORERS:
        return method
    valid = ", ".join([*UNIT_METHODS, *(f"sum:{s}" for s in SCORERS)])
    raise PruningError(f"unknown unit score {method!r}; choose one of: {valid}")


def _taylor_units(model: nn.Module, layers: list[UnitLayer], X, y, batch_size: int):
    mods = {l.module: model.get_submodule(l.module) for l in layers}
    acc = {l.module: torch.zeros(l.size) for l in layers}
    outputs = {}

    def make_hook(name):
        def hook(m, inp, out):  # keep z (the unit outputs) to read their gradient
            out.retain_grad()
            outputs[name] = out
        return hook

    handles = [m.register_forward_hook(make_hook(n)) for n, m in mods.items()]
    was_training = model.training
    model.eval()
    n_batches = 0
    try:
        for i in range(0, len(y), batch_size):
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(X[i:i + batch_size]), y[i:i + batch_size]).backward()
            for n, z in outputs.items():
                zg = (z.detach() * z.grad)  # (B, O) or (B, O, H, W)
                acc[n] += zg.transpose(0, 1).reshape(zg.shape[1], -1).sum(1).abs()
            n_batches += 1
            stop_point()
    finally:
        for h in handles:
            h.remove()
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return {n: a / max(n_batches, 1) for n, a in acc.items()}


def unit_scores(model: nn.Module, data=None, method: str = "l1", seed: int = 0,
                batch_size: int = 256,
                init_state: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """{hidden module name: scores (units,)}; higher = more important (module docstring)."""
    check_method(method)
    layers = unit_layers(model)
    needs_data = method in ("taylor", "ablation") or method.startswith("sum:")
    if needs_data and data is None:
        raise PruningError(f"the {method!r} unit score needs data")
    weights = {l.module: model.get_submodule(l.module).weight.detach() for l in layers}
    if method == "l1":
        return {n: w.reshape(w.shape[0], -1).abs().sum(1) for n, w in weights.items()}
    if method == "l2":
        return {n: w.reshape(w.shape[0], -1).pow(2).sum(1).sqrt() for n, w in weights.items()}
    if method == "random":
        gen = torch.Generator().manual_seed(seed + 7)
        return {l.module: torch.rand(l.size, generator=gen) for l in layers}
    X, y = validation_split(data)
    if method == "taylor":
        return _taylor_units(model, layers, X, y, batch_size)
    if method == "ablation":
        return {l.module: unit_ablation_scores(model, l.module, X, y) for l in layers}
    names = [f"{l.module}.weight" for l in layers]
    s = score(method[4:], ScoreContext(model, names, data, seed=seed, batch_size=batch_size,
                                       init_state=init_state))
    return {n.removesuffix(".weight"): v.reshape(v.shape[0], -1).sum(1) for n, v in s.items()}
