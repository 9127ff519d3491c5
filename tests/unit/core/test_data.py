"""Data sets, the stratified split and the overfitting knobs (pruning.core.data)."""

from pathlib import Path

import numpy as np
import pytest
import torch

import pruning.core.data as pdata
from pruning import DATASETS, DataConfig, DatasetUnavailable, PruningError, load_dataset
from pruning.core.data import TOY_2D, apply_label_noise, load_raw, split_indices


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits", seed=0))


def _counts(y, n_classes):
    return np.bincount(y.numpy(), minlength=n_classes)


# --------------------------------------------------------------------------- split

def test_stratified_split_sizes_and_every_class_everywhere(digits):
    cfg = DataConfig(name="digits", seed=0)
    _, y_all, _, _ = load_raw(cfg)
    sizes = digits.sizes()
    assert sum(sizes.values()) == len(y_all)
    all_counts = np.bincount(y_all, minlength=digits.n_classes)
    for split, frac in (("val", cfg.val_fraction), ("test", cfg.test_fraction)):
        c = _counts(digits.split(split)[1], digits.n_classes)
        assert (c > 0).all()
        # each class is split in the same share (up to rounding of that class's count)
        assert np.all(np.abs(c - frac * all_counts) <= 0.5 + 1e-9)
    assert (_counts(digits.y_train, digits.n_classes) > 0).all()
    assert sizes["train"] == pytest.approx(len(y_all) * (1 - cfg.val_fraction - cfg.test_fraction),
                                           abs=digits.n_classes)
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert digits.X_train.shape == (sizes["train"], digits.n_features)


def test_split_indices_partition_the_data():
    y = np.repeat(np.arange(4), [10, 25, 7, 58])
    tr, va, te = split_indices(y, 0.2, 0.3, seed=1)
    allidx = np.concatenate([tr, va, te])
    assert len(allidx) == len(y) and len(np.unique(allidx)) == len(y)
    for part in (tr, va, te):
        assert set(np.unique(y[part])) == set(range(4))


def test_standardized_with_training_statistics(digits):
    mean = digits.X_train.mean(0)
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-4)
    assert digits.feature_std.min() >= 0.1
    raw = load_dataset(DataConfig(name="digits", seed=0, standardize=False))
    assert torch.allclose(digits.unstandardize(digits.X_test), raw.X_test, atol=1e-5)
    assert torch.equal(digits.y_test, raw.y_test)


def test_same_seed_same_data_different_seed_different_split():
    a = load_dataset(DataConfig(name="digits", seed=4, train_size=50, label_noise=0.2))
    b = load_dataset(DataConfig(name="digits", seed=4, train_size=50, label_noise=0.2))
    c = load_dataset(DataConfig(name="digits", seed=5, train_size=50, label_noise=0.2))
    for s in ("train", "val", "test"):
        assert torch.equal(a.split(s)[0], b.split(s)[0]) and torch.equal(a.split(s)[1], b.split(s)[1])
    assert not torch.equal(a.X_test, c.X_test)


# --------------------------------------------------------------------------- train_size

@pytest.mark.parametrize("n", [10, 11, 37, 100, 500])
def test_train_size_keeps_exactly_n_and_every_class(digits, n):
    b = load_dataset(DataConfig(name="digits", seed=0, train_size=n))
    assert b.sizes()["train"] == n
    counts = _counts(b.y_train, b.n_classes)
    assert (counts >= 1).all()
    full = _counts(digits.y_train, digits.n_classes)
    quota = full / full.sum() * n
    assert np.all(np.abs(counts - quota) < 1 + 1e-9)  # proportional up to rounding
    # validation and test do not change with the subset
    assert torch.equal(b.y_val, digits.y_val) and torch.equal(b.y_test, digits.y_test)
    # the subset's rows come from the training split (standardization differs, so compare raw)
    raw_full = load_dataset(DataConfig(name="digits", seed=0, standardize=False))
    raw_sub = load_dataset(DataConfig(name="digits", seed=0, standardize=False, train_size=n))
    full_rows = {tuple(r) for r in raw_full.X_train.numpy().round(6).tolist()}
    assert all(tuple(r) in full_rows for r in raw_sub.X_train.numpy().round(6).tolist())


@pytest.mark.parametrize("n", [1, 5, 9])
def test_train_size_below_class_count_raises_clear_error(n):
    with pytest.raises(PruningError) as e:
        load_dataset(DataConfig(name="digits", train_size=n))
    msg = str(e.value)
    assert f"training-set size {n}" in msg and "classes" in msg and "10" in msg


def test_train_size_above_training_split_raises(digits):
    n = digits.sizes()["train"] + 1
    with pytest.raises(PruningError, match="larger than the training split"):
        load_dataset(DataConfig(name="digits", train_size=n))


def test_train_size_zero_raises():
    with pytest.raises(PruningError, match="at least 1"):
        load_dataset(DataConfig(name="digits", train_size=0))


# --------------------------------------------------------------------------- label noise

