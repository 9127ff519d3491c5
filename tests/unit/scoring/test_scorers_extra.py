"""The extra scorers against independent oracles on tiny networks.

ablation ↔ a brute-force loop (zero one weight, evaluate, restore); Taylor ↔ gradients taken
by hand with torch.autograd.grad; OBD's Hessian diagonal ↔ torch.autograd.functional.hessian;
SNIP ↔ explicit gates c (w → c ⊙ w₀) differentiated by autograd; movement ↔ Sanh et al.'s
accumulated −Σ g·w under plain SGD.
"""
import copy
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from pruning import (
    DataConfig,
    ModelConfig,
    PruningError,
    ScoreContext,
    TrainConfig,
    build_model,
    load_dataset,
    prunable_names,
    score,
    train,
)
from pruning.cli.main import build_parser
from pruning.scoring import SCORERS
from pruning.scoring.ablation import (
    MAX_ABLATION_UNITS,
    UNITS_PER_SECOND,
    ablation_cost,
    unit_ablation_scores,
)
from pruning.scoring.obd import hessian_diagonal
from pruning.structured.units import unit_scores


@pytest.fixture(scope="module")
def data():
    d = load_dataset(DataConfig(name="digits", train_size=150, seed=0))
    return replace(d, X_val=d.X_val[:120], y_val=d.y_val[:120])  # brute-force oracles stay fast


def _trained(data, cfg, epochs=3):
    m = build_model(cfg, data.n_features, data.n_classes, data.image_shape, seed=0)
    init = copy.deepcopy(m.state_dict())
    train(m, data, TrainConfig(epochs=epochs, seed=0))
    return m, init


MLP = ModelConfig(hidden=(4,))
CNN = ModelConfig(kind="cnn", channels=(2, 3))


def test_new_scorers_are_registered_everywhere():
    for name in ("ablation", "obd", "snip", "movement"):
        assert name in SCORERS
    assert {"ablation", "obd", "snip"} <= {n for n, s in SCORERS.items() if s.needs_data}
    cli_choices = next(a.choices for a in build_parser()._subparsers._group_actions[0]
                       .choices["run"]._actions if a.dest == "scorer")
    assert {"ablation", "obd", "snip", "movement"} <= set(cli_choices)


# --------------------------------------------------------------------------- ablation
def _brute_force_ablation(model, names, X, y):
    base = F.cross_entropy(model(X), y).item()
    params = dict(model.named_parameters())
    out = {}
    with torch.no_grad():
        for n in names:
            p = params[n]
            delta = torch.zeros(p.numel())
            flat = p.view(-1)
            for k in range(p.numel()):
                old = flat[k].item()
                flat[k] = 0.0
                delta[k] = F.cross_entropy(model(X), y).item() - base
                flat[k] = old
            out[n] = delta.view_as(p)
    return out


@pytest.mark.parametrize("cfg", [MLP, CNN], ids=["mlp", "cnn"])
def test_ablation_matches_brute_force_loop(data, cfg):
    model, _ = _trained(data, cfg)
    model.eval()
    names = prunable_names(model, include_bias=True)
    got = score("ablation", ScoreContext(model, names, data))
    want = _brute_force_ablation(model, names, data.X_val, data.y_val)
    for n in names:
        torch.testing.assert_close(got[n], want[n], atol=2e-6, rtol=1e-4)
    # Signed: some removals raise the validation loss, some lower it.
    flat = torch.cat([g.flatten() for g in got.values()])
    assert (flat > 0).any() and (flat < 0).any()


def test_ablation_skips_pruned_weights_and_leaves_model_unchanged(data):
    model, _ = _trained(data, MLP)
    names = prunable_names(model)
    before = copy.deepcopy(model.state_dict())
    masks = {n: torch.rand(p.shape, generator=torch.Generator().manual_seed(1)) > 0.5
             for n, p in model.named_parameters() if n in names}
    got = score("ablation", ScoreContext(model, names, data, masks))
    for n in names:
        assert torch.all(got[n][~masks[n]] == 0)
        assert (got[n][masks[n]] != 0).float().mean() > 0.9
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_ablation_refuses_big_models_with_the_cost(data):
    big = build_model(ModelConfig(hidden=(300, 100)), data.n_features, data.n_classes, seed=0)
    with pytest.raises(PruningError, match=r"once per weight.*50,200 weights"):
        score("ablation", ScoreContext(big, prunable_names(big), data))


def test_ablation_cost_is_the_estimate_the_refusal_uses(data):
    """The record's cost (seconds) is ``ablation_cost`` / ``UNITS_PER_SECOND``: above the
    limit for the model that is refused, below it for one that runs."""
    limit = MAX_ABLATION_UNITS / UNITS_PER_SECOND
    big = build_model(ModelConfig(hidden=(300, 100)), data.n_features, data.n_classes, seed=0)
    names = prunable_names(big)
    seconds = SCORERS["ablation"].cost(ScoreContext(big, names, data))
    n_weights = {n: p.numel() for n, p in big.named_parameters() if n in names}
    units = ablation_cost(big, n_weights, len(data.y_val))
    assert seconds == pytest.approx(units / UNITS_PER_SECOND) and seconds > limit
    small, _ = _trained(data, MLP, epochs=1)
    assert SCORERS["ablation"].cost(ScoreContext(small, prunable_names(small), data)) < limit


