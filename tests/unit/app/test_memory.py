"""The memory budget: the owner's setting or a share of the machine; model sizes counted."""
import pytest
import torch

from pruning.app.memory import (
    DEFAULT_SHARE,
    machine_memory_bytes,
    memory_budget_bytes,
    mlp_parameter_count,
    shared_model_limit_bytes,
    state_bytes,
)
from pruning.config import ModelConfig
from pruning.core.models import build_model
from pruning.errors import PruningError


def test_budget_is_a_share_of_the_machine_unless_the_owner_sets_it():
    assert memory_budget_bytes({}) == int(machine_memory_bytes() * DEFAULT_SHARE)
    assert memory_budget_bytes({"PRUNING_MEMORY_BUDGET_MB": "1024"}) == 2**30
    assert shared_model_limit_bytes(2**30) == 2**30 // 32
    with pytest.raises(PruningError, match="PRUNING_MEMORY_BUDGET_MB"):
        memory_budget_bytes({"PRUNING_MEMORY_BUDGET_MB": "lots"})
    with pytest.raises(PruningError, match="positive"):
        memory_budget_bytes({"PRUNING_MEMORY_BUDGET_MB": "-5"})


def test_sizes_are_counted_from_the_tensors():
    model = build_model(ModelConfig(kind="mlp", hidden=(30, 20)), 64, 10, None, seed=0)
    n = sum(p.numel() for p in model.parameters())
    assert mlp_parameter_count(64, (30, 20), 10) == n
    state = model.state_dict()
    assert state_bytes(state) == 4 * n
    assert state_bytes(state, state) == 4 * n           # the same storage counts once
    assert state_bytes({"w": torch.zeros(3, dtype=torch.bool)}) == 3


def test_the_largest_model_a_link_allows_is_too_large_to_share_on_a_24_gb_server():
    """6 × 4096 units on 784 inputs: 87 M parameters, 0.7 GB for initial + trained weights."""
    size = 2 * 4 * mlp_parameter_count(784, (4096,) * 6, 10)
    assert size > shared_model_limit_bytes(12 * 2**30)


def test_expired_session_collector_collects_once_after_an_expired_session_is_dropped():
    import threading

    from pruning.app.memory import ExpiredSessionCollector

    now = [0.0]
    ran = threading.Event()
    c = ExpiredSessionCollector(ttl=20, delay=0.01, min_gap=0, clock=lambda: now[0],
                                collect=ran.set)
    c.closed()                      # a tab closes at 0 s
    now[0] = 10
    c.closed()                      # another at 10 s: nothing has expired yet
    assert not ran.wait(0.2) and c.collections == 0
    now[0] = 25
    c.closed()                      # at 25 s the first one is dropped by Streamlit: collect
    assert ran.wait(5)
    ran.clear()
    now[0] = 26
    c.closed()                      # nothing newly expired (10 s and 25 s are recent)
    assert not ran.wait(0.2)
    c.cancel()
