"""Compaction: turn removed units into a genuinely smaller dense model.

Masking keeps every matrix its full size, so a pruned dense model is exactly as big and as
slow as before. Only removing whole rows and columns makes the matrices smaller.

``compact(model, keep)`` builds an ``MLP`` / ``SmallCNN`` with fewer hidden units whose
matrices are the kept rows and columns (``keep``: a keep-vector per hidden layer, as
``pruning.structured.select.select_units`` returns). It computes the same function as the
masked model when every removed unit outputs exactly zero (weights *and* bias removed): a
removed unit outputs ReLU(0 + 0) = 0, so nothing downstream ever saw it. The tests check the
outputs match.

``compact_model(model)`` does the same after *unstructured* pruning, where nobody chose units:
it finds the neurons (MLP) or channels (CNN) that pruning left dead. A unit can be dead without
being zero, so ``zero_dead_units`` first rewrites the model — same function — until every dead
unit outputs exactly zero, then hands it to ``compact``:

* **out-dead** unit j (every outgoing weight is 0): nothing downstream reads it → zero its
  incoming row and bias.
* **in-dead** unit j (every incoming weight is 0): its output is the constant c = relu(b_j).
  MLP: fold it into the next layer's bias, b' += W_next[:, j] · c, then zero b_j and column j.
  CNN: a constant channel is exactly foldable only where nothing spatial follows — the last
  conv, whose output is averaged per region (b_head += Σ_r W_head[:, j, r] · c, ``by_unit``). In an earlier conv the zero
  padding of the next conv makes a constant channel position-dependent, so it counts as dead
  only when c = 0.
Zeroing can make more units dead (a row whose only non-zeros were in removed columns), so
this repeats until nothing changes. Input and output sizes never change, so the compacted
model is a drop-in replacement; at least one unit per layer is kept (a kept all-zero unit
contributes relu(0) · 0 = 0).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from pruning.structured.select import check_keep
from pruning.structured.units import by_unit, model_kind, unit_layers


@torch.no_grad()
def compact(model: nn.Module, keep: Mapping[str, torch.Tensor]) -> nn.Module:
    """A new, smaller dense model with only the kept units (same outputs; see module doc)."""
    check_keep(model, keep)
    layers = unit_layers(model)
    idx = {l.module: torch.nonzero(keep[l.module].bool()).flatten() for l in layers}
    sizes = tuple(len(idx[l.module]) for l in layers)
    # type(model): the source's own class (``MLP`` / ``SmallCNN``), so a smaller twin.
    if model_kind(model) == "mlp":
        small = type(model)(model.layers[0].in_features, model.layers[-1].out_features, sizes)
        names = [f"layers.{i}" for i in range(len(model.layers))]
    else:
        small = type(model)(model.image_shape, model.head.out_features, sizes)
        names = [f"convs.{i}" for i in range(len(model.convs))] + ["head"]
    prev_keep = keep_prev_mask = None  # kept inputs of the current layer (None = all)
    for name in names:
        src, dst = model.get_submodule(name), small.get_submodule(name)
        rows = idx.get(name)
        w = src.weight
        b = src.bias
        if rows is not None:
            w, b = w[rows], b[rows]
        if prev_keep is not None:
            w = by_unit(w, len(keep_prev_mask))[:, prev_keep].reshape(w.shape[0], -1, *w.shape[2:])
        dst.weight.copy_(w)
        dst.bias.copy_(b)
        prev_keep = rows
        keep_prev_mask = None if rows is None else keep[name]
    small.train(model.training)
    return small


@dataclass
class Compaction:
    """The compacted model and the widths of its hidden layers before / after."""

    model: nn.Module
    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]

    @property
    def units_removed(self) -> int:
        return sum(self.widths_before) - sum(self.widths_after)


def _columns(w: torch.Tensor) -> torch.Tensor:
    """(units,) True where unit j's outgoing weights in the next layer ``w`` are all zero."""
    return (w == 0).transpose(0, 1).reshape(w.shape[1], -1).all(dim=1)


@torch.no_grad()
def zero_dead_units(model: nn.Module) -> dict[str, torch.Tensor]:
    """Rewrite ``model`` in place (same function) so its dead units output exactly zero;
    return {hidden module name: bool (units,), True = alive}."""
    layers = unit_layers(model)
    removed = {l.module: torch.zeros(l.size, dtype=torch.bool) for l in layers}
    last = layers[-1].module
    is_cnn = any(isinstance(m, nn.Conv2d) for m in model.modules())
    changed = True
    while changed:
        changed = False
        for layer in layers:
            mod, nxt = model.get_submodule(layer.module), model.get_submodule(layer.next_module)
            W, b, W_next = mod.weight, mod.bias, by_unit(nxt.weight, layer.size)
            out_dead = _columns(W_next)
            in_dead = (W == 0).reshape(W.shape[0], -1).all(dim=1)
            const = torch.relu(b)
            foldable = in_dead & ~out_dead
            if is_cnn and layer.module != last:
                foldable &= const == 0          # zero padding: only a zero channel is constant
            if foldable.any():
                contrib = W_next[:, foldable] * const[foldable].view(1, -1, *([1] * (W_next.dim() - 2)))
                nxt.bias += contrib.reshape(W_next.shape[0], int(foldable.sum()), -1).sum(dim=(1, 2))
            dead = (out_dead | foldable) & ~removed[layer.module]
            if dead.any():
                W[dead] = 0.0
                b[dead] = 0.0
                W_next[:, dead] = 0.0
                removed[layer.module] |= dead
                changed = True
    return {name: ~r for name, r in removed.items()}


def compact_model(model: nn.Module) -> Compaction:
    """A smaller model computing the same function as ``model`` (see the module docstring).
    ``model`` itself is not changed."""
    work = copy.deepcopy(model)
    alive = zero_dead_units(work)
    keep = {}
    for name, a in alive.items():
        k = a.clone()
        if not k.any():
            k[0] = True  # all-zero placeholder: the network stays well-formed
        keep[name] = k
    small = compact(work, keep).eval()
    return Compaction(small, tuple(int(a.numel()) for a in alive.values()),
                      tuple(int(k.sum()) for k in keep.values()))
