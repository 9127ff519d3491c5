"""Training speed: one epoch against the machine's FLOP limit, and time to 97 % test accuracy
against scikit-learn's ``MLPClassifier``."""
from __future__ import annotations

import warnings

import numpy as np
import torch

from pruning.config import ModelConfig, TrainConfig
from pruning.core.counts import multiply_adds
from pruning.core.models import build_model
from pruning.core.training import evaluate_all, make_optimizer, train

from .fixtures import default_data, peak_matmul_flops
from .harness import Clock, Result, Stats, Target, timed

EPOCHS_PER_REPEAT = 10


def _matmuls_of_one_epoch(model, n_train: int, batch_size: int, tries: int = 5) -> float:
    """Seconds for only the matrix products of one epoch's steps, at the real shapes: per
    Linear layer (out, in) and batch B, the forward x·Wᵀ (B×in·in×out), the weight gradient
    gᵀ·x (out×B·B×in) and the input gradient g·W (B×out·out×in); best of ``tries``.
    The floor the rest of a step (activations, loss, optimizer, autograd) adds to."""
    import time

    gen = torch.Generator().manual_seed(0)
    weights = [m.weight.detach() for m in model.modules() if isinstance(m, torch.nn.Linear)]
    sizes = [min(batch_size, n_train - i) for i in range(0, n_train, batch_size)]
    operands = {b: [(torch.randn(b, w.shape[1], generator=gen), torch.randn(b, w.shape[0], generator=gen))
                    for w in weights] for b in set(sizes)}
    best = float("inf")
    for _ in range(tries):
        t = time.perf_counter()
        for b in sizes:
            for w, (x, g) in zip(weights, operands[b]):
                x @ w.t()
                g.t() @ x
                g @ w
        best = min(best, time.perf_counter() - t)
    return best


def epoch_vs_flop_limit(repeats: int) -> Result:
    """One epoch of ``pruning.core.training.train`` for the default model vs the FLOP limit.

    FLOP limit of one epoch = 6 · MACs · N_train ÷ peak FLOP/s, where MACs = multiply-adds of
    one example's forward pass (64·300 + 300·100 + 100·10 = 50,200) and 6 = 2 FLOPs per MAC ×
    (forward + gradient w.r.t. the activations + gradient w.r.t. the weights). (Autograd skips
    the input gradient of the first layer, so the real count is 5.24·MACs·N: the limit is a
    slightly generous floor.) The peak is the best 2048×2048 fp32 matmul of the same repeat.

    What is timed is what a student waits for: ``train()`` for 10 epochs ÷ 10, i.e. the steps
    *and* the per-epoch evaluation of all three splits the history table needs (plus a tenth of
    the epoch-0 evaluation). The FLOP limit counts the training FLOPs only.
    """
    data = default_data()
    cfg = TrainConfig()
    model = build_model(ModelConfig(), data.n_features, data.n_classes, seed=0)
    macs = multiply_adds(model, data.n_features)["dense"]
    n_train = len(data.y_train)
    flops = 6 * macs * n_train
    train(model, data, TrainConfig(epochs=1))  # one-time lazy initialisation of torch kernels
    train(model, data, TrainConfig(epochs=1), optimizer=make_optimizer(model, cfg))  # and autograd's
    ratios, epochs_wall, epochs_cpu, peaks, limits, evals, fused, mm = [], [], [], [], [], [], [], []
    for r in range(repeats):
        peak = peak_matmul_flops()
        model = build_model(ModelConfig(), data.n_features, data.n_classes, seed=r)
        with Clock() as c:
            train(model, data, TrainConfig(epochs=EPOCHS_PER_REPEAT, seed=r))
        epoch = c.wall / EPOCHS_PER_REPEAT
        limit = flops / peak
        eval_wall, _, _ = timed(lambda: evaluate_all(model, data))
        # Reference, not the headline: the autograd loop train() runs when it is given an
        # optimizer (here the one it would make itself) — the path before the hand-written steps.
        model = build_model(ModelConfig(), data.n_features, data.n_classes, seed=r)
        with Clock() as cf:
            train(model, data, TrainConfig(epochs=EPOCHS_PER_REPEAT, seed=r),
                  optimizer=make_optimizer(model, cfg))
        fused.append(cf.wall / EPOCHS_PER_REPEAT / limit)
        ratios.append(epoch / limit)
        epochs_wall.append(epoch)
        epochs_cpu.append(c.cpu / EPOCHS_PER_REPEAT)
        peaks.append(peak)
        limits.append(limit)
        evals.append(eval_wall)
        mm.append(_matmuls_of_one_epoch(model, n_train, cfg.batch_size) / limit)
    res = Result("epoch", "one training epoch vs the FLOP limit", Target("<=", 3.0, "×"),
                 Stats.of(ratios), headline_unit="×")
    res.detail("peak fp32 matmul (2048², same repeat)", Stats.of(peaks), 1e-9, "GFLOP/s", 1)
    res.detail("training FLOPs per epoch = 6 · MACs · N_train",
               f"6 · {macs:,} · {n_train:,} = {flops / 1e6:.1f} MFLOP")
    res.detail("FLOP limit of one epoch", Stats.of(limits), 1e3, "ms")
    res.detail("one epoch, wall (train() incl. per-epoch evaluation)", Stats.of(epochs_wall), 1e3, "ms")
    res.detail("one epoch, thread CPU", Stats.of(epochs_cpu), 1e3, "ms")
    res.detail("of which: evaluate_all (3 splits) once", Stats.of(evals), 1e3, "ms")
    res.detail("steps only ÷ FLOP limit (epoch − evaluation)",
               Stats.of([(e - v) / l for e, v, l in zip(epochs_wall, evals, limits)]), 1, "×")
    res.detail("reference: the autograd loop (torch.optim.Adam) ÷ FLOP limit",
               Stats.of(fused), 1, "×")
    res.detail("floor: only the matrix products of one epoch's steps ÷ FLOP limit",
               Stats.of(mm), 1, "×")
    res.notes.append(f"batch size {cfg.batch_size} ({-(-n_train // cfg.batch_size)} steps per "
                     f"epoch), Adam lr {cfg.lr}; each repeat trains a fresh model (seed = repeat "
                     f"index) for {EPOCHS_PER_REPEAT} epochs.")
    return res


