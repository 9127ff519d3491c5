"""``pruning.core.ensemble``: M same-shape MLPs trained at once follow ``training.train`` run
on each one alone (the reference), keep their masks at zero, are seeded, and evaluate like
ordinary models. And no module of ``pruning`` reaches into torch's private functions.

Tolerance against ``train``: the two compute the same formulas, but a batched matrix product
(``baddbmm`` over M members) may sum in a different order than ``addmm`` for one, and the
ensemble adds weight decay as its own step; both are last-bit float32 differences (measured:
at most 1.2e-7 per weight after 3 epochs). Weights are compared at atol 1e-5 (after 8 epochs of
lr up to 0.05 the differences stay below ~1e-6), and per-epoch accuracies may differ by at most
one example (a last-bit difference can flip a prediction that sits on a tie).
"""
import re
import tokenize
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import load_dataset
from pruning.core.ensemble import (
    EnsembleSplit,
    EvalSet,
    MLPEnsemble,
    ensemble_accuracy,
    eval_set_accuracy,
    member_masks,
    padded_ensemble,
    stack_masks,
    train_ensemble,
)
from pruning.core.masks import apply_masks
from pruning.core.models import build_model
from pruning.core.training import train
from pruning.errors import PruningError

HIDDEN = (20, 10)
SEEDS = (4, 9)


@pytest.fixture(scope="module")
def bundles():
    """Two members, each with its own split, training subset and noisy labels (equal sizes)."""
    return [load_dataset(DataConfig(name="digits", train_size=100, label_noise=0.1, seed=s))
            for s in SEEDS]


def _split(bundles, which="train"):
    return EnsembleSplit(torch.stack([b.split(which)[0] for b in bundles]),
                         torch.stack([b.split(which)[1] for b in bundles]))


def _masks(models, keep=0.4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [{n: torch.rand(p.shape, generator=gen) < keep for n, p in m.named_parameters()
             if n.endswith("weight")} for m in models]


def _reference_and_ensemble(bundles, cfg, weight_decays, masks=True):
    """Each member trained alone with ``train`` (its seed, λ, masks and data), and all of them
    trained together; returns (singles, their histories, ensemble, its per-epoch accuracies)."""
    singles = [build_model(ModelConfig(hidden=HIDDEN), 64, 10, seed=s) for s in SEEDS]
    mk = _masks(singles) if masks else [None] * len(singles)
    ensemble = MLPEnsemble.from_models(singles)
    histories = [train(m, b, replace(cfg, seed=s, weight_decay=lam), masks=k)
                 for m, b, s, lam, k in zip(singles, bundles, SEEDS, weight_decays, mk)]
    evals = EvalSet.of({w: _split(bundles, w) for w in ("train", "val", "test")})
    seen = []
    train_ensemble(ensemble, _split(bundles), cfg, list(SEEDS), weight_decay=weight_decays,
                   masks=stack_masks(mk) if masks else None,
                   on_epoch=lambda e, mdl: seen.append((e, eval_set_accuracy(mdl, evals))))
    return singles, histories, ensemble, seen, mk


# ----------------------------------------------------------------------------- against train()
@pytest.mark.parametrize("cfg,weight_decays", [
    (TrainConfig(epochs=8, batch_size=16, lr=0.01), [0.0, 0.0]),
    (TrainConfig(epochs=8, batch_size=32, lr=3e-3), [1e-3, 1e-2]),
    (TrainConfig(epochs=8, batch_size=16, lr=0.05, optimizer="sgd", momentum=0.9), [0.0, 1e-3]),
], ids=["adam", "adam-weight-decay-per-member", "sgd-momentum-decay"])
def test_each_member_ends_where_train_takes_it_alone(bundles, cfg, weight_decays):
    singles, histories, ensemble, seen, masks = _reference_and_ensemble(bundles, cfg, weight_decays)
    for m, model in enumerate(singles):
        got = ensemble.member_state(m)
        for name, p in model.state_dict().items():
            torch.testing.assert_close(got[name], p, rtol=0, atol=1e-5, msg=name)
    # the history, epoch by epoch (0 = before training): at most one example apart
    assert [e for e, _ in seen] == list(range(cfg.epochs + 1))
    for m, (hist, bundle) in enumerate(zip(histories, bundles)):
        for split in ("train", "val", "test"):
            ours = np.array([float(acc[split][m]) for _, acc in seen])
            one_example = 1 / len(bundle.split(split)[1])
            np.testing.assert_allclose(ours, hist[f"{split}_acc"].to_numpy(), rtol=0,
                                       atol=one_example + 1e-12, err_msg=f"member {m} {split}")


@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_pruned_weights_stay_exactly_zero_and_survivors_train(bundles, opt):
    cfg = TrainConfig(epochs=5, batch_size=16, optimizer=opt, lr=0.05 if opt == "sgd" else 0.01)
    singles, _, ensemble, _, masks = _reference_and_ensemble(bundles, cfg, [1e-2, 1e-2])
    start = MLPEnsemble.from_models([build_model(ModelConfig(hidden=HIDDEN), 64, 10, seed=s)
                                     for s in SEEDS])
    for m in range(len(SEEDS)):
        got, before = ensemble.member_state(m), start.member_state(m)
        for name, keep in masks[m].items():
            assert (got[name][~keep] == 0).all(), (m, name)     # never revived (weight decay on)
            assert (got[name][keep] != before[name][keep]).all(), (m, name)  # the rest trained


def test_a_member_does_not_depend_on_the_others(bundles):
    """Member 0 trained beside member 1 = member 0 trained alone (up to the rounding of a
    batched product with another size)."""
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.01)
    together = MLPEnsemble.from_seeds(ModelConfig(hidden=HIDDEN), 64, 10, list(SEEDS))
    alone = MLPEnsemble.from_seeds(ModelConfig(hidden=HIDDEN), 64, 10, list(SEEDS[:1]))
    train_ensemble(together, _split(bundles), cfg, list(SEEDS), weight_decay=[0.0, 1e-2])
    train_ensemble(alone, _split(bundles[:1]), cfg, list(SEEDS[:1]))
    for name, p in alone.member_state(0).items():
        torch.testing.assert_close(together.member_state(0)[name], p, rtol=0, atol=1e-5)


