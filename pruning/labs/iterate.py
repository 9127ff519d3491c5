"""Prune + fine-tune rounds on a copy of a trained model, with fair controls.

``run_iterate`` starts from the weights of a ``TrainedModel`` (a fresh module, so the trained
model itself never changes) and runs ``loop.run_prune_rounds`` with the chosen scorer.

Budgets, so a comparison credits the schedule and not the epochs:

* ``total_epochs`` T is the fine-tuning budget of the whole run, shared over the rounds by
  ``schedules.split_epochs`` (5 rounds, T = 15 → 3 per round). The one-shot control
  (``with_oneshot``) prunes to the same final sparsity in one round and fine-tunes T epochs:
  the same number of epochs in all.
* With ``rewind`` every round restarts the survivors from their initial weights, so each round
  is a full retraining (Frankle & Carbin 2019): it gets ``rewind_epochs`` epochs, by default
  the dense model's own training epochs E. Fewer than E is allowed and reported in
  ``warnings`` (a short retraining, not rewinding, would then explain a lower accuracy).
* The random baseline (``with_baseline``) runs the same schedule with the same epochs.

The result is plain data (tables and tensor snapshots, no live module), so a page can keep it
in the user's session.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from pruning.config import PruneConfig, TrainConfig
from pruning.core.data import DataBundle
from pruning.core.records import TrainedModel
from pruning.core.schedules import split_epochs
from pruning.loop.experiment import (
    LoopProgress,
    Snapshot,
    round_targets,
    run_prune_rounds,
    validate_prune_config,
)


@dataclass
class IterateRun:
    """``rounds``: one row per round (see ``loop.run_prune_rounds``; ``finetune_epochs`` is
    each round's budget); ``snapshots[r]`` holds the prunable weights and masks after round r
    (0 = dense); ``baseline_rounds`` the random-scorer run, ``oneshot_rounds`` the one-shot
    control at the same total budget (None if not asked for); ``dense`` the trained model's
    metrics; ``n_test`` the test-set size; ``warnings`` budget notes."""

    prune_config: PruneConfig
    finetune_config: TrainConfig
    dense: dict
    rounds: pd.DataFrame
    snapshots: list[Snapshot]
    baseline_rounds: pd.DataFrame | None = None
    oneshot_rounds: pd.DataFrame | None = None
    n_test: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def layer_names(self) -> list[str]:
        return list(self.snapshots[0].weights) if self.snapshots else []

    @property
    def total_epochs(self) -> int:
        """Fine-tuning epochs of the main run, all rounds together."""
        return int(self.rounds["finetune_epochs"].sum()) if len(self.rounds) else 0


def round_budget(prune: PruneConfig, total_epochs: int | None, dense_epochs: int,
                 rewind_epochs: int | None = None) -> tuple[list[int], list[str]]:
    """(epochs per round, warnings) for ``prune``'s rounds; see the module docstring."""
    n = len(round_targets(prune))
    if prune.rewind:
        per = dense_epochs if rewind_epochs is None else int(rewind_epochs)
        warnings = []
        if per < dense_epochs:
            warnings.append(
                f"Each round rewinds to the initial weights and retrains only {per} epoch(s); "
                f"the dense model trained {dense_epochs}. Frankle & Carbin retrain the full "
                f"budget after every rewind, so a lower accuracy here may come from the short "
                f"retraining, not from rewinding.")
        return [per] * n, warnings
    if total_epochs is None:
        return [prune.finetune_epochs] * n, []
    return split_epochs(int(total_epochs), n), []


def run_iterate(trained: TrainedModel, data: DataBundle, prune: PruneConfig,
                finetune: TrainConfig, with_baseline: bool = False,
                progress: LoopProgress | None = None, *, total_epochs: int | None = None,
                rewind_epochs: int | None = None, with_oneshot: bool = False) -> IterateRun:
    """Run the rounds (and the controls) from a copy of ``trained``'s weights.

    ``total_epochs=None`` keeps ``prune.finetune_epochs`` per round (the old behaviour).
    Progress fractions cover the whole job, each run an equal share.
    """
    validate_prune_config(prune)
    epochs, warnings = round_budget(prune, total_epochs, trained.train_config.epochs,
                                    rewind_epochs)
    runs = [("", prune, epochs)]
    if with_baseline:
        runs.append(("random baseline: ", replace(prune, scorer="random"), epochs))
    if with_oneshot and prune.schedule != "oneshot":
        one = replace(prune, schedule="oneshot", rounds=1)
        one_epochs = [epochs[0]] if prune.rewind else [sum(epochs)]
        runs.append(("one-shot control: ", one, one_epochs))
    tables, snapshots = {}, None
    for i, (label, cfg, ep) in enumerate(runs):
        def scaled(stage, frac, msg, i=i, label=label):
            if progress:
                progress(stage, (i + frac) / len(runs), label + msg)

        rounds, _, snaps, _ = run_prune_rounds(trained.build(data), data, cfg, finetune,
                                               initial_state=trained.init_state,
                                               progress=scaled, round_epochs=ep)
        tables[label] = rounds
        if snapshots is None:
            snapshots = snaps
    return IterateRun(prune, finetune, dict(trained.metrics), tables[""], snapshots,
                      tables.get("random baseline: "), tables.get("one-shot control: "),
                      len(data.y_test), warnings)
