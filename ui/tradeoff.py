"""Measurements of the "What shrank?" page, kept on this server so they do not change between
visits: the trade-off curve (once per trained model, reused by every visit, every session with
the same model, and the report) and the session model's size/speed measurement (once per
dense + pruned weights and timing set-up, until "Measure again" replaces it).

Why a server-wide store keyed by the model's weights: the curve costs seconds of training and
timing, a class shares one default model, and a number must not change between two visits
(timings would, if measured again). ``measure_tradeoff`` runs *outside* the cached function
so its progress bar can be drawn (Streamlit refuses to replay elements created inside one).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace

import streamlit as st

from pruning.app.job_costs import training_estimate
from pruning.core.data import DataBundle
from pruning.core.records import TrainedModel
from pruning.labs.tradeoff import Tradeoff, TradeoffConfig, measure_tradeoff, model_key
from ui import log
from ui.jobs import run_job


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
    log.info("trade-off curve measured")
    # a job (ui.jobs): estimate, server limits, queue, Stop; one fine-tune per level and seed
    runs = (2 * len(cfg.sparsities) + len(cfg.unit_fractions)) * cfg.seeds
    estimate = training_estimate(trained.model_config, data,
                                 replace(trained.train_config, epochs=cfg.finetune_epochs),
                                 runs=runs, copies=4,
                                 label=f"{runs} fine-tunes of {cfg.finetune_epochs} epochs")
    result = run_job("tradeoff", "The trade-off curve", estimate,
                     lambda h: measure_tradeoff(trained, data, cfg, progress=h.progress))
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
