"""Compaction: physically remove the neurons (MLP) or channels (CNN) that pruning left dead.

Masking keeps every matrix its full size, so a pruned dense model is exactly as big and as
slow as before. Only removing whole rows and columns makes the matrices smaller. This module
removes the units whose removal provably changes no output, so the compacted model is the
*same function* as the masked one (up to float rounding) with fewer parameters:

* **out-dead** unit j (every outgoing weight is 0): nothing downstream reads it → drop
  row j of its layer (and bias j) and column j of the next layer.
* **in-dead** unit j (every incoming weight is 0): its output is the constant c = relu(b_j).
  MLP: fold it into the next layer's bias, b' += W_next[:, j] · c, then drop it.
  CNN: a constant channel is exactly foldable only where nothing spatial follows — the last
  conv, whose output is averaged (b_head += W_head[:, j] · c). In an earlier conv the zero
  padding of the next conv makes the constant channel position-dependent, so it is dropped
  only when c = 0.
Removing units can make more units dead (a row whose only non-zeros were in removed columns),
so this repeats until nothing changes. Input and output sizes never change: the compacted
model is a drop-in replacement. A layer keeps at least one unit (with zero weights) so the
architecture stays valid even when pruning cut the network in two.

(The project's structured-pruning module may provide its own ``compact``; this one only
removes what unstructured pruning has already killed.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .errors import PruningError
from .models import MLP, SmallCNN


@dataclass
class Compaction:
    """The compacted model and the widths of its hidden layers before / after."""

    model: nn.Module
    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]

    @property
    def units_removed(self) -> int:
        return sum(self.widths_before) - sum(self.widths_after)


def _keep_one(keep: torch.Tensor) -> torch.Tensor:
    if keep.any():
        return keep
    keep = keep.clone()
    keep[0] = True
    return keep


@torch.no_grad()
def _compact_mlp(model: MLP) -> Compaction:
    Ws = [l.weight.detach().clone() for l in model.layers]
    bs = [l.bias.detach().clone() for l in model.layers]
    before = tuple(w.shape[0] for w in Ws[:-1])
    changed = True
    while changed:
        changed = False
        for l in range(len(Ws) - 1):                 # hidden layers only
            W, b, W_next = Ws[l], bs[l], Ws[l + 1]
            out_dead = (W_next == 0).all(dim=0)
            in_dead = (W == 0).all(dim=1)
            fold = in_dead & ~out_dead
            bs[l + 1] = bs[l + 1] + W_next[:, fold] @ torch.relu(b[fold])
            keep = _keep_one(~(out_dead | in_dead))
            if not (~(out_dead | in_dead)).any():
                # The kept placeholder unit contributes nothing: its effect (if any) is folded.
                W[keep] = 0.0
                b[keep] = 0.0
                W_next[:, keep] = 0.0
            if keep.sum() < keep.numel():
                Ws[l], bs[l], Ws[l + 1] = W[keep], b[keep], W_next[:, keep]
                changed = True
    hidden = tuple(w.shape[0] for w in Ws[:-1])
    new = MLP(Ws[0].shape[1], Ws[-1].shape[0], hidden)
    for layer, w, b in zip(new.layers, Ws, bs):
        layer.weight.copy_(w)
        layer.bias.copy_(b)
    return Compaction(new.eval(), before, hidden)


@torch.no_grad()
def _compact_cnn(model: SmallCNN) -> Compaction:
    Ws = [c.weight.detach().clone() for c in model.convs] + [model.head.weight.detach().clone()]
    bs = [c.bias.detach().clone() for c in model.convs] + [model.head.bias.detach().clone()]
    n_convs = len(model.convs)
    before = tuple(w.shape[0] for w in Ws[:-1])
    changed = True
    while changed:
        changed = False
        for l in range(n_convs):
            W, b, W_next = Ws[l], bs[l], Ws[l + 1]
            out_dead = (W_next == 0).flatten(2).all(dim=2).all(dim=0) if W_next.ndim == 4 \
                else (W_next == 0).all(dim=0)
            in_dead = (W == 0).flatten(1).all(dim=1)
            const = torch.relu(b)
            last = l == n_convs - 1
            foldable = in_dead & ~out_dead & (const == 0 if not last else torch.ones_like(in_dead))
            if last:
                bs[l + 1] = bs[l + 1] + W_next[:, foldable] @ const[foldable]
            drop = out_dead | foldable
            keep = _keep_one(~drop)
            if not (~drop).any():
                W[keep] = 0.0
                b[keep] = 0.0
                W_next[:, keep] = 0.0
            if keep.sum() < keep.numel():
                Ws[l], bs[l], Ws[l + 1] = W[keep], b[keep], W_next[:, keep]
                changed = True
    channels = tuple(w.shape[0] for w in Ws[:-1])
    new = SmallCNN(model.image_shape, Ws[-1].shape[0], channels)
    for conv, w, b in zip(list(new.convs) + [new.head], Ws, bs):
        conv.weight.copy_(w)
        conv.bias.copy_(b)
    return Compaction(new.eval(), before, channels)


def compact_model(model: nn.Module) -> Compaction:
    """A smaller model computing the same function as ``model`` (see the module docstring).
    ``model`` is not changed."""
    if isinstance(model, MLP):
        return _compact_mlp(model)
    if isinstance(model, SmallCNN):
        return _compact_cnn(model)
    raise PruningError(f"compaction supports the app's MLP and CNN, not {type(model).__name__}")
