"""Masked training keeps pruned weights at exactly zero; training is seeded (pruning.core.training)."""
import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from pruning import (
    DataConfig,
    ModelConfig,
    PruningError,
    ScoreContext,
    TrainConfig,
    apply_masks,
    build_model,
    load_dataset,
    prunable_names,
    score,
    select_by_sparsity,
    train,
)
from pruning.core.masks import combine, mask_gradients, ones_masks, sparsity
from pruning.core.training import make_optimizer

OPTIMIZERS = {
    # lr large enough that a stale momentum buffer visibly moves a zeroed weight
    "sgd": dict(optimizer="sgd", lr=0.05, momentum=0.9),
    "adam": dict(optimizer="adam", lr=0.01),
}


@pytest.fixture(scope="module")
def data():
    return load_dataset(DataConfig(name="digits", train_size=200, seed=0))


def _model(data, seed=0):
    return build_model(ModelConfig(hidden=(16,)), data.n_features, data.n_classes, seed=seed)


def _cfg(opt, **kw):
    return TrainConfig(epochs=kw.pop("epochs", 2), batch_size=32, **{**OPTIMIZERS[opt], **kw})


def _prune(model, s=0.7):
    names = prunable_names(model)
    return select_by_sparsity(score("magnitude", ScoreContext(model, names)), s).masks


def _state_at_pruned(opt, model, masks):
    """Largest |optimizer buffer| at pruned positions (momentum / Adam first moment)."""
    params = dict(model.named_parameters())
    biggest = 0.0
    for n, m in masks.items():
        for key, buf in opt.state.get(params[n], {}).items():
            if torch.is_tensor(buf) and buf.shape == m.shape and key != "exp_avg_sq":
                biggest = max(biggest, float(buf[~m].abs().max()))
    return biggest


def _pruned_nonzero(model, masks):
    params = dict(model.named_parameters())
    return sum(int(torch.count_nonzero(params[n].detach()[~m])) for n, m in masks.items())


def _plain_steps(model, data, opt, steps=5, masks=None):
    """Ordinary optimizer steps (no mask handling, or only gradient masking)."""
    X, y = data.X_train, data.y_train
    for i in range(steps):
        idx = slice(32 * i, 32 * (i + 1))
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx]).backward()
        if masks is not None:
            mask_gradients(model, masks)
        opt.step()


# --------------------------------------------------------------------------- exact zeros

@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_pruned_weights_stay_exactly_zero_with_stale_optimizer_state(data, opt_name, weight_decay):
    model = _model(data)
    cfg = _cfg(opt_name, weight_decay=weight_decay)
    opt = make_optimizer(model, cfg)
    train(model, data, cfg, optimizer=opt)            # unmasked: builds momentum / moments
    masks = _prune(model)
    assert _state_at_pruned(opt, model, masks) > 0    # stale state really is there

    params = dict(model.named_parameters())
    survivors_before = {n: params[n].detach().clone() for n in masks}
    seen_epochs = []

    def check_each_epoch(ep, total, row):
        seen_epochs.append(ep)
        assert _pruned_nonzero(model, masks) == 0

    train(model, data, cfg, masks=masks, optimizer=opt, progress=check_each_epoch)
    assert seen_epochs == list(range(cfg.epochs + 1))
    assert _pruned_nonzero(model, masks) == 0
    for n, m in masks.items():
        assert torch.all(params[n].detach()[~m] == 0.0)
        # the survivors did train (so "stays zero" is not because nothing moved)
        assert not torch.equal(params[n].detach()[m], survivors_before[n][m])
    assert _state_at_pruned(opt, model, masks) == 0   # buffers were cleared where pruned


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_pruned_weights_stay_zero_with_fresh_optimizer(data, opt_name):
    model = _model(data)
    train(model, data, _cfg(opt_name))
    masks = _prune(model, 0.9)
    train(model, data, _cfg(opt_name, epochs=3), masks=masks)
    assert _pruned_nonzero(model, masks) == 0
    assert sparsity(masks) == pytest.approx(0.9, abs=1e-3)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_counter_case_without_masking_momentum_revives_zeroed_weights(data, opt_name):
    """Zeroing once and stepping normally is NOT enough: the stale state brings weights back."""
    model = _model(data)
    cfg = _cfg(opt_name)
    opt = make_optimizer(model, cfg)
    train(model, data, cfg, optimizer=opt)
    masks = _prune(model)
    apply_masks(model, masks)                         # manual zeroing only
    assert _pruned_nonzero(model, masks) == 0
    _plain_steps(model, data, opt)
    assert _pruned_nonzero(model, masks) > 0


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_counter_case_masking_gradients_alone_is_not_enough(data, opt_name):
    """Zero gradients but leave the optimizer state: momentum still moves pruned weights."""
    model = _model(data)
    cfg = _cfg(opt_name)
    opt = make_optimizer(model, cfg)
    train(model, data, cfg, optimizer=opt)
    masks = _prune(model)
    apply_masks(model, masks)
    _plain_steps(model, data, opt, masks=masks)
    assert _pruned_nonzero(model, masks) > 0


