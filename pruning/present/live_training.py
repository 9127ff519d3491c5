"""The Train page's live view, as in TensorFlow Playground: the accuracy curves, and for 2-D
data the decision boundary and the network diagram, redrawn *in place* while the model trains.

Why Vega-Lite here and Plotly everywhere else: Streamlit gives a Plotly chart an element id
computed from its figure, so every new figure is a new element: the browser throws the old
chart away and mounts a new one, which stays hidden until it is laid out. Redrawn every epoch,
the live chart was blank in most frames. A Vega-Lite chart without selections keeps its place
(its identity is its position on the page) and, while its spec stays the same, Streamlit's
frontend only swaps the chart's data: the old picture stays until the new one is drawn. So
every spec built here is the same for the whole run (fixed axes: epochs 0 … E, accuracy
0–100 %, the data's plot range) and only the named datasets change. A spec is a plain dict
(``spec["datasets"]`` holds pandas DataFrames, which Streamlit sends as Arrow), so tests read
it directly.

Updates are paced (``Pacer``): at most a few per second, whatever the epoch rate, each a few
tens of kB (``payload_bytes``).

The pictures
* curves: train / validation / test accuracy (%) against epoch;
* decision boundary: a ``LIVE_RESOLUTION²`` grid coloured by the prediction
  (``pruning.present.boundary``: two classes → P(class 1) on a class-0 → white → class-1
  scale, the white band is the boundary; more classes → the predicted class), training points
  on top, one colour and marker shape per class;
* network: one line per weight from unit *i* to unit *j*, width ∝ |w| / max |w|, red w > 0,
  blue w < 0 (``pruning.present.network_diagram``'s convention), drawn up to
  ``MAX_DIAGRAM_WEIGHTS`` weights.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from pruning.core.data import DataBundle
from pruning.present.boundary import BoundaryGrid, plot_range
from pruning.present.network_diagram import (
    MAX_DIAGRAM_WEIGHTS,
    NEGATIVE_COLOUR,
    POSITIVE_COLOUR,
    count_weights,
    layer_sizes,
    unit_positions,
)
from pruning.present.style import (
    CLASS_COLOURS,
    FONT_SIZE,
    SPLIT_COLOURS,
    SPLIT_LABELS,
    font_scale,
)

LIVE_RESOLUTION = 40          # grid points per side while training (1,600 predictions)
CURVE_INTERVAL = 0.25         # seconds between two curve updates, at most
PICTURE_INTERVAL = 0.5        # seconds between two boundary / network updates, at most
MAX_POINTS = 400              # training points drawn on the boundary
#: Vega-Lite point shapes, one per class (as ``boundary.CLASS_SYMBOLS``).
CLASS_SHAPES = ("circle", "diamond", "square", "triangle-up", "cross", "triangle-down",
                "triangle-right", "triangle-left")
SPLITS = ("train", "val", "test")


@dataclass
class Pacer:
    """Says when a live chart is due: the first call, the last epoch, and otherwise once
    ``interval`` seconds have passed since the last update. ``clock`` is injectable for tests."""

    interval: float
    clock: Callable[[], float] = time.monotonic
    _last: float | None = field(default=None, repr=False)

    def due(self, final: bool = False) -> bool:
        now = self.clock()
        if final or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False


def _sizes() -> tuple[int, int, int]:
    """(tick/label, title, chart-title) font sizes in px, scaled for classroom mode."""
    k = font_scale()
    return round(FONT_SIZE * k), round(FONT_SIZE * k), round((FONT_SIZE + 2) * k)


def _height(height: int) -> int:
    k = font_scale()
    return round(height * (1 + (k - 1) / 2))   # as style.layout


def _config() -> dict:
    label, title, _ = _sizes()
    return {"view": {"stroke": None},
            "axis": {"labelFontSize": label, "titleFontSize": title, "labelColor": "#2a3f5f",
                     "titleColor": "#2a3f5f", "gridColor": "#ebf0f8"},
            "legend": {"labelFontSize": label, "titleFontSize": label, "symbolSize": 120},
            "title": {"fontSize": _sizes()[2], "anchor": "start", "fontWeight": "normal",
                      "color": "#2a3f5f", "subtitleFontSize": round(0.8 * label),
                      "subtitleColor": "#506784"},
            "font": "Source Sans Pro, sans-serif"}


def _base(title: str, height: int, datasets: dict[str, pd.DataFrame]) -> dict:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": title, "width": "container", "height": _height(height),
            "datasets": datasets, "config": _config(),
            # a canvas redraws faster than thousands of SVG nodes, and its size never changes
            "usermeta": {"embedOptions": {"renderer": "canvas", "actions": False}}}


# ----------------------------------------------------------------------------- curves
def history_rows(history: pd.DataFrame | Sequence[dict]) -> pd.DataFrame:
    """A training history as sent: ``epoch`` and one column per split (``train``,
    ``validation``, ``test``) holding its accuracy in percent (float32). The spec folds the
    split columns into (split, accuracy) pairs: a third of the bytes of the long form."""
    h = pd.DataFrame(list(history)) if not isinstance(history, pd.DataFrame) else history
    out = pd.DataFrame({"epoch": (h["epoch"] if "epoch" in h else pd.Series(dtype=int))
                        .astype(np.int16)})
    for s in SPLITS:
        col = f"{s}_acc"
        out[SPLIT_LABELS[s]] = (100 * h[col] if col in h else pd.Series(np.nan, index=h.index)
                                ).astype(np.float32)
    return out


def live_curves(history, epochs: int, title: str = "accuracy while training",
                height: int = 340) -> dict:
    """Accuracy (%) of each split against epoch, axes fixed for the whole run (epochs
    0 … ``epochs``, 0–100 %), data in ``spec["datasets"]["history"]`` (``history_rows``)."""
    splits = [SPLIT_LABELS[s] for s in SPLITS]
    spec = _base(title, height, {"history": history_rows(history)})
    spec.update({
        "data": {"name": "history"},
        "transform": [{"fold": splits, "as": ["split", "accuracy"]}],
        "mark": {"type": "line", "strokeWidth": 3, "point": epochs <= 60},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch",
                  "scale": {"domain": [0, max(int(epochs), 1)], "nice": False}},
            "y": {"field": "accuracy", "type": "quantitative", "title": "accuracy (%)",
                  "scale": {"domain": [0, 100]}},
            "color": {"field": "split", "type": "nominal", "title": None,
                      "scale": {"domain": splits, "range": [SPLIT_COLOURS[s] for s in SPLITS]},
                      # inside, bottom right: accuracy is high there once training starts,
                      # and a legend beside or below does not fit a narrow column
                      "legend": {"orient": "bottom-right", "direction": "vertical",
                                 "fillColor": "rgba(255,255,255,0.85)", "padding": 4}},
            "tooltip": [{"field": "split"}, {"field": "epoch"},
                        {"field": "accuracy", "format": ".1f", "title": "accuracy (%)"}]},
    })
    return spec


# ----------------------------------------------------------------------------- boundary
P_LEVELS = 255   # P(class 1) is sent as a byte: round(255 · p), finer than any colour step


def grid_rows(grid: BoundaryGrid) -> pd.DataFrame:
    """One row per grid cell, row by row (cell k is column k mod nx, row k div nx of the
    grid; the spec computes its rectangle, ``cell_transform``): ``p`` = round(255 ·
    P(class 1)) for two classes, ``cls`` the predicted class for more. One byte a cell keeps
    each live update small."""
    k = grid.proba.shape[2]
    if k == 2:
        return pd.DataFrame({"p": np.rint(P_LEVELS * grid.proba[:, :, 1].ravel())
                             .astype(np.uint8)})
    return pd.DataFrame({"cls": grid.classes.ravel().astype(np.uint8)})


def cell_transform(grid: BoundaryGrid) -> list[dict]:
    """Vega-Lite steps giving the k-th cell (``row_number`` − 1) its column i = k mod nx,
    row j = k div nx and its rectangle ``x0``–``x1`` × ``y0``–``y1`` in data units, centred
    on (xs[i], ys[j]) (the grid is evenly spaced)."""
    xs, ys = grid.xs.astype(np.float64), grid.ys.astype(np.float64)
    nx = len(xs)
    x0, y0 = float(xs[0]), float(ys[0])   # plain floats: their repr is a JSON number
    dx = float(xs[-1] - xs[0]) / max(nx - 1, 1)
    dy = float(ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return [{"window": [{"op": "row_number", "as": "k"}]},
            {"calculate": f"(datum.k - 1) % {nx}", "as": "i"},
            {"calculate": f"floor((datum.k - 1) / {nx})", "as": "j"},
            {"calculate": f"{x0!r} + (datum.i - 0.5) * {dx!r}", "as": "x0"},
            {"calculate": f"{x0!r} + (datum.i + 0.5) * {dx!r}", "as": "x1"},
            {"calculate": f"{y0!r} + (datum.j - 0.5) * {dy!r}", "as": "y0"},
            {"calculate": f"{y0!r} + (datum.j + 0.5) * {dy!r}", "as": "y1"}]


def point_rows(data: DataBundle, split: str = "train", max_points: int = MAX_POINTS) -> pd.DataFrame:
    """The first ``max_points`` examples of ``split`` in original units and their class
    index ``c`` (the spec names it)."""
    X, y = data.split(split)
    P = data.unstandardize(X[:max_points]).numpy()
    return pd.DataFrame({"x": P[:, 0].astype(np.float32), "y": P[:, 1].astype(np.float32),
                         "c": y[:max_points].numpy().astype(np.uint8)})


def live_boundary(grid: BoundaryGrid, data: DataBundle, title: str = "decision boundary",
                  height: int = 340) -> dict:
    """The plane coloured by the prediction on ``grid`` with the training points on top;
    axes fixed to the data's plot range. Datasets ``grid`` (``grid_rows``) and ``points``
    (``point_rows``)."""
    (x0, x1), (y0, y1) = plot_range(data)
    k = grid.proba.shape[2]
    names = [f"class {c}" for c in data.class_names]
    colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]
    if k == 2:
        fill = {"field": "p", "type": "quantitative", "legend": None,
                "scale": {"domain": [0, P_LEVELS / 2, P_LEVELS],
                          "range": [colours[0], "#ffffff", colours[1]]}}
    else:
        fill = {"field": "cls", "type": "nominal", "scale": {"domain": list(range(k)),
                                                             "range": colours}, "legend": None}
    spec = _base(title, height, {"grid": grid_rows(grid), "points": point_rows(data)})
    xs = {"type": "quantitative", "title": "x₁", "scale": {"domain": [x0, x1], "nice": False},
          "axis": {"tickCount": 6}}
    ys = {"type": "quantitative", "title": "x₂", "scale": {"domain": [y0, y1], "nice": False},
          "axis": {"tickCount": 6}}
    spec["layer"] = [
        {"data": {"name": "grid"}, "mark": {"type": "rect", "opacity": 0.55, "clip": True},
         "transform": cell_transform(grid),
         "encoding": {"x": {"field": "x0", **xs}, "x2": {"field": "x1"},
                      "y": {"field": "y0", **ys}, "y2": {"field": "y1"}, "color": fill}},
        {"data": {"name": "points"},
         "transform": [{"calculate": f"{json.dumps(names)}[datum.c]", "as": "class"}],
         "mark": {"type": "point", "filled": True, "size": 70, "stroke": "white",
                  "strokeWidth": 1, "opacity": 1},
         "encoding": {"x": {"field": "x", **xs}, "y": {"field": "y", **ys},
                      "fill": {"field": "class", "type": "nominal", "title": None,
                               "scale": {"domain": names, "range": colours},
                               "legend": {"orient": "bottom", "direction": "horizontal"}},
                      "shape": {"field": "class", "type": "nominal",
                                "scale": {"domain": names,
                                          "range": [CLASS_SHAPES[c % len(CLASS_SHAPES)]
                                                    for c in range(k)]}}}},
    ]
    spec["resolve"] = {"scale": {"color": "independent"}}
    return spec


# ----------------------------------------------------------------------------- network
def can_draw_network(weights: Sequence, max_weights: int = MAX_DIAGRAM_WEIGHTS) -> bool:
    return count_weights(weights) <= max_weights


def mlp_weight_count(n_features: int, hidden: Sequence[int], n_classes: int) -> int:
    """Weights (not biases) of an MLP ``n_features → hidden… → n_classes``: Σ n_l · n_{l+1}."""
    sizes = [int(n_features), *map(int, hidden), int(n_classes)]
    return sum(a * b for a, b in pairwise(sizes))


def network_note(n_weights: int) -> str:
    """Why no live network diagram is drawn for an MLP of ``n_weights`` weights, and what to try."""
    return (f"The network diagram is drawn for MLPs with up to {MAX_DIAGRAM_WEIGHTS:,} "
            f"weights; this one has {n_weights:,}. Try hidden sizes 32,32 (or 8,8) to watch "
            f"the weights change while it trains.")


def edge_rows(weights: Sequence) -> pd.DataFrame:
    """One row per connection: ``x`` (its layer: from unit column x to x + 1), ``y`` →
    ``y2`` (source → target unit height), ``w`` and ``strength`` = |w| / max |w| over the
    network (the spec draws the sign)."""
    mats = [np.asarray(w.detach().cpu().numpy() if hasattr(w, "detach") else w, dtype=np.float32)
            for w in weights]
    ys = unit_positions(layer_sizes(mats))
    wmax = max(float(np.abs(m).max()) for m in mats) or 1.0
    frames = []
    for layer, m in enumerate(mats):
        dst, src = np.indices(m.shape)
        frames.append(pd.DataFrame({
            "x": np.full(m.size, layer, dtype=np.uint8),
            "y": ys[layer][src.ravel()].astype(np.float32),
            "y2": ys[layer + 1][dst.ravel()].astype(np.float32),
            "w": m.ravel(), "strength": (np.abs(m.ravel()) / wmax).astype(np.float32)}))
    return pd.concat(frames, ignore_index=True)


def unit_rows(sizes: Sequence[int]) -> pd.DataFrame:
    ys = unit_positions(sizes)
    return pd.DataFrame({"x": np.concatenate([np.full(n, l, dtype=np.uint8)
                                              for l, n in enumerate(sizes)]),
                         "y": np.concatenate(ys).astype(np.float32)})


def live_network(weights: Sequence, title: str = "the network", height: int = 340) -> dict:
    """Every connection of a small MLP as a line (module docstring); datasets ``edges``
    (``edge_rows``) and ``units``."""
    sizes = layer_sizes([np.asarray(w.detach().cpu() if hasattr(w, "detach") else w)
                         for w in weights])
    labels = ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"]
    label_expr = f"{json.dumps(labels)}[datum.value]"
    spec = _base(title, height, {"edges": edge_rows(weights), "units": unit_rows(sizes)})
    spec["title"] = {"text": title, "subtitle": "line width = |weight|"}
    # layer names a little smaller and never hidden for overlapping (a narrow projector column)
    xs = {"type": "quantitative", "title": None,
          "scale": {"domain": [-0.3, len(sizes) - 0.7], "nice": False},
          "axis": {"values": list(range(len(sizes))), "labelExpr": label_expr, "grid": False,
                   "domain": False, "ticks": False, "labelOverlap": False, "labelLimit": 0,
                   "labelFontSize": round(0.85 * _sizes()[0])}}
    ys = {"type": "quantitative", "scale": {"domain": [-1.12, 1.12]}, "axis": None}
    spec["layer"] = [
        {"data": {"name": "edges"}, "mark": {"type": "rule"},
         "transform": [{"calculate": "datum.x + 1", "as": "x2"},
                       {"calculate": "datum.w > 0 ? 'w > 0' : 'w < 0'", "as": "sign"}],
         "encoding": {"x": {"field": "x", **xs}, "x2": {"field": "x2"},
                      "y": {"field": "y", **ys}, "y2": {"field": "y2"},
                      "strokeWidth": {"field": "strength", "type": "quantitative",
                                      "scale": {"domain": [0, 1], "range": [0.3, 7]},
                                      "legend": None},
                      "opacity": {"field": "strength", "type": "quantitative",
                                  "scale": {"domain": [0, 1], "range": [0.25, 1]},
                                  "legend": None},
                      "color": {"field": "sign", "type": "nominal", "title": None,
                                "scale": {"domain": ["w > 0", "w < 0"],
                                          "range": [POSITIVE_COLOUR, NEGATIVE_COLOUR]},
                                "legend": {"orient": "bottom", "direction": "horizontal"}}}},
        {"data": {"name": "units"},
         "mark": {"type": "circle", "size": 160, "color": "#404040", "stroke": "white",
                  "strokeWidth": 1.5, "opacity": 1},
         "encoding": {"x": {"field": "x", **xs}, "y": {"field": "y", **ys}}},
    ]
    return spec


def payload_bytes(spec: dict) -> int:
    """Bytes of the spec's datasets as Arrow (what Streamlit sends on each update), plus the
    spec's JSON without them: the cost of one live update of this chart."""
    import pyarrow as pa

    rest = {k: v for k, v in spec.items() if k != "datasets"}
    total = len(json.dumps(rest))
    for df in spec.get("datasets", {}).values():
        sink = pa.BufferOutputStream()
        table = pa.Table.from_pandas(df, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        total += sink.getvalue().size
    return total
