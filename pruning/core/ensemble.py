"""Several MLPs of one shape trained at once as a single batched model.

Why: a sweep trains the same small network for several seeds (and arms: magnitude pruning,
random pruning, weight decay …). One at a time, each tiny matmul pays Python and kernel
overhead; stacked, M members cost one batched matmul per layer.

Shapes. Member m has layers ``W_l[m]`` of shape (out_l, in_l) and ``b_l[m]`` of shape (out_l,).
Stacked, ``W_l`` is (M, out_l, in_l) and ``b_l`` is (M, out_l). Inputs are (M, B, D): every
member sees its *own* mini-batch (its own data split and batch order), and

    h_{l+1} = relu(b_l[:, None, :] + h_l @ W_l^T)        (torch.baddbmm, (M, B, out_l))

The loss is Σ_m mean_b CE(logits[m, b], y[m, b]); since members share no parameter, the
gradient of member m's weights is exactly the gradient of its own mean loss, so batched
training follows the same math as ``pruning.core.training.train`` run M times (Adam and SGD are
element-wise; L2 weight decay is added per member as g ← g + λ_m·w, which is what
``torch.optim.Adam(weight_decay=λ)`` does). Only float summation order can differ.

Speed, per training step: the gradients are written out by hand (``cross_entropy_grad``,
``mlp_backward``) instead of built by autograd, and Adam's fused kernel is called directly
(``StackedAdam``); evaluation runs member by member over all splits at once
(``eval_set_accuracy``). Each is checked against the plain version in tests/unit/test_batched.py.

Parameter names follow ``pruning.core.models.MLP`` (``layers.{l}.weight`` / ``layers.{l}.bias``), so
masks are dicts ``{name: bool tensor (M, *shape)}`` and ``member(m)`` gives back an ordinary
``MLP`` for the scorers and selection code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch
from torch import nn

from pruning.config import ModelConfig, TrainConfig
from pruning.core.models import MLP, build_model
from pruning.core.training import validate_train_config
from pruning.errors import PruningError

BatchedMasks = dict[str, torch.Tensor]  # name -> bool (M, *param shape), True = kept


class BatchedMLP(nn.Module):
    """M independent MLPs of identical shape, stacked along a leading member axis."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]):
        super().__init__()
        self.weights = nn.ParameterList(nn.Parameter(w.detach().clone()) for w in weights)
        self.biases = nn.ParameterList(nn.Parameter(b.detach().clone()) for b in biases)

    @classmethod
    def from_models(cls, models: Sequence[MLP]) -> "BatchedMLP":
        """Stack the weights of ``models`` (copies; the models are not touched)."""
        if not models:
            raise PruningError("a batched model needs at least one member")
        shapes = {tuple(p.shape for p in m.parameters()) for m in models}
        if len(shapes) != 1:
            raise PruningError("batched members must all have the same architecture")
        n_layers = len(models[0].layers)
        weights = [torch.stack([m.layers[i].weight.detach() for m in models]) for i in range(n_layers)]
        biases = [torch.stack([m.layers[i].bias.detach() for m in models]) for i in range(n_layers)]
        return cls(weights, biases)

    @classmethod
    def from_seeds(cls, model_config: ModelConfig, n_features: int, n_classes: int,
                   seeds: Sequence[int]) -> "BatchedMLP":
        """Member m is initialised exactly like ``build_model(model_config, seed=seeds[m])``."""
        return cls.from_models([build_model(model_config, n_features, n_classes, seed=s)
                                for s in seeds])

    @property
    def n_members(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(int(w.shape[1]) for w in self.weights[:-1])

    def named_member_parameters(self) -> dict[str, nn.Parameter]:
        """``{"layers.l.weight": (M, out, in), "layers.l.bias": (M, out)}`` in layer order."""
        out = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"layers.{i}.weight"] = w
            out[f"layers.{i}.bias"] = b
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (M, B, D) -> logits (M, B, C)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
            if i < last:
                x = torch.relu(x)
        return x

    def member_state(self, m: int) -> dict[str, torch.Tensor]:
        """Member ``m``'s weights as an ``MLP`` state_dict (copies)."""
        return {n: p[m].detach().clone() for n, p in self.named_member_parameters().items()}

    def member(self, m: int) -> MLP:
        """A fresh ordinary ``MLP`` holding a copy of member ``m``'s weights."""
        w0 = self.weights[0]
        model = MLP(int(w0.shape[2]), int(self.weights[-1].shape[1]), self.hidden)
        model.load_state_dict(self.member_state(m))
        model.eval()
        return model

    @torch.no_grad()
    def load_member_states(self, states: Sequence[Mapping[str, torch.Tensor]]) -> None:
        """Overwrite every member's weights: ``states[m]`` is an ``MLP`` state_dict."""
        for name, p in self.named_member_parameters().items():
            p.copy_(torch.stack([s[name] for s in states]))


