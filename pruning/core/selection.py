"""Turning scores into masks: by threshold or by target sparsity, per layer or global.

Rules (the app's text and the tests rely on them):

* **Threshold.** A weight is pruned when its score is *strictly below* ``t``:
  ``keep = score >= t``. With magnitudes 0.2, 0.5, 0.1, 0.3 and t = 0.3, the weights 0.5 and
  0.3 are kept (a weight equal to the threshold stays). A threshold is one number, so it is the
  same for per-layer and global scope.

* **Target sparsity** s ∈ [0, 1] is a fraction of the *original* weights of the layer
  (``layer`` scope) or of all prunable weights (``global``), so targets are cumulative:
  asking for 0.5 after 0.3 prunes 20 % more of the original, not 50 % of what is left.
  Count: k = floor(s · n + 0.5) (round half up) weights are pruned.
  Already-pruned weights are counted first (pruning never revives a weight), then the rest
  are pruned in ascending score order; **ties are broken by position** (flattened index,
  layers in model order), so the result is deterministic. If more weights were pruned
  earlier than k, they all stay pruned and the reached sparsity exceeds the target.

``Selection`` reports the sparsity reached and how many scores tie at the cut-off value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import torch

from pruning.core.masks import Masks, count_kept, count_total
from pruning.errors import PruningError, check_choice, check_fraction

SCOPES = ("layer", "global")


@dataclass
class Selection:
    """Result of a selection.

    masks:        {name: bool tensor}, True = kept.
    target:       the sparsity asked for (None for a threshold).
    reached:      fraction of the selected weights pruned.
    cutoff:       the score separating pruned from kept (threshold, or the k-th smallest
                  score in sparsity mode; per layer: the largest of the layers' cut-offs).
    n_tied:       how many not-yet-pruned scores equal the cut-off score (per layer: summed);
                  > 1 means the tie-break by position decided some of them.
    per_layer:    {name: reached sparsity of that parameter}.
    """

    masks: Masks
    target: float | None
    reached: float
    cutoff: float | None
    n_tied: int
    per_layer: dict[str, float] = field(default_factory=dict)
    cutoffs: dict[str, float] = field(default_factory=dict)

    @property
    def n_pruned(self) -> int:
        return count_total(self.masks) - count_kept(self.masks)

    @property
    def n_kept(self) -> int:
        return count_kept(self.masks)


def check_threshold(threshold) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise PruningError(f"threshold must be a number ≥ 0, got {threshold!r}") from None
    if not math.isfinite(t) or t < 0:
        raise PruningError(f"threshold must be a finite number ≥ 0, got {threshold!r}")
    return t


def _per_layer(masks: Masks) -> dict[str, float]:
    return {n: 1.0 - float(m.sum()) / m.numel() if m.numel() else 0.0 for n, m in masks.items()}


def _check_scores(scores: Mapping[str, torch.Tensor], previous) -> None:
    if not scores:
        raise PruningError("there is nothing to prune (no prunable weights selected)")
    for n, s in scores.items():
        if torch.isnan(s).any():
            raise PruningError(f"scores of {n} contain NaN; the model may have diverged "
                               f"(try a smaller learning rate)")
        if previous is not None and n in previous and previous[n].shape != s.shape:
            raise PruningError(f"mask shape of {n} does not match its scores")


def select_by_threshold(scores: Mapping[str, torch.Tensor], threshold: float,
                        previous: Mapping[str, torch.Tensor] | None = None) -> Selection:
    """Keep ``score >= threshold``; weights pruned in ``previous`` stay pruned.

    >>> s = select_by_threshold({"w": torch.tensor([0.2, 0.5, 0.1, 0.3])}, 0.3)
    >>> s.masks["w"].tolist()
    [False, True, False, True]
    """
    t = check_threshold(threshold)
    _check_scores(scores, previous)
    masks = {}
    n_tied = 0
    for n, s in scores.items():
        keep = s >= t
        if previous is not None and n in previous:
            alive = previous[n]
            keep = keep & alive
            n_tied += int(((s == t) & alive).sum())
        else:
            n_tied += int((s == t).sum())
        masks[n] = keep
    total = count_total(masks)
    reached = 0.0 if total == 0 else 1 - count_kept(masks) / total
    return Selection(masks, None, reached, t, n_tied, _per_layer(masks),
                     {n: t for n in masks})


def _select_flat(flat_scores: torch.Tensor, flat_alive: torch.Tensor, k: int):
    """Flat bool keep-mask pruning ``k`` entries: dead ones first, then lowest scores,
    ties by index. Returns (keep, cutoff score or None, n_tied)."""
    n = flat_scores.numel()
    keep = flat_alive.clone()
    n_dead = int((~flat_alive).sum())
    extra = k - n_dead
    if extra <= 0 or n == 0:
        return keep, None, 0
    # The cut-off is the extra-th smallest surviving score: a selection (O(n)) finds it
    # without sorting everything (a full sort made this slower than torch.nn.utils.prune).
    # Prune every survivor strictly below it, then the lowest positions among those equal to
    # it until ``extra`` are pruned: the same set a stable ascending sort would pick.
    cut = torch.kthvalue(flat_scores[flat_alive], extra).values
    below = flat_alive & (flat_scores < cut)
    tied = flat_alive & (flat_scores == cut)
    tied_idx = torch.nonzero(tied).flatten()[:extra - int(below.sum())]
    keep &= ~below
    keep[tied_idx] = False
    return keep, float(flat_scores[tied_idx[-1]]), int(tied.sum())


def n_to_prune(sparsity: float, n: int) -> int:
    """Documented rounding rule: k = floor(s · n + 0.5), i.e. round half up."""
    return min(n, int(math.floor(sparsity * n + 0.5)))


def select_by_sparsity(scores: Mapping[str, torch.Tensor], sparsity: float,
                       scope: str = "global",
                       previous: Mapping[str, torch.Tensor] | None = None) -> Selection:
    """Prune a fraction ``sparsity`` of the original weights (see the module docstring).

    >>> s = select_by_sparsity({"w": torch.tensor([0.2, 0.5, 0.1, 0.3])}, 0.5)
    >>> s.masks["w"].tolist()
    [False, True, False, True]
    """
    s = check_fraction("sparsity", sparsity)
    check_choice("scope", scope, SCOPES)
    _check_scores(scores, previous)
    names = list(scores)
    alive = {n: (previous[n].clone() if previous is not None and n in previous
                 else torch.ones_like(scores[n], dtype=torch.bool)) for n in names}
    masks, cutoffs, n_tied = {}, {}, 0
    if scope == "layer":
        for n in names:
            keep, cut, tied = _select_flat(scores[n].flatten(), alive[n].flatten(),
                                           n_to_prune(s, scores[n].numel()))
            masks[n] = keep.view_as(scores[n])
            if cut is not None:
                cutoffs[n] = cut
            n_tied += tied
        cutoff = max(cutoffs.values()) if cutoffs else None
    else:
        flat_s = torch.cat([scores[n].flatten() for n in names])
        flat_a = torch.cat([alive[n].flatten() for n in names])
        keep, cutoff, n_tied = _select_flat(flat_s, flat_a, n_to_prune(s, flat_s.numel()))
        i = 0
        for n in names:
            k = scores[n].numel()
            masks[n] = keep[i:i + k].view_as(scores[n])
            i += k
        if cutoff is not None:
            cutoffs = {n: cutoff for n in names}
    total = count_total(masks)
    reached = 0.0 if total == 0 else 1 - count_kept(masks) / total
    return Selection(masks, s, reached, cutoff, n_tied, _per_layer(masks), cutoffs)
