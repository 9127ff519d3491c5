"""How important is each weight? One module per scoring method, each with one ``Scorer`` record.

    magnitude  |w|                                   (Han et al. 2015)
    random     u ~ U(0, 1), seeded                   the control every scorer must beat
    taylor     mean_b |w · ∂L_b/∂w|, validation      (Molchanov et al. 2017, per weight)
    ablation   L_val(w := 0) − L_val, exact; signed  (Mozer & Smolensky 1989)
    movement   −Σ_t w·∂L/∂w while fine-tuning; signed (Sanh, Wolf & Rush 2020)
    magnitude_increase  |w| − |w₀|; signed           (Zhou, Lan, Liu & Yosinski 2019)
    obd        ½ · h_ww · w², exact Hessian diagonal (LeCun, Denker & Solla 1990)
    snip       |w₀ · ∂L/∂w₀| / Σ at initialization  (Lee, Ajanthan & Torr 2019)

``SCORERS`` maps each name to its record, in this order (the order menus show). Use
``score(name, ctx)``; a record's facts are ``SCORERS[name].description``, ``.needs_data`` …
Adding a method: a module with its function and ``SCORER = Scorer(...)``, and a line below.
"""
from __future__ import annotations

import torch

from pruning.errors import check_choice
from pruning.scoring import (
    ablation,
    magnitude,
    magnitude_increase,
    movement,
    obd,
    random_baseline,
    snip,
    taylor,
)
from pruning.scoring.base import ScoreContext, Scorer

__all__ = ["SCORERS", "Scorer", "ScoreContext", "score", "get_scorer"]

SCORERS: dict[str, Scorer] = {m.SCORER.name: m.SCORER for m in (
    magnitude, random_baseline, taylor, ablation, movement, magnitude_increase, obd, snip)}


def get_scorer(name_or_scorer: str | Scorer) -> Scorer:
    """The record called ``name`` (the error lists the valid names), or the record itself."""
    if isinstance(name_or_scorer, Scorer):
        return name_or_scorer
    check_choice("scorer", name_or_scorer, SCORERS)
    return SCORERS[name_or_scorer]


def score(name_or_scorer: str | Scorer, ctx: ScoreContext) -> dict[str, torch.Tensor]:
    """Run a scorer: ``{param name: float32 scores}``, detached, one per weight in ``ctx.names``."""
    return get_scorer(name_or_scorer)(ctx)
