"""The objects several benchmarks share, built once per process: the default digits data and
the default trained model (the app's one-click default: 300-100 MLP, 30 epochs, Adam, seed 0).
"""
from __future__ import annotations

from functools import lru_cache

import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import DataBundle, load_dataset
from pruning.core.records import TrainedModel, train_model


@lru_cache(maxsize=None)
def default_data() -> DataBundle:
    return load_dataset(DataConfig())


@lru_cache(maxsize=None)
def default_trained() -> TrainedModel:
    return train_model(DataConfig(), ModelConfig(), TrainConfig(), data=default_data())


def peak_matmul_flops(n: int = 2048, tries: int = 5) -> float:
    """Peak fp32 FLOP/s of this process: the best of ``tries`` (n×n)·(n×n) matmuls,
    2·n³ FLOPs each, at the current ``torch.get_num_threads()``."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    a @ b  # first call pays for thread-pool start-up and kernel selection
    import time

    best = float("inf")
    for _ in range(tries):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best
