"""Pruning Playground's logic, in floors that import only downwards:

    errors, config ← core ← scoring ← structured ← loop ← labs ← present ← app ← cli

``core`` trains and masks, ``scoring`` rates weights, ``structured`` removes whole units,
``loop`` prunes in rounds, ``labs`` runs each page's experiment, ``present`` turns results into
figures and sentences, ``app`` keeps a session's settings and work, ``cli`` is ``python -m
pruning``. UI-free on purpose (no streamlit import anywhere): the pages, the command line and
the tests all call the same functions. This module re-exports the public API scripts use.
"""
from pruning.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    PruneConfig,
    TrainConfig,
)
from pruning.core.data import DATASETS, DataBundle, load_dataset
from pruning.core.masks import apply_masks
from pruning.core.models import build_model, prunable_names
from pruning.core.schedules import SCHEDULES, schedule_targets
from pruning.core.selection import Selection, select_by_sparsity, select_by_threshold
from pruning.core.training import evaluate, evaluate_all, train
from pruning.errors import DatasetUnavailable, PruningError
from pruning.loop.experiment import (
    ExperimentResult,
    run_experiment,
    run_prune_rounds,
    train_dense,
)
from pruning.scoring import SCORERS, ScoreContext, score

__all__ = [
    "DataConfig", "ExperimentConfig", "ModelConfig", "PruneConfig", "TrainConfig",
    "DATASETS", "DataBundle", "load_dataset", "DatasetUnavailable", "PruningError",
    "ExperimentResult", "run_experiment", "run_prune_rounds", "train_dense", "apply_masks",
    "build_model", "prunable_names", "SCHEDULES", "schedule_targets", "SCORERS",
    "ScoreContext", "score", "Selection", "select_by_sparsity", "select_by_threshold",
    "evaluate", "evaluate_all", "train",
]
