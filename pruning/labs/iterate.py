"""Prune + fine-tune rounds on a copy of a trained model, optionally with a random baseline.

``run_iterate`` starts from the weights of a ``TrainedModel`` (a fresh module, so the trained
model itself never changes) and runs ``loop.run_prune_rounds`` with the chosen scorer; with
``with_baseline`` it runs the same schedule again with the ``random`` scorer (same rounds,
same fine-tuning), the control a scorer has to beat. The result is plain data (tables and
tensor snapshots, no live module), so a page can keep it in the user's session.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from pruning.config import PruneConfig, TrainConfig
from pruning.core.data import DataBundle
from pruning.core.records import TrainedModel
from pruning.loop.experiment import (
    LoopProgress,
    Snapshot,
    run_prune_rounds,
    validate_prune_config,
)


@dataclass
class IterateRun:
    """``rounds``: one row per round (see ``loop.run_prune_rounds``); ``snapshots[r]`` holds
    the prunable weights and masks after round r (0 = dense); ``baseline_rounds`` is the
    random-scorer run's table (None if not asked for); ``dense`` the trained model's metrics."""

    prune_config: PruneConfig
    finetune_config: TrainConfig
    dense: dict
    rounds: pd.DataFrame
    snapshots: list[Snapshot]
    baseline_rounds: pd.DataFrame | None = None

    @property
    def layer_names(self) -> list[str]:
        return list(self.snapshots[0].weights) if self.snapshots else []


def run_iterate(trained: TrainedModel, data: DataBundle, prune: PruneConfig,
                finetune: TrainConfig, with_baseline: bool = False,
                progress: LoopProgress | None = None) -> IterateRun:
    """Run the rounds (and the random baseline) from a copy of ``trained``'s weights.

    Progress fractions cover the whole job: the main run is [0, 1] alone, or [0, ½] followed
    by the baseline's [½, 1].
    """
    validate_prune_config(prune)
    runs = [("", prune)]
    if with_baseline:
        runs.append(("random baseline: ", replace(prune, scorer="random")))
    tables, snapshots = [], None
    for i, (label, cfg) in enumerate(runs):
        def scaled(stage, frac, msg, i=i, label=label):
            if progress:
                progress(stage, (i + frac) / len(runs), label + msg)

        rounds, _, snaps, _ = run_prune_rounds(trained.build(data), data, cfg, finetune,
                                               initial_state=trained.init_state,
                                               progress=scaled)
        tables.append(rounds)
        if snapshots is None:
            snapshots = snaps
    return IterateRun(prune, finetune, dict(trained.metrics), tables[0], snapshots,
                      tables[1] if with_baseline else None)
