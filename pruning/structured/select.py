"""Structured pruning: remove whole neurons (MLP) or channels (CNN), then *compact*.

Unstructured pruning zeroes single weights; the matrices keep their shape, so a dense
computation does the same work and a dense file has the same size (see ``pruning.core.counts``).
Removing a whole unit o of a hidden layer (see ``pruning.structured.units``) removes

  * row o of that layer's weight (Linear: W[o, :]; Conv2d: the filter W[o, :, :, :]) and b_o,
  * column o of the next layer's weight (Linear: W'[:, o]; Conv2d: the input channel
    W'[:, o, :, :]; the CNN head's column o, since global average pooling keeps channels).

As masks (``unit_masks``) this is still a zero pattern in full-size tensors. ``compact`` builds
a genuinely smaller dense model — an ``MLP`` / ``SmallCNN`` with fewer hidden units, whose
matrices are the kept rows and columns — that computes the same function: a removed unit
outputs ReLU(0 + 0) = 0, so nothing downstream ever saw it. The tests check the outputs match.

At least one unit per layer is always kept (``select_units``): a layer with none would cut the
network in two, and every prediction would be the same class.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from pruning.core.masks import Masks
from pruning.core.selection import select_by_sparsity
from pruning.errors import PruningError, check_fraction
from pruning.structured.units import model_kind, unit_layers

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
        nxt = params[f"{layer.next_module}.weight"]
        shape_cols = (1, -1) + (1,) * (nxt.dim() - 2)
        masks[f"{layer.next_module}.weight"] &= k.view(shape_cols)
    return masks


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
    prev_keep = None  # kept inputs of the current layer (None = all)
    for name in names:
        src, dst = model.get_submodule(name), small.get_submodule(name)
        rows = idx.get(name)
        w = src.weight
        b = src.bias
        if rows is not None:
            w, b = w[rows], b[rows]
        if prev_keep is not None:
            w = w[:, prev_keep]
        dst.weight.copy_(w)
        dst.bias.copy_(b)
        prev_keep = rows
    small.train(model.training)
    return small
