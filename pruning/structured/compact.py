"""Compaction after *unstructured* pruning: find the neurons (MLP) or channels (CNN) that
pruning left dead, and remove them for real with ``pruning.structured.select.compact``.

Masking keeps every matrix its full size, so a pruned dense model is exactly as big and as
slow as before. Only removing whole rows and columns makes the matrices smaller.
``structured.compact`` removes units whose output is zero (weights *and* bias removed). After
unstructured pruning a unit can be dead without being zero, so this module first rewrites the
model — same function — until every dead unit outputs exactly zero, then hands it over:

* **out-dead** unit j (every outgoing weight is 0): nothing downstream reads it → zero its
  incoming row and bias.
* **in-dead** unit j (every incoming weight is 0): its output is the constant c = relu(b_j).
  MLP: fold it into the next layer's bias, b' += W_next[:, j] · c, then zero b_j and column j.
  CNN: a constant channel is exactly foldable only where nothing spatial follows — the last
  conv, whose output is averaged (b_head += W_head[:, j] · c). In an earlier conv the zero
  padding of the next conv makes a constant channel position-dependent, so it counts as dead
  only when c = 0.
Zeroing can make more units dead (a row whose only non-zeros were in removed columns), so
this repeats until nothing changes. Input and output sizes never change, so the compacted
model is a drop-in replacement; ``structured.compact`` keeps at least one unit per layer
(a kept all-zero unit contributes relu(0) · 0 = 0).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from pruning.structured.select import compact
from pruning.structured.units import unit_layers


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
            W, b, W_next = mod.weight, mod.bias, nxt.weight
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
