"""Data sets as in-memory tensors with a seeded, stratified train / validation / test split.

Every set is small enough to live in memory, so training needs no DataLoader: a ``DataBundle``
holds float32 inputs ``X`` of shape (N, D) (images are flattened; ``image_shape`` says how to
fold them back to (C, H, W) for a CNN or a picture) and int64 labels ``y`` of shape (N,).

Overfitting knobs act on the *training* split only:
  * ``train_size`` keeps a stratified subset of it;
  * ``label_noise`` = p replaces round(p · n_train) training labels by a uniformly drawn
    *different* class (so p = 1 makes every training label wrong). Validation and test
    labels stay clean, so they keep measuring the truth.
"""
from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from pruning.config import DataConfig
from pruning.errors import (
    DatasetUnavailable,
    PruningError,
    check_choice,
    check_fraction,
    check_positive_int,
    check_seed,
)

#: Where downloaded data (MNIST, Fashion-MNIST) is cached: the project's ``datasets/``.
DATA_ROOT = Path(__file__).resolve().parents[2] / "datasets"   # the project's datasets/ folder


@dataclass(frozen=True)
class DataBundle:
    """Tensors of one split data set. Treat as read-only: it may be shared between sessions."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int] | None  # (C, H, W) for images, None for 2-D points
    y_train_clean: torch.Tensor  # training labels before label noise (for teaching plots)
    feature_mean: torch.Tensor | None = None  # (D,) subtracted when standardized
    feature_std: torch.Tensor | None = None   # (D,) divided by when standardized

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def unstandardize(self, X: torch.Tensor) -> torch.Tensor:
        """Inputs back in their original units (pixels in [0, 1]) for pictures."""
        if self.feature_mean is None:
            return X
        return X * self.feature_std + self.feature_mean

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    def split(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X, y)`` of ``train``, ``val`` or ``test``."""
        check_choice("split", which, ("train", "val", "test"))
        return getattr(self, f"X_{which}"), getattr(self, f"y_{which}")

    def sizes(self) -> dict[str, int]:
        return {s: int(self.split(s)[1].shape[0]) for s in ("train", "val", "test")}


# --------------------------------------------------------------------------- raw sources
# Each source returns (X float32 (N, D), y int64 (N,), class_names, image_shape).

def _digits(cfg: DataConfig):
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    return X, d.target.astype(np.int64), tuple(str(i) for i in range(10)), (1, 8, 8)


def _moons(cfg: DataConfig):
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=cfg.n_samples, noise=cfg.noise, random_state=cfg.seed)
    return X.astype(np.float32), y.astype(np.int64), ("0", "1"), None


def _circles(cfg: DataConfig):
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=cfg.n_samples, noise=cfg.noise, factor=0.5,
                        random_state=cfg.seed)
    return X.astype(np.float32), y.astype(np.int64), ("0", "1"), None


def _spirals(cfg: DataConfig):
    """Two interleaved spirals: r grows with the angle; class 1 is class 0 turned by pi."""
    rng = np.random.default_rng(cfg.seed)
    n = cfg.n_samples // 2
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * math.pi  # sqrt: even density along the arm
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * math.pi)
    X = np.concatenate([arm, -arm]) + rng.normal(0, cfg.noise * 0.5, (2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)])
    return X.astype(np.float32), y.astype(np.int64), ("0", "1"), None


