"""Masks: plain boolean tensors kept beside the model (True = the weight is kept).

We own the masks instead of using ``torch.nn.utils.prune``'s forward pre-hooks: a mask here is
a dict ``{parameter name: bool tensor of the parameter's shape}``, pruning sets ``w ← +0.0``
where ``m`` is False (``masked_fill_``: a product w ⊙ m would leave −0.0 for every negative
weight, which prints as "-0.0", has its sign bit set, and makes a compressed file larger),
and the model stays an ordinary module (deep-copyable, its state_dict loads anywhere). See
``pruning.app.checkpoint`` for the equivalent ``torch.nn.utils.prune`` code.

Keeping pruned weights at exactly zero while training needs three things, all done here:
  1. zero the gradient where pruned (so plain SGD cannot move them),
  2. zero the optimizer's state where pruned (momentum / Adam moments would otherwise
     carry old updates into the pruned positions),
  3. re-apply the mask after each step (a cheap guarantee against anything else moving a
     pruned weight). A weight that is already +0.0 stays +0.0 under ``w · 0``, so the hot
     loop can multiply; ``apply_masks`` (which runs first) writes the +0.0.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

Masks = dict[str, torch.Tensor]


def ones_masks(model: nn.Module, names) -> Masks:
    """All-True masks for ``names`` (nothing pruned)."""
    params = dict(model.named_parameters())
    return {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> nn.Module:
    """Set every masked-out weight to exactly +0.0 (in place) and return the model."""
    params = dict(model.named_parameters())
    for name, m in masks.items():
        params[name].masked_fill_(~m.to(torch.bool), 0.0)
    return model


def mask_gradients(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    for name, m in masks.items():
        g = params[name].grad
        if g is not None:
            g.mul_(m.to(g.dtype))


@torch.no_grad()
def mask_optimizer_state(optimizer: torch.optim.Optimizer, model: nn.Module,
                         masks: Mapping[str, torch.Tensor]) -> None:
    """Zero every per-weight optimizer buffer (momentum, Adam moments) where pruned."""
    params = dict(model.named_parameters())
    for name, m in masks.items():
        state = optimizer.state.get(params[name], {})
        for key, buf in state.items():
            if torch.is_tensor(buf) and buf.shape == m.shape:
                buf.mul_(m.to(buf.dtype))


#: ``[(parameter, mask as 0/1 in the parameter's dtype)]``, see ``bind_masks``.
BoundMasks = list[tuple[nn.Parameter, torch.Tensor]]


def bind_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> BoundMasks:
    """Look the parameters up and convert the masks to their dtype once.

    A training loop applies the same masks at every step; doing the name lookups and the
    bool → float conversions per step cost more than the multiplications themselves.
    """
    params = dict(model.named_parameters())
    return [(params[name], m.to(params[name].dtype)) for name, m in masks.items()]


def mask_bound_gradients(bound: BoundMasks) -> None:
    """``mask_gradients`` for bound masks (same multiplications)."""
    for p, m in bound:
        if p.grad is not None:
            p.grad.mul_(m)


@torch.no_grad()
def enforce_bound_masks(bound: BoundMasks, optimizer: torch.optim.Optimizer) -> None:
    """``mask_optimizer_state`` then ``apply_masks`` for bound masks (same multiplications):
    rules 2 and 3 of the module docstring, after an optimizer step."""
    for p, m in bound:
        for buf in optimizer.state.get(p, {}).values():
            if torch.is_tensor(buf) and buf.shape == m.shape:
                buf.mul_(m)
    for p, m in bound:
        p.mul_(m)


def combine(old: Mapping[str, torch.Tensor] | None, new: Mapping[str, torch.Tensor]) -> Masks:
    """Pruning is monotone: a weight pruned earlier stays pruned (element-wise AND)."""
    if not old:
        return {k: v.clone() for k, v in new.items()}
    return {k: new[k] & old[k] if k in old else new[k].clone() for k in new}


def count_kept(masks: Mapping[str, torch.Tensor]) -> int:
    return int(sum(int(m.sum()) for m in masks.values()))


def count_total(masks: Mapping[str, torch.Tensor]) -> int:
    return int(sum(m.numel() for m in masks.values()))


def sparsity(masks: Mapping[str, torch.Tensor]) -> float:
    """Fraction of masked weights that are pruned (0 when there are none)."""
    total = count_total(masks)
    return 0.0 if total == 0 else 1.0 - count_kept(masks) / total


def clone_masks(masks: Mapping[str, torch.Tensor] | None) -> Masks | None:
    return None if masks is None else {k: v.clone() for k, v in masks.items()}
