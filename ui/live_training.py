"""The Train page's live view: fixed slots whose charts are redrawn in place while a model
trains (the figures and the reason they are Vega-Lite: ``pruning.present.live_training``).

    live = LiveTraining(data, model_cfg, epochs)      # where the charts go on the page
    train_model(…, progress=live.progress, watch=live.watch)
    live.clear()

For 2-D data the decision boundary, the network (small MLPs only) and the curves stand side
by side, so the room sees all three move at once; otherwise the curves take the width. Each
chart is redrawn at most every ``CURVE_INTERVAL`` / ``PICTURE_INTERVAL`` seconds (and at the
last epoch), with the same spec, so the browser only swaps its data.
"""
from __future__ import annotations

import streamlit as st
from torch import nn

from pruning.config import ModelConfig
from pruning.core.data import DataBundle
from pruning.errors import PruningError
from pruning.present.boundary import boundary_grid
from pruning.present.live_training import (
    CURVE_INTERVAL,
    LIVE_RESOLUTION,
    PICTURE_INTERVAL,
    Pacer,
    can_draw_network,
    live_boundary,
    live_curves,
    live_network,
    mlp_weight_count,
    network_note,
)
from pruning.present.network_diagram import (
    MAX_DIAGRAM_WEIGHTS,
    linear_weights,
)


def show_vega(spec: dict, where=None, alt: str | None = None):
    """``where.vega_lite_chart(spec)`` with the figure's own fonts (``theme=None``) across the
    column's width."""
    target = st if where is None else where
    return target.vega_lite_chart(spec, theme=None, width="stretch", alt=alt)


def network_weights(model: nn.Module) -> list | None:
    """The Linear weights of ``model`` when a diagram can show them, else None."""
    try:
        weights = [w for _, w in linear_weights(model)]
    except PruningError:   # convolutions, or no Linear layer
        return None
    return weights if can_draw_network(weights) else None


class LiveTraining:
    """Slots created where the page wants the live charts; ``progress`` and ``watch`` are
    ``train_model``'s callbacks."""

    def __init__(self, data: DataBundle, model_cfg: ModelConfig, epochs: int):
        self.data, self.epochs = data, int(epochs)
        self.two_d = data.n_features == 2
        self.rows: list[dict] = []
        self.curve_pacer, self.picture_pacer = Pacer(CURVE_INTERVAL), Pacer(PICTURE_INTERVAL)
        n_weights = (mlp_weight_count(data.n_features, model_cfg.hidden, data.n_classes)
                     if model_cfg.kind == "mlp" else None)
        self.draw_network = n_weights is not None and n_weights <= MAX_DIAGRAM_WEIGHTS
        self.boundary_slot = self.network_slot = None
        if self.two_d and self.draw_network:
            c1, c2, c3 = st.columns(3)
            self.boundary_slot, self.network_slot, self.curves_slot = c1.empty(), c2.empty(), c3.empty()
        elif self.two_d:
            c1, c2 = st.columns(2)
            self.boundary_slot, self.curves_slot = c1.empty(), c2.empty()
            st.caption(network_note(n_weights) if n_weights is not None else
                       "The network diagram is drawn for fully connected networks (MLPs).")
        else:
            self.curves_slot = st.empty()

    def progress(self, epoch: int, epochs: int, row: dict) -> None:
        self.rows.append(row)
        if self.curve_pacer.due(final=epoch >= epochs):
            show_vega(live_curves(self.rows, epochs), self.curves_slot,
                      alt="Accuracy while training, per epoch: train, validation and test.")

    def watch(self, epoch: int, epochs: int, model: nn.Module) -> None:
        if not self.two_d or not self.picture_pacer.due(final=epoch >= epochs):
            return
        grid = boundary_grid(model, self.data, resolution=LIVE_RESOLUTION)
        show_vega(live_boundary(grid, self.data), self.boundary_slot,
                  alt="The model's decision boundary over the data.")
        if self.draw_network:
            show_vega(live_network([w for _, w in linear_weights(model)]), self.network_slot,
                      alt="The network: one line per weight, width = |weight|.")

    def clear(self) -> None:
        for slot in (self.curves_slot, self.boundary_slot, self.network_slot):
            if slot is not None:
                slot.empty()

