"""Data pictures: images, 2-D scatter, 1-D signals."""
import numpy as np
import pytest

from pruning import DataConfig, load_dataset
from pruning.present.data_preview import (
    data_samples_figure,
    image_samples_figure,
    sample_indices,
    scatter_2d_figure,
    signal_samples_figure,
)


def test_sample_indices_cover_every_class_first_and_are_seeded():
    y = np.repeat(np.arange(5), 20)
    idx = sample_indices(y, 12, seed=3)
    assert sorted(y[idx[:5]]) == [0, 1, 2, 3, 4]
    assert len(set(idx)) == 12
    assert (sample_indices(y, 12, seed=3) == idx).all()
    assert not (sample_indices(y, 12, seed=4) == idx).all()
    assert len(sample_indices(y[:3], 10)) == 3


def test_images_are_in_pixel_units_and_titled_by_class():
    data = load_dataset(DataConfig(name="digits", seed=0))
    fig = image_samples_figure(data, n=10)
    assert len(fig.data) == 10
    X = data.unstandardize(data.X_train).numpy().reshape(-1, 8, 8)
    for trace in fig.data:  # every picture is one real training image, in pixel units
        z = np.asarray(trace.z, dtype=float)
        assert z.shape == (8, 8) and z.min() >= 0 and z.max() <= 1
        assert np.abs(X - z).reshape(len(X), -1).max(1).min() < 1e-5
    titles = sorted(a.text for a in fig.layout.annotations)
    assert titles == [str(i) for i in range(10)]


def test_label_noise_is_visible_in_image_titles():
    data = load_dataset(DataConfig(name="digits", train_size=50, label_noise=1.0, seed=0))
    fig = image_samples_figure(data, n=10)
    assert all("(is " in a.text for a in fig.layout.annotations)
    assert "10 with a wrong label" in fig.layout.title.text


def test_scatter_one_trace_per_class_plus_flipped_ring():
    data = load_dataset(DataConfig(name="moons", label_noise=0.1, seed=0))
    fig = scatter_2d_figure(data)
    assert [t.name for t in fig.data] == ["class 0", "class 1", "label changed by noise"]
    n_flipped = int((data.y_train != data.y_train_clean).sum())
    assert len(fig.data[2].x) == n_flipped > 0
    X = data.unstandardize(data.X_train).numpy()
    assert np.asarray(fig.data[0].x).min() >= X[:, 0].min() - 1e-6  # data units, not z-scores
    assert sum(len(t.x) for t in fig.data[:2]) == len(data.y_train)


@pytest.mark.parametrize("name, kind", [("digits", "heatmap"), ("xor", "scatter")])
def test_dispatch_picks_the_right_picture(name, kind):
    fig = data_samples_figure(load_dataset(DataConfig(name=name, seed=0)))
    assert fig.data[-1].type == kind if kind == "heatmap" else fig.data[0].mode == "markers"


def test_signals_one_line_per_sample():
    pytest.importorskip("mnist1d")
    data = load_dataset(DataConfig(name="mnist1d", n_samples=200, seed=0))
    fig = signal_samples_figure(data, n=5)
    assert len(fig.data) == 5 and all(t.mode == "lines" for t in fig.data)
    assert fig is not None and data_samples_figure(data).data[0].mode == "lines"
