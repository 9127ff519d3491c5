"""What each training job of the app will cost, before it starts (``pruning.app.jobs``).

Each function counts the training a page's button runs, in epochs over the training split,
and prices it with ``estimate_training`` (the machine's measured speed, the model's size):

    train / default model   1 run of ``epochs``
    fine-tune               1 run of ``epochs`` (masked)
    iterate                 the rounds' fine-tune epochs, for every arm (schedule, one-shot
                            control, random baseline)
    compare scorers         per seed and scorer: its scoring cost (``Scorer.cost``), one
                            fine-tune; movement also its probe; each extra seed a dense run
    lottery                 1 + 3 · rounds runs of ``epochs`` (dense, ticket, re-init, random)
    structured              one fine-tune, plus unit scoring
    granularity             two fine-tunes per share of units
    sensitivity             one evaluation of the validation split per layer and level
    generalization sweep    the sweep's own plan of work (``planned_work``)
"""
from __future__ import annotations

from dataclasses import replace

from pruning.app.jobs import Estimate, ModelShape, estimate_training, model_shape
from pruning.config import ModelConfig, TrainConfig
from pruning.core.data import DataBundle
from pruning.core.models import prunable_names
from pruning.errors import PruningError
from pruning.scoring import SCORERS, ScoreContext


def shape_for(model_cfg: ModelConfig, data: DataBundle) -> ModelShape:
    return model_shape(model_cfg, data.n_features, data.n_classes, data.image_shape)


def _sizes(data: DataBundle) -> tuple[int, int]:
    s = data.sizes()
    return s["train"], s["train"] + s["val"] + s["test"]


def training_estimate(model_cfg: ModelConfig, data: DataBundle, cfg: TrainConfig, *,
                      runs: float = 1, copies: int = 2, extra_eval: float = 0,
                      label: str = "") -> Estimate:
    """``runs`` trainings of ``cfg.epochs`` epochs of ``model_cfg`` on ``data``."""
    shape = shape_for(model_cfg, data)
    n_train, n_eval = _sizes(data)
    runs_txt = f"{runs:g} × " if runs != 1 else ""
    what = label or (f"{runs_txt}{cfg.epochs} epochs of {shape.describe(model_cfg)} on "
                     f"{n_train:,} examples")
    return estimate_training(shape, n_train, n_eval, cfg.epochs, cfg.batch_size, runs=runs,
                             copies=copies, extra_eval=extra_eval, what=what)


def iterate_estimate(model_cfg: ModelConfig, data: DataBundle, total_epochs: int,
                     snapshots: int, ft: TrainConfig) -> Estimate:
    """``total_epochs`` of masked fine-tuning over all rounds and arms (schedule, one-shot
    control, random baseline), with ``snapshots`` rounds' weights and masks kept for replay."""
    return training_estimate(model_cfg, data, replace(ft, epochs=total_epochs), copies=3 + snapshots,
                             label=f"{total_epochs} epochs of fine-tuning in all")


def lottery_estimate(model_cfg: ModelConfig, data: DataBundle, train_cfg: TrainConfig,
                     rounds: int, epochs: int) -> Estimate:
    runs = 1 + 3 * rounds
    return training_estimate(model_cfg, data, replace(train_cfg, epochs=epochs), runs=runs,
                             copies=4 + 2 * rounds,
                             label=f"{runs} training runs of {epochs} epochs")


def scorers_estimate(model_cfg: ModelConfig, data: DataBundle, train_cfg: TrainConfig,
                     n_scorers: int, finetune_epochs: int, movement_epochs: int,
                     with_movement: bool, scoring_seconds: float = 0.0,
                     n_seeds: int = 1) -> Estimate:
    """Per seed: every scorer scores and fine-tunes (movement also runs its probe); every seed
    after the first first trains its own dense model (``train_cfg.epochs``)."""
    per_seed = n_scorers * finetune_epochs + (movement_epochs if with_movement else 0)
    epochs = n_seeds * per_seed + (n_seeds - 1) * train_cfg.epochs
    est = training_estimate(model_cfg, data, replace(train_cfg, epochs=1), runs=epochs,
                            copies=3 + n_scorers,
                            label=f"{n_seeds} seed(s) × {n_scorers} scorers, {epochs} epochs "
                                  "of training in all")
    return replace(est, seconds=est.seconds + n_seeds * scoring_seconds)


