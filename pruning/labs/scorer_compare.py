"""Several scorers, one model recipe, one sparsity, several seeds: who keeps what, and does it
matter beyond the seed-to-seed noise?

For each seed s (default 3: the trained model's seed and the next two) and each scorer: score
seed s's trained weights (``pruning.scoring``), select the same sparsity (same scope), apply
the mask to *those trained weights*, evaluate ("right after pruning"), fine-tune briefly with
the mask fixed, evaluate again. Seed s changes the initial weights, the batch order, the random
scores and the probes; the data split is the page's own. The first seed's model is the trained
model itself; the others are trained with the same configs and seed s (dense training runs the
same epochs E). Random scores are the floor.

Special cases, so every scorer does what its paper does (or the table says where it differs):
  * ``snip`` (Lee et al. 2019) chooses its mask at the *initial* weights w₀ and then trains the
    sparse network from w₀ with the mask fixed, for E + F epochs (F = ``finetune_epochs``): the
    same number of epochs the other scorers get (E dense + F fine-tuning). Its "right after
    pruning" accuracy is the masked *untrained* network's (``pruned_at`` = "init");
  * ``movement`` (Sanh et al. 2020) needs a fine-tuning to watch: a copy of the trained model is
    fine-tuned ``movement_epochs`` epochs while −w·∂L/∂w is accumulated at every step
    (``movement.accumulate_movement``); the mask is applied to the trained weights the probe
    started from, then fine-tuned like every other mask;
  * ``magnitude_increase`` (Zhou et al. 2019) compares with each seed's initial weights;
  * ``ablation`` may refuse (too slow for this model): it is then listed in ``skipped``.

Tables: ``runs`` has one row per (seed, scorer) plus each seed's dense row (``scorer`` =
"dense"); ``table`` has one row per scorer with the mean over seeds (same column names as
``runs``) and the sample standard deviation (``*_sd``, ddof = 1; 0 with one seed).

Overlap of two masks (first seed only): the Jaccard index of their *kept* sets,
J(A, B) = |A ∩ B| / |A ∪ B| (1 = same weights kept). The kept sets are the informative ones at
high sparsity — two pruned sets of 90 % each overlap by at least 80 % whatever the scorers.
Two independent random kept sets of fraction q = 1 − s have expected Jaccard ≈ q / (2 − q):
the "no agreement" level.

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
from pruning.core.records import TrainedModel, train_model
from pruning.core.selection import SCOPES, select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import PruningError, check_choice, check_fraction
from pruning.scoring import SCORERS, ScoreContext, score
from pruning.scoring.movement import accumulate_movement

#: Scorers a page selects by default: every one that runs on the default model in seconds
#: (ablation refuses models of the default size; obd and magnitude_increase stay one click away).
DEFAULT_SCORERS = ("magnitude", "random", "taylor", "movement", "snip")
#: How many seeds a comparison runs by default.
DEFAULT_SEEDS = 3
METRIC_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")

CompareProgress = Callable[[float, str], None]


@dataclass
class ScorerComparison:
    """What ``compare_scorers`` found: plain tables and masks, no figures."""

    table: pd.DataFrame       # one row per scorer that ran: means over seeds, and *_sd
    masks: dict[str, Masks]   # first seed's masks
    jaccard: pd.DataFrame     # tidy: scorer_a, scorer_b, jaccard (both orders, diagonal = 1)
    per_layer: pd.DataFrame   # tidy: scorer, layer, weights, sparsity
    agreement: pd.DataFrame   # per layer: weights, all_prune, contested, all_keep (fractions)
    agreement_scorers: list[str]  # whose masks ``agreement`` compares (random left out if possible)
    sparsity: float
    random_jaccard: float
    dense: dict               # mean over seeds of the dense models' metrics
    skipped: dict[str, str] = field(default_factory=dict)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per (seed, scorer)
    seeds: tuple[int, ...] = ()
    n_test: int = 0


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


def seed_models(trained: TrainedModel, data, seeds) -> dict[int, TrainedModel]:
    """``{seed: trained model}``: ``trained`` itself for its own seed, the same recipe trained
    with each other seed (deterministic in the seed)."""
    out = {}
    for s in seeds:
        if s == trained.train_config.seed:
            out[s] = trained
        else:
            out[s] = train_model(trained.data_config, trained.model_config,
                                 replace(trained.train_config, seed=int(s)), data=data)
    return out


def _summary(runs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """One row per scorer (in ``order``): means over seeds, ``*_sd`` sample deviations."""
    per = runs[runs["scorer"] != "dense"]
    value_cols = ["sparsity", "score_seconds", "tied_at_cutoff",
                  *[f"{m}_pruned" for m in METRIC_COLUMNS], *METRIC_COLUMNS]
    g = per.groupby("scorer", sort=False)
    mean = g[value_cols].mean()
    sd = g[[c for c in value_cols if c.endswith(("_acc", "_acc_pruned", "_loss"))]].std(ddof=1)
    sd = sd.fillna(0.0).add_suffix("_sd")
    out = mean.join(sd).join(g["seed"].nunique().rename("n_seeds"))
    out = out.join(g["pruned_at"].first())
    out = out.loc[[s for s in order if s in out.index]].reset_index()
    return out


def compare_scorers(trained, data, scorers, sparsity: float = 0.8, scope: str = "global",
                    finetune_epochs: int = 2, movement_epochs: int = 2,
                    include_output: bool = True, seed: int = 0,
                    progress: CompareProgress | None = None,
                    n_seeds: int = DEFAULT_SEEDS) -> ScorerComparison:
    """Run ``scorers`` on ``trained`` (a ``TrainedModel``; never modified) and on the same recipe
    trained with the next ``n_seeds − 1`` seeds. See the module docstring."""
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
    if not isinstance(n_seeds, int) or not 1 <= n_seeds <= 10:
        raise PruningError(f"seeds must be a whole number from 1 to 10, got {n_seeds!r}")
    base = trained.train_config.seed
    seeds = tuple(base + i for i in range(n_seeds))
    steps = len(seeds) * (len(scorers) + 1)
    done = [0]

    def tick(msg):
        if progress:
            progress(min(done[0] / steps, 1.0), msg)

    rows, all_masks, skipped, per_layer = [], {}, {}, []
    names = None
    for si, s in enumerate(seeds):
        tick(f"seed {s}: dense model")
        tm = seed_models(trained, data, [s])[s]
        done[0] += 1
        dense_model = tm.build(data)
        names = prunable_names(dense_model, include_output=include_output)
        rows.append({"seed": s, "scorer": "dense", "sparsity": 0.0, "pruned_at": "",
                     **evaluate_all(dense_model, data)})
        ft_cfg = replace(tm.train_config, epochs=finetune_epochs, seed=s)
        for name in scorers:
            if name in skipped:
                done[0] += 1
                continue
            tick(f"seed {s}: {name}")
            model = tm.build(data)
            ctx = ScoreContext(model, names, data, seed=s, init_state=tm.init_state)
            t0 = time.perf_counter()
            try:
                if name == "movement":
                    probe = tm.build(data)
                    probe_cfg = replace(tm.train_config, epochs=movement_epochs, seed=s + 1)
                    ctx.accumulated_movement = accumulate_movement(probe, data, probe_cfg, names)
                scores = score(name, ctx)
            except PruningError as exc:
                skipped[name] = str(exc)
                done[0] += 1
                continue
            seconds = time.perf_counter() - t0
            sel = select_by_sparsity(scores, sparsity, scope)
            if name == "snip":
                # Lee et al.: prune at initialisation, then train the sparse net (E + F epochs).
                pruned_model = apply_masks(tm.build(data, tm.init_state), sel.masks)
                after_prune = evaluate_all(pruned_model, data)
                sparse_cfg = replace(tm.train_config, epochs=tm.train_config.epochs + finetune_epochs,
                                     seed=s)
                if sparse_cfg.epochs > 0:
                    train(pruned_model, data, sparse_cfg, masks=sel.masks)
                pruned_at = "init"
            else:
                pruned_model = apply_masks(tm.build(data), sel.masks)
                after_prune = evaluate_all(pruned_model, data)
                if finetune_epochs > 0:
                    train(pruned_model, data, ft_cfg, masks=sel.masks)
                pruned_at = "trained"
            after_ft = evaluate_all(pruned_model, data)
            rows.append({"seed": s, "scorer": name, "sparsity": sel.reached,
                         "score_seconds": seconds, "tied_at_cutoff": sel.n_tied,
                         "pruned_at": pruned_at,
                         **{f"{k}_pruned": v for k, v in after_prune.items()}, **after_ft})
            if si == 0:
                all_masks[name] = sel.masks
                per_layer += [{"scorer": name, "layer": layer_label(n),
                               "weights": sel.masks[n].numel(), "sparsity": v}
                              for n, v in sel.per_layer.items()]
            done[0] += 1
    if progress:
        progress(1.0, "done")
    ran = [s for s in scorers if s in all_masks]
    if not ran:
        raise PruningError("no scorer could run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    runs = pd.DataFrame(rows)
    runs = runs[runs["scorer"].isin(["dense", *ran])].reset_index(drop=True)
    table = _summary(runs, ran)
    dense_rows = runs[runs["scorer"] == "dense"]
    dense = {m: float(dense_rows[m].mean()) for m in METRIC_COLUMNS}
    jac = [{"scorer_a": a, "scorer_b": b, "jaccard": jaccard(all_masks[a], all_masks[b])}
           for a in all_masks for b in all_masks]
    informed = {k: v for k, v in all_masks.items() if k != "random"}
    compared = informed if len(informed) >= 2 else all_masks
    agreement = _agreement(compared, names)
    return ScorerComparison(table, all_masks, pd.DataFrame(jac), pd.DataFrame(per_layer),
                            agreement, list(compared), sparsity, random_jaccard(sparsity), dense,
                            skipped, runs, seeds, len(data.y_test))
