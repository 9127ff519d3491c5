"""Measurements of the "What shrank?" page, kept on this server so they do not change between
visits: the trade-off curve (once per trained model, reused by every visit, every session with
the same model, and the report) and the session model's size/speed measurement (once per
dense + pruned weights and timing set-up, until "Measure again" replaces it).

Why a server-wide store keyed by the model's weights: the curve costs seconds of training and
timing, a class shares one default model, and a number must not change between two visits
(timings would, if measured again). ``measure_tradeoff`` runs *outside* the cached function, as
a job of the server's runner (``ui.jobs``), so its progress bar and Stop button can be drawn
(Streamlit refuses to replay elements created inside a cached function).
"""
from __future__ import annotations

import hashlib

import streamlit as st

from pruning.app.job_costs import tradeoff_estimate
from pruning.core.data import DataBundle
from pruning.core.records import TrainedModel
from pruning.labs.tradeoff import Tradeoff, TradeoffConfig, measure_tradeoff, model_key
from ui import log
from ui.jobs import run_job
from ui.persist import job


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
    """Measure the curve as a job of the server's one runner (``ui.jobs.run_job``: cost
    estimate, limits, queue place, Stop, progress bar), store it for the server, return it.
    Raises ``PruningError`` when the job is refused or stopped."""
    cfg = cfg or TradeoffConfig()
    estimate = tradeoff_estimate(trained.model_config, data, trained.train_config, cfg)
    with job("Trade-off curve"):
        result = run_job("tradeoff", "The trade-off curve", estimate,
                         lambda h: measure_tradeoff(trained, data, cfg, progress=h.progress))
    log.info("trade-off curve measured in %.1f s", result.seconds)
    return _stored(model_key(trained, cfg), result)


# ----------------------------------------------------------------------------- the session model
@st.cache_data(show_spinner=False, max_entries=64)
def _measured(key: str, _fresh=None):
    if _fresh is None:
        raise _NotCached(key)
    return _fresh


def measurement_key(trained: TrainedModel, final_state: dict, setup: tuple) -> str:
    """The dense weights, the pruned weights and the timing set-up, hashed."""
    h = hashlib.sha1(model_key(trained, TradeoffConfig()).encode())
    for name in sorted(final_state):
        h.update(name.encode())
        h.update(final_state[name].detach().contiguous().numpy().tobytes())
    h.update(repr(setup).encode())
    return h.hexdigest()


def stored_measurement(key: str):
    """The stored (Shrinkage, Compaction) for ``key``, or None."""
    try:
        return _measured(key)
    except _NotCached:
        return None


def store_measurement(key: str, value):
    """Store ``value`` under ``key`` (replacing an earlier one) and return the stored copy."""
    _measured.clear(key)
    return _measured(key, value)