def scoring_seconds(trained, data: DataBundle, scorers, seed: int = 0) -> float:
    """Sum of the scorers' own estimates (``Scorer.cost``) on ``trained``'s model (a
    ``TrainedModel``); a scorer whose estimate cannot be made counts 0."""
    model = trained.build(data)
    ctx = ScoreContext(model, prunable_names(model, include_output=True), data, seed=seed,
                       init_state=trained.init_state)
    total = 0.0
    for name in scorers:
        try:
            total += float(SCORERS[name].cost(ctx))
        except (KeyError, PruningError):
            pass
    return total


def structured_estimate(model_cfg: ModelConfig, data: DataBundle, train_cfg: TrainConfig,
                        finetune_epochs: int, runs: int = 1) -> Estimate:
    n_val = data.sizes()["val"]
    return training_estimate(model_cfg, data, replace(train_cfg, epochs=finetune_epochs),
                             runs=runs, copies=4 + 2 * runs, extra_eval=3 * n_val * runs,
                             label=f"{runs} fine-tune(s) of {finetune_epochs} epochs")


def sensitivity_estimate(model_cfg: ModelConfig, data: DataBundle, n_layers: int,
                         n_levels: int) -> Estimate:
    shape = shape_for(model_cfg, data)
    n_val = data.sizes()["val"]
    return estimate_training(shape, 0, 0, 0, extra_eval=(n_layers * n_levels + 2) * n_val,
                             copies=2, what=f"{n_layers * n_levels} evaluations")


def sweep_estimate(model_cfg: ModelConfig, data: DataBundle, work: float, n_seeds: int,
                   batch_size: int, members: int) -> Estimate:
    """The Generalization sweep: ``work`` = its planned weight · epoch · example count (for
    an MLP, weights = multiply-adds per example), trained ``members`` models side by side."""
    shape = shape_for(model_cfg, data)
    n_train, n_eval = _sizes(data)
    # express the work as epochs of the wide model, each ~4/3 of the training cost in
    # evaluation too (train, val and test are evaluated after every epoch)
    epochs = work / max(shape.macs * max(n_train, 1), 1)
    est = estimate_training(shape, n_train, n_eval, epochs, batch_size,
                            copies=2 * max(members, 1),
                            what=f"{n_seeds} seed(s), about {epochs:,.0f} model-epochs")
    return replace(est, bytes=est.bytes + (members - 1) * 16 * shape.params)


def tradeoff_estimate(model_cfg: ModelConfig, data: DataBundle, train_cfg: TrainConfig,
                      cfg) -> Estimate:
    """The trade-off curve (``pruning.labs.tradeoff``): every recipe level × seed fine-tunes
    ``cfg.finetune_epochs`` epochs; then every point and the dense model are timed (two forms
    per point, ``cfg.repeats`` runs of ≥ 10 ms, up to 3 attempts on a busy machine)."""
    levels = 2 * len(cfg.sparsities) + len(cfg.unit_fractions)
    runs = levels * cfg.seeds
    est = training_estimate(model_cfg, data, replace(train_cfg, epochs=cfg.finetune_epochs,
                                                     batch_size=cfg.finetune_batch_size),
                            runs=runs, copies=3 + levels,
                            label=f"{runs} fine-tunings of {cfg.finetune_epochs} epochs, "
                                  f"then {2 * levels + 2} models timed")
    timing = (2 * levels + 2) * cfg.repeats * 0.012
    return Estimate(est.seconds + timing, est.bytes, est.what)