def test_training_with_mask_of_ones_equals_unmasked_training(data):
    a, b = _model(data), _model(data)
    ha = train(a, data, _cfg("sgd"))
    hb = train(b, data, _cfg("sgd"), masks=ones_masks(b, prunable_names(b, include_bias=True)))
    pd.testing.assert_frame_equal(ha, hb, check_exact=True)
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb and torch.equal(pa, pb)


def test_combine_is_monotone():
    old = {"w": torch.tensor([True, False, True, False])}
    new = {"w": torch.tensor([True, True, False, False])}
    assert combine(old, new)["w"].tolist() == [True, False, False, False]
    assert combine(None, new)["w"].tolist() == new["w"].tolist()


# --------------------------------------------------------------------------- history & seeds

def test_history_shape_and_row_zero_is_before_training(data):
    model = _model(data)
    cfg = _cfg("adam", epochs=3)
    hist = train(model, data, cfg)
    assert list(hist.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                  "test_loss", "test_acc"]
    assert hist["epoch"].tolist() == list(range(cfg.epochs + 1))
    assert hist[["train_acc", "val_acc", "test_acc"]].apply(lambda c: c.between(0, 1)).all().all()
    fresh = _model(data)
    from pruning.core.training import evaluate_all
    row0 = evaluate_all(fresh, data)
    assert hist.iloc[0][list(row0)].tolist() == pytest.approx(list(row0.values()))
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_same_seed_gives_identical_history_and_weights(data, opt_name):
    runs = []
    for _ in range(2):
        model = _model(data, seed=3)
        hist = train(model, data, _cfg(opt_name, seed=5))
        runs.append((hist, {k: v.clone() for k, v in model.state_dict().items()}))
    (h1, w1), (h2, w2) = runs
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)


def test_one_loop_for_every_model_no_hidden_path(data):
    """``train`` without an optimizer is the same loop as with the ``torch.optim`` optimizer it
    would make (bit for bit), for an MLP as for any model."""
    cfg = _cfg("adam", epochs=3, seed=2, weight_decay=1e-3)
    a, b = _model(data, seed=3), _model(data, seed=3)
    opt = make_optimizer(b, cfg)
    assert type(opt) is torch.optim.Adam and type(make_optimizer(a, _cfg("sgd"))) is torch.optim.SGD
    ha, hb = train(a, data, cfg), train(b, data, cfg, optimizer=opt)
    pd.testing.assert_frame_equal(ha, hb, check_exact=True)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_progress_is_called_per_epoch_and_should_stop_ends_training(data):
    calls = []
    model = _model(data)
    hist = train(model, data, _cfg("adam", epochs=10),
                 progress=lambda e, total, row: calls.append((e, total, row["epoch"])),
                 should_stop=lambda: len(calls) >= 4)
    assert calls == [(0, 10, 0), (1, 10, 1), (2, 10, 2), (3, 10, 3)]
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    assert not model.training                           # left in eval mode


def test_different_train_seed_gives_different_result(data):
    """Same initial weights, different batch order."""
    out = []
    for seed in (0, 1):
        model = _model(data, seed=3)
        hist = train(model, data, _cfg("sgd", seed=seed))
        out.append((hist, model.state_dict()))
    (h0, w0), (h1, w1) = out
    assert not h0.equals(h1)
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)


def test_different_model_seed_gives_different_init(data):
    a, b, c = _model(data, 0), _model(data, 1), _model(data, 0)
    assert any(not torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert all(torch.equal(a.state_dict()[k], c.state_dict()[k]) for k in a.state_dict())


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("field,bad,needle", [
    ("epochs", -1, "epochs"),
    ("epochs", 2.5, "epochs"),
    ("batch_size", 0, "batch size"),
    ("lr", float("nan"), "lr"),
    ("lr", -0.1, "lr"),
    ("momentum", 1.0, "momentum"),
    ("optimizer", "rmsprop", "optimizer"),
])

def test_bad_train_config_raises_readable_error(data, field, bad, needle):
    model = _model(data)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(PruningError) as e:
        train(model, data, TrainConfig(**{field: bad}))
    msg = str(e.value)
    assert needle in msg
    if field == "optimizer":
        assert "adam" in msg and "sgd" in msg
    else:
        assert str(bad) in msg or repr(bad) in msg
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())  # untouched


def test_zero_epochs_only_evaluates(data):
    model = _model(data)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    hist = train(model, data, TrainConfig(epochs=0))
    assert len(hist) == 1 and math.isfinite(hist["train_loss"].iloc[0])
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_pruned_weights_are_positive_zero_not_negative_zero():
    """issue #13: w ⊙ m left −0.0 for every pruned negative weight (19,957 of them in the
    README model), which made the compressed file a third larger."""
    import torch
    from torch import nn

    from pruning.core.masks import apply_masks
    lin = nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(-torch.rand(3, 4) - 0.1)  # every weight negative
    mask = torch.zeros(3, 4, dtype=torch.bool)
    mask[0, 0] = True
    apply_masks(lin, {"weight": mask})
    pruned = lin.weight.detach()[~mask]
    assert torch.all(pruned == 0) and not torch.signbit(pruned).any()
    assert lin.weight.detach()[0, 0] < 0  # kept weights untouched
