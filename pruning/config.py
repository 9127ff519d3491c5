"""Plain dataclasses that describe an experiment.

Every knob the app, the command line and the tests can turn lives here, so one config object
fully determines a run (together with its ``seed``): the same config gives the same numbers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pruning.errors import PruningError

#: Limits of an MLP's hidden sizes (also the CNN's channels on the command line): the sidebar,
#: a shared link and ``python -m pruning run --hidden`` all read them with ``parse_hidden``.
MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH = 6, 4096


@dataclass(frozen=True)
class DataConfig:
    """Which data, how it is split, and how it is made harder.

    name:         a key of ``pruning.core.data.DATASETS`` (``digits`` works offline).
    train_size:   keep only this many training examples (a stratified subset) to make
                  overfitting easy to show; ``None`` keeps the whole training split.
    label_noise:  fraction of *training* labels replaced by a different, random class
                  (validation and test labels stay clean, so they measure the truth).
    noise:        input noise of the 2-D toy sets (standard deviation, in data units).
    n_samples:    size of a generated toy set.
    val_fraction, test_fraction: shares of the whole set held out, stratified by class.
    standardize:  z-score every feature with the *training* split's mean and standard
                  deviation (floored at 0.1, so almost-always-blank pixels do not explode);
                  MLPs train faster and more reliably on standardized inputs.
    seed:         drives the split, the subset, the label noise and generated data.
    """

    name: str = "digits"
    train_size: int | None = None
    label_noise: float = 0.0
    noise: float = 0.2
    n_samples: int = 1000
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    standardize: bool = True
    seed: int = 0


@dataclass(frozen=True)
class ModelConfig:
    """Architecture. ``kind`` is ``mlp`` or ``cnn``; ``hidden`` are the MLP's hidden widths
    (default 300, 100: the LeNet-300-100 shape); ``channels`` are the CNN's conv widths."""

    kind: str = "mlp"
    hidden: tuple[int, ...] = (300, 100)
    channels: tuple[int, ...] = (8, 16)


def parse_hidden(text: str, what: str = "hidden sizes", example: str = "300,100"
                 ) -> tuple[int, ...]:
    """``"300,100"`` -> ``(300, 100)``: the one rule for hidden sizes, wherever they are typed.

    1 to ``MAX_HIDDEN_LAYERS`` whole numbers (ASCII digits only) separated by commas, each from
    1 to ``MAX_HIDDEN_WIDTH``; spaces around a number are fine, an empty place between commas
    is not. Raises ``PruningError`` saying what is allowed. The message never quotes ``text``
    (a shared link's value must not be echoed unescaped); callers that want it add it.
    ``what`` and ``example`` word the message (the command line also reads CNN channels).
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) > MAX_HIDDEN_LAYERS or not all(p.isascii() and p.isdigit() for p in parts):
        raise PruningError(f"{what} must be 1 to {MAX_HIDDEN_LAYERS} whole numbers separated by "
                           f"commas, like {example}")
    sizes = tuple(int(p) for p in parts)
    if any(not 1 <= s <= MAX_HIDDEN_WIDTH for s in sizes):
        raise PruningError(f"{what} must each be from 1 to {MAX_HIDDEN_WIDTH}, like {example}")
    return sizes


@dataclass(frozen=True)
class TrainConfig:
    """How to train (and fine-tune). ``optimizer`` is ``adam`` or ``sgd`` (SGD uses
    ``momentum``). ``weight_decay`` is L2 added by the optimizer."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class PruneConfig:
    """What to prune, how much, and on which schedule.

    scorer:      a key of ``pruning.scoring.SCORERS``.
    scope:       ``layer`` (each layer loses the same fraction) or ``global`` (one ranking
                 over every prunable weight, so layers lose different fractions).
    sparsity:    final fraction of the *original* prunable weights to remove, or
    threshold:   prune every weight whose score is strictly below it (exactly one is set).
    schedule:    ``oneshot``, ``iterative`` (each round removes the same fraction of the
                 weights still alive) or ``gradual`` (Zhu & Gupta's cubic ramp).
    rounds:      number of prune + fine-tune rounds (``oneshot`` always uses one).
    finetune_epochs: epochs of masked retraining after each pruning step.
    finetune_batch_size: mini-batch size while fine-tuning (None = the training one). Smaller
                 batches give more, noisier steps, which helped the survivors recover on
                 digits (measured over 5 seeds: README, "Measured").
    rewind:      after each pruning step, reset surviving weights to their initial values
                 (lottery-ticket rewinding) before retraining.
    include_output: may the output layer be pruned?
    include_bias:   may biases be pruned? (off by default, as in most libraries)
    """

    scorer: str = "magnitude"
    scope: str = "global"
    sparsity: float | None = 0.9
    threshold: float | None = None
    schedule: str = "iterative"
    rounds: int = 5
    finetune_epochs: int = 5
    finetune_batch_size: int | None = 32
    rewind: bool = False
    include_output: bool = True
    include_bias: bool = False
    seed: int = 0


@dataclass(frozen=True)
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)

    def to_dict(self) -> dict:
        return asdict(self)
