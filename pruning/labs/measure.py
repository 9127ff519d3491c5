"""Measured on this machine: how many bytes a model's file takes and how long a forward pass lasts.

``pruning.core.counts`` *counts* (parameters, multiply-adds, tensor bytes). This module *measures*
what a user would see outside the app, because counts and measurements disagree in ways that
surprise people ("I pruned 90 %, why is the file the same size?"):

Bytes (every number is ``len()`` of real bytes):
  * ``dense_file``   — ``torch.save(state_dict)`` into memory. Pruned weights are stored as
                       0.0 and still take 4 bytes each, so masking alone changes nothing here.
  * ``dense_gzip``   — the same bytes gzip-compressed (level 9, mtime 0 so it is reproducible).
                       Runs of zeros compress well, so this *does* shrink with sparsity.
  * ``csr_file`` / ``coo_file`` — ``torch.save`` of the state_dict with every Linear / Conv
                       weight converted to a sparse tensor (conv weights as (out, in·kh·kw)):
                       CSR keeps values + column indices + one row pointer per row; COO keeps
                       values + (row, column) index pairs. torch uses int64 indices, so each
                       kept weight costs 4 + 8 (CSR) or 4 + 16 (COO) bytes: sparse storage
                       only wins once most weights are gone.

Latency (``time_forward``): median wall-clock time of one forward pass on one batch, with
  * warm-up calls first (first calls allocate memory and pick kernels),
  * each timed run long enough (≥ ``min_run_s``) for the clock's resolution not to matter,
  * the variants timed *interleaved* (round-robin, starting at a different variant each
    repeat), so a background load that comes and goes hits every variant alike,
  * the median over ``repeats`` runs (robust to the odd slow run), plus the quartiles so the
    page can say when two variants are within measurement noise.
The thread count in use is recorded with the result; the app runs torch with 1 thread.
"""
from __future__ import annotations

import copy
import gzip
import io
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Mapping

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from pruning.errors import PruningError


# ----------------------------------------------------------------------------- bytes
def saved_bytes(obj) -> bytes:
    """The bytes ``torch.save(obj)`` writes (into memory, no disk involved)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def gzip_size(data: bytes) -> int:
    """Length of ``data`` gzip-compressed at level 9 (mtime fixed, so reproducible)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def _weight_modules(model: nn.Module):
    return [(name, mod) for name, mod in model.named_modules()
            if isinstance(mod, (nn.Linear, nn.Conv2d))]


def _quiet_sparse(fn):
    """Run ``fn`` without torch's "sparse CSR is in beta" warning (true, but noise for users)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn()


def sparse_state_dict(model: nn.Module, layout: str = "csr") -> dict[str, torch.Tensor]:
    """The state_dict with each Linear / Conv2d weight as a sparse ``csr`` or ``coo`` tensor.

    A conv weight (out, in, kh, kw) is stored as the 2-D matrix (out, in·kh·kw) that a
    sparse matmul would use. Biases and everything else stay dense.
    """
    if layout not in ("csr", "coo"):
        raise PruningError(f"sparse layout must be 'csr' or 'coo', got {layout!r}")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for name, mod in _weight_modules(model):
        w = mod.weight.detach().reshape(mod.weight.shape[0], -1)
        state[f"{name}.weight"] = _quiet_sparse(
            lambda w=w: w.to_sparse_csr() if layout == "csr" else w.to_sparse().coalesce())
    return state


def storage_sizes(model: nn.Module) -> dict[str, int]:
    """``{dense_file, dense_gzip, csr_file, coo_file}`` in bytes (see the module docstring)."""
    dense = saved_bytes(model.state_dict())
    return {
        "dense_file": len(dense),
        "dense_gzip": gzip_size(dense),
        "csr_file": len(saved_bytes(sparse_state_dict(model, "csr"))),
        "coo_file": len(saved_bytes(sparse_state_dict(model, "coo"))),
    }


# ----------------------------------------------------------------------------- sparse inference
class SparseLinear(nn.Module):
    """y = x Wᵀ + b with W held as a CSR matrix (out, in): computed as (W · xᵀ)ᵀ, because
    torch multiplies a sparse matrix on the *left* of a dense one."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.weight = _quiet_sparse(lambda: linear.weight.detach().to_sparse_csr())
        self.bias = None if linear.bias is None else linear.bias.detach().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in) -> (B, out)
        y = torch.sparse.mm(self.weight, x.t()).t()
        return y if self.bias is None else y + self.bias


class SparseConv2d(nn.Module):
    """A Conv2d as an im2col matmul: unfold (B, C, H, W) into columns (C·kh·kw, B·L), multiply
    by the CSR filter matrix (out, C·kh·kw), fold back to (B, out, H_out, W_out)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if conv.groups != 1:
            raise PruningError("sparse inference supports ordinary (groups = 1) convolutions only")
        w = conv.weight.detach()
        self.out_channels = w.shape[0]
        self.kernel_size, self.stride = conv.kernel_size, conv.stride
        self.padding, self.dilation = conv.padding, conv.dilation
        self.weight = _quiet_sparse(lambda: w.reshape(w.shape[0], -1).to_sparse_csr())
        self.bias = None if conv.bias is None else conv.bias.detach().clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding,
                        stride=self.stride)                          # (B, C·kh·kw, L)
        ck, n_pos = cols.shape[1], cols.shape[2]
        y = torch.sparse.mm(self.weight, cols.transpose(0, 1).reshape(ck, b * n_pos))
        y = y.reshape(self.out_channels, b, n_pos).transpose(0, 1)   # (B, out, L)
        if self.bias is not None:
            y = y + self.bias[None, :, None]
        h_out = (h + 2 * self.padding[0] - self.dilation[0] * (self.kernel_size[0] - 1) - 1) \
            // self.stride[0] + 1
        return y.reshape(b, self.out_channels, h_out, -1)


def to_sparse_inference(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose Linear / Conv2d layers multiply with CSR weights
    (``torch.sparse``); same outputs up to float rounding. The original is not changed."""
    sparse = copy.deepcopy(model)
    for name, mod in _weight_modules(model):
        parent_name, _, child = name.rpartition(".")
        parent = sparse.get_submodule(parent_name) if parent_name else sparse
        new = SparseLinear(mod) if isinstance(mod, nn.Linear) else SparseConv2d(mod)
        setattr(parent, child, new)  # ModuleList accepts setattr with its index as the name
    return sparse.eval()


