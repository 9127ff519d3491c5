"""A drawing of a small fully connected network: one line per connection.

Each weight w of a Linear layer (out, in) is the line from input unit ``in`` to output unit
``out``. Its width grows with |w| (relative to the largest |w| in the network) and its colour
is its sign, on the same blue (negative) / red (positive) scale as the heatmaps. Pruned
connections are not drawn at all: they vanish, which is what pruning does to the network.

A unit whose every incoming *or* every outgoing connection is pruned no longer passes
information from the input to the output; it is drawn in the pruned colour (amber).

Only for small networks: a line per weight stays readable (and fast) up to about
``MAX_DIAGRAM_WEIGHTS`` weights.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from torch import nn

from pruning.errors import PruningError
from pruning.present.style import FONT_SIZE, PRUNED_COLOUR, layout

MAX_DIAGRAM_WEIGHTS = 2000
POSITIVE_COLOUR = "#b2182b"   # the red end of RdBu_r
NEGATIVE_COLOUR = "#2166ac"   # the blue end of RdBu_r
N_WIDTH_BINS = 6              # one trace per (width bin, sign): few traces, fast to draw
MIN_WIDTH, MAX_WIDTH = 0.6, 7.0


def linear_weights(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """``[(param name, weight (out, in))]`` of every Linear layer in order; a network diagram
    only makes sense for a chain of Linear layers, so other weight layers are an error."""
    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Conv2d):
            raise PruningError("the network diagram is drawn for MLPs only (this model has "
                               "convolutions)")
        if isinstance(mod, nn.Linear):
            out.append((f"{name}.weight", mod.weight.detach()))
    if not out:
        raise PruningError("this model has no fully connected layers to draw")
    return out


def count_weights(weights: Sequence) -> int:
    return int(sum(np.asarray(w).size for w in weights))


def diagram_edges(weights: Sequence, masks: Sequence | None = None) -> pd.DataFrame:
    """One row per connection: ``layer`` (0 = input → first hidden), ``src`` (input unit),
    ``dst`` (output unit), ``weight``, ``kept`` (False where the mask prunes it).

    ``weights[l]`` has shape (n_{l+1}, n_l); ``masks[l]`` is a bool array of the same shape
    (True = kept) or None (nothing pruned in that layer).
    """
    frames = []
    for layer, w in enumerate(weights):
        w = w.detach().cpu().numpy() if torch.is_tensor(w) else np.asarray(w)
        if w.ndim != 2:
            raise PruningError(f"layer {layer}: expected a 2-D weight matrix, got shape {w.shape}")
        if layer and w.shape[1] != np.asarray(weights[layer - 1]).shape[0]:
            raise PruningError(f"layer {layer} takes {w.shape[1]} inputs but the layer before "
                               f"has {np.asarray(weights[layer - 1]).shape[0]} outputs")
        m = None if masks is None else masks[layer]
        if m is None:
            keep = np.ones(w.shape, dtype=bool)
        else:
            keep = m.cpu().numpy() if torch.is_tensor(m) else np.asarray(m, dtype=bool)
            if keep.shape != w.shape:
                raise PruningError(f"layer {layer}: mask shape {keep.shape} does not match "
                                   f"weight shape {w.shape}")
        dst, src = np.indices(w.shape)
        frames.append(pd.DataFrame({"layer": layer, "src": src.ravel(), "dst": dst.ravel(),
                                    "weight": w.ravel().astype(np.float64),
                                    "kept": keep.ravel().astype(bool)}))
    return pd.concat(frames, ignore_index=True)


def layer_sizes(weights: Sequence) -> list[int]:
    """Units per layer, input first: [n_0, n_1, ..., n_L]."""
    shapes = [np.asarray(w).shape if not torch.is_tensor(w) else tuple(w.shape) for w in weights]
    return [shapes[0][1]] + [s[0] for s in shapes]


def cut_off_units(edges: pd.DataFrame, sizes: Sequence[int]) -> list[np.ndarray]:
    """Per layer of units (input first): bool array, True where the unit has no kept
    incoming connection (hidden and output units) or no kept outgoing one (input and hidden
    units). Such a unit carries no information from the input to the output."""
    kept = edges[edges["kept"]]
    n_layers = len(sizes)
    out = []
    for l, n in enumerate(sizes):
        cut = np.zeros(n, dtype=bool)
        if l > 0:
            has_in = np.zeros(n, dtype=bool)
            has_in[kept.loc[kept["layer"] == l - 1, "dst"].to_numpy()] = True
            cut |= ~has_in
        if l < n_layers - 1:
            has_out = np.zeros(n, dtype=bool)
            has_out[kept.loc[kept["layer"] == l, "src"].to_numpy()] = True
            cut |= ~has_out
        out.append(cut)
    return out


def unit_positions(sizes: Sequence[int]) -> list[np.ndarray]:
    """Each layer's unit heights (top to bottom), the diagram's y coordinates."""
    # Layers with many units span the full height; small layers stay compact in the middle,
    # with the same spacing as an 8-unit layer, so a 2-8-8-2 net does not look stretched.
    out = []
    for n in sizes:
        half = min(1.0, (n - 1) / 8) if n > 1 else 0.0
        out.append(np.linspace(half, -half, n) if n > 1 else np.zeros(1))
    return out


def network_diagram(weights: Sequence, masks: Sequence | None = None,
                    layer_labels: Sequence[str] | None = None, title: str = "network",
                    height: int = 520, max_weights: int = MAX_DIAGRAM_WEIGHTS) -> go.Figure:
    """The diagram described in the module docstring.

    Traces: one line trace per (sign, width bin) holding that group's *kept* connections as
    segments separated by ``None``; then one invisible marker trace at the segment midpoints
    (hover shows each weight); then the units (``name="units"``), amber where cut off.
    """
    n = count_weights(weights)
    if n > max_weights:
        raise PruningError(f"the network has {n:,} weights; the diagram is drawn up to "
                           f"{max_weights:,} (use smaller hidden layers, e.g. 32,32)")
    edges = diagram_edges(weights, masks)
    sizes = layer_sizes(weights)
    ys = unit_positions(sizes)
    kept = edges[edges["kept"]]
    wmax = float(edges["weight"].abs().max()) or 1.0
    fig = go.Figure()
    if len(kept):
        x0 = kept["layer"].to_numpy(dtype=float)
        y0 = np.array([ys[l][s] for l, s in zip(kept["layer"], kept["src"])])
        y1 = np.array([ys[l + 1][d] for l, d in zip(kept["layer"], kept["dst"])])
        rel = kept["weight"].abs().to_numpy() / wmax
        width_bin = np.minimum((rel * N_WIDTH_BINS).astype(int), N_WIDTH_BINS - 1)
        positive = kept["weight"].to_numpy() > 0
        for sign, colour, label in ((True, POSITIVE_COLOUR, "w > 0"),
                                    (False, NEGATIVE_COLOUR, "w < 0")):
            for b in range(N_WIDTH_BINS):
                sel = (positive == sign) & (width_bin == b)
                if not sel.any():
                    continue
                xs = np.column_stack([x0[sel], x0[sel] + 1, np.full(sel.sum(), np.nan)]).ravel()
                yv = np.column_stack([y0[sel], y1[sel], np.full(sel.sum(), np.nan)]).ravel()
                width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (b + 0.5) / N_WIDTH_BINS
                fig.add_trace(go.Scatter(
                    x=xs, y=yv, mode="lines", hoverinfo="skip", connectgaps=False,
                    line=dict(color=colour, width=width), opacity=0.35 + 0.65 * (b + 1) / N_WIDTH_BINS,
                    name=label, legendgroup=label, showlegend=not any(
                        t.legendgroup == label for t in fig.data)))
        fig.add_trace(go.Scatter(
            x=x0 + 0.5, y=(y0 + y1) / 2, mode="markers", marker=dict(size=6, opacity=0),
            showlegend=False, name="weights",
            text=[f"w = {w:.3f}" for w in kept["weight"]], hovertemplate="%{text}<extra></extra>"))
    cut = cut_off_units(edges, sizes)
    ux = np.concatenate([np.full(n_l, l, dtype=float) for l, n_l in enumerate(sizes)])
    uy = np.concatenate(ys)
    ucut = np.concatenate(cut)
    fig.add_trace(go.Scatter(
        x=ux, y=uy, mode="markers", name="units",
        marker=dict(size=13, color=np.where(ucut, PRUNED_COLOUR, "#404040").tolist(),
                    line=dict(color="white", width=1.5)),
        text=[f"layer {l}, unit {i}" + (" (cut off)" if c else "")
              for l, n_l in enumerate(sizes) for i, c in zip(range(n_l), cut[l])],
        hovertemplate="%{text}<extra></extra>", showlegend=False))
    labels = list(layer_labels) if layer_labels else (
        ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"])
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(sizes))), ticktext=labels,
                     range=[-0.3, len(sizes) - 0.7], showgrid=False, zeroline=False,
                     tickfont=dict(size=FONT_SIZE))
    fig.update_yaxes(visible=False, range=[-1.12, 1.12])
    fig.update_layout(legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return layout(fig, title, height)
