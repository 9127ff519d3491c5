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

import gc
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

import torch

from pruning.errors import PruningError

log = logging.getLogger("pruning_playground.memory")

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


class ExpiredSessionCollector:
    """Releases the models of sessions that went away, soon after Streamlit drops them.

    Why a collector: Streamlit's session objects refer to each other in cycles, so a
    dropped session's models stay resident until Python's *full* garbage collection runs.
    With the server's per-run full collection turned off (``runner.postScriptGC = false``,
    it stalled every rerun), Python runs one only when its long-lived objects grew by a
    quarter, which on a server holding torch, pandas and plotly can take minutes
    (BENCHMARKS.md, "Closed sessions' models").

    When Streamlit drops a session: a disconnected session is kept ``ttl`` seconds
    (``server.disconnectedSessionTTL``) and removed from its store at the next
    disconnection after that (its store reaps expired entries on a write). So on every
    closed connection (``closed()``, called by the server's guard), if an earlier one closed
    at least ``ttl`` seconds ago, that session has just been dropped: one full collection
    runs ``delay`` seconds later, in a background thread, at most once per ``min_gap``
    seconds (later requests wait for the gap), followed by ``malloc_trim`` so the freed
    memory goes back to the system. A collection costs about as much as one per-run
    collection did, but it runs once per batch of expired sessions, not once per slider
    move, and ``min_gap`` bounds its share of the server's time when a class keeps
    reloading.
    """

    def __init__(self, ttl: float | Callable[[], float], delay: float = 1.0,
                 min_gap: float = 15.0, collect: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl if callable(ttl) else (lambda: float(ttl))
        self.delay, self.min_gap = float(delay), float(min_gap)
        self._collect = collect or _full_collection
        self.clock = clock
        self._lock = threading.Lock()
        self._closed: list[float] = []      # close times not yet known to be dropped
        self._timer: threading.Timer | None = None
        self._last = -float("inf")
        self.collections = 0                # (for tests and the log)

    def closed(self) -> None:
        """A connection closed now (a tab closed, a page reloaded, a network drop)."""
        now = self.clock()
        with self._lock:
            ttl = self._ttl()
            dropped = [t for t in self._closed if t <= now - ttl]
            self._closed = [t for t in self._closed if t > now - ttl][-10_000:]
            self._closed.append(now)
            if dropped:
                self._schedule(now)

    def _schedule(self, now: float) -> None:
        if self._timer is not None:           # one already pending covers this one
            return
        wait = max(self.delay, self._last + self.min_gap - now)
        self._timer = threading.Timer(wait, self._run)
        self._timer.daemon = True
        self._timer.start()

    def _run(self) -> None:
        with self._lock:
            self._timer = None
            self._last = self.clock()
        self._collect()
        self.collections += 1

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


def _full_collection() -> None:
    started = time.perf_counter()
    freed = gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: nothing to give back
        pass
    log.info("released expired sessions: full collection freed %d objects in %.2f s",
             freed, time.perf_counter() - started)
