"""What the Prune page draws of one model, shared by every session that shows that model.

A class opens one link, takes the same default model (one ``TrainedModel`` object on the
server) and moves the same slider. Two things of a move are the same for all of them:

* the figures' fixed parts (``pruning.present.slider_figures``: colour levels, axes, bars),
  built once per model, start and font size instead of once per student (~25 ms each, at the
  moment 40 students arrive at once);
* the outcome of a slider position (the masks, the pruned copy and its accuracies, the
  per-layer table, the heatmaps and pictures after pruning): a function of (model, start, scorer, output layer, seed, mode, scope,
  value), computed once and then looked up (``PruneViews.outcome``). The slider moves in
  0.5 % steps, so a class soon has most positions computed.

Everything here is read-only once made: the figures return new ``FigureJSON`` dicts, and the
outcomes (records, tables) are never modified by their users (``TrainedModel`` and
``PrunedModel`` are treated as immutable everywhere). What a session changes — the module it
loads a pruned state into to measure it — stays in the session.

Memory: outcomes are kept least recently used first out, at most ``OUTCOME_BUDGET_BYTES``
for the whole server (a pruned copy of the default model is ~0.25 MB); the figures of a model
are dropped with the model.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict
from typing import Callable, Hashable

import numpy as np
import torch

from pruning.core.data import DataBundle
from pruning.core.records import FinetunedModel, TrainedModel
from pruning.present.charts import images_grid
from pruning.present.figure_json import FigureJSON
from pruning.present.slider_figures import SliderHeatmap, SliderHistogram, SliderImages

#: Server-wide bytes of kept slider outcomes (masks + pruned weights), over all models.
OUTCOME_BUDGET_BYTES = 64 * 2**20


class PruneViews:
    """The Prune page's figures of ``trained`` (pruned from ``start``) at one font ``scale``;
    get one with ``views_for``. Thread-safe: sessions' script threads share it."""

    def __init__(self, trained: TrainedModel, start: FinetunedModel | None, data: DataBundle,
                 scale: float):
        self.token = next(_TOKENS)   # names its outcomes (an id() may be reused)
        self.trained = weakref.ref(trained)
        self.start = None if start is None else weakref.ref(start)
        self.scale = scale
        model = trained.build(data, None if start is None else start.state)
        #: the dense (or fine-tuned) weights the page prunes; never modified
        self.params = {n: p.detach() for n, p in model.named_parameters()}
        #: about the bytes of one outcome: the pruned weights, two copies of the masks, the
        #: heatmaps' base64 levels (4/3 byte a weight), a table and the first layer's pictures
        self.outcome_bytes = sum(p.numel() * (p.element_size() + 4)
                                 for p in self.params.values()) + 65_536
        self._lock = threading.Lock()
        self._heatmaps: dict[str, SliderHeatmap] = {}
        self._histograms: dict[tuple, SliderHistogram] = {}
        self._pictures: tuple[FigureJSON, SliderImages] | None = None

    def fits(self, trained: TrainedModel, start: FinetunedModel | None) -> bool:
        return self.trained() is trained and (self.start is None if start is None else
                                              self.start is not None and self.start() is start)

    def heatmap(self, name: str) -> SliderHeatmap:
        with self._lock:
            if name not in self._heatmaps:
                w = self.params[name]
                title = f"{name.removesuffix('.weight')} ({' × '.join(map(str, w.shape))})"
                self._heatmaps[name] = SliderHeatmap(w, title, float(w.abs().max()) or 1.0)
            return self._heatmaps[name]

    def histogram(self, key: Hashable, scores: dict[str, torch.Tensor], log_x: bool,
                  title: str) -> SliderHistogram:
        """The score histogram of ``scores``; ``key`` names them (scorer, output layer, seed,
        layer shown)."""
        with self._lock:
            if (key, log_x) not in self._histograms:
                self._histograms[key, log_x] = SliderHistogram(scores, log_x=log_x, title=title)
            return self._histograms[key, log_x]

    def pictures(self, images: np.ndarray, titles: list[str]) -> tuple[FigureJSON, SliderImages]:
        """The first layer's units before pruning (fixed) and after (per move)."""
        with self._lock:
            if self._pictures is None:
                before = images_grid(images, titles, cols=len(images), symmetric=True,
                                     title="before pruning", height=260)
                self._pictures = (FigureJSON(before.to_dict()),
                                  SliderImages(images, titles, "after pruning (amber = pruned)"))
            return self._pictures

    def outcome(self, key: Hashable, compute: Callable[[], tuple]) -> tuple:
        """``compute()`` for the slider setting ``key``, or the result kept from an earlier
        call with the same key (by any session)."""
        return _OUTCOMES.get((self.token, key), compute, self.outcome_bytes)


class _Outcomes:
    """A least-recently-used store with a byte budget, shared by all ``PruneViews``."""

    def __init__(self, budget: int):
        self.budget, self.used = budget, 0
        self._items: OrderedDict[Hashable, tuple[tuple, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], tuple], size: int) -> tuple:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = compute()                 # outside the lock: another session may compute the
        with self._lock:                  # same key at the same time; both get equal values
            if key not in self._items and size <= self.budget:
                self._items[key] = (value, size)
                self.used += size
                while self.used > self.budget:
                    _, (_, gone) = self._items.popitem(last=False)
                    self.used -= gone
        return value

    def forget(self, owner: int) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == owner]:
                self.used -= self._items.pop(key)[1]


_TOKENS = itertools.count()
_OUTCOMES = _Outcomes(OUTCOME_BUDGET_BYTES)
_VIEWS: dict[tuple, PruneViews] = {}
_VIEWS_LOCK = threading.Lock()


def views_for(trained: TrainedModel, start: FinetunedModel | None, data: DataBundle,
              scale: float) -> PruneViews:
    """The shared ``PruneViews`` of (``trained``, ``start``) at font ``scale``: made on first
    use, dropped (with its outcomes) when the model or the start is freed."""
    key = (id(trained), None if start is None else id(start), scale)
    with _VIEWS_LOCK:
        views = _VIEWS.get(key)
        if views is None or not views.fits(trained, start):   # (an id reused by a new object)
            if views is not None:
                _OUTCOMES.forget(views.token)
            views = _VIEWS[key] = PruneViews(trained, start, data, scale)
            for owner in (trained, start):
                if owner is not None:
                    weakref.finalize(owner, _drop, key, views)
        return views


def _drop(key: tuple, views: PruneViews) -> None:
    with _VIEWS_LOCK:
        if _VIEWS.get(key) is views:
            del _VIEWS[key]
    _OUTCOMES.forget(views.token)
