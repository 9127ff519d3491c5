"""``train`` runs plain MLPs with hand-written steps (``training._train_mlp_by_hand``); passing
an optimizer runs the autograd loop. Both must be the same training, to float32 rounding."""
import numpy as np
import pandas as pd
import pytest
import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import load_dataset
from pruning.core.models import build_model
from pruning.core.training import _hand_written_steps_apply, make_optimizer, train


@pytest.fixture(scope="module")
def data():
    return load_dataset(DataConfig(train_size=300))


def _pair(data, cfg, masks=None, hidden=(40, 20), **kw):
    """(model, history) by hand and by autograd, from the same initial weights."""
    out = []
    for autograd in (False, True):
        model = build_model(ModelConfig(hidden=hidden), data.n_features, data.n_classes, seed=3)
        opt = make_optimizer(model, cfg) if autograd else None
        hist = train(model, data, cfg, masks=masks, optimizer=opt, **kw)
        out.append((model, hist))
    return out


def _close(a, b, atol=2e-5):
    (ma, ha), (mb, hb) = a, b
    for (n, p), q in zip(ma.named_parameters(), mb.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=atol, err_msg=n)
    pd.testing.assert_frame_equal(ha, hb, atol=1e-4, check_exact=False)


def test_plain_mlp_takes_the_hand_written_path_and_a_cnn_does_not(data):
    assert _hand_written_steps_apply(build_model(ModelConfig(), data.n_features, data.n_classes))
    cnn = build_model(ModelConfig(kind="cnn"), data.n_features, data.n_classes,
                      image_shape=data.image_shape) if data.image_shape else None
    if cnn is not None:
        assert not _hand_written_steps_apply(cnn)
    assert not _hand_written_steps_apply(
        build_model(ModelConfig(), data.n_features, data.n_classes).double())


@pytest.mark.parametrize("cfg", [
    TrainConfig(epochs=8, batch_size=32, lr=1e-3, seed=1),
    TrainConfig(epochs=8, batch_size=50, lr=3e-3, weight_decay=1e-3, seed=2),
    TrainConfig(epochs=8, batch_size=64, lr=0.05, optimizer="sgd", momentum=0.9,
                weight_decay=1e-4, seed=3),
], ids=["adam", "adam-weight-decay", "sgd-momentum-decay"])
def test_same_training_as_autograd(data, cfg):
    by_hand, by_autograd = _pair(data, cfg)
    _close(by_hand, by_autograd)
    assert len(by_hand[1]) == cfg.epochs + 1


def test_masks_are_held_at_zero_like_the_autograd_loop(data):
    cfg = TrainConfig(epochs=6, batch_size=32, seed=4)
    model = build_model(ModelConfig(hidden=(40, 20)), data.n_features, data.n_classes, seed=3)
    gen = torch.Generator().manual_seed(0)
    masks = {n: torch.rand(p.shape, generator=gen) > 0.7
             for n, p in model.named_parameters() if n.endswith("weight")}
    by_hand, by_autograd = _pair(data, cfg, masks=masks)
    _close(by_hand, by_autograd)
    params = dict(by_hand[0].named_parameters())
    for n, m in masks.items():
        assert (params[n][~m] == 0).all(), n
        assert (params[n][m] != 0).all(), n


def test_progress_and_early_stop_behave_alike(data):
    cfg = TrainConfig(epochs=10, batch_size=32, seed=5)
    seen = {False: [], True: []}
    for autograd in (False, True):
        model = build_model(ModelConfig(hidden=(40, 20)), data.n_features, data.n_classes, seed=3)
        calls = seen[autograd]
        hist = train(model, data, cfg, optimizer=make_optimizer(model, cfg) if autograd else None,
                     progress=lambda e, total, row, calls=calls: calls.append((e, total)),
                     should_stop=lambda calls=calls: len(calls) >= 4)
        assert list(hist["epoch"]) == [0, 1, 2, 3]
    assert seen[False] == seen[True] == [(0, 10), (1, 10), (2, 10), (3, 10)]


def test_zero_epochs_evaluates_once_and_leaves_the_weights(data):
    model = build_model(ModelConfig(hidden=(40, 20)), data.n_features, data.n_classes, seed=3)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    hist = train(model, data, TrainConfig(epochs=0))
    assert list(hist["epoch"]) == [0]
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n


def test_same_seed_same_numbers(data):
    cfg = TrainConfig(epochs=4, batch_size=32, seed=7)
    runs = [train(build_model(ModelConfig(hidden=(40, 20)), data.n_features, data.n_classes, seed=3),
                  data, cfg) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