# ----------------------------------------------------------------------------- int8
def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` replaced by torch's dynamically quantized
    int8 version (``torch.ao.quantization.quantize_dynamic``, post-training, no calibration):
    weights stored as int8 with one scale per tensor, activations quantized on the fly at every
    call, accumulation in int32. Convolutions stay float32. The original is not changed.

    torch marks ``torch.ao.quantization`` as deprecated in favour of the separate ``torchao``
    package; it is still torch's public API in this version and needs nothing extra installed,
    so the app uses it and silences the deprecation notice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear},
                                                      dtype=torch.qint8)


# ----------------------------------------------------------------------------- latency
@dataclass(frozen=True)
class Timing:
    """Milliseconds per forward pass of one batch: the median of ``runs_ms`` and its quartiles."""

    variant: str
    median_ms: float
    q1_ms: float
    q3_ms: float
    runs_ms: tuple[float, ...]
    calls_per_run: int


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def _calls_for(fn, min_run_s: float, max_calls: int) -> int:
    """How many calls make one timed run last at least ``min_run_s`` (doubling, like timeit)."""
    n = 1
    while n < max_calls:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= min_run_s:
            break
        n *= 2
    return min(n, max_calls)


def time_forward(models: Mapping[str, nn.Module], X: torch.Tensor, repeats: int = 7,
                 warmup: int = 3, min_run_s: float = 0.02, max_calls: int = 4096) -> pd.DataFrame:
    """Time ``model(X)`` for every model, fairly (see the module docstring).

    Returns one row per variant: ``variant, median_ms, q1_ms, q3_ms, min_ms, max_ms, repeats,
    calls_per_run, batch_size, threads`` (ms per forward pass of the whole batch ``X``).
    """
    if not models:
        raise PruningError("nothing to time")
    if not 1 <= int(repeats) <= 101:
        raise PruningError(f"repeats must be between 1 and 101, got {repeats}")
    if X.ndim < 2 or X.shape[0] < 1:
        raise PruningError("time the models on a batch of at least one example")
    names = list(models)
    with torch.inference_mode():
        calls = {}
        for name in names:
            m = models[name].eval()
            fn = (lambda m=m: m(X))
            for _ in range(warmup):
                fn()
            calls[name] = (fn, _calls_for(fn, min_run_s, max_calls))
        runs: dict[str, list[float]] = {n: [] for n in names}
        for r in range(int(repeats)):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                fn, n = calls[name]
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                runs[name].append(1000.0 * (time.perf_counter() - t0) / n)
    rows = []
    for name in names:
        q1, med, q3 = _quartiles(runs[name])
        rows.append({"variant": name, "median_ms": med, "q1_ms": q1, "q3_ms": q3,
                     "min_ms": min(runs[name]), "max_ms": max(runs[name]),
                     "repeats": len(runs[name]), "calls_per_run": calls[name][1],
                     "batch_size": int(X.shape[0]), "threads": torch.get_num_threads()})
    return pd.DataFrame(rows)


def clearly_faster(timings: pd.DataFrame, fast: str, slow: str) -> bool:
    """True when ``fast`` beat ``slow`` beyond the noise: its upper quartile is below the
    other's lower quartile (the middle halves of the two sets of runs do not overlap)."""
    t = timings.set_index("variant")
    return bool(t.loc[fast, "q3_ms"] < t.loc[slow, "q1_ms"])


def aa_gap(timings: pd.DataFrame, a: str, b: str) -> float:
    """How far apart two timings of the same model came out (≥ 1; 1 = identical medians)."""
    t = timings.set_index("variant")["median_ms"]
    return float(max(t[a] / t[b], t[b] / t[a]))


def time_steadily(models: Mapping[str, nn.Module], X: torch.Tensor, aa: tuple[str, str],
                  max_gap: float = 1.25, attempts: int = 3, **kwargs) -> pd.DataFrame:
    """``time_forward``, repeated (up to ``attempts`` times) while the A/A pair ``aa`` — the
    same model under two names — comes out more than ``max_gap`` apart, i.e. while background
    load is moving the timings. Returns the attempt with the smallest A/A gap, with an
    ``attempts`` column saying how many were made. Every attempt is a whole measurement:
    nothing is mixed across attempts."""
    best, best_gap, n = None, float("inf"), 0
    for n in range(1, int(attempts) + 1):
        timing = time_forward(models, X, **kwargs)
        gap = aa_gap(timing, *aa)
        if gap < best_gap:
            best, best_gap = timing, gap
        if gap <= max_gap:
            break
    best = best.copy()
    best["attempts"] = n
    return best