@torch.no_grad()
def apply_batched_masks(model: BatchedMLP, masks: Mapping[str, torch.Tensor] | None) -> None:
    """w ← w ⊙ m for every masked parameter of every member (in place)."""
    if not masks:
        return
    params = model.named_member_parameters()
    for name, m in masks.items():
        params[name].mul_(m.to(params[name].dtype))


def stack_masks(per_member: Sequence[Mapping[str, torch.Tensor]]) -> BatchedMasks:
    """``[{name: (shape)}] * M`` -> ``{name: (M, *shape)}``."""
    return {n: torch.stack([m[n] for m in per_member]) for n in per_member[0]}


def member_masks(masks: Mapping[str, torch.Tensor], m: int) -> dict[str, torch.Tensor]:
    return {n: v[m].clone() for n, v in masks.items()}


@dataclass(frozen=True)
class BatchedSplit:
    """One split of every member's data, stacked: X (M, N, D) float32, y (M, N) int64."""

    X: torch.Tensor
    y: torch.Tensor


@torch.no_grad()
def batched_accuracy(model: BatchedMLP, split: BatchedSplit, chunk: int = 2048) -> torch.Tensor:
    """Per-member accuracy (fraction correct), shape (M,)."""
    was_training = model.training
    model.eval()
    correct = torch.zeros(split.y.shape[0], dtype=torch.long)
    n = split.y.shape[1]
    for i in range(0, n, chunk):
        logits = model(split.X[:, i:i + chunk])
        correct += (logits.argmax(2) == split.y[:, i:i + chunk]).sum(1)
    model.train(was_training)
    return correct.double() / max(n, 1)


@dataclass(frozen=True)
class EvalSet:
    """Several splits of every member's data laid end to end, to evaluate in one pass.

    X (M, N, D) and y (M, N) with N = Σ_split N_split; ``bounds[split] = (start, stop)`` along N.
    Built once per model (``EvalSet.of``); evaluating every epoch then copies nothing.
    """

    X: torch.Tensor
    y: torch.Tensor
    bounds: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, splits: Mapping[str, BatchedSplit]) -> "EvalSet":
        bounds, start = {}, 0
        for name, sp in splits.items():
            bounds[name] = (start, start + int(sp.y.shape[1]))
            start = bounds[name][1]
        X = torch.cat([sp.X for sp in splits.values()], 1).contiguous()
        y = torch.cat([sp.y for sp in splits.values()], 1)
        return cls(X, y, bounds)


@torch.no_grad()
def eval_set_accuracy(model: BatchedMLP, data: EvalSet) -> dict[str, torch.Tensor]:
    """``{split: per-member accuracy (M,) float64}``, the numbers ``batched_accuracy`` gives.

    Member by member: logits_m = MLP_m(X[m]) with one ``addmm`` per layer over all N rows,
    correct[m] = (argmax logits_m == y[m]); then accuracy = mean of ``correct`` over each
    split's range. Why not one ``baddbmm`` over all members: a member's activations
    (N, width) stay in the core's L2 cache (918 × 256 floats ≈ 0.9 MB for the noisy digits)
    where all members' (M, N, width) do not; measured 15.8 vs 19 ms per evaluation of the
    9 dense-phase members.
    """
    weights = [w.detach() for w in model.weights]
    biases = [b.detach() for b in model.biases]
    last = len(weights) - 1
    correct = torch.empty(data.y.shape, dtype=torch.bool)
    for m in range(data.y.shape[0]):
        h = data.X[m]
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = torch.addmm(b[m], h, w[m].t())
            if i < last:
                h.relu_()
        torch.eq(h.argmax(1), data.y[m], out=correct[m])
    return {name: correct[:, a:b].sum(1).double() / max(b - a, 1)
            for name, (a, b) in data.bounds.items()}


EpochFn = Callable[[int, BatchedMLP], None]  # (epoch done, model) after each epoch (and epoch 0)


