"""What the whole server shares, cached once: data bundles, the default trained model, and the
Generalization lab's sweep tables.

Never mutate what these return (``st.cache_resource`` hands every session the same object):
data bundles are read-only tensors, and a ``TrainedModel``'s weights are copied into a fresh
module on every ``build``.
"""
from __future__ import annotations

import streamlit as st

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import DataBundle, load_dataset
from pruning.core.records import TrainedModel, train_model
from pruning.labs import generalization as gen
from ui import log


@st.cache_resource(show_spinner="Loading data…", max_entries=16)
def _cached_data(_cfg: DataConfig, key: str) -> DataBundle:
    return load_dataset(_cfg)


def get_data(cfg: DataConfig) -> DataBundle:
    """The (shared, read-only) data bundle for ``cfg``."""
    return _cached_data(cfg, repr(cfg))


def trained_data(trained: TrainedModel) -> DataBundle:
    """The data the model was trained on (not necessarily the sidebar's current choice)."""
    return get_data(trained.data_config)


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_default_model(_d: DataConfig, _m: ModelConfig, _t: TrainConfig, key: str) -> TrainedModel:
    log.info("training shared default model %s", key)
    return train_model(_d, _m, _t, data=get_data(_d))


def default_trained_model(d: DataConfig, m: ModelConfig, t: TrainConfig) -> TrainedModel:
    """Trained once per server for these settings and shared read-only between sessions."""
    return _cached_default_model(d, m, t, repr((d, m, t)))


class _NotCached(Exception):
    """Nothing is stored under this key yet (exceptions are never cached)."""


@st.cache_data(show_spinner=False, max_entries=24)
def sweep_tables(key: str, _fresh: dict | None = None) -> dict:
    """The sweep's tables stored under ``key`` (= ``SweepConfig.key()``; ``_fresh`` is not hashed).

    Why not compute inside the cached function: the progress bar must be drawn *outside* it
    (Streamlit refuses to replay an element call on a block created outside a cached
    function), so ``sweep_with_progress`` computes on a miss and then stores the result here.
    """
    if _fresh is None:
        raise _NotCached(key)
    return _fresh


def sweep_with_progress(cfg: gen.SweepConfig) -> dict:
    """Tables of the sweep for ``cfg``: from the cache, or computed with a progress bar."""
    key = cfg.key()
    try:
        return sweep_tables(key)
    except _NotCached:
        pass
    bar = st.progress(0.0, text="Starting…")
    try:
        log.info("generalization sweep computed: %s", cfg.name)
        result = gen.run_sweep(cfg, progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0),
                                                                           text=msg))
    finally:
        bar.empty()
    return sweep_tables(key, {"runs": result.runs, "history": result.history,
                              "seconds": result.seconds, "threads": result.threads})
