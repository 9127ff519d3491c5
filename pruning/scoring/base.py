"""What every scorer is: a function with one contract, and one record of its facts.

The contract (like ``torch.nn.utils.prune.BasePruningMethod.compute_mask`` or Torch-Pruning's
``Importance.__call__``, but per weight)::

    fn(ctx: ScoreContext) -> {param name: scores}      # one score per weight, same shape

Higher = more important; selection prunes the lowest scores. Scores are ≥ 0 unless the record
says ``signed`` (then a negative score means "removing it helps": prune first, and a threshold
t ≥ 0 prunes every negative score). Already-pruned weights may score anything (selection keeps
them pruned).

``cost(ctx)`` estimates the seconds the scorer needs on one CPU core, so a page can warn before
a slow run. The estimates count the arithmetic:

  * a forward and backward pass over N examples ≈ 3 · N · M multiply-adds, M = the model's
    multiply-adds per example (``pruning.core.counts.multiply_adds``), at ``MACS_PER_SECOND``
    (batched matrix products);
  * work per weight (|w|, a random draw, a difference of squares) ≈ P floats at
    ``FLOATS_PER_SECOND``, P = the number of scored weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
from torch import nn

from pruning.core.counts import multiply_adds
from pruning.core.data import DataBundle
from pruning.errors import PruningError

#: Multiply-adds per second of batched forward / backward passes on one CPU core.
MACS_PER_SECOND = 1e10
#: Floats per second written, read and reduced one by one (element-wise work, per-example
#: gradients); far below ``MACS_PER_SECOND`` because memory, not arithmetic, is the limit.
FLOATS_PER_SECOND = 2e8


@dataclass
class ScoreContext:
    """What a scorer may look at. ``names`` are the prunable parameters to score.

    ``init_state``: the model's initial (untrained) state_dict, for ``snip`` and
    ``magnitude_increase``. ``accumulated_movement``: Sanh et al.'s −Σ_t w·∂L/∂w from a
    fine-tuning the caller already ran (``movement.accumulate_movement``); without it the
    ``movement`` scorer runs its own short probe. Both optional.
    """

    model: nn.Module
    names: list[str]
    data: DataBundle | None = None
    masks: Mapping[str, torch.Tensor] | None = None
    seed: int = 0
    batch_size: int = 256
    init_state: Mapping[str, torch.Tensor] | None = None
    accumulated_movement: Mapping[str, torch.Tensor] | None = None


ScoreFn = Callable[[ScoreContext], dict]
CostFn = Callable[[ScoreContext], float]


@dataclass(frozen=True, kw_only=True)
class Scorer:
    """Everything about one scoring method, in one place.

    name         the key in ``pruning.scoring.SCORERS`` (URL, command line, menus).
    description  one line for menus and help texts.
    formula      the score written out (``|w|``, ``½ · h_ww · w²`` …).
    measures     what that number estimates, in words.
    source       the paper it comes from, or None (the random control has none).
    differs      where the app's version differs from that paper ("" = it does what the
                 paper does); page method notes quote it.
    needs_data   it reads ``ctx.data``; ``score`` refuses without it.
    needs_init   it reads the initial weights ``ctx.init_state``; callers that have them
                 pass them.
    signed       its scores may be negative (lower = prune first).
    cost         ``cost(ctx)`` → estimated seconds on one CPU core (module docstring).
    fn           ``fn(ctx)`` → ``{name: scores}``; call the record instead, which checks
                 ``needs_data`` and returns detached float32 copies.
    """

    name: str
    description: str
    formula: str
    measures: str
    source: str | None
    differs: str = ""
    needs_data: bool
    needs_init: bool
    signed: bool
    cost: CostFn = field(repr=False)
    fn: ScoreFn = field(repr=False)

    def __call__(self, ctx: ScoreContext) -> dict[str, torch.Tensor]:
        if self.needs_data and ctx.data is None:
            raise PruningError(f"the {self.name!r} scorer needs data (a validation set)")
        return {k: v.detach().float() for k, v in self.fn(ctx).items()}


# ----------------------------------------------------------------------------- cost helpers
def scored_weights(ctx: ScoreContext) -> int:
    """P: how many weights ``ctx.names`` hold."""
    params = dict(ctx.model.named_parameters())
    return sum(params[n].numel() for n in ctx.names)


def per_weight_seconds(ctx: ScoreContext) -> float:
    """Cost of a scorer that does a few operations per weight: P / ``FLOATS_PER_SECOND``."""
    return scored_weights(ctx) / FLOATS_PER_SECOND


def pass_seconds(ctx: ScoreContext, n_examples: int) -> float:
    """One forward and backward pass over ``n_examples``: 3 · N · M / ``MACS_PER_SECOND``."""
    if ctx.data is None or n_examples == 0:
        return 0.0
    macs = multiply_adds(ctx.model, ctx.data.n_features)["dense"]
    return 3 * n_examples * macs / MACS_PER_SECOND
