"""The trade-off curve on the "What shrank?" page: measured once per trained model on this
server, then reused by every visit, every session with the same model, and the report.

Why a server-wide store keyed by the model's weights: the curve costs seconds of training and
timing, a class shares one default model, and a number must not change between two visits
(timings would, if measured again). ``measure_tradeoff`` runs *outside* the cached function
so its progress bar can be drawn (Streamlit refuses to replay elements created inside one).
"""
from __future__ import annotations

import streamlit as st

from pruning.core.data import DataBundle
from pruning.core.records import TrainedModel
from pruning.labs.tradeoff import Tradeoff, TradeoffConfig, measure_tradeoff, model_key
from ui import log


class _NotCached(Exception):
    """Nothing stored under this key yet (exceptions are never cached)."""


@st.cache_data(show_spinner=False, max_entries=16)
def _stored(key: str, _fresh: Tradeoff | None = None) -> Tradeoff:
    if _fresh is None:
        raise _NotCached(key)
    return _fresh


def cached_tradeoff(trained: TrainedModel, cfg: TradeoffConfig | None = None) -> Tradeoff | None:
    """The stored curve of ``trained`` (None when it has not been measured yet)."""
    try:
        return _stored(model_key(trained, cfg or TradeoffConfig()))
    except _NotCached:
        return None


def measure_with_progress(trained: TrainedModel, data: DataBundle,
                          cfg: TradeoffConfig | None = None) -> Tradeoff:
    """Measure the curve with a progress bar, store it for the server, return it."""
    cfg = cfg or TradeoffConfig()
    bar = st.progress(0.0, text="Starting…")
    try:
        log.info("trade-off curve measured")
        result = measure_tradeoff(trained, data, cfg, progress=lambda f, msg: bar.progress(
            min(max(f, 0.0), 1.0), text=f"Trade-off curve: {msg}"))
    finally:
        bar.empty()
    return _stored(model_key(trained, cfg), result)