def test_same_seeds_same_numbers_bit_for_bit_and_the_seed_sets_the_batch_order(bundles):
    cfg = TrainConfig(epochs=3, batch_size=16, lr=0.01)

    def run(seeds):
        model = MLPEnsemble.from_seeds(ModelConfig(hidden=HIDDEN), 64, 10, [0, 0])
        train_ensemble(model, _split(bundles), cfg, seeds)
        return [model.member_state(m) for m in range(2)]

    a, b, c = run([1, 2]), run([1, 2]), run([1, 3])
    for m in range(2):
        assert all(torch.equal(a[m][n], b[m][n]) for n in a[m])
    assert all(torch.equal(a[0][n], c[0][n]) for n in a[0])       # member 0 kept seed 1
    assert any(not torch.equal(a[1][n], c[1][n]) for n in a[1])   # member 1's order changed


def test_bad_arguments_are_refused(bundles):
    model = MLPEnsemble.from_seeds(ModelConfig(hidden=HIDDEN), 64, 10, [0, 1])
    with pytest.raises(PruningError, match="one seed per member"):
        train_ensemble(model, _split(bundles), TrainConfig(epochs=1), [0])
    with pytest.raises(PruningError, match="one weight decay per member"):
        train_ensemble(model, _split(bundles), TrainConfig(epochs=1), [0, 1], weight_decay=[0.1])
    with pytest.raises(PruningError, match="epochs"):
        train_ensemble(model, _split(bundles), TrainConfig(epochs=-1), [0, 1])


# ----------------------------------------------------------------------------- the model
def test_forward_equals_each_member(bundles):
    models = [build_model(ModelConfig(hidden=HIDDEN), 64, 10, seed=s) for s in (0, 1, 2)]
    ensemble = MLPEnsemble.from_models(models)
    X = bundles[0].X_val[:50]
    out = ensemble(torch.stack([X] * 3))
    for m, model in enumerate(models):
        torch.testing.assert_close(out[m], model(X), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ensemble.member(m)(X), model(X))


def test_members_need_one_shape():
    a = build_model(ModelConfig(hidden=(8,)), 64, 10, seed=0)
    b = build_model(ModelConfig(hidden=(9,)), 64, 10, seed=0)
    with pytest.raises(PruningError, match="same architecture"):
        MLPEnsemble.from_models([a, b])


def test_parameter_names_are_the_mlps_so_the_mask_functions_apply():
    mlp = build_model(ModelConfig(hidden=(4,)), 3, 2, seed=0)
    ensemble = MLPEnsemble.from_models([mlp, build_model(ModelConfig(hidden=(4,)), 3, 2, seed=1)])
    assert [n for n, _ in ensemble.named_parameters()] == [n for n, _ in mlp.named_parameters()]
    mask = torch.zeros(2, 4, 3, dtype=torch.bool)
    mask[0, 0, 0] = True
    before = ensemble.layers[0].weight.detach().clone()
    apply_masks(ensemble, {"layers.0.weight": mask})
    assert ensemble.layers[0].weight[0, 0, 0] == before[0, 0, 0]
    assert int((ensemble.layers[0].weight != 0).sum()) == 1
    assert torch.equal(member_masks({"layers.0.weight": mask}, 0)["layers.0.weight"], mask[0])


def test_ensemble_accuracy_counts_correct_predictions(bundles):
    model = build_model(ModelConfig(hidden=(8,)), 64, 10, seed=0)
    b = bundles[0]
    acc = ensemble_accuracy(MLPEnsemble.from_models([model]),
                            EnsembleSplit(b.X_test[None], b.y_test[None]))
    expected = (model(b.X_test).argmax(1) == b.y_test).double().mean()
    assert float(acc[0]) == pytest.approx(float(expected))