def _ours_to_target(data, seed: int, target: float, max_epochs: int):
    """Train the default model until test accuracy first reaches ``target``.
    Returns (epochs needed or None, wall s)."""
    hit: dict[str, int] = {}

    def progress(epoch, total, row):
        if "epoch" not in hit and row["test_acc"] >= target:
            hit["epoch"] = epoch

    def run():
        model = build_model(ModelConfig(), data.n_features, data.n_classes, seed=seed)
        train(model, data, TrainConfig(epochs=max_epochs, seed=seed), progress=progress,
              should_stop=lambda: "epoch" in hit)

    wall, _, _ = timed(run)
    return hit.get("epoch"), wall


def _sklearn_to_target(data, seed: int, target: float, max_epochs: int, threads: int):
    """``MLPClassifier`` (same hidden sizes, its own defaults otherwise: Adam, lr 1e-3, batch
    min(200, n), L2 1e-4), one ``partial_fit`` epoch at a time, test accuracy after each."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    Xtr, ytr = data.X_train.numpy(), data.y_train.numpy()
    Xte, yte = data.X_test.numpy(), data.y_test.numpy()
    classes = np.arange(data.n_classes)

    def run():
        clf = MLPClassifier(hidden_layer_sizes=tuple(ModelConfig().hidden), random_state=seed)
        for epoch in range(1, max_epochs + 1):
            clf.partial_fit(Xtr, ytr, classes=classes)
            if clf.score(Xte, yte) >= target:
                return epoch
        return None

    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wall, _, epochs = timed(run)
    return epochs, wall


def time_to_97(repeats: int, target: float = 0.97, max_epochs: int = 300) -> Result:
    """Time from a fresh model to the first epoch with test accuracy ≥ 97 %, ours vs
    scikit-learn, on the same standardized digits split; repeat r uses seed r for both.
    Every evaluation either side needs to know it got there is inside the timed region (ours
    evaluates all three splits each epoch because its history table has them)."""

    data = default_data()
    threads = torch.get_num_threads()
    _ours_to_target(data, 0, target, 1)  # warm-up (kernel initialisation) outside the timing
    ratios, ours_s, sk_s, rows = [], [], [], []
    for seed in range(repeats):
        ep_o, t_o = _ours_to_target(data, seed, target, max_epochs)
        ep_s, t_s = _sklearn_to_target(data, seed, target, max_epochs, threads)
        ours_s.append(t_o)
        sk_s.append(t_s)
        rows.append(f"seed {seed}: ours {ep_o or 'never'} epochs in {t_o:.2f} s, "
                    f"scikit-learn {ep_s or 'never'} epochs in {t_s:.2f} s")
        if ep_o is not None and ep_s is not None:
            ratios.append(t_o / t_s)
    res = Result("to97", "time to ≥ 97 % test accuracy vs scikit-learn MLPClassifier",
                 Target("<=", 0.2, "×"), Stats.of(ratios) if ratios else None, headline_unit="×")
    res.detail("ours (train(), batch 64, Adam 1e-3)", Stats.of(ours_s), 1, "s")
    res.detail("scikit-learn MLPClassifier(300, 100), defaults", Stats.of(sk_s), 1, "s")
    res.notes += rows
    res.notes.append(f"both single-process with {threads} thread(s) (numpy's BLAS limited with "
                     f"threadpoolctl); a side that never reaches {target:.0%} within {max_epochs} "
                     f"epochs is left out of the ratio.")
    return res