def test_label_noise_one_makes_every_training_label_wrong(digits):
    b = load_dataset(DataConfig(name="digits", seed=0, label_noise=1.0))
    assert (b.y_train != b.y_train_clean).all()
    assert torch.equal(b.y_train_clean, digits.y_train)
    assert ((b.y_train >= 0) & (b.y_train < b.n_classes)).all()
    # validation / test and all inputs untouched
    for s in ("val", "test"):
        assert torch.equal(b.split(s)[1], digits.split(s)[1])
        assert torch.equal(b.split(s)[0], digits.split(s)[0])
    assert torch.equal(b.X_train, digits.X_train)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.25, 0.33, 0.5, 0.8])
def test_label_noise_changes_exactly_round_p_n_labels(p):
    b = load_dataset(DataConfig(name="digits", seed=2, train_size=300, label_noise=p))
    n = b.sizes()["train"]
    assert int((b.y_train != b.y_train_clean).sum()) == round(p * n)
    assert ((b.y_train >= 0) & (b.y_train < b.n_classes)).all()


def test_apply_label_noise_binary_and_copy():
    y = np.array([0, 1] * 25)
    noisy = apply_label_noise(y, 1.0, 2, seed=0)
    assert (noisy == 1 - y).all()
    assert (y == np.array([0, 1] * 25)).all()  # input not modified


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_label_noise_raises(bad):
    with pytest.raises(PruningError, match="label noise"):
        load_dataset(DataConfig(name="digits", label_noise=bad))


# --------------------------------------------------------------------------- toy sets / names

@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "xor"])
def test_toy_sets_are_2d(name):
    assert name in TOY_2D
    b = load_dataset(DataConfig(name=name, n_samples=200, seed=0))
    assert b.n_features == 2 and b.X_train.shape[1] == 2 and b.X_test.shape[1] == 2
    assert b.image_shape is None and not b.is_image
    assert b.n_classes == 2
    assert sum(b.sizes().values()) == 200
    for s in ("train", "val", "test"):
        X, y = b.split(s)
        assert set(y.tolist()) == {0, 1}
        assert torch.isfinite(X).all()


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(PruningError) as e:
        load_dataset(DataConfig(name="cifar10"))
    msg = str(e.value)
    assert "'cifar10'" in msg
    for name in DATASETS:
        assert name in msg


def _unreachable_mirrors(monkeypatch) -> None:
    """Point torchvision's MNIST / Fashion-MNIST downloads at a closed loopback port: a real
    failed connection on any machine, online or not, so the offline path is always tested."""
    import torchvision

    for cls in (torchvision.datasets.MNIST, torchvision.datasets.FashionMNIST):
        monkeypatch.setattr(cls, "mirrors", ["http://127.0.0.1:9/"])


@pytest.mark.parametrize("name,label", [("mnist", "MNIST"), ("fashion_mnist", "Fashion-MNIST")])
def test_download_sets_offline_raise_dataset_unavailable(name, label, tmp_path, monkeypatch):
    # An empty cache directory, so a file cached by someone else cannot hide the offline path.
    monkeypatch.setattr(pdata, "DATA_ROOT", tmp_path)
    _unreachable_mirrors(monkeypatch)
    with pytest.raises(DatasetUnavailable) as e:
        load_dataset(DataConfig(name=name))
    msg = str(e.value)
    assert isinstance(e.value, PruningError)
    assert label in msg and "internet" in msg and "'digits'" in msg
    assert str(tmp_path) in msg


def test_failed_download_is_remembered_so_reruns_do_not_wait_again(tmp_path, monkeypatch):
    # Count real attempts: the second load within DOWNLOAD_RETRY_AFTER must not try again.
    import torchvision

    monkeypatch.setattr(pdata, "DATA_ROOT", tmp_path)
    _unreachable_mirrors(monkeypatch)
    attempts = []
    real = torchvision.datasets.MNIST

    def counting(*args, **kwargs):
        attempts.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(torchvision.datasets, "MNIST", counting)
    for _ in range(2):
        with pytest.raises(DatasetUnavailable):
            load_dataset(DataConfig(name="mnist"))
    assert len(attempts) == 1
    monkeypatch.setattr(pdata, "DOWNLOAD_RETRY_AFTER", 0.0)
    with pytest.raises(DatasetUnavailable):
        load_dataset(DataConfig(name="mnist"))
    assert len(attempts) == 2


# --------------------------------------------------------------------------- bad configs

@pytest.mark.parametrize("overrides,needle", [
    (dict(val_fraction=0.5, test_fraction=0.45), "at least 10 %"),
    (dict(val_fraction=1.0), "validation fraction"),
    (dict(name="moons", noise=float("nan")), "input noise"),
    (dict(name="moons", noise=-1.0), "input noise"),
    (dict(name="moons", n_samples=10), "number of samples"),
])

def test_bad_data_config_raises(overrides, needle):
    with pytest.raises(PruningError, match=needle):
        load_dataset(DataConfig(**overrides))


def test_downloads_are_cached_in_the_projects_datasets_folder():
    root = Path(__file__).resolve().parents[3]
    assert pdata.DATA_ROOT == root / "datasets" and (root / "datasets" / "README.md").exists()
