"""What pruning changed, counted: per-layer sparsity, parameters, bytes, multiply-adds.

All numbers are measured from the tensors themselves:
  * dense bytes   = Σ numel · element size (what a state_dict stores, zeros included);
  * CSR bytes     = bytes of the ``values``, ``col_indices`` and ``crow_indices`` tensors
                    that ``torch.Tensor.to_sparse_csr()`` really builds for each weight
                    (conv weights viewed as (out, in·kh·kw)), plus dense biases;
  * multiply-adds per example: dense = Σ_layers (#weights · #output positions); effective =
    the same with only non-zero weights (what hardware that skips zeros could do; a dense
    matmul still does the full count).
"""
from __future__ import annotations

import warnings

import pandas as pd
import torch
from torch import nn


def _weight_layers(model: nn.Module):
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            yield name, mod


def output_positions(model: nn.Module, n_features: int) -> dict[str, int]:
    """Per layer: how many times its kernel is applied for one example (1 for Linear,
    H_out·W_out for Conv2d), measured with forward hooks on a dummy input."""
    positions, hooks = {}, []
    for name, mod in _weight_layers(model):
        def hook(m, inp, out, name=name):
            positions[name] = int(out[0, 0].numel()) if isinstance(m, nn.Conv2d) else 1
        hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.zeros(1, n_features))
    finally:
        for h in hooks:
            h.remove()
    return positions


def layer_table(model: nn.Module, n_features: int | None = None) -> pd.DataFrame:
    """One row per Linear / Conv2d layer, from the weights as they are (zeros = pruned).

    columns: layer, shape, total, nonzero, sparsity_pct, dead_neurons, mean_abs_w.
    ``dead_neurons`` counts output units (rows / filters) whose incoming weights are all zero;
    ``mean_abs_w`` is the mean |w| of the surviving (non-zero) weights.
    """
    return pd.DataFrame(layer_rows(model))


def layer_rows(model: nn.Module) -> list[dict]:
    """``layer_table``'s rows as dicts (for a caller that adds columns before making the
    DataFrame: each pandas column operation costs more than these rows)."""
    rows = []
    for name, mod in _weight_layers(model):
        w = mod.weight.detach()
        flat = w.reshape(w.shape[0], -1)
        nz = int((w != 0).sum())
        rows.append({
            "layer": name,
            "shape": " × ".join(str(s) for s in w.shape),
            "total": w.numel(),
            "nonzero": nz,
            "sparsity_pct": 100.0 * (1 - nz / w.numel()),
            "dead_neurons": int(((flat != 0).sum(1) == 0).sum()),
            "mean_abs_w": float(w[w != 0].abs().mean()) if nz else 0.0,
        })
    return rows


def count_parameters(model: nn.Module) -> int:
    """Every stored parameter, weights and biases: Σ_p numel(p)."""
    return sum(p.numel() for p in model.parameters())


def weight_count(model: nn.Module) -> int:
    """Weights of the Linear / Conv2d layers (biases not counted)."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))


def mlp_weight_count(n_features: int, hidden, n_classes: int) -> int:
    """Σ_l in_l · out_l for an MLP of these widths, without building it (biases not counted)."""
    sizes = [n_features, *hidden, n_classes]
    return int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """``{"total", "nonzero", "zero"}`` over every parameter."""
    total = count_parameters(model)
    nonzero = sum(int((p != 0).sum()) for p in model.parameters())
    return {"total": total, "nonzero": nonzero, "zero": total - nonzero}


def dense_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def csr_bytes(model: nn.Module) -> int:
    """Bytes of the model with every weight matrix stored as CSR (biases dense)."""
    total = 0
    for _, mod in _weight_layers(model):
        w = mod.weight.detach().reshape(mod.weight.shape[0], -1)
        with warnings.catch_warnings():  # "sparse CSR is beta": true, but noise for users
            warnings.simplefilter("ignore", UserWarning)
            csr = w.to_sparse_csr()
        total += _nbytes(csr.values()) + _nbytes(csr.col_indices()) + _nbytes(csr.crow_indices())
        if mod.bias is not None:
            total += _nbytes(mod.bias)
    return total


def multiply_adds(model: nn.Module, n_features: int) -> dict[str, int]:
    """``{"dense": …, "effective": …}`` multiply-adds per example (see module docstring)."""
    pos = output_positions(model, n_features)
    dense = eff = 0
    for name, mod in _weight_layers(model):
        dense += mod.weight.numel() * pos[name]
        eff += int((mod.weight != 0).sum()) * pos[name]
    return {"dense": dense, "effective": eff}


def size_summary(model: nn.Module, n_features: int) -> dict[str, float]:
    """Everything above in one flat dict (handy for a metrics row)."""
    pc = parameter_counts(model)
    macs = multiply_adds(model, n_features)
    return {
        "params_total": pc["total"], "params_nonzero": pc["nonzero"],
        "dense_bytes": dense_bytes(model), "csr_bytes": csr_bytes(model),
        "macs_dense": macs["dense"], "macs_effective": macs["effective"],
    }