class StackedAdam:
    """Adam (β = (0.9, 0.999), ε = 1e-8, no weight decay) over a fixed list of parameters,
    calling the fused CPU kernel directly.

    Per parameter p with gradient g, at step t (state m, v start at 0):
        m ← β₁·m + (1−β₁)·g,   v ← β₂·v + (1−β₂)·g²,
        p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
    This is ``torch.optim.Adam(fused=True)``'s own code path minus its per-step Python
    (re-collecting the state lists, grouping tensors by device and dtype, grad-mode context
    managers): the same kernel, ``_fused_adam_``, on the same state after the same step
    count increment, so results are bit-identical. Why: for the small nets of a sweep that Python
    cost more than the arithmetic (profiled: 1.2 of 1.9 s of optimizer time in a
    noisy-digits sweep).

    ``state`` has ``torch.optim.Adam``'s layout ``{param: {"step", "exp_avg", "exp_avg_sq"}}``
    so code that masks optimizer state (``_enforce``) works with either.
    """

    def __init__(self, params: Sequence[nn.Parameter], lr: float):
        self.params = list(params)
        self.lr = float(lr)
        # One step counter shared by every parameter (they always step together): one add_
        # per step instead of a _foreach_add_ over 0-d tensors, which is several times slower.
        self._step = torch.zeros((), dtype=torch.float32)
        self.state = {p: {"step": self._step,
                          "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                          "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
                      for p in self.params}
        self._steps = [self._step] * len(self.params)
        self._m = [self.state[p]["exp_avg"] for p in self.params]
        self._v = [self.state[p]["exp_avg_sq"] for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        self._step.add_(1)
        torch._fused_adam_(self.params, [p.grad for p in self.params], self._m, self._v, [],
                           self._steps, amsgrad=False, lr=self.lr, beta1=0.9, beta2=0.999,
                           weight_decay=0.0, eps=1e-8, maximize=False)


def _make_optimizer(model: BatchedMLP, cfg: TrainConfig):
    # Weight decay is added to the gradients by hand (per member), so the optimizer gets 0.
    # Fused Adam: the same update in one kernel per tensor, ~4x faster than the default
    # per-op CPU path (measured: 0.37 vs 1.46 ms per step for the noisy-digits members).
    if cfg.optimizer == "adam":
        if hasattr(torch, "_fused_adam_"):
            return StackedAdam(list(model.parameters()), cfg.lr)
        return torch.optim.Adam(model.parameters(), lr=cfg.lr)  # a build without the kernel
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)


@torch.no_grad()
def _enforce(opt: torch.optim.Optimizer, bound) -> None:
    """After a step: zero the optimizer state (momentum, Adam moments), then the weights,
    where pruned."""
    for p, m in bound:
        for buf in opt.state.get(p, {}).values():
            if torch.is_tensor(buf) and buf.shape == m.shape:
                buf.mul_(m)
        p.mul_(m)


def forward_with_inputs(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                        x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``BatchedMLP.forward`` that also returns every layer's input (what backward needs).

    inputs[0] = x (M, B, D); inputs[l] = relu(z_{l-1}) (M, B, in_l) for l ≥ 1, where
    z_l = b_l + inputs[l] @ W_l^T. Returns (z_last = logits (M, B, C), inputs).
    """
    inputs = [x]
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = torch.baddbmm(b.unsqueeze(1), inputs[-1], w.transpose(1, 2))
        if i == last:
            return z, inputs
        inputs.append(z.relu_())  # in place: z itself is not needed, only relu(z)
    raise PruningError("a model needs at least one layer")


def cross_entropy_grad(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂L/∂logits for L = Σ_m mean_b CE(logits[m, b], y[m, b]):  (softmax − onehot(y)) / B.

    logits (M, B, C), y (M, B) int64 → (M, B, C). Built the way autograd builds it for
    ``cross_entropy``: the mean's backward gives float32(1/B) per example, NLL's puts −1/B at
    the target, and log_softmax's backward kernel turns that into softmax/B − onehot/B. Using
    that same kernel keeps the values bit-equal to what ``loss.backward()`` gives (a plain
    ``softmax(z)/B − onehot/B`` differs in the last bit, and noisy-label training amplifies
    last bits).
    """
    # scatter_'s Python scalar is rounded to the logits' dtype: float32(−1/B) = −float32(1/B).
    g_logp = torch.zeros_like(logits).scatter_(2, y.unsqueeze(2), -1.0 / y.shape[1])
    return torch._log_softmax_backward_data(g_logp, torch.log_softmax(logits, 2), 2,
                                            logits.dtype)


def mlp_backward(weights: Sequence[torch.Tensor], inputs: Sequence[torch.Tensor],
                 g_out: torch.Tensor) -> list[torch.Tensor]:
    """Gradients of every layer, by hand: [∂L/∂W_0, ∂L/∂b_0, ∂L/∂W_1, …] (the param order).

    With g_l = ∂L/∂z_l (M, B, out_l), starting from g_last = ``g_out``:
        ∂L/∂W_l = g_l^T @ inputs[l]                     (M, out_l, in_l), a bmm
        ∂L/∂b_l = Σ_b g_l                                (M, out_l)
        g_{l-1} = (g_l @ W_l) ⊙ [inputs[l] > 0]          (relu's derivative)
    The input gradient of layer 0 is never formed (the data need none).

    Why by hand: autograd's bookkeeping (graph, expand/transpose backward nodes, gradient
    layout copies) cost about a third of a small training step (measured 5.1 → 3.3 ms for 9
    members of 64-256-256-10, 0.46 → 0.26 ms for 3 members of 64-18-18-10).
    """
    grads: list[torch.Tensor] = []
    g = g_out
    for i in range(len(weights) - 1, -1, -1):
        grads.append(g.sum(1))                                   # bias
        grads.append(torch.bmm(g.transpose(1, 2), inputs[i]))    # weight
        if i:
            g = torch.ops.aten.threshold_backward(torch.bmm(g, weights[i]), inputs[i], 0)
    return grads[::-1]


@torch.no_grad()
def train_batched(model: BatchedMLP, train_split: BatchedSplit, cfg: TrainConfig,
                  seeds: Sequence[int], weight_decay: Sequence[float] | None = None,
                  masks: Mapping[str, torch.Tensor] | None = None,
                  on_epoch: EpochFn | None = None) -> BatchedMLP:
    """Train every member in place, as ``training.train`` would train each one alone.

    cfg:          epochs, batch size, learning rate and optimizer shared by all members
                  (``cfg.seed`` and ``cfg.weight_decay`` are ignored: see below).
    seeds:        member m's batch order comes from ``torch.Generator().manual_seed(seeds[m])``,
                  one ``randperm`` per epoch, exactly as ``train`` with ``TrainConfig(seed=…)``.
    weight_decay: λ_m per member (L2 added to the gradient, like Adam's ``weight_decay``).
    masks:        held fixed: gradients, optimizer state and weights are zeroed where pruned
                  after every step (same three steps as ``pruning.core.masks``).
    on_epoch:     called with (0, model) before training and (e, model) after epoch e.

    Per step: forward keeping each layer's input, ∂L/∂logits and the layer gradients by hand
    (``cross_entropy_grad``, ``mlp_backward``; no autograd graph), mask and decay the
    gradients, one optimizer step, re-enforce the masks.
    """
    cfg = validate_train_config(cfg)
    M, n = train_split.y.shape
    if M != model.n_members or len(seeds) != M:
        raise PruningError(f"need one data split and one seed per member ({model.n_members})")
    wd = torch.tensor([float(v) for v in (weight_decay or [0.0] * M)], dtype=torch.float32)
    if wd.shape[0] != M:
        raise PruningError("need one weight decay per member")
    if n == 0:
        raise PruningError("the training set is empty")
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    opt = _make_optimizer(model, cfg)
    if masks:
        apply_batched_masks(model, masks)
    if on_epoch:
        on_epoch(0, model)
    bs = min(cfg.batch_size, n)
    rows = torch.arange(M)[:, None]
    # Looked up and converted once: per step, name lookups and bool -> float casts would
    # cost more than the multiplications.
    params = model.named_member_parameters()
    bound = [(params[n], m.to(params[n].dtype)) for n, m in (masks or {}).items()]
    decay = ([(p, wd.view(-1, *([1] * (p.dim() - 1)))) for p in params.values()]
             if bool((wd != 0).any()) else [])
    model.train()
    weights = [w.detach() for w in model.weights]  # views: the optimizer's in-place steps show
    biases = [b.detach() for b in model.biases]
    ordered = [p for w, b in zip(model.weights, model.biases) for p in (w, b)]  # W_0, b_0, W_1, …
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (M, n)
        for i in range(0, n, bs):
            idx = perm[:, i:i + bs]
            logits, inputs = forward_with_inputs(weights, biases, train_split.X[rows, idx])
            g_out = cross_entropy_grad(logits, train_split.y[rows, idx])
            for p, g in zip(ordered, mlp_backward(weights, inputs, g_out)):
                p.grad = g
            for p, m in bound:
                p.grad.mul_(m)
            for p, lam in decay:
                p.grad.add_(p * lam)
            opt.step()
            if bound:
                _enforce(opt, bound)
        if on_epoch:
            on_epoch(epoch, model)
    model.eval()
    return model
