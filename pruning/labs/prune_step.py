"""One pruning step, interactively: score the weights once, select masks many times.

Scoring needs a forward/backward pass (Taylor) or at least a copy of the weights; selecting is
a sort. So a page computes ``compute_scores`` once per (model, scorer) and, every time a slider
moves, only calls ``select`` (a threshold or a target sparsity over those fixed scores) and
evaluates the masked copy. No retraining happens anywhere in this module.

Conventions (see ``pruning.core.selection``): masks are ``{param name: bool tensor}``, True = kept;
a weight is pruned when its score is strictly below the threshold; target sparsity counts
k = floor(s·n + 0.5) weights of the layer (``layer`` scope) or of all prunable weights
(``global``).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from pruning.config import PruneConfig
from pruning.core.counts import layer_rows
from pruning.core.data import DataBundle
from pruning.core.models import prunable_names
from pruning.core.selection import (
    SCOPES,
    Selection,
    select_by_sparsity,
    select_by_threshold,
)
from pruning.errors import PruningError, check_choice
from pruning.scoring import ScoreContext, score

MODES = ("sparsity", "threshold")


def compute_scores(model: nn.Module, data: DataBundle | None, scorer: str,
                   include_output: bool = True, seed: int = 0,
                   init_state=None, masks=None) -> dict[str, torch.Tensor]:
    """``{param name: scores}`` for every prunable weight of ``model`` (not modified).

    Pass a freshly built model (``TrainedModel.build``): the Taylor scorer runs a backward
    pass, which fills ``.grad`` buffers. ``init_state`` (the untrained weights) is what the
    ``snip`` and ``magnitude_increase`` scorers compare with. ``masks``: the weights pruned
    already (pruning again), which scorers that look at live weights only skip.
    """
    names = prunable_names(model, include_output=include_output)
    if not names:
        raise PruningError("this model has no prunable weights; allow the output layer to be pruned")
    return score(scorer, ScoreContext(model, names, data, masks=masks, seed=seed,
                                      init_state=init_state))


def select(scores: Mapping[str, torch.Tensor], mode: str, value: float,
           scope: str = "global", previous: Mapping[str, torch.Tensor] | None = None) -> Selection:
    """Masks for one setting: ``mode`` is ``sparsity`` (value = fraction in [0, 1]) or
    ``threshold`` (value = score ≥ 0; the same number for every layer, so ``scope`` is
    ignored). ``previous``: masks of weights pruned already (pruning again); they stay
    pruned and a target sparsity counts them (cumulative)."""
    check_choice("mode", mode, MODES)
    check_choice("scope", scope, SCOPES)
    if mode == "threshold":
        return select_by_threshold(scores, value, previous)
    return select_by_sparsity(scores, value, scope, previous)


def prune_config_for(scorer: str, mode: str, value: float, scope: str,
                     include_output: bool, seed: int) -> PruneConfig:
    """The one-shot ``PruneConfig`` describing an interactive setting (stored with the
    pruned model so later pages can say how it was made)."""
    check_choice("mode", mode, MODES)
    return PruneConfig(scorer=scorer, scope=scope,
                       sparsity=float(value) if mode == "sparsity" else None,
                       threshold=float(value) if mode == "threshold" else None,
                       schedule="oneshot", rounds=1, include_output=include_output, seed=seed)


def describe_prune_config(cfg: PruneConfig) -> str:
    """A short human description, e.g. ``90 % of weights, global, magnitude scores``."""
    if cfg.threshold is not None:
        how = f"threshold {cfg.threshold:.4g}"
    else:
        how = f"{100 * cfg.sparsity:.1f} % target, {'global' if cfg.scope == 'global' else 'per layer'}"
    out = "" if cfg.include_output else ", output layer kept dense"
    return f"{how}, {cfg.scorer} scores{out}"


def _layer_of(param_name: str) -> str:
    return param_name.rsplit(".", 1)[0]


def sparsity_table(model: nn.Module, selection: Selection, scope: str,
                   mode: str = "sparsity") -> pd.DataFrame:
    """``metrics.layer_table`` of the pruned ``model`` plus what was asked of each layer.

    Added columns: ``prunable`` (may this layer be pruned?), ``target_sparsity_pct`` (the
    per-layer target in ``layer`` scope; NaN for ``global`` scope and threshold mode, where no
    layer has its own target), ``cutoff_score`` (the score below which the layer's weights
    were pruned; NaN if nothing was cut). ``sparsity_pct`` is measured from the weights.
    """
    masked = {_layer_of(n): n for n in selection.masks}
    per_layer_target = (100 * selection.target if mode == "sparsity" and scope == "layer"
                        and selection.target is not None else np.nan)
    rows = layer_rows(model)
    for row in rows:   # one DataFrame at the end: this runs on every Prune slider move
        prunable = row["layer"] in masked
        row.update(prunable=prunable,
                   target_sparsity_pct=float(per_layer_target) if prunable else np.nan,
                   cutoff_score=float(selection.cutoffs.get(masked.get(row["layer"], ""), np.nan)))
    return pd.DataFrame(rows, columns=["layer", "shape", "prunable", "total", "nonzero",
                                       "target_sparsity_pct", "sparsity_pct", "cutoff_score",
                                       "dead_neurons", "mean_abs_w"])


def nonzero_at_pruned(state: Mapping[str, torch.Tensor],
                      masks: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Per masked parameter: how many weights at pruned positions (mask False) are not
    exactly 0.0 in ``state``. After masked fine-tuning every count must be 0."""
    return {n: int((state[n][~m] != 0).sum()) for n, m in masks.items()}


