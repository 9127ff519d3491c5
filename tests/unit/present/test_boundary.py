"""Decision-boundary grids and figures (pruning.present.boundary)."""
import numpy as np
import pytest
import torch
from torch import nn

from pruning import DataConfig, PruningError, load_dataset
from pruning.core.data import DataBundle
from pruning.present.boundary import (
    BoundaryGrid,
    boundary_figure,
    boundary_grid,
    changed_fraction,
    plot_range,
)


def _bundle(points: np.ndarray, labels: np.ndarray, mean=None, std=None, n_classes=2) -> DataBundle:
    """A bundle whose *standardized* inputs are ``(points - mean) / std``."""
    mean = torch.tensor(mean, dtype=torch.float32) if mean is not None else None
    std = torch.tensor(std, dtype=torch.float32) if std is not None else None
    X = torch.tensor(points, dtype=torch.float32)
    if mean is not None:
        X = (X - mean) / std
    y = torch.tensor(labels)
    return DataBundle("toy", X, y, X[:0], y[:0], X[:0], y[:0], n_classes,
                      tuple(str(i) for i in range(n_classes)), None, y, mean, std)


def _step_model(n_classes=2) -> nn.Module:
    """Logit of class c is c · x₁ (standardized): class 1 wins exactly where x₁ > 0."""
    lin = nn.Linear(2, n_classes)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.zero_()
        for c in range(n_classes):
            lin.weight[c, 0] = float(c)
    return lin


@pytest.fixture
def shifted():
    rng = np.random.default_rng(0)
    pts = rng.uniform([4, -1], [6, 1], size=(200, 2))  # centred at x₁ = 5
    return _bundle(pts, (pts[:, 0] > 5).astype(np.int64), mean=[5.0, 0.0], std=[0.5, 0.5])


def test_grid_is_in_data_units_and_standardized_for_the_model(shifted):
    grid = boundary_grid(_step_model(), shifted, resolution=41, margin=0.0)
    assert grid.proba.shape == (41, 41, 2)
    (x0, x1), (y0, y1) = plot_range(shifted, margin=0.0)
    assert grid.xs[0] == pytest.approx(x0) and grid.xs[-1] == pytest.approx(x1)
    assert 3.9 < x0 < 4.1 and 5.9 < x1 < 6.1  # original units, not standardized ones
    # the model sees (x - 5) / 0.5, so the boundary is at x = 5 in data units
    cls = grid.classes
    assert (cls[:, grid.xs > 5.01] == 1).all() and (cls[:, grid.xs < 4.99] == 0).all()
    np.testing.assert_allclose(grid.proba.sum(axis=2), 1.0, atol=1e-5)


def test_changed_fraction_counts_grid_points_whose_class_flips(shifted):
    before = boundary_grid(_step_model(), shifted, resolution=50)
    dead = nn.Linear(2, 2)
    with torch.no_grad():  # all weights pruned: constant logits, bias picks class 0
        dead.weight.zero_()
        dead.bias.copy_(torch.tensor([1.0, 0.0]))
    after = boundary_grid(dead, shifted, resolution=50)
    assert (after.classes == 0).all()
    assert changed_fraction(before, after) == pytest.approx(float((before.classes == 1).mean()))
    assert changed_fraction(before, before) == 0.0
    with pytest.raises(PruningError):
        changed_fraction(before, boundary_grid(dead, shifted, resolution=20))


def test_two_class_figure_shows_probability_and_one_trace_per_class(shifted):
    grid = boundary_grid(_step_model(), shifted, resolution=30)
    fig = boundary_figure(grid, shifted, split="train", max_points=150)
    np.testing.assert_allclose(np.asarray(fig.data[0].z), grid.proba[:, :, 1], rtol=1e-6)
    scatter = fig.data[1:]
    assert [t.name for t in scatter] == ["class 0", "class 1"]
    assert sum(len(t.x) for t in scatter) == 150
    assert {t.marker.symbol for t in scatter} == {"circle", "diamond"}  # not colour alone
    # points are drawn in data units
    xs = np.concatenate([np.asarray(t.x) for t in scatter])
    assert 3.9 < xs.min() and xs.max() < 6.1


def test_more_classes_are_drawn_as_predicted_class():
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, size=(90, 2))
    data = _bundle(pts, np.arange(90) % 3, n_classes=3)
    grid = boundary_grid(_step_model(3), data, resolution=25)
    fig = boundary_figure(grid, data)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), grid.classes)
    assert len(fig.data) == 4


def test_real_toy_set_and_bad_inputs():
    moons = load_dataset(DataConfig(name="moons", n_samples=200, seed=0))
    torch.manual_seed(0)
    grid = boundary_grid(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), moons, 20)
    assert isinstance(grid, BoundaryGrid) and grid.classes.shape == (20, 20)
    digits = load_dataset(DataConfig(name="digits", train_size=50))
    with pytest.raises(PruningError, match="2-D"):
        boundary_grid(nn.Linear(64, 10), digits)
    with pytest.raises(PruningError, match="resolution"):
        boundary_grid(nn.Linear(2, 2), moons, resolution=1)
