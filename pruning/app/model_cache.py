"""Default models shared by several server processes through one file each.

    trained = load_or_train(directory, d, m, t, lambda: train_model(d, m, t))

``make class`` runs several Streamlit processes behind one proxy; each keeps its own
``st.cache_resource``, so without this every process would train the same default model
when its first student asks. Here the first process to ask trains it and writes
``default-<key>.pt``; the others wait on the same lock file (``fcntl.flock``, so a process
that dies releases it) and load the result. ``key`` is a hash of the three configs' ``repr``:
other settings, another file.

The file is a ``torch.save`` of plain data (tensors, lists, floats, strings), loaded with
``weights_only=True``; the configs are not stored but taken from the caller (the key says they
are the same). It is written to a temporary name and renamed, so a reader never sees half a
file. A file that does not load (another version, a cut write) is trained again and replaced.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.records import TrainedModel

FORMAT = 1


def cache_key(d: DataConfig, m: ModelConfig, t: TrainConfig) -> str:
    return hashlib.sha256(repr((FORMAT, d, m, t)).encode()).hexdigest()[:24]


def _to_file(trained: TrainedModel) -> dict:
    return {"format": FORMAT, "init_state": dict(trained.init_state), "state": dict(trained.state),
            "history": {c: trained.history[c].tolist() for c in trained.history.columns},
            "metrics": {k: float(v) for k, v in trained.metrics.items()}}


def _from_file(raw: dict, d: DataConfig, m: ModelConfig, t: TrainConfig) -> TrainedModel:
    if raw.get("format") != FORMAT:
        raise ValueError(f"format {raw.get('format')!r}")
    return TrainedModel(d, m, t, raw["init_state"], raw["state"], pd.DataFrame(raw["history"]),
                        raw["metrics"])


def load_or_train(directory: str | Path, d: DataConfig, m: ModelConfig, t: TrainConfig,
                  train: Callable[[], TrainedModel]) -> tuple[TrainedModel, bool]:
    """``(model, trained_here)``: the stored model for these configs, or ``train()``'s
    result, stored for the other processes. One process trains at a time per key."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = cache_key(d, m, t)
    path = directory / f"default-{key}.pt"
    with open(directory / f"default-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            try:
                return _from_file(torch.load(path, weights_only=True), d, m, t), False
            except Exception:  # noqa: BLE001 - an unreadable file is replaced below
                pass
        trained = train()
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(_to_file(trained), tmp)
        os.replace(tmp, path)
        return trained, True