def first_layer_units(weight: torch.Tensor, mask: torch.Tensor | None,
                      image_shape: tuple[int, int, int], n_units: int = 8):
    """The incoming weights of the ``n_units`` first-layer units with the largest dense
    weight norm, each folded into a small image.

    MLP: weight (H, C·h·w) → each row as an (h, w) picture (channels averaged if C > 1).
    CNN: weight (F, C, k, k) → each filter as a (k, k) picture (channels averaged).
    Returns ``(images (N, a, b) float32, kept masks (N, a, b) bool or None, titles)``; a pixel
    of a multi-channel picture counts as kept if any channel's weight there is kept.
    """
    w = weight.detach().float()
    c, h, wd = image_shape
    if w.ndim == 2:
        if w.shape[1] != c * h * wd:
            raise PruningError(f"first layer has {w.shape[1]} inputs, expected {c * h * wd} pixels")
        w = w.reshape(w.shape[0], c, h, wd)
        m = None if mask is None else mask.reshape(w.shape)
    elif w.ndim == 4:
        m = mask
    else:
        raise PruningError(f"cannot draw a first layer of shape {tuple(weight.shape)} as images")
    norms = w.flatten(1).norm(dim=1)
    order = torch.argsort(norms, descending=True, stable=True)[:max(1, n_units)]
    units = order.tolist()
    images = w[order].mean(dim=1).numpy().astype(np.float32)
    kept = None if m is None else m[order].any(dim=1).numpy()
    return images, kept, [f"unit {u}" for u in units]


def threshold_slider_range(scores: Mapping[str, torch.Tensor], steps: int = 400) -> tuple[float, float]:
    """``(top, step)`` for a threshold slider: ``top`` is the largest score rounded *up* to two
    significant digits (strictly above it), so the slider's end prunes every weight;
    ``step`` = top / ``steps``."""
    s_max = max(float(s.max()) for s in scores.values()) if scores else 0.0
    if not math.isfinite(s_max) or s_max <= 0:
        return 1.0, 1.0 / steps
    exp = math.floor(math.log10(s_max)) - 1
    top = (math.floor(s_max / 10 ** exp) + 1) * 10 ** exp
    top = float(f"{top:.2g}")
    # Scores are float32: a top that equals the largest score after rounding to float32 would
    # keep that weight, so demand a relative margin well above float32 precision (~6e-8).
    if top <= s_max * (1 + 1e-6):
        top = float(f"{top + 10 ** exp:.2g}")
    return top, top / steps
