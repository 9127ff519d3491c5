"""Several scorers, one trained model, one sparsity: who keeps what, and does it matter?

For each scorer: score the trained weights (``pruning.scoring``), select the same sparsity
(same scope), apply the mask to the *same trained weights*, evaluate ("right after pruning"),
fine-tune briefly with the mask fixed, evaluate again. Random scores are the floor.

Special cases, so every scorer sees what it needs:
  * ``snip`` scores the model's *initial* weights (``TrainedModel.init_state``): its mask is
    what SNIP would have chosen before training, here applied to the trained weights;
  * ``movement`` needs a fine-tuning to watch: the trained model is trained ``movement_epochs``
    more epochs (a probe, on a copy), and the weights' movement during the probe is scored;
    the mask is then applied to the original trained weights like every other mask;
  * ``ablation`` may refuse (too slow for this model): it is then listed in ``skipped``.

Overlap of two masks: the Jaccard index of their *kept* sets, J(A, B) = |A ∩ B| / |A ∪ B|
(1 = same weights kept). The kept sets are the informative ones at high sparsity — two pruned
sets of 90 % each overlap by at least 80 % whatever the scorers. Two independent random kept
sets of fraction q = 1 − s have expected Jaccard ≈ q / (2 − q): the "no agreement" level.

Figures and notes about a ``ScorerComparison`` are in ``pruning.present.scorer_compare``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd
import torch

from pruning.core.masks import Masks, apply_masks
from pruning.core.models import layer_label, prunable_names
from pruning.core.selection import SCOPES, select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import PruningError, check_choice, check_fraction
from pruning.scoring import SCORERS, ScoreContext, score
from pruning.scoring.movement import finetune_for_movement

CompareProgress = Callable[[float, str], None]


@dataclass
class ScorerComparison:
    """What ``compare_scorers`` found: plain tables and masks, no figures."""

    table: pd.DataFrame       # one row per scorer that ran
    masks: dict[str, Masks]
    jaccard: pd.DataFrame     # tidy: scorer_a, scorer_b, jaccard (both orders, diagonal = 1)
    per_layer: pd.DataFrame   # tidy: scorer, layer, weights, sparsity
    agreement: pd.DataFrame   # per layer: weights, all_prune, contested, all_keep (fractions)
    agreement_scorers: list[str]  # whose masks ``agreement`` compares (random left out if possible)
    sparsity: float
    random_jaccard: float
    dense: dict
    skipped: dict[str, str] = field(default_factory=dict)


def jaccard(a: Masks, b: Masks) -> float:
    """|A ∩ B| / |A ∪ B| of the kept weights (True entries) over all masked parameters."""
    inter = sum(int((a[n] & b[n]).sum()) for n in a)
    union = sum(int((a[n] | b[n]).sum()) for n in a)
    return 1.0 if union == 0 else inter / union


def random_jaccard(sparsity: float) -> float:
    """Expected Jaccard of two independent random kept sets of fraction q = 1 − s: q / (2 − q)."""
    q = 1.0 - sparsity
    return 0.0 if q == 0 else q / (2 - q)


def _agreement(masks: dict[str, Masks], names: list[str]) -> pd.DataFrame:
    """Per layer: the share of its weights every mask prunes, some but not all prune
    (contested), and none prunes."""
    rows = []
    for n in names:
        pruned = torch.stack([~m[n] for m in masks.values()]).sum(0)
        k = len(masks)
        total = pruned.numel()
        rows.append({"layer": layer_label(n), "weights": total,
                     "all_prune": int((pruned == k).sum()) / total,
                     "contested": int(((pruned > 0) & (pruned < k)).sum()) / total,
                     "all_keep": int((pruned == 0).sum()) / total})
    return pd.DataFrame(rows)


def compare_scorers(trained, data, scorers, sparsity: float = 0.8, scope: str = "global",
                    finetune_epochs: int = 2, movement_epochs: int = 2,
                    include_output: bool = True, seed: int = 0,
                    progress: CompareProgress | None = None) -> ScorerComparison:
    """Run ``scorers`` on ``trained`` (a ``TrainedModel``; never modified). See module doc."""
    scorers = list(dict.fromkeys(scorers))
    if not scorers:
        raise PruningError("choose at least one scorer")
    for s in scorers:
        check_choice("scorer", s, SCORERS)
    sparsity = check_fraction("sparsity", sparsity)
    check_choice("scope", scope, SCOPES)
    if not isinstance(finetune_epochs, int) or not 0 <= finetune_epochs <= 100:
        raise PruningError(f"fine-tune epochs must be a whole number from 0 to 100, got {finetune_epochs!r}")
    if not isinstance(movement_epochs, int) or not 1 <= movement_epochs <= 100:
        raise PruningError(f"movement probe epochs must be a whole number from 1 to 100, got {movement_epochs!r}")
    ft_cfg = replace(trained.train_config, epochs=finetune_epochs, seed=seed)
    names = prunable_names(trained.build(data), include_output=include_output)
    dense = evaluate_all(trained.build(data), data)
    rows, all_masks, skipped, per_layer = [], {}, {}, []
    for i, name in enumerate(scorers):
        if progress:
            progress(i / len(scorers), f"{name}: scoring")
        model = trained.build(data)
        ctx = ScoreContext(model, names, data, seed=seed, init_state=trained.init_state)
        t0 = time.perf_counter()
        try:
            if name == "movement":
                probe_cfg = replace(trained.train_config, epochs=movement_epochs, seed=seed + 1)
                ctx.pre_finetune_state = finetune_for_movement(model, data, probe_cfg)
            scores = score(name, ctx)
        except PruningError as exc:
            skipped[name] = str(exc)
            continue
        seconds = time.perf_counter() - t0
        sel = select_by_sparsity(scores, sparsity, scope)
        all_masks[name] = sel.masks
        pruned_model = apply_masks(trained.build(data), sel.masks)
        after_prune = evaluate_all(pruned_model, data)
        if progress:
            progress((i + 0.5) / len(scorers), f"{name}: fine-tuning")
        if finetune_epochs > 0:
            train(pruned_model, data, ft_cfg, masks=sel.masks)
        after_ft = evaluate_all(pruned_model, data)
        rows.append({"scorer": name, "sparsity": sel.reached, "score_seconds": seconds,
                     "tied_at_cutoff": sel.n_tied,
                     **{f"{k}_pruned": v for k, v in after_prune.items()}, **after_ft})
        per_layer += [{"scorer": name, "layer": layer_label(n), "weights": sel.masks[n].numel(),
                       "sparsity": s} for n, s in sel.per_layer.items()]
    if progress:
        progress(1.0, "done")
    if not rows:
        raise PruningError("no scorer could run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    jac = [{"scorer_a": a, "scorer_b": b, "jaccard": jaccard(all_masks[a], all_masks[b])}
           for a in all_masks for b in all_masks]
    informed = {k: v for k, v in all_masks.items() if k != "random"}
    compared = informed if len(informed) >= 2 else all_masks
    agreement = _agreement(compared, names)
    return ScorerComparison(pd.DataFrame(rows), all_masks, pd.DataFrame(jac),
                            pd.DataFrame(per_layer), agreement, list(compared), sparsity,
                            random_jaccard(sparsity), dense, skipped)