def _xor(cfg: DataConfig):
    """Points uniform in [-1, 1]^2; the label is whether x and y have the same sign."""
    rng = np.random.default_rng(cfg.seed)
    X = rng.uniform(-1, 1, (cfg.n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X = X + rng.normal(0, cfg.noise * 0.5, X.shape)
    return X.astype(np.float32), y, ("0", "1"), None


#: A failed download is remembered this long (seconds): torchvision tries several mirrors
#: with long time-outs, and a page that reruns on every click must not wait for them each time.
DOWNLOAD_RETRY_AFTER = 120.0
_failed_downloads: dict[str, tuple[float, str]] = {}


def _torchvision(cls_name: str, label: str):
    def load(cfg: DataConfig):
        import time

        import torchvision

        root = DATA_ROOT
        key = f"{cls_name}@{root}"
        failed = _failed_downloads.get(key)
        if failed is not None and time.monotonic() - failed[0] < DOWNLOAD_RETRY_AFTER:
            raise DatasetUnavailable(failed[1])
        cls = getattr(torchvision.datasets, cls_name)
        parts = []
        try:
            for train in (True, False):
                ds = cls(root=str(root), train=train, download=True)
                parts.append((ds.data.numpy(), ds.targets.numpy()))
        except Exception as exc:  # urllib/HTTP/OS errors all mean: not available here
            message = (
                f"{label} is not on this machine and could not be downloaded ({type(exc).__name__}). "
                f"Connect to the internet once (it is saved under {root}/{cls_name}/raw), "
                f"or choose the offline 'digits' data set.")
            _failed_downloads[key] = (time.monotonic(), message)
            raise DatasetUnavailable(message) from None
        _failed_downloads.pop(key, None)
        X = np.concatenate([p[0] for p in parts]).reshape(-1, 28 * 28).astype(np.float32) / 255.0
        y = np.concatenate([p[1] for p in parts]).astype(np.int64)
        names = tuple(cls.classes) if hasattr(cls, "classes") else tuple(str(i) for i in range(10))
        return X, y, tuple(str(n).split(" - ")[-1] for n in names), (1, 28, 28)

    return load


#: Held while a library that only knows the global generators draws from them (MNIST-1D).
_GLOBAL_RNG_LOCK = threading.Lock()


def _mnist1d(cfg: DataConfig):
    """MNIST-1D (Greydanus 2020): 40-sample 1-D signals, 10 classes, generated locally.

    Uses ``mnist1d.data.make_dataset`` with the package's default arguments and our seed;
    its ``get_dataset`` would try to download a pickle, so it is never called.

    ``make_dataset`` seeds and draws from numpy's and Python's *global* generators (the
    package has no generator argument). Those are shared by every thread of the server, so
    generation holds ``_GLOBAL_RNG_LOCK`` (two students' data sets cannot interleave their
    draws; nothing else in ``pruning`` touches the global generators) and puts the global
    states back afterwards.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = cfg.seed
    args.num_samples = max(cfg.n_samples, 100)
    args.train_split = 0.999  # we split ourselves below (stratified, with validation)
    with _GLOBAL_RNG_LOCK:
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            d = make_dataset(args)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
    X = np.concatenate([d["x"], d["x_test"]]).astype(np.float32)
    y = np.concatenate([d["y"], d["y_test"]]).astype(np.int64)
    return X, y, tuple(str(i) for i in range(10)), None


#: name -> (loader, description). Add a data set by adding a line here.
DATASETS: dict[str, tuple[Callable, str]] = {
    "digits": (_digits, "8x8 handwritten digits (1,797 images, bundled with scikit-learn, offline)"),
    "moons": (_moons, "two interleaving half-moons in 2-D"),
    "circles": (_circles, "a circle inside a ring in 2-D"),
    "spirals": (_spirals, "two intertwined spirals in 2-D"),
    "xor": (_xor, "four quadrants, opposite corners share a class (2-D)"),
    "mnist": (_torchvision("MNIST", "MNIST"), "28x28 handwritten digits (70,000; downloads once)"),
    "fashion_mnist": (_torchvision("FashionMNIST", "Fashion-MNIST"),
                      "28x28 clothing images (70,000; downloads once)"),
    "mnist1d": (_mnist1d, "MNIST-1D: 1-D signals of 40 samples, generated locally"),
}

TOY_2D = ("moons", "circles", "spirals", "xor")


def validate_data_config(cfg: DataConfig) -> DataConfig:
    """Raise ``PruningError`` with a readable message for any bad field."""
    check_choice("dataset", cfg.name, DATASETS)
    check_seed(cfg.seed)
    check_fraction("label noise", cfg.label_noise)
    check_fraction("validation fraction", cfg.val_fraction, allow_one=False)
    check_fraction("test fraction", cfg.test_fraction, allow_one=False)
    if cfg.val_fraction + cfg.test_fraction >= 0.9:
        raise PruningError("validation + test fractions must leave at least 10 % for training")
    if not (0.0 <= float(cfg.noise) <= 5.0) or cfg.noise != cfg.noise:
        raise PruningError(f"input noise must be between 0 and 5, got {cfg.noise!r}")
    if cfg.name in TOY_2D or cfg.name == "mnist1d":
        n = check_positive_int("number of samples", cfg.n_samples, minimum=50)
        if n > 200_000:
            raise PruningError(f"number of samples must be at most 200000, got {n}")
    if cfg.train_size is not None:
        check_positive_int("training-set size", cfg.train_size, minimum=1)
    return cfg


def _stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a stratified sample of size ``n`` (classes in proportion; every class at
    least once when n >= #classes). Largest-remainder rounding makes the sizes add to n."""
    classes, counts = np.unique(y, return_counts=True)
    quota = counts / counts.sum() * n
    take = np.maximum(np.floor(quota).astype(int), 1 if n >= len(classes) else 0)
    take = np.minimum(take, counts)
    while take.sum() < n:  # hand out the remainder by largest fractional part, ties by class
        room = take < counts
        frac = np.where(room, quota - take, -np.inf)
        take[int(np.argmax(frac))] += 1
    while take.sum() > n:
        take[int(np.argmax(take))] -= 1
    out = []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(y == c)
        out.append(rng.permutation(idx)[:k])
    return np.sort(np.concatenate(out))


def split_indices(y: np.ndarray, val_fraction: float, test_fraction: float, seed: int):
    """Stratified (train, val, test) index arrays; each class is split in the same shares."""
    rng = np.random.default_rng(seed)
    tr, va, te = [], [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_te = int(round(len(idx) * test_fraction))
        n_va = int(round(len(idx) * val_fraction))
        te.append(idx[:n_te])
        va.append(idx[n_te:n_te + n_va])
        tr.append(idx[n_te + n_va:])
    return tuple(np.sort(np.concatenate(p)) for p in (tr, va, te))


def apply_label_noise(y: np.ndarray, fraction: float, n_classes: int, seed: int) -> np.ndarray:
    """Return a copy of ``y`` with round(fraction · len(y)) labels moved to another class.

    The changed positions and their new classes are drawn from ``seed``; a changed label
    never keeps its value, so ``fraction`` is exactly the share of wrong labels.
    """
    fraction = check_fraction("label noise", fraction)
    y = y.copy()
    if n_classes < 2:
        return y
    rng = np.random.default_rng(seed + 7919)  # own stream: noise does not change the split
    n_flip = int(round(fraction * len(y)))
    pos = rng.permutation(len(y))[:n_flip]
    shift = rng.integers(1, n_classes, size=n_flip)  # 1..C-1: never the same class
    y[pos] = (y[pos] + shift) % n_classes
    return y


def load_raw(cfg: DataConfig):
    """The full, unsplit set: (X, y, class_names, image_shape). May download (MNIST)."""
    validate_data_config(cfg)
    loader, _ = DATASETS[cfg.name]
    return loader(cfg)


def load_dataset(cfg: DataConfig | None = None, **overrides) -> DataBundle:
    """Load, split and (optionally) subsample / add label noise. Deterministic in ``cfg.seed``.

    >>> b = load_dataset(DataConfig(name="digits", train_size=100, label_noise=0.2))
    >>> b.sizes()["train"]
    100
    """
    cfg = replace(cfg or DataConfig(), **overrides)
    X, y, names, image_shape = load_raw(cfg)
    n_classes = len(names)
    tr, va, te = split_indices(y, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    if cfg.train_size is not None:
        n = int(cfg.train_size)
        if n < n_classes:
            raise PruningError(
                f"training-set size {n} is smaller than the number of classes ({n_classes}); "
                f"use at least {n_classes} so every class can appear")
        if n > len(tr):
            raise PruningError(f"training-set size {n} is larger than the training split "
                               f"({len(tr)} examples); use at most {len(tr)}")
        tr = tr[_stratified_take(y[tr], n, np.random.default_rng(cfg.seed + 1))]
    y_tr_clean = y[tr]
    y_tr = apply_label_noise(y_tr_clean, cfg.label_noise, n_classes, cfg.seed)
    mean = std = None
    if cfg.standardize:
        # Statistics from the training split only: the held-out splits stay unseen.
        mean = X[tr].mean(axis=0)
        std = np.maximum(X[tr].std(axis=0), 0.1).astype(np.float32)
        X = ((X - mean) / std).astype(np.float32)
    t = torch.from_numpy
    return DataBundle(
        name=cfg.name,
        X_train=t(np.ascontiguousarray(X[tr])), y_train=t(y_tr),
        X_val=t(np.ascontiguousarray(X[va])), y_val=t(y[va]),
        X_test=t(np.ascontiguousarray(X[te])), y_test=t(y[te]),
        n_classes=n_classes, class_names=names, image_shape=image_shape,
        y_train_clean=t(y_tr_clean),
        feature_mean=None if mean is None else t(mean.astype(np.float32)),
        feature_std=None if std is None else t(std),
    )


# --------------------------------------------------------------------------- splits for scorers
def validation_split(data: DataBundle) -> tuple[torch.Tensor, torch.Tensor]:
    """The validation split ``(X, y)``, or the training split when there is no validation data."""
    X, y = data.X_val, data.y_val
    if len(y) == 0:
        X, y = data.X_train, data.y_train
    return X, y


def training_subset(data: DataBundle, max_examples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training split ``(X, y)``, or a seeded random subset of ``max_examples`` rows
    (kept in their original order)."""
    X, y = data.X_train, data.y_train
    if len(y) <= max_examples:
        return X, y
    gen = torch.Generator().manual_seed(seed + 1301)
    idx = torch.randperm(len(y), generator=gen)[:max_examples].sort().values
    return X[idx], y[idx]