@pytest.mark.parametrize("cfg", [MLP, CNN], ids=["mlp", "cnn"])
def test_unit_ablation_matches_zeroing_row_and_bias(data, cfg):
    model, _ = _trained(data, cfg)
    model.eval()
    X, y = data.X_val, data.y_val
    base = F.cross_entropy(model(X), y).item()
    module = "layers.0" if cfg.kind == "mlp" else "convs.1"
    got = unit_ablation_scores(model, module, X, y)
    mod = model.get_submodule(module)
    for o in range(mod.weight.shape[0]):
        m2 = copy.deepcopy(model)
        with torch.no_grad():
            m2.get_submodule(module).weight[o] = 0
            m2.get_submodule(module).bias[o] = 0
        want = F.cross_entropy(m2(X), y).item() - base
        assert got[o].item() == pytest.approx(want, abs=2e-6)


# --------------------------------------------------------------------------- Taylor
def test_weight_taylor_matches_autograd_by_hand(data):
    model, _ = _trained(data, MLP)
    names = prunable_names(model)
    got = score("taylor", ScoreContext(model, names, data, batch_size=50))
    params = dict(model.named_parameters())
    want = {n: torch.zeros_like(params[n]) for n in names}
    batches = range(0, len(data.y_val), 50)
    for i in batches:
        loss = F.cross_entropy(model(data.X_val[i:i + 50]), data.y_val[i:i + 50])
        grads = torch.autograd.grad(loss, [params[n] for n in names])
        for n, g in zip(names, grads):
            want[n] += (params[n].detach() * g).abs() / len(batches)
    for n in names:
        torch.testing.assert_close(got[n], want[n], atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("cfg", [ModelConfig(hidden=(6, 5)), CNN], ids=["mlp", "cnn"])
def test_unit_taylor_equals_group_taylor_of_weights_and_bias(data, cfg):
    """|Σ z·∂L/∂z| per unit (activation form, via hooks) must equal the group form
    |Σ_row w·∂L/∂w + b·∂L/∂b| from parameter gradients taken by hand."""
    model, _ = _trained(data, cfg)
    got = unit_scores(model, data, "taylor", batch_size=64)
    params = dict(model.named_parameters())
    for module, s in got.items():
        W, b = params[f"{module}.weight"], params[f"{module}.bias"]
        want = torch.zeros(W.shape[0])
        starts = range(0, len(data.y_val), 64)
        for i in starts:
            loss = F.cross_entropy(model(data.X_val[i:i + 64]), data.y_val[i:i + 64])
            gW, gb = torch.autograd.grad(loss, [W, b])
            group = (W.detach() * gW).reshape(W.shape[0], -1).sum(1) + b.detach() * gb
            want += group.abs() / len(starts)
        torch.testing.assert_close(s, want, atol=1e-7, rtol=1e-4)


# --------------------------------------------------------------------------- OBD
@pytest.mark.parametrize("cfg", [ModelConfig(hidden=(3,)), ModelConfig(kind="cnn", channels=(2,))],
                         ids=["mlp", "cnn"])
def test_obd_hessian_diagonal_matches_autograd_hessian(data, cfg):
    model, _ = _trained(data, cfg, epochs=2)
    model.eval()
    X, y = data.X_train[:40], data.y_train[:40]
    names = prunable_names(model)
    params = {n: p.detach() for n, p in model.named_parameters()}
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]

    def loss_of_flat(flat):
        parts = torch.split(flat, sizes)
        w = {n: t.view(s) for n, t, s in zip(names, parts, shapes)}
        return F.cross_entropy(functional_call(model, {**params, **w}, (X,)), y)

    flat = torch.cat([params[n].flatten() for n in names])
    H = torch.autograd.functional.hessian(loss_of_flat, flat, vectorize=True)
    want = torch.split(torch.diagonal(H), sizes)
    got = hessian_diagonal(model, names, X)
    for n, w in zip(names, want):
        torch.testing.assert_close(got[n].flatten(), w, atol=1e-6, rtol=1e-4)
    # The oracle can tell the exact diagonal from the empirical Fisher (true labels only).
    emp = {n: torch.zeros_like(params[n]) for n in names}
    for i in range(len(y)):
        loss_i = F.cross_entropy(model(X[i:i + 1]), y[i:i + 1])
        g = torch.autograd.grad(loss_i, [dict(model.named_parameters())[n] for n in names])
        for n, gi in zip(names, g):
            emp[n] += gi ** 2 / len(y)
    emp_flat = torch.cat([emp[n].flatten() for n in names])
    assert not torch.allclose(emp_flat, torch.diagonal(H), rtol=1e-2, atol=1e-5)


def test_obd_saliency_is_half_h_w_squared(data):
    model, _ = _trained(data, MLP)
    names = prunable_names(model)
    got = score("obd", ScoreContext(model, names, data))
    h = hessian_diagonal(model, names, data.X_train)  # 150 < 512: all training examples
    params = dict(model.named_parameters())
    for n in names:
        torch.testing.assert_close(got[n], 0.5 * h[n] * params[n].detach() ** 2)
        assert torch.all(got[n] >= 0)


