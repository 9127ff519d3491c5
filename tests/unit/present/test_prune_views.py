"""The Prune page's shared views: one per model, start and font size for every session; a
slider position's outcome computed once; a byte budget that drops the oldest; and nothing
kept once the model is gone."""
import gc
import threading

import pytest

from pruning import DataConfig, ModelConfig, TrainConfig
from pruning.core.records import train_model
from pruning.present import prune_views
from pruning.present.prune_views import _Outcomes, views_for


@pytest.fixture(scope="module")
def trained(digits_200):
    return train_model(DataConfig(name="digits", train_size=200), ModelConfig(hidden=(16, 8)),
                       TrainConfig(epochs=1), data=digits_200)


def test_one_views_object_per_model_start_and_font_size(trained, digits_200):
    a = views_for(trained, None, digits_200, 1.0)
    assert views_for(trained, None, digits_200, 1.0) is a
    assert views_for(trained, None, digits_200, 1.5) is not a
    other = train_model(DataConfig(name="digits", train_size=200), ModelConfig(hidden=(16, 8)),
                        TrainConfig(epochs=1, seed=1), data=digits_200)
    assert views_for(other, None, digits_200, 1.0) is not a


def test_an_outcome_is_computed_once_for_every_session(trained, digits_200):
    views = views_for(trained, None, digits_200, 1.0)
    calls = []

    def compute():
        calls.append(1)
        return ("masks", len(calls))

    results = []
    threads = [threading.Thread(target=lambda: results.append(views.outcome(("k", 0.5), compute)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Sessions arriving at once may compute it side by side; once kept, it is looked up.
    assert 1 <= len(calls) <= 4 and all(r[0] == "masks" for r in results)
    n = len(calls)
    assert views.outcome(("k", 0.5), compute) in results
    assert len(calls) == n   # looked up, not computed again


def test_the_budget_drops_the_least_recently_used_first():
    store = _Outcomes(budget=300)
    for k in "abc":
        store.get(k, lambda k=k: (k,), 100)
    store.get("a", lambda: ("again",), 100)           # a used: b is now the oldest
    store.get("d", lambda: ("d",), 100)
    assert store.used == 300
    assert store.get("b", lambda: ("new b",), 100) == ("new b",)   # b was dropped
    assert store.get("a", lambda: ("new a",), 100) == ("a",)       # a was kept
    assert store.get("huge", lambda: ("h",), 10_000) == ("h",) and "huge" not in store._items


def test_a_freed_model_takes_its_views_and_outcomes_with_it(digits_200):
    model = train_model(DataConfig(name="digits", train_size=200), ModelConfig(hidden=(8,)),
                        TrainConfig(epochs=1, seed=2), data=digits_200)
    views = views_for(model, None, digits_200, 1.0)
    views.outcome(("k",), lambda: ("x",))
    token, n_views = views.token, len(prune_views._VIEWS)
    assert any(k[0] == token for k in prune_views._OUTCOMES._items)
    del model, views
    gc.collect()
    assert len(prune_views._VIEWS) == n_views - 1
    assert not any(k[0] == token for k in prune_views._OUTCOMES._items)
