"""Pruning Playground's logic: data, models, training, scoring, pruning, metrics, figures.

UI-free on purpose (no streamlit import anywhere in this package): the Streamlit pages, the
command line (``python -m pruning``) and the tests all call the same functions.
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