# --------------------------------------------------------------------------- SNIP
def test_snip_matches_gate_gradients_at_initialization(data):
    model, init = _trained(data, MLP)
    names = prunable_names(model)
    got = score("snip", ScoreContext(model, names, data, init_state=init))
    # Oracle: explicit gates c = 1 on the initial weights, d loss / d c by autograd.
    gates = {n: torch.ones_like(init[n], requires_grad=True) for n in names}
    fixed = {k: v for k, v in init.items() if k not in names}
    logits = functional_call(model, {**fixed, **{n: gates[n] * init[n] for n in names}},
                             (data.X_train,))
    g = torch.autograd.grad(F.cross_entropy(logits, data.y_train), [gates[n] for n in names])
    total = sum(gi.abs().sum() for gi in g)
    for n, gi in zip(names, g):
        torch.testing.assert_close(got[n], gi.abs() / total, atol=1e-8, rtol=1e-4)
    assert sum(float(v.sum()) for v in got.values()) == pytest.approx(1.0, abs=1e-5)
    # It looks at the initial weights only: other trained weights give the same scores.
    other, _ = _trained(data, MLP, epochs=6)
    again = score("snip", ScoreContext(other, names, data, init_state=init))
    for n in names:
        torch.testing.assert_close(again[n], got[n])


def test_snip_needs_initial_weights_and_does_not_touch_the_model(data):
    model, init = _trained(data, MLP)
    names = prunable_names(model)
    with pytest.raises(PruningError, match=r"initial \(untrained\) weights"):
        score("snip", ScoreContext(model, names, data))
    before = copy.deepcopy(model.state_dict())
    score("snip", ScoreContext(model, names, data, init_state=init))
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


# --------------------------------------------------------------------------- movement
def test_movement_is_sanh_accumulated_score_step_by_step(data):
    """Oracle: two full-batch plain-SGD steps by hand, S = −g₀·w₀ − g₁·w₁ with
    w₁ = w₀ − η g₀ — what Sanh et al. accumulate. The old endpoint form (w₁² − w₀²)/2
    differs from it, so this test fails on the old scorer."""
    from pruning.scoring.movement import accumulate_movement
    model, _ = _trained(data, MLP)
    names = prunable_names(model)
    ref = copy.deepcopy(model)
    lr, n = 0.05, len(data.y_train)
    cfg = TrainConfig(epochs=2, batch_size=n, lr=lr, optimizer="sgd", momentum=0.0, seed=0)
    got = accumulate_movement(model, data, cfg, names)
    params = dict(ref.named_parameters())
    want = {k: torch.zeros_like(params[k]) for k in names}
    for _ in range(2):
        ref.zero_grad()
        F.cross_entropy(ref(data.X_train), data.y_train).backward()
        with torch.no_grad():
            for k in names:
                want[k] -= params[k].grad * params[k]
            for p in ref.parameters():
                p -= lr * p.grad
    for k in names:
        torch.testing.assert_close(got[k], want[k], atol=1e-6, rtol=1e-4)
    # the scorer hands accumulated scores through, and runs its own probe without them
    s = score("movement", ScoreContext(model, names, data, accumulated_movement=got))
    assert all(torch.equal(s[k], got[k]) for k in names)
    probe = score("movement", ScoreContext(model, names, data, seed=3))
    assert all(probe[k].shape == got[k].shape for k in names)
    with pytest.raises(PruningError, match="needs data"):
        score("movement", ScoreContext(model, names))


def test_magnitude_increase_is_zhou_et_al(data):
    model, init = _trained(data, MLP)
    names = ["layers.0.weight"]
    w = dict(model.named_parameters())["layers.0.weight"].detach()
    s = score("magnitude_increase", ScoreContext(model, names, init_state=init))[names[0]]
    torch.testing.assert_close(s, w.abs() - init[names[0]].abs())
    with pytest.raises(PruningError, match="initial weights"):
        score("magnitude_increase", ScoreContext(model, names))


def test_the_prune_loop_passes_initial_weights_to_snip(data):
    from pruning import PruneConfig
    from pruning.loop.experiment import run_prune_rounds

    model, init = _trained(data, MLP)
    cfg = PruneConfig(scorer="snip", sparsity=0.5, schedule="oneshot", finetune_epochs=0)
    rounds, _, _, masks = run_prune_rounds(model, data, cfg, TrainConfig(seed=0), init)
    assert rounds["sparsity"].iloc[0] == pytest.approx(0.5, abs=1e-3)
    want = score("snip", ScoreContext(model, list(masks), data, init_state=init))
    flat = torch.cat([want[n].flatten() for n in masks])
    kept = torch.cat([masks[n].flatten() for n in masks])
    assert flat[kept].min() >= flat[~kept].max()  # the mask keeps the top SNIP scores
    with pytest.raises(PruningError, match=r"initial \(untrained\) weights"):
        run_prune_rounds(model, data, cfg, TrainConfig(seed=0))
