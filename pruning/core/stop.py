"""A cooperative stop hook: how a long computation learns that it should end now.

Every loop that can run for long (training, fine-tuning, ensembles, per-example scoring) calls
``stop_point()`` once per mini-batch, and training calls ``epoch_done(epoch, epochs)`` after
each epoch. Both do nothing unless a caller installed a hook for the current thread::

    with stop_hook(check, on_epoch):   # e.g. the job runner's handle
        train(model, data, cfg)        # check() runs after every mini-batch

``check()`` ends the computation by raising (the job runner raises ``JobStopped``); nothing has
to be passed down through the labs' signatures. The hook lives in a ``contextvars.ContextVar``,
so it belongs to the thread (or task) that set it: two students' sessions, each running in its
own Streamlit script thread, never see each other's hook.

Why per batch and not per epoch: an epoch of the largest allowed MLP takes minutes, a batch a
fraction of a second, and Stop must act within about a second.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

CheckFn = Callable[[], None]
EpochFn = Callable[[int, int], None]

_HOOK: ContextVar[tuple[CheckFn, EpochFn | None] | None] = ContextVar("pruning_stop_hook",
                                                                        default=None)


@contextmanager
def stop_hook(check: CheckFn, on_epoch: EpochFn | None = None) -> Iterator[None]:
    """Install ``check`` (called at every ``stop_point``) and ``on_epoch(epoch, epochs)``
    (called at every ``epoch_done``) for the code run inside the ``with`` block, in this
    thread only. Hooks nest: the inner one replaces the outer one until its block ends."""
    token = _HOOK.set((check, on_epoch))
    try:
        yield
    finally:
        _HOOK.reset(token)


def stop_point() -> None:
    """Give the current hook a chance to end the computation (it raises to do so)."""
    hook = _HOOK.get()
    if hook is not None:
        hook[0]()


def epoch_done(epoch: int, epochs: int) -> None:
    """Tell the current hook that ``epoch`` of ``epochs`` has finished, then ``stop_point``."""
    hook = _HOOK.get()
    if hook is not None:
        if hook[1] is not None:
            hook[1](epoch, epochs)
        hook[0]()
