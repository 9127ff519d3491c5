"""The records of a model's life, as plain data: trained, pruned, fine-tuned, and the functions
that make each from the one before. The app keeps them per browser session in a
``pruning.app.workspace.Workspace``; nothing here knows about Streamlit, so tests use the same
objects.

Models are stored as state_dicts (tensors), never as live modules: every use builds a fresh
module with ``TrainedModel.build()``, so a shared, cached ``TrainedModel`` (the one-click
default) can never be changed by one session under another's feet.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from pruning.config import DataConfig, ModelConfig, PruneConfig, TrainConfig
from pruning.core.data import DataBundle, load_dataset
from pruning.core.masks import Masks, apply_masks
from pruning.core.models import build_model
from pruning.core.training import ProgressFn, evaluate_all, train
from pruning.errors import PruningError


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass(frozen=True)
class TrainedModel:
    """A dense model after training. Treat as immutable (it may be shared between sessions)."""

    data_config: DataConfig
    model_config: ModelConfig
    train_config: TrainConfig
    init_state: dict
    state: dict
    history: pd.DataFrame
    metrics: dict

    def build(self, data: DataBundle, state: dict | None = None) -> nn.Module:
        """A new module holding a *copy* of ``state`` (default: the trained weights)."""
        model = build_model(self.model_config, data.n_features, data.n_classes,
                            data.image_shape, seed=self.train_config.seed)
        # load_state_dict copies the values into the module's own tensors, so the (possibly
        # shared) ``state`` is never aliased; no deep copy needed first.
        model.load_state_dict(state if state is not None else self.state)
        model.eval()
        return model


def train_model(data_config: DataConfig, model_config: ModelConfig, train_config: TrainConfig,
                data: DataBundle | None = None, progress: ProgressFn | None = None,
                should_stop=None,
                watch: Callable[[int, int, nn.Module], None] | None = None) -> TrainedModel:
    """Build, train and package a dense model (deterministic in the configs' seeds).

    ``watch(epoch, epochs, model)`` is called right after ``progress`` with the module being
    trained, to draw it (the Train page's live decision boundary and network). It must only
    read: a forward pass under ``torch.no_grad`` that puts the train/eval mode back, as
    ``pruning.present.boundary.boundary_grid`` does, leaves the run's numbers unchanged."""
    data = data or load_dataset(data_config)
    model = build_model(model_config, data.n_features, data.n_classes, data.image_shape,
                        seed=train_config.seed)
    init_state = _copy_state(model)
    report = progress
    if watch is not None:
        def report(epoch: int, epochs: int, row: dict) -> None:
            if progress is not None:
                progress(epoch, epochs, row)
            watch(epoch, epochs, model)
    history = train(model, data, train_config, progress=report, should_stop=should_stop)
    return TrainedModel(data_config, model_config, train_config, init_state,
                        _copy_state(model), history, evaluate_all(model, data))


@dataclass
class PrunedModel:
    """The trained model after one pruning step (masks applied), before fine-tuning.

    ``started_from`` is ``"dense"`` (the trained weights) or ``"fine-tuned"`` (pruned again
    from a fine-tuned model: ``masks`` then include every weight pruned before).
    """

    prune_config: PruneConfig
    masks: Masks
    state: dict
    metrics: dict
    started_from: str = "dense"


@dataclass
class FinetunedModel:
    """A pruned model after masked retraining; ``train_config`` is how it was fine-tuned."""

    masks: Masks
    state: dict
    history: pd.DataFrame
    metrics: dict
    train_config: TrainConfig | None = None


def prune_trained(trained: TrainedModel, data: DataBundle, prune_config: PruneConfig,
                  masks: Masks, start: FinetunedModel | None = None,
                  into: nn.Module | None = None) -> PrunedModel:
    """Apply ``masks`` to a copy of the trained weights and evaluate it.

    With ``start`` (a fine-tuned model) the masks are applied to *its* weights instead: pruning
    again, the repeat step of the loop. ``masks`` must then keep every weight ``start`` had
    pruned pruned (``select_by_*(…, previous=start.masks)`` does); a mask that would revive
    one is refused, because a revived weight would come back as 0, not as a trained value.

    ``into``: a module made by ``trained.build`` to hold the pruned copy instead of a new one
    (the Prune page keeps one per session and re-fills it on every slider move); it is left
    holding the pruned weights. The result owns its own copy either way.
    """
    if start is not None:
        revived = [n for n, m in start.masks.items() if n in masks and bool((masks[n] & ~m).any())]
        if revived or set(start.masks) - set(masks):
            raise PruningError("pruning again must keep every weight pruned before pruned "
                               f"(not so in {', '.join(revived) or 'a missing layer'})")
    if into is None:
        model = trained.build(data, None if start is None else start.state)
    else:
        model = into
        model.load_state_dict(trained.state if start is None else start.state)
        model.eval()
    apply_masks(model, masks)
    return PrunedModel(prune_config, {k: v.clone() for k, v in masks.items()},
                       _copy_state(model), evaluate_all(model, data),
                       started_from="dense" if start is None else "fine-tuned")


def finetune_pruned(trained: TrainedModel, pruned: PrunedModel, data: DataBundle,
                    train_config: TrainConfig, progress: ProgressFn | None = None) -> FinetunedModel:
    """Retrain the pruned weights with the masks held at zero (see ``training.train``)."""
    model = trained.build(data, pruned.state)
    history = train(model, data, train_config, masks=pruned.masks, progress=progress)
    return FinetunedModel({k: v.clone() for k, v in pruned.masks.items()}, _copy_state(model),
                          history, evaluate_all(model, data), train_config)
