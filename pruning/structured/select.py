"""Structured selection: which whole neurons (MLP) or channels (CNN) to remove.

Unstructured pruning zeroes single weights; structured pruning removes whole *units* (see
``pruning.structured.units``). Removing unit o of a hidden layer removes

  * row o of that layer's weight (Linear: W[o, :]; Conv2d: the filter W[o, :, :, :]) and b_o,
  * column o of the next layer's weight (Linear: W'[:, o]; Conv2d: the input channel
    W'[:, o, :, :]; the CNN head's columns of channel o, one per pooled region: ``by_unit``).

This module decides *which* units go (``select_units``, a keep-vector per hidden layer) and
expresses that as masks over the full-size tensors (``unit_masks``) — still a zero pattern.
Making the model genuinely smaller is ``pruning.structured.compact``.

At least one unit per layer is always kept: a layer with none would cut the network in two,
and every prediction would be the same class.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from pruning.core.masks import Masks
from pruning.core.selection import select_by_sparsity
from pruning.errors import PruningError, check_fraction
from pruning.structured.units import by_unit, unit_layers

UnitKeep = dict[str, torch.Tensor]  # {hidden module name: bool (units,), True = kept}


def select_units(scores: Mapping[str, torch.Tensor], fraction: float,
                 scope: str = "layer") -> UnitKeep:
    """Remove ``fraction`` of the units with the lowest scores.

    ``layer`` scope removes that fraction of every layer; ``global`` ranks all units together
    (only sensible when scores are comparable across layers, e.g. Taylor or ablation: the
    norms grow with a layer's fan-in). The counting and tie rules are those of
    ``pruning.core.selection.select_by_sparsity``; then, in each layer left without units, the
    best-scoring unit is put back.
    """
    fraction = check_fraction("fraction of units", fraction)
    keep = select_by_sparsity(dict(scores), fraction, scope).masks
    out = {}
    for n, k in keep.items():
        k = k.clone()
        if not k.any():
            k[int(torch.argmax(scores[n]))] = True
        out[n] = k
    return out


def check_keep(model: nn.Module, keep: Mapping[str, torch.Tensor]) -> None:
    """A keep-vector of the right length, with at least one unit, for every hidden layer."""
    for layer in unit_layers(model):
        k = keep.get(layer.module)
        if k is None or k.shape != (layer.size,):
            raise PruningError(f"need a keep-vector of {layer.size} units for {layer.module}")
        if not k.any():
            raise PruningError(f"{layer.module} would have no units left; keep at least one")


def unit_masks(model: nn.Module, keep: Mapping[str, torch.Tensor]) -> Masks:
    """Weight *and bias* masks that remove the dropped units (rows, biases, next columns)."""
    check_keep(model, keep)
    params = dict(model.named_parameters())
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in params.items()
             if n.endswith(".weight") or n.endswith(".bias")}
    for layer in unit_layers(model):
        k = keep[layer.module].bool()
        shape_rows = (-1,) + (1,) * (params[f"{layer.module}.weight"].dim() - 1)
        masks[f"{layer.module}.weight"] &= k.view(shape_rows)
        masks[f"{layer.module}.bias"] &= k
        cols = by_unit(masks[f"{layer.next_module}.weight"], layer.size)
        cols &= k.view((1, -1) + (1,) * (cols.dim() - 2))
    return masks