def test_eval_set_accuracy_equals_ensemble_accuracy_per_split():
    """Splits of different sizes laid end to end give each split's own accuracy, per member."""
    ensemble = MLPEnsemble.from_models([build_model(ModelConfig(hidden=(6,)), 5, 3, seed=s)
                                        for s in (0, 1)])
    gen = torch.Generator().manual_seed(1)
    splits = {name: EnsembleSplit(torch.randn(2, n, 5, generator=gen),
                                  torch.randint(0, 3, (2, n), generator=gen))
              for name, n in (("train", 7), ("val", 30), ("test", 1))}
    data = EvalSet.of(splits)
    assert data.bounds == {"train": (0, 7), "val": (7, 37), "test": (37, 38)}
    got = eval_set_accuracy(ensemble, data)
    assert list(got) == ["train", "val", "test"]
    for name, sp in splits.items():
        assert got[name].shape == (2,)
        torch.testing.assert_close(got[name], ensemble_accuracy(ensemble, sp))


# ----------------------------------------------------------------------------- padded widths
WIDTHS = [(20, 10), (12, 6), (5, 3)]


def _padded(bundles):
    nets = [(w, s) for w in WIDTHS for s in SEEDS]
    models = [build_model(ModelConfig(hidden=w), 64, 10, seed=s) for w, s in nets]
    data = [bundles[SEEDS.index(s)] for _, s in nets]
    return nets, models, data


def test_padded_members_compute_what_the_small_nets_compute(bundles):
    _, models, data = _padded(bundles)
    ensemble, masks = padded_ensemble(models)
    assert ensemble.layers[0].weight.shape == (len(models), 20, 64)
    assert set(masks) == {"layers.0.weight", "layers.0.bias", "layers.1.weight",
                          "layers.1.bias", "layers.2.weight"}  # the output bias is never padded
    X = torch.stack([d.X_val for d in data])
    out = ensemble(X)
    for m, model in enumerate(models):
        torch.testing.assert_close(out[m], model(data[m].X_val), rtol=1e-5, atol=1e-5)


def test_padded_members_train_like_train_and_the_padding_needs_no_masks(bundles):
    """Each padded member ends where ``train`` takes its small net; trained without the masks
    the padding stays exactly 0 and every weight is bit for bit what the masks would give."""
    cfg = TrainConfig(epochs=5, batch_size=16, lr=0.01)
    nets, models, data = _padded(bundles)
    split = EnsembleSplit(torch.stack([d.X_train for d in data]),
                          torch.stack([d.y_train for d in data]))
    seeds = [s for _, s in nets]
    free, masks = padded_ensemble(models)
    held, _ = padded_ensemble(models)
    train_ensemble(free, split, cfg, seeds)
    train_ensemble(held, split, cfg, seeds, masks=masks)
    params = dict(free.named_parameters())
    for name, kept in masks.items():
        assert (params[name][~kept] == 0).all(), name
    assert all(torch.equal(p, q) for p, q in zip(free.parameters(), held.parameters()))
    for m, (model, d, s) in enumerate(zip(models, data, seeds)):
        train(model, d, replace(cfg, seed=s))
        got = free.member_state(m)
        for name, p in model.state_dict().items():
            corner = got[name][tuple(slice(0, n) for n in p.shape)]
            torch.testing.assert_close(corner, p, rtol=0, atol=1e-5, msg=f"{m} {name}")


def test_padding_needs_one_depth():
    with pytest.raises(PruningError, match="same depth"):
        padded_ensemble([build_model(ModelConfig(hidden=(4,)), 3, 2),
                         build_model(ModelConfig(hidden=(4, 4)), 3, 2)])


# ----------------------------------------------------------------------------- public torch only
def _code_lines(path: Path) -> dict[int, str]:
    """The file's code by line, strings and comments left out: a docstring, or the name of a
    global a ``torch.save`` pickle refers to (``pruning/app/archive.py`` reads those names to
    refuse everything else), is not a use of a private function."""
    lines: dict[int, str] = {}
    with path.open("rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type in (tokenize.NAME, tokenize.OP):
                lines[tok.start[0]] = lines.get(tok.start[0], "") + tok.string
    return lines


def test_no_private_torch_functions_in_the_package():
    """Training is autograd and ``torch.optim``: no ``torch._…``, no ``torch.ops`` (``aten``)
    in the package's code."""
    private = re.compile(r"torch\._|torch\.ops\b|\baten\b")
    root = Path(__file__).resolve().parents[3] / "pruning"
    found = [f"{p.relative_to(root.parent)}:{i}: {code}"
             for p in sorted(root.rglob("*.py"))
             for i, code in _code_lines(p).items()
             if private.search(code)]
    assert found == []


def test_the_private_torch_check_reads_code_not_strings(tmp_path):
    """The check above can fail: code that calls a private function is found; a string naming
    one is not."""
    f = tmp_path / "m.py"
    f.write_text('"""torch._utils in a docstring"""\nname = "torch._utils"\nx = torch._foo(1)\n')
    assert [i for i, code in _code_lines(f).items()
            if re.search(r"torch\._", code)] == [3]
