"""Many MLPs of one shape, trained at once: the engine of the Generalization lab's sweep.

What it is. An ``MLPEnsemble`` holds M independent MLPs of the same architecture, their
weights stacked along a leading *member* axis. ("Ensemble" as in a set of models: the members
never see each other and their predictions are never averaged.) ``train_ensemble`` trains all
M together with the protocol of ``pruning.core.training.train`` — each member with its own
data, batch order (seed), weight decay and masks — so member m ends up where ``train`` would
have taken that model on its own, up to float32 rounding (tests/unit/test_ensemble.py).
``padded_ensemble`` also fits nets of different hidden widths into one ensemble.

Why it exists. A sweep trains the same small network dozens of times (seeds × arms × levels).
Trained one by one, every step of every model pays Python, autograd and kernel-launch
overhead for tiny matrices; stacked, one step of all M members costs one batched matrix
product per layer. ``pruning.labs.generalization.run_sweep(..., batched=False)`` runs the same
protocol with ``train`` one model at a time and is the reference the tests compare against;
BENCHMARKS.md (item ``sweep``, and "Training without hand-written gradients") has the times.

How, in plain autograd and ``torch.optim`` (nothing else differs from ``train``):

    weights   W_l (M, out_l, in_l), b_l (M, out_l); inputs X (M, B, D): member m's own batch
    forward   h_{l+1} = relu(W_l @ h_l + b_l)   torch.baddbmm; h_l (M, width_l, B), see StackedLinear
    loss      Σ_m mean_b CE(logits[m, b], y[m, b])
    backward  ``loss.backward()``. No parameter is shared between members, so the gradient of
              member m's weights is the gradient of its own mean loss: what ``train`` computes.
    decay     g ← g + λ_m·w per member: what ``torch.optim.Adam(weight_decay=λ)`` does inside
              its step, done here before the step because one optimizer steps every member
              and λ differs between them (the sweep's weight-decay arms).
    step      one ``training.make_optimizer`` optimizer over the stacked tensors. Adam and SGD
              act element by element, so one step over a stack is M separate steps.
    masks     ``pruning.core.masks``, as in ``train``: gradient zeroed where pruned before the
              step; optimizer state and weight zeroed there after it.

Where the numbers can differ from ``train``: a batched matrix product may sum in a different
order than the single one, and weight decay is rounded as its own addition. Those are
last-bit float32 differences; over many epochs of noisy-label training they can grow enough
to flip a few predictions (docs/generalization.md says by how much for the presets).

Parameter names follow ``pruning.core.models.MLP`` (``layers.{l}.weight`` is (M, out, in),
``layers.{l}.bias`` is (M, out)), so masks are ``{name: bool tensor (M, *shape)}`` and every
function of ``pruning.core.masks`` works on an ensemble as on one MLP; ``member(m)`` gives
back an ordinary ``MLP`` for the scorers and the selection code.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pruning.config import ModelConfig, TrainConfig
from pruning.core.masks import (
    apply_masks,
    bind_masks,
    enforce_bound_masks,
    mask_bound_gradients,
)
from pruning.core.models import MLP, build_model
from pruning.core.stop import epoch_done, stop_point
from pruning.core.training import make_optimizer, validate_train_config
from pruning.errors import PruningError

EnsembleMasks = dict[str, torch.Tensor]  # name -> bool (M, *param shape), True = kept


class StackedLinear(nn.Module):
    """M ``nn.Linear`` layers of one shape: weight (M, out, in), bias (M, out).

    Works on activations laid out feature by example, h (M, in, B) -> W @ h + b (M, out, B):
    then the weight gradient autograd builds, g @ hᵀ, comes out in the weight's own (M, out,
    in) layout. (With the usual h @ Wᵀ it comes out transposed, and autograd copies it into
    the weight's layout at every step.)
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (M, in, B) -> (M, out, B)
        return torch.baddbmm(self.bias.unsqueeze(2), self.weight, h)


class MLPEnsemble(nn.Module):
    """M independent MLPs of identical shape, stacked along a leading member axis."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]):
        super().__init__()
        self.layers = nn.ModuleList(StackedLinear(w, b) for w, b in zip(weights, biases))

    @classmethod
    def from_models(cls, models: Sequence[MLP]) -> "MLPEnsemble":
        """Stack the weights of ``models`` (copies; the models are not touched)."""
        if not models:
            raise PruningError("an ensemble needs at least one member")
        shapes = {tuple(p.shape for p in m.parameters()) for m in models}
        if len(shapes) != 1:
            raise PruningError("ensemble members must all have the same architecture")
        n_layers = len(models[0].layers)
        weights = [torch.stack([m.layers[i].weight.detach() for m in models]) for i in range(n_layers)]
        biases = [torch.stack([m.layers[i].bias.detach() for m in models]) for i in range(n_layers)]
        return cls(weights, biases)

    @classmethod
    def from_seeds(cls, model_config: ModelConfig, n_features: int, n_classes: int,
                   seeds: Sequence[int]) -> "MLPEnsemble":
        """Member m is initialised exactly like ``build_model(model_config, seed=seeds[m])``."""
        return cls.from_models([build_model(model_config, n_features, n_classes, seed=s)
                                for s in seeds])

    @property
    def n_members(self) -> int:
        return int(self.layers[0].weight.shape[0])

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(int(layer.weight.shape[1]) for layer in self.layers[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (M, B, D) -> logits (M, B, C)
        return self.logits_by_class(x).transpose(1, 2)

    def logits_by_class(self, x: torch.Tensor) -> torch.Tensor:  # (M, B, D) -> (M, C, B)
        """The logits laid out (member, class, example), the layout the layers compute in
        (``StackedLinear``) and the one ``F.cross_entropy`` takes for (M, B) targets."""
        h = x.transpose(1, 2)
        *hidden, last = self.layers
        for layer in hidden:
            h = torch.relu(layer(h))
        return last(h)

    def member_state(self, m: int) -> dict[str, torch.Tensor]:
        """Member ``m``'s weights as an ``MLP`` state_dict (copies)."""
        return {n: p[m].detach().clone() for n, p in self.named_parameters()}

    def member(self, m: int) -> MLP:
        """A fresh ordinary ``MLP`` holding a copy of member ``m``'s weights."""
        first, last = self.layers[0].weight, self.layers[-1].weight
        model = MLP(int(first.shape[2]), int(last.shape[1]), self.hidden)
        model.load_state_dict(self.member_state(m))
        model.eval()
        return model

    @torch.no_grad()
    def load_member_states(self, states: Sequence[Mapping[str, torch.Tensor]]) -> None:
        """Overwrite every member's weights: ``states[m]`` is an ``MLP`` state_dict."""
        for name, p in self.named_parameters():
            p.copy_(torch.stack([s[name] for s in states]))


def padded_ensemble(models: Sequence[MLP]) -> tuple[MLPEnsemble, EnsembleMasks]:
    """MLPs of one depth but different hidden widths as one ensemble of the widest shape.

    Member m's weights sit in the top-left corner of each layer; its extra hidden units get
    weights and bias 0. Returned beside the ensemble: the masks of the members' own entries
    (only for the parameters some member is padded in).

    A padded unit has no input, no bias and no output: it computes relu(0) = 0 and passes 0
    on. Its gradients are exact zeros too (every one is a product with its zero activation,
    its zero outgoing weights, or relu's derivative at 0, which is 0), and Adam or SGD leave
    a zero weight with a zero gradient and zero state exactly where it is. So member m
    computes, and learns, what ``models[m]`` alone would, and the padding stays 0 even when
    trained *without* the masks — bit for bit the same as with them (tested), and cheaper,
    since holding masks costs four extra passes over every parameter per step.
    (A smaller net is a wider one with whole units pruned.)

    Why: nets too small to keep the processor busy cost per *step*, not per weight; one
    ensemble of several widths takes one set of steps instead of one per width.
    """
    if not models:
        raise PruningError("an ensemble needs at least one member")
    if len({len(m.layers) for m in models}) != 1 or len(
            {(m.layers[0].in_features, m.layers[-1].out_features) for m in models}) != 1:
        raise PruningError("padded members need the same depth, inputs and classes")
    weights, biases, masks = [], [], {}
    for i in range(len(models[0].layers)):
        out = max(m.layers[i].out_features for m in models)
        inp = max(m.layers[i].in_features for m in models)
        w, b = torch.zeros(len(models), out, inp), torch.zeros(len(models), out)
        w_kept = torch.zeros(w.shape, dtype=torch.bool)
        b_kept = torch.zeros(b.shape, dtype=torch.bool)
        for k, m in enumerate(models):
            o, n = m.layers[i].weight.shape
            w[k, :o, :n], w_kept[k, :o, :n] = m.layers[i].weight.detach(), True
            b[k, :o], b_kept[k, :o] = m.layers[i].bias.detach(), True
        weights.append(w)
        biases.append(b)
        for name, kept in ((f"layers.{i}.weight", w_kept), (f"layers.{i}.bias", b_kept)):
            if not kept.all():  # only where some member is padded
                masks[name] = kept
    return MLPEnsemble(weights, biases), masks


def stack_masks(per_member: Sequence[Mapping[str, torch.Tensor]]) -> EnsembleMasks:
    """``[{name: (shape)}] * M`` -> ``{name: (M, *shape)}``."""
    return {n: torch.stack([m[n] for m in per_member]) for n in per_member[0]}


def member_masks(masks: Mapping[str, torch.Tensor], m: int) -> dict[str, torch.Tensor]:
    return {n: v[m].clone() for n, v in masks.items()}


@dataclass(frozen=True)
class EnsembleSplit:
    """One split of every member's data, stacked: X (M, N, D) float32, y (M, N) int64."""

    X: torch.Tensor
    y: torch.Tensor


@torch.no_grad()
def ensemble_accuracy(model: MLPEnsemble, split: EnsembleSplit, chunk: int = 2048) -> torch.Tensor:
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
    def of(cls, splits: Mapping[str, EnsembleSplit]) -> "EvalSet":
        bounds, start = {}, 0
        for name, sp in splits.items():
            bounds[name] = (start, start + int(sp.y.shape[1]))
            start = bounds[name][1]
        X = torch.cat([sp.X for sp in splits.values()], 1).contiguous()
        y = torch.cat([sp.y for sp in splits.values()], 1)
        return cls(X, y, bounds)


@torch.no_grad()
def eval_set_accuracy(model: MLPEnsemble, data: EvalSet) -> dict[str, torch.Tensor]:
    """``{split: per-member accuracy (M,) float64}``, the numbers ``ensemble_accuracy`` gives.

    Member by member: logits_m = MLP_m(X[m]) with one ``addmm`` per layer over all N rows,
    correct[m] = (argmax logits_m == y[m]); then accuracy = mean of ``correct`` over each
    split's range. Member by member rather than one ``baddbmm`` over all members because one
    member's activations (N, width) stay in the core's cache where all members' do not.
    """
    layers = [(layer.weight.detach(), layer.bias.detach()) for layer in model.layers]
    last = len(layers) - 1
    correct = torch.empty(data.y.shape, dtype=torch.bool)
    for m in range(data.y.shape[0]):
        h = data.X[m]
        for i, (w, b) in enumerate(layers):
            h = torch.addmm(b[m], h, w[m].t())
            if i < last:
                h.relu_()
        torch.eq(h.argmax(1), data.y[m], out=correct[m])
    return {name: correct[:, a:b].sum(1).double() / max(b - a, 1)
            for name, (a, b) in data.bounds.items()}


EpochFn = Callable[[int, MLPEnsemble], None]  # (epoch done, model) after each epoch (and epoch 0)


def train_ensemble(model: MLPEnsemble, train_split: EnsembleSplit, cfg: TrainConfig,
                   seeds: Sequence[int], weight_decay: Sequence[float] | None = None,
                   masks: Mapping[str, torch.Tensor] | None = None,
                   on_epoch: EpochFn | None = None) -> MLPEnsemble:
    """Train every member in place, as ``training.train`` would train each one alone.

    cfg:          epochs, batch size, learning rate and optimizer shared by all members
                  (``cfg.seed`` and ``cfg.weight_decay`` are ignored: see below).
    seeds:        member m's batch order comes from ``torch.Generator().manual_seed(seeds[m])``,
                  one ``randperm`` per epoch, exactly as ``train`` with ``TrainConfig(seed=…)``.
    weight_decay: λ_m per member (L2 added to the gradient, like Adam's ``weight_decay``).
    masks:        ``{name: bool (M, *shape)}``, held at zero as ``train`` holds them.
    on_epoch:     called with (0, model) before training and (e, model) after epoch e.
    """
    cfg = validate_train_config(cfg)
    M, n = train_split.y.shape
    if M != model.n_members or len(seeds) != M:
        raise PruningError(f"need one data split and one seed per member ({model.n_members})")
    decays = [float(v) for v in (weight_decay or [0.0] * M)]
    if len(decays) != M:
        raise PruningError("need one weight decay per member")
    if n == 0:
        raise PruningError("the training set is empty")
    # λ_m as a column that broadcasts over each parameter's member axis; none if all are 0.
    lam = torch.tensor(decays, dtype=torch.float32)
    decay = ([(p, lam.view(-1, *[1] * (p.dim() - 1))) for p in model.parameters()]
             if any(decays) else [])
    opt = make_optimizer(model, replace(cfg, weight_decay=0.0))  # decay is added per member
    bound = bind_masks(model, masks) if masks else []
    if masks:
        apply_masks(model, masks)
    if on_epoch:
        on_epoch(0, model)
    batch_size = min(cfg.batch_size, n)
    batch_orders = [torch.Generator().manual_seed(int(s)) for s in seeds]
    members = torch.arange(M)[:, None]  # row index for gathering each member's own batch
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.stack([torch.randperm(n, generator=g) for g in batch_orders])  # (M, n)
        for start in range(0, n, batch_size):
            idx = perm[:, start:start + batch_size]                                  # (M, B)
            opt.zero_grad()
            logits = model.logits_by_class(train_split.X[members, idx])              # (M, C, B)
            per_example = F.cross_entropy(logits, train_split.y[members, idx], reduction="none")
            loss = per_example.mean(1).sum()  # Σ_m (member m's mean loss over its batch)
            loss.backward()
            mask_bound_gradients(bound)
            with torch.no_grad():
                for p, lam_m in decay:
                    p.grad.addcmul_(p, lam_m)  # g ← g + λ_m·w
            opt.step()
            enforce_bound_masks(bound, opt)
            stop_point()  # a job's Stop acts here (pruning.core.stop)
        if on_epoch:
            on_epoch(epoch, model)
        epoch_done(epoch, cfg.epochs)
    model.eval()
    return model
