"""What the whole server shares, cached once: data bundles, the default trained model, and the
Generalization lab's sweep tables.

Never mutate what these return (``st.cache_resource`` hands every session the same object):
data bundles are read-only tensors, and a ``TrainedModel``'s weights are copied into a fresh
module on every ``build``.
"""
from __future__ import annotations

import os
import threading
from dataclasses import replace

import streamlit as st

from pruning.app.job_costs import sweep_estimate, training_estimate
from pruning.app.jobs import TICK_SECONDS
from pruning.app.memory import mlp_parameter_count, shared_model_limit_bytes
from pruning.app.model_cache import load_or_train
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import DataBundle, load_dataset
from pruning.core.records import TrainedModel, train_model
from pruning.labs import generalization as gen
from ui import log
from ui.jobs import run_job


@st.cache_resource(show_spinner="Loading data…", max_entries=8)
def _cached_data(_cfg: DataConfig, key: str) -> DataBundle:
    return load_dataset(_cfg)


def get_data(cfg: DataConfig) -> DataBundle:
    """The (shared, read-only) data bundle for ``cfg``."""
    return _cached_data(cfg, repr(cfg))


def trained_data(trained: TrainedModel) -> DataBundle:
    """The data the model was trained on (not necessarily the sidebar's current choice)."""
    return get_data(trained.data_config)


#: A folder shared by the server processes of one class (``make class`` sets it): default
#: models are trained by the first process that needs them and loaded by the others
#: (``pruning.app.model_cache``: one file per setting, written under a file lock).
MODEL_CACHE_ENV = "PRUNING_MODEL_CACHE"


class _NotCached(Exception):
    """Nothing is stored under this key yet (exceptions are never cached)."""


#: Default models kept at once (least recently used out), each at most
#: ``shared_model_limit_bytes()``: the cache never holds more than this many times that.
DEFAULT_MODEL_ENTRIES = 4


@st.cache_resource(show_spinner=False, max_entries=DEFAULT_MODEL_ENTRIES, ttl=2 * 3600)
def _default_models(key: str, _fresh: TrainedModel | None = None) -> TrainedModel:
    """The default model stored under ``key`` (``_fresh`` is not hashed): like
    ``sweep_tables``, the training itself runs outside the cached function, as a job with a
    progress bar, Stop and the server's limits (``ui.jobs``), and is stored here afterwards."""
    if _fresh is None:
        raise _NotCached(key)
    return _fresh


_training_now: dict[str, threading.Lock] = {}   # one lock per default model being trained
_training_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    with _training_guard:
        if len(_training_now) > 256:   # forget idle locks (a lock only matters while held)
            for k in [k for k, v in _training_now.items() if not v.locked()]:
                del _training_now[k]
        return _training_now.setdefault(key, threading.Lock())


def default_model_bytes(d: DataConfig, m: ModelConfig) -> int | None:
    """Bytes of the default model's record (initial + trained float32 weights); None when it
    is not an MLP (the CNN's channels are capped small)."""
    if m.kind != "mlp":
        return None
    data = get_data(d)
    return 2 * 4 * mlp_parameter_count(data.n_features, tuple(m.hidden), data.n_classes)


def cached_default_model(d: DataConfig, m: ModelConfig, t: TrainConfig) -> TrainedModel | None:
    """The shared default model for these settings if this server holds it already (no
    training, no job: a class arriving after the teacher gets it without a job marker being
    written and cleared in the store for every student), else None."""
    try:
        return _default_models(repr((d, m, t)))
    except _NotCached:
        return None


def default_trained_model(d: DataConfig, m: ModelConfig, t: TrainConfig) -> TrainedModel:
    """Trained once per server for these settings and shared read-only between sessions.

    Sessions that ask for the same model while it trains wait for that one training (the
    page says so) instead of starting their own; if it is stopped, the next one trains.

    A model larger than ``shared_model_limit_bytes()`` (a link can ask for 6 × 4096 units,
    about 0.7 GB) is trained for this session only and never cached: the shared cache must
    not pin one such model per seed a class tries.
    """
    key = repr((d, m, t))
    data = get_data(d)
    size = default_model_bytes(d, m)
    if size is not None and size > shared_model_limit_bytes():
        log.info("training a default model too large to share (%.0f MB) %s", size / 2**20, key)
        return run_job("default_model", "Training the default model",
                       training_estimate(m, data, t), lambda h: train_model(d, m, t, data=data))
    try:
        return _default_models(key)
    except _NotCached:
        pass
    lock = _lock_for(key)
    if not lock.acquire(blocking=False):
        note = st.empty()
        while not lock.acquire(timeout=TICK_SECONDS):   # each wait is a point where Stop acts
            note.info("Another visitor is training this default model right now; it will be "
                      "shared with you when it is ready.")
        note.empty()
    try:
        try:
            return _default_models(key)
        except _NotCached:
            pass
        def train() -> TrainedModel:
            log.info("training shared default model %s", key)
            return run_job("default_model", "Training the default model",
                           training_estimate(m, data, t),
                           lambda h: train_model(d, m, t, data=data))

        shared = os.environ.get(MODEL_CACHE_ENV)
        if not shared:
            return _default_models(key, train())
        # Several processes of one class (make class): the first trains, the others load.
        model, trained_here = load_or_train(shared, d, m, t, train)
        if not trained_here:
            log.info("loaded shared default model from %s: %s", shared, key)
        return _default_models(key, model)
    finally:
        lock.release()


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
    """Tables of the sweep for ``cfg``: from the cache, or computed as a job (estimate,
    limits, progress bar, Stop; ``ui.jobs``)."""
    key = cfg.key()
    try:
        return sweep_tables(key)
    except _NotCached:
        pass
    first = get_data(replace(cfg.data, seed=int(cfg.seeds[0])))
    estimate = sweep_estimate(cfg.model, first, gen.planned_work(cfg, first), len(cfg.seeds),
                              cfg.train.batch_size, gen.largest_ensemble(cfg))
    log.info("generalization sweep computed: %s", cfg.name)
    result = run_job("sweep", "The sweep", estimate,
                     lambda h: gen.run_sweep(cfg, progress=h.progress))
    return sweep_tables(key, {"runs": result.runs, "history": result.history,
                              "seconds": result.seconds, "threads": result.threads})
