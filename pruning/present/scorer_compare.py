"""Several scorers, one trained model, one sparsity: who keeps what, and does it matter?

For each scorer: score the trained weights (``pruning.scoring.registry``), select the same sparsity
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
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch

from pruning.core.masks import Masks, apply_masks
from pruning.core.models import layer_label, prunable_names
from pruning.core.selection import SCOPES, select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import PruningError, check_choice, check_fraction
from pruning.present.style import layout
from pruning.scoring.movement import finetune_for_movement
from pruning.scoring.registry import SCORERS, ScoreContext, score

CompareProgress = Callable[[float, str], None]

#: name -> (formula, what it measures, source); the page's reference table.
SCORER_FORMULAS = {
    "magnitude": ("|w|", "small weights matter least", "Han et al. 2015"),
    "random": ("u ~ U(0, 1), seeded", "nothing: the floor every scorer must beat", "control"),
    "taylor": ("mean_b |w · ∂L_b/∂w| (validation batches b)",
               "first-order estimate of the loss change if w is removed",
               "Molchanov et al. 2017, 2019"),
    "ablation": ("L_val(w := 0) − L_val", "the exact loss change if w is removed (signed)",
                 "the article's validation-set criterion; Mozer & Smolensky 1989"),
    "obd": ("½ · h_ww · w², h_ww = ∂²L_train/∂w² (exact)",
            "second-order estimate of the loss change if w is removed",
            "LeCun, Denker & Solla 1990 (Optimal Brain Damage)"),
    "snip": ("|w₀ · ∂L/∂w₀| / Σ, at the initial weights w₀",
             "how much the untrained network's loss reacts to each connection",
             "Lee, Ajanthan & Torr 2019 (SNIP)"),
    "movement": ("(w_after² − w_before²) / 2 over a short fine-tune",
                 "did the weight grow (keep) or shrink towards zero (prune)?",
                 "Sanh, Wolf & Rush 2020 (movement pruning)"),
}


def scorer_reference() -> pd.DataFrame:
    """The registered scorers with formula, meaning and source (one row each)."""
    from pruning.scoring.registry import DESCRIPTIONS

    rows = []
    for name in SCORERS:
        formula, meaning, source = SCORER_FORMULAS.get(name, ("", DESCRIPTIONS.get(name, ""), ""))
        rows.append({"scorer": name, "formula": formula, "measures": meaning, "source": source})
    return pd.DataFrame(rows)


@dataclass
class ScorerComparison:
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
    q = 1.0 - sparsity
    return 0.0 if q == 0 else q / (2 - q)


def _agreement(masks: dict[str, Masks], names: list[str]) -> pd.DataFrame:
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


# ----------------------------------------------------------------------------- figures
def accuracy_bars(cmp: ScorerComparison, height: int = 420) -> go.Figure:
    """Test accuracy per scorer: right after pruning (light) and after fine-tuning (dark);
    dashed lines: dense, and the random scorer after fine-tuning (the floor)."""
    t = cmp.table
    fig = go.Figure([
        go.Bar(x=t["scorer"], y=100 * t["test_acc_pruned"], name="right after pruning",
               marker_color="#9ecae1", hovertemplate="%{x}: %{y:.1f} %<extra>after pruning</extra>"),
        go.Bar(x=t["scorer"], y=100 * t["test_acc"], name="after fine-tuning",
               marker_color="#08519c", hovertemplate="%{x}: %{y:.1f} %<extra>after fine-tuning</extra>"),
    ])
    fig.add_hline(y=100 * cmp.dense["test_acc"], line=dict(color="#2ca02c", dash="dash"),
                  annotation_text="dense", annotation_position="top right")
    rnd = t[t["scorer"] == "random"]
    if not rnd.empty:
        fig.add_hline(y=100 * float(rnd["test_acc"].iloc[0]), line=dict(color="#7f7f7f", dash="dot"),
                      annotation_text="random floor", annotation_position="bottom right")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="test accuracy (%)", range=[0, 101])
    fig.update_xaxes(title="scorer")
    return layout(fig, f"Test accuracy at {100 * cmp.sparsity:.0f} % sparsity", height)


def jaccard_heatmap(cmp: ScorerComparison, height: int = 440) -> go.Figure:
    """Jaccard overlap of the kept weights, scorer × scorer, with the values written in."""
    order = list(cmp.table["scorer"])
    m = cmp.jaccard.pivot(index="scorer_a", columns="scorer_b", values="jaccard").loc[order, order]
    z = m.to_numpy(dtype=np.float32)
    fig = go.Figure(go.Heatmap(z=z, x=order, y=order, zmin=0, zmax=1, colorscale="Viridis",
                               texttemplate="%{z:.2f}", textfont=dict(size=14),
                               colorbar=dict(title="Jaccard"),
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return layout(fig, f"Overlap of kept weights (two random masks: ≈ {cmp.random_jaccard:.2f})",
                   height)


def layer_sparsity_heatmap(cmp: ScorerComparison, height: int = 380) -> go.Figure:
    """Which layers each scorer prunes (reached sparsity per layer, in %)."""
    order = list(cmp.table["scorer"])
    p = cmp.per_layer.pivot(index="scorer", columns="layer", values="sparsity").loc[order]
    p = p[list(dict.fromkeys(cmp.per_layer["layer"]))]
    z = 100 * p.to_numpy(dtype=np.float32)
    fig = go.Figure(go.Heatmap(z=z, x=list(p.columns), y=order, zmin=0, zmax=100,
                               colorscale="Oranges", texttemplate="%{z:.0f}",
                               textfont=dict(size=14),
                               colorbar=dict(title="% pruned"),
                               hovertemplate="%{y} prunes %{z:.1f} % of %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", title="layer")
    return layout(fig, "Where each scorer prunes (per layer)", height)


def agreement_bars(cmp: ScorerComparison, height: int = 380) -> go.Figure:
    """Per layer: share of weights every (non-random) scorer prunes / keeps / disputes."""
    a = cmp.agreement
    fig = go.Figure()
    for col, label, colour in (("all_prune", "all prune", "#f5a623"),
                               ("contested", "they disagree", "#d62728"),
                               ("all_keep", "all keep", "#2ca02c")):
        fig.add_trace(go.Bar(x=a["layer"], y=100 * a[col], name=label, marker_color=colour,
                             hovertemplate="%{x}: %{y:.1f} %<extra>" + label + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="weights (%)", range=[0, 100])
    fig.update_xaxes(title="layer", type="category")
    return layout(fig, "Agreement between scorers, per layer", height)


def comparison_notes(cmp: ScorerComparison) -> dict[str, str]:
    """What to notice, computed from the numbers: keys ``accuracy``, ``floor`` (when random
    ran), ``overlap`` (two or more non-random scorers), ``disagree`` (two or more masks)."""
    t = cmp.table.set_index("scorer")
    notes = {}
    best = t["test_acc"].idxmax()
    best_pruned = t["test_acc_pruned"].idxmax()
    notes["accuracy"] = (
        f"Right after pruning {100 * cmp.sparsity:.0f} % of the weights, {best_pruned} keeps the "
        f"most test accuracy ({100 * t.loc[best_pruned, 'test_acc_pruned']:.1f} %); after "
        f"fine-tuning, {best} is ahead ({100 * t.loc[best, 'test_acc']:.1f} %; dense "
        f"{100 * cmp.dense['test_acc']:.1f} %).")
    if "random" in t.index and len(t) > 1:
        floor = t.loc["random", "test_acc"]
        below = [s for s in t.index if s != "random" and t.loc[s, "test_acc"] <= floor]
        notes["floor"] = (f"Random pruning ends at {100 * floor:.1f} % after fine-tuning. "
                          + (f"Not above that floor: {', '.join(below)}." if below
                             else "Every other scorer is above that floor."))
    pairs = cmp.jaccard[(cmp.jaccard["scorer_a"] < cmp.jaccard["scorer_b"])
                        & (cmp.jaccard["scorer_a"] != "random") & (cmp.jaccard["scorer_b"] != "random")]
    if len(pairs):
        hi = pairs.loc[pairs["jaccard"].idxmax()]
        lo = pairs.loc[pairs["jaccard"].idxmin()]
        notes["overlap"] = (
            f"Most similar masks: {hi['scorer_a']} and {hi['scorer_b']} (Jaccard "
            f"{hi['jaccard']:.2f}); least similar: {lo['scorer_a']} and {lo['scorer_b']} "
            f"({lo['jaccard']:.2f}). Two random masks would overlap ≈ {cmp.random_jaccard:.2f}.")
    if len(cmp.masks) >= 2:
        a = cmp.agreement.set_index("layer")
        most = a["contested"].idxmax()
        notes["disagree"] = (f"The scorers disagree most in {most}: "
                             f"{100 * a.loc[most, 'contested']:.1f} % of its weights are pruned "
                             f"by some of them and kept by others.")
    return notes
