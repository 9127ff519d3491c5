"""Importance scores (pruning.scoring): the built-in scorers and the records that describe them."""
import ast
import dataclasses
import importlib
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import pruning.scoring
from pruning import (
    SCORERS,
    DataBundle,
    ModelConfig,
    PruningError,
    ScoreContext,
    build_model,
    prunable_names,
    score,
)
from pruning.scoring import Scorer


def _tiny_bundle(n_val=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(12, 4, generator=g)
    y = torch.randint(0, 3, (12,), generator=g)
    Xv = torch.randn(n_val, 4, generator=g)
    yv = torch.randint(0, 3, (n_val,), generator=g)
    return DataBundle(name="tiny", X_train=X, y_train=y, X_val=Xv, y_val=yv,
                      X_test=Xv.clone(), y_test=yv.clone(), n_classes=3,
                      class_names=("a", "b", "c"), image_shape=None, y_train_clean=y.clone())


@pytest.fixture
def model():
    return build_model(ModelConfig(hidden=(5,)), 4, 3, seed=0)


@pytest.fixture
def names(model):
    return prunable_names(model, include_output=True, include_bias=True)


def test_magnitude_is_abs_w(model, names):
    s = score("magnitude", ScoreContext(model, names))
    params = dict(model.named_parameters())
    assert set(s) == set(names)
    for n in names:
        assert torch.equal(s[n], params[n].detach().abs())
    # scores are copies: changing them does not touch the model
    before = params[names[0]].detach().clone()
    s[names[0]].zero_()
    assert torch.equal(params[names[0]].detach(), before)


def test_random_is_seeded(model, names):
    a = score("random", ScoreContext(model, names, seed=7))
    b = score("random", ScoreContext(model, names, seed=7))
    c = score("random", ScoreContext(model, names, seed=8))
    params = dict(model.named_parameters())
    for n in names:
        assert a[n].shape == params[n].shape
        assert torch.equal(a[n], b[n])
        assert ((a[n] >= 0) & (a[n] < 1)).all()
    assert any(not torch.equal(a[n], c[n]) for n in names)


def test_random_does_not_depend_on_global_rng(model, names):
    torch.manual_seed(1)
    a = score("random", ScoreContext(model, names, seed=3))
    torch.manual_seed(2)
    b = score("random", ScoreContext(model, names, seed=3))
    assert all(torch.equal(a[n], b[n]) for n in names)


@pytest.mark.parametrize("batch_size,n_val", [(4, 10), (256, 10), (3, 9), (1, 5)])
def test_taylor_matches_hand_computation(model, names, batch_size, n_val):
    data = _tiny_bundle(n_val=n_val)
    got = score("taylor", ScoreContext(model, names, data, batch_size=batch_size))

    params = dict(model.named_parameters())
    plist = [params[n] for n in names]
    acc = [torch.zeros_like(p) for p in plist]
    batches = 0
    for i in range(0, n_val, batch_size):
        loss = F.cross_entropy(model(data.X_val[i:i + batch_size]), data.y_val[i:i + batch_size])
        grads = torch.autograd.grad(loss, plist)
        for a, p, g in zip(acc, plist, grads):
            a += (p.detach() * g).abs()
        batches += 1
    assert batches == -(-n_val // batch_size)
    for n, a in zip(names, acc):
        expected = a / batches
        assert torch.allclose(got[n], expected, rtol=1e-6, atol=1e-9)
        assert (got[n] >= 0).all()
    assert any(float(v.sum()) > 0 for v in got.values())


def test_taylor_leaves_model_untouched(model, names):
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    score("taylor", ScoreContext(model, names, _tiny_bundle()))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_taylor_is_zero_where_weight_is_zero(model, names):
    params = dict(model.named_parameters())
    with torch.no_grad():
        params[names[0]][0].zero_()
    s = score("taylor", ScoreContext(model, names, _tiny_bundle()))
    assert torch.count_nonzero(s[names[0]][0]) == 0


def test_taylor_falls_back_to_train_split_without_validation(model, names):
    empty = _tiny_bundle(n_val=0)
    s = score("taylor", ScoreContext(model, names, empty, batch_size=5))
    params = dict(model.named_parameters())
    plist = [params[n] for n in names]
    acc = [torch.zeros_like(p) for p in plist]
    nb = 0
    for i in range(0, 12, 5):
        g = torch.autograd.grad(F.cross_entropy(model(empty.X_train[i:i + 5]),
                                                empty.y_train[i:i + 5]), plist)

        for a, p, gg in zip(acc, plist, g):
            a += (p.detach() * gg).abs()
        nb += 1
    for n, a in zip(names, acc):
        assert torch.allclose(s[n], a / nb, rtol=1e-6, atol=1e-9)


def test_taylor_without_data_raises(model, names):
    with pytest.raises(PruningError, match="needs data"):
        score("taylor", ScoreContext(model, names))


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_every_scorer_gives_nonnegative_float_scores_of_param_shape(model, names, name):
    # snip / movement look at earlier weights: give them some (another seed's init).
    earlier = build_model(ModelConfig(hidden=(5,)), 4, 3, seed=1).state_dict()
    s = score(name, ScoreContext(model, names, _tiny_bundle(), init_state=earlier))
    params = dict(model.named_parameters())
    assert list(s) == names
    for n in names:
        assert s[n].shape == params[n].shape
        assert s[n].dtype == torch.float32
        assert not s[n].requires_grad
        assert torch.isfinite(s[n]).all()
        assert SCORERS[name].signed or (s[n] >= 0).all()


def test_unknown_scorer_lists_valid_choices(model, names):
    with pytest.raises(PruningError) as e:
        score("nonexistent", ScoreContext(model, names))
    msg = str(e.value)
    assert "'nonexistent'" in msg and all(n in msg for n in ("magnitude", "random", "taylor"))


# ----------------------------------------------------------------------------- the records
SCORING = Path(pruning.scoring.__file__).parent
METHOD_MODULES = sorted(p.stem for p in SCORING.glob("*.py") if p.stem not in ("__init__", "base"))


def test_scorers_are_the_method_modules_records_in_menu_order():
    records = {}
    for stem in METHOD_MODULES:
        mod = importlib.import_module(f"pruning.scoring.{stem}")
        assert isinstance(mod.SCORER, Scorer), stem
        records[mod.SCORER.name] = mod.SCORER
    assert set(SCORERS) == set(records)
    assert all(SCORERS[n] is r for n, r in records.items())
    # Menus, URLs and the command line show them in this order.
    assert list(SCORERS) == ["magnitude", "random", "taylor", "ablation", "movement",
                             "magnitude_increase", "obd", "snip"]


@pytest.mark.parametrize("name", list(SCORERS))
def test_every_record_is_complete(model, names, name):
    s = SCORERS[name]
    assert s.name == name
    for text in (s.description, s.formula, s.measures):
        assert isinstance(text, str) and text.strip()
    assert s.source is None or (isinstance(s.source, str) and s.source.strip())
    for flag in (s.needs_data, s.needs_init, s.signed):
        assert isinstance(flag, bool)
    assert callable(s.fn) and callable(s.cost)
    earlier = build_model(ModelConfig(hidden=(5,)), 4, 3, seed=1).state_dict()
    for data in (_tiny_bundle(), None):
        seconds = s.cost(ScoreContext(model, names, data, init_state=earlier))
        assert isinstance(seconds, float) and math.isfinite(seconds) and seconds >= 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.signed = not s.signed


def test_cheap_scorers_cost_next_to_nothing_and_data_scorers_grow_with_the_data(model, names):
    small, big = _tiny_bundle(n_val=10), _tiny_bundle(n_val=1000)
    for name in ("magnitude", "random", "magnitude_increase"):
        assert SCORERS[name].cost(ScoreContext(model, names, big)) < 1e-3
    for name in ("taylor", "ablation"):
        cost = SCORERS[name].cost
        assert cost(ScoreContext(model, names, big)) > cost(ScoreContext(model, names, small)) > 0


def test_needs_data_is_enforced_for_every_scorer_that_says_so(model, names):
    for name, s in SCORERS.items():
        if s.needs_data:
            with pytest.raises(PruningError, match="needs data"):
                score(name, ScoreContext(model, names))


def test_score_takes_a_record_or_its_name(model, names):
    a = score("magnitude", ScoreContext(model, names))
    b = score(SCORERS["magnitude"], ScoreContext(model, names))
    assert all(torch.equal(a[n], b[n]) for n in names)


@pytest.mark.parametrize("stem", METHOD_MODULES)
def test_a_method_module_imports_no_other_scorer(stem):
    """Each method stands alone on ``base``: no registry to import back, no cycles."""
    tree = ast.parse((SCORING / f"{stem}.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m.startswith("pruning.scoring")} <= {"pruning.scoring.base"}
