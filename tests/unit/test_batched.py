"""Batched training internals: hand-written gradients equal autograd's, the direct fused Adam
equals torch's, and evaluation over concatenated splits equals per-split evaluation."""
import pytest
import torch
import torch.nn.functional as F

from pruning.config import ModelConfig
from pruning.core.ensemble import (
    BatchedMLP,
    BatchedSplit,
    EvalSet,
    StackedAdam,
    batched_accuracy,
    cross_entropy_grad,
    eval_set_accuracy,
    forward_with_inputs,
    mlp_backward,
)
from pruning.core.models import build_model


def _batched_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ_m mean_b CE, written as train_batched used to write it for autograd."""
    M, _, C = logits.shape
    per_example = F.cross_entropy(logits.reshape(-1, C), y.reshape(-1), reduction="none")
    return per_example.view(M, -1).mean(1).sum()


@pytest.mark.parametrize("batch", [32, 8, 7, 1])
def test_cross_entropy_grad_is_autograds_bit_for_bit(batch):
    gen = torch.Generator().manual_seed(batch)
    logits = (3 * torch.randn(4, batch, 10, generator=gen)).requires_grad_()
    y = torch.randint(0, 10, (4, batch), generator=gen)
    _batched_loss(logits, y).backward()
    assert torch.equal(cross_entropy_grad(logits.detach(), y), logits.grad)


def test_cross_entropy_grad_is_softmax_minus_onehot_over_batch():
    logits = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])  # M=1, B=2, C=2
    y = torch.tensor([[0, 1]])
    p = 1 / (1 + torch.exp(torch.tensor(-2.0)))
    expected = torch.tensor([[[0.5 - 1, 0.5], [p, 1 - p - 1]]]) / 2
    torch.testing.assert_close(cross_entropy_grad(logits, y), expected)


@pytest.mark.parametrize("hidden", [(20, 10), (7,), (5, 6, 4)])
def test_mlp_backward_equals_autograd(hidden):
    """Every layer's weight and bias gradient, for members with different weights and data
    (relu units that are off in some members and on in others)."""
    bm = BatchedMLP.from_models([build_model(ModelConfig(hidden=hidden), 12, 3, seed=s)
                                 for s in (0, 1, 2)])
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(3, 16, 12, generator=gen)
    y = torch.randint(0, 3, (3, 16), generator=gen)
    _batched_loss(bm(X), y).backward()
    weights = [w.detach() for w in bm.weights]
    logits, inputs = forward_with_inputs(weights, [b.detach() for b in bm.biases], X)
    torch.testing.assert_close(logits, bm(X).detach())
    assert len(inputs) == len(hidden) + 1 and inputs[0] is X
    grads = mlp_backward(weights, inputs, cross_entropy_grad(logits, y))
    expected = [p.grad for w, b in zip(bm.weights, bm.biases) for p in (w, b)]
    assert [g.shape for g in grads] == [e.shape for e in expected]
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-7)


def test_stacked_adam_is_torch_fused_adam_bit_for_bit():
    gen = torch.Generator().manual_seed(0)
    shapes = [(3, 5, 4), (3, 5), (3, 2, 5)]
    ours = [torch.nn.Parameter(torch.randn(s, generator=gen)) for s in shapes]
    ref = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    start = [p.detach().clone() for p in ours]
    opt, ref_opt = StackedAdam(ours, lr=0.01), torch.optim.Adam(ref, lr=0.01, fused=True)
    for _ in range(5):
        for a, b in zip(ours, ref):
            a.grad = torch.randn(a.shape, generator=gen)
            b.grad = a.grad.clone()
        opt.step()
        ref_opt.step()
    for a, b, a0 in zip(ours, ref, start):
        assert torch.equal(a, b) and not torch.equal(a, a0)
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt.state[a][key], ref_opt.state[b][key])


def test_eval_set_accuracy_equals_batched_accuracy_per_split():
    """Splits of different sizes laid end to end give each split's own accuracy, per member."""
    bm = BatchedMLP.from_models([build_model(ModelConfig(hidden=(6,)), 5, 3, seed=s)
                                 for s in (0, 1)])
    gen = torch.Generator().manual_seed(1)
    splits = {name: BatchedSplit(torch.randn(2, n, 5, generator=gen),
                                 torch.randint(0, 3, (2, n), generator=gen))
              for name, n in (("train", 7), ("val", 30), ("test", 1))}
    data = EvalSet.of(splits)
    assert data.bounds == {"train": (0, 7), "val": (7, 37), "test": (37, 38)}
    got = eval_set_accuracy(bm, data)
    assert list(got) == ["train", "val", "test"]
    for name, sp in splits.items():
        expected = batched_accuracy(bm, sp)
        assert got[name].shape == (2,)
        torch.testing.assert_close(got[name], expected)
