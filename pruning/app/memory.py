"""The server's memory budget and what models cost in it.

One process serves the whole class, so memory is shared: the budget is what the server's
owner allows the app to use (``PRUNING_MEMORY_BUDGET_MB``), by default ``DEFAULT_SHARE`` of
the machine's memory (the smaller of physical memory and the cgroup limit of a container).
Jobs are checked against it before they start; shared caches take only a slice of it.

Sizes are counted, not guessed: a model record holds float32 tensors, so its bytes are
``4 · numel`` summed over its state dicts (``state_bytes``); an MLP with layer widths
n₀, n₁, …, n_L has Σ (n_{i}·n_{i+1} + n_{i+1}) parameters (``mlp_parameter_count``).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from pruning.errors import PruningError

#: Share of the machine's memory the app may use unless its owner says otherwise.
DEFAULT_SHARE = 0.5
#: A shared (cached) model may take at most this share of the budget; a larger one is made
#: for the session that asked and never kept in a cache.
SHARED_MODEL_SHARE = 1 / 32


def machine_memory_bytes() -> int:
    """Physical memory, or the container's cgroup limit when that is lower."""
    total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    if total is None:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max",                     # cgroup v2
                       "/sys/fs/cgroup/memory/memory.limit_in_bytes"):  # cgroup v1
        try:
            raw = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw))
    return total


def memory_budget_bytes(env=None) -> int:
    """The budget: ``PRUNING_MEMORY_BUDGET_MB`` if set, else ``DEFAULT_SHARE`` of the machine."""
    env = os.environ if env is None else env
    raw = env.get("PRUNING_MEMORY_BUDGET_MB", "").strip()
    if raw:
        try:
            mb = float(raw)
        except ValueError:
            raise PruningError(f"PRUNING_MEMORY_BUDGET_MB must be a number of megabytes, "
                               f"got {raw[:40]!r}") from None
        if not 0 < mb < float("inf"):
            raise PruningError(f"PRUNING_MEMORY_BUDGET_MB must be positive, got {raw[:40]!r}")
        return int(mb * 2**20)
    return int(machine_memory_bytes() * DEFAULT_SHARE)


def shared_model_limit_bytes(budget: int | None = None) -> int:
    """The largest model record a shared cache may hold."""
    return int((memory_budget_bytes() if budget is None else budget) * SHARED_MODEL_SHARE)


def state_bytes(*states: dict) -> int:
    """Bytes of the tensors in state dicts (each storage counted once)."""
    seen, total = set(), 0
    for state in states:
        for t in (state or {}).values():
            if torch.is_tensor(t):
                key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
                if key not in seen:
                    seen.add(key)
                    total += key[1]
    return total


def mlp_parameter_count(n_features: int, hidden: tuple[int, ...], n_classes: int) -> int:
    """Weights and biases of an MLP n_features → hidden… → n_classes."""
    widths = [int(n_features), *map(int, hidden), int(n_classes)]
    return sum(a * b + b for a, b in zip(widths, widths[1:]))
