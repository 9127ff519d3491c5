"""The default-model file shared by a class's server processes: trained once, loaded by the
others (also when they ask at the same moment), the same numbers back, a broken file replaced."""
import multiprocessing as mp
from pathlib import Path

import torch

from pruning.app.model_cache import cache_key, load_or_train
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.records import train_model

D, M, T = DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1)


def _train():
    return train_model(D, M, T)


def test_second_call_loads_what_the_first_trained(tmp_path):
    first, trained_here = load_or_train(tmp_path, D, M, T, _train)
    assert trained_here
    calls = []
    second, trained_here = load_or_train(tmp_path, D, M, T, lambda: calls.append(1) or _train())
    assert not trained_here and calls == []
    for k in first.state:
        assert torch.equal(first.state[k], second.state[k])
        assert torch.equal(first.init_state[k], second.init_state[k])
    assert second.metrics == first.metrics
    assert second.history.equals(first.history)
    assert (second.data_config, second.model_config, second.train_config) == (D, M, T)


def test_other_settings_other_file(tmp_path):
    load_or_train(tmp_path, D, M, T, _train)
    other = TrainConfig(epochs=1, seed=1)
    assert cache_key(D, M, T) != cache_key(D, M, other)
    _, trained_here = load_or_train(tmp_path, D, M, other, lambda: train_model(D, M, other))
    assert trained_here


def test_a_broken_file_is_trained_again(tmp_path):
    load_or_train(tmp_path, D, M, T, _train)
    path = tmp_path / f"default-{cache_key(D, M, T)}.pt"
    path.write_bytes(b"not a torch file")
    model, trained_here = load_or_train(tmp_path, D, M, T, _train)
    assert trained_here and model.metrics
    assert load_or_train(tmp_path, D, M, T, _train)[1] is False


def _race(directory: str, out) -> None:
    _, here = load_or_train(directory, D, M, T, _train)
    out.put(here)


def test_processes_asking_at_once_train_once(tmp_path):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(tmp_path), out)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    results = sorted(out.get(timeout=5) for _ in procs)
    assert results == [False, False, True]
    assert len(list(Path(tmp_path).glob("default-*.pt"))) == 1
