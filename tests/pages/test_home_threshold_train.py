"""AppTest checks of the Home, Threshold basics and Train pages (real app.py, real pruning code).

Figures are read from the Plotly JSON the page sends (``proto.spec``), so the tests check what
a student sees, not only the text. Models are kept tiny (few epochs) to stay fast.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import pruning.core.data
from pruning.errors import DatasetUnavailable
from tests.pages.kit import (
    HOME,
    THRESHOLD,
    TRAIN,
    as_array,
    charts,
    click,
    goto,
    new_app,
    texts,
    values,
)


def open_page(page: str | None = None, **state) -> AppTest:
    """A fresh session with the app's own default settings (``state`` preset) showing ``page``."""
    return new_app(page=page, epochs=None, **state)


def figure_titled(at: AppTest, fragment: str) -> dict:
    found = [f for f in charts(at) if fragment in f["layout"].get("title", {}).get("text", "")]
    assert found, f"no figure titled like {fragment!r}"
    return found[0]


def kept_and_pruned(at: AppTest) -> tuple[list[float], list[float]]:
    """The worked example's bars: (kept |w| values, pruned |w| values), from the figure."""
    fig = figure_titled(at, "kept (|w| ≥ t)")
    traces = {t["name"]: t for t in fig["data"]}
    return values(traces["kept"]["y"]), values(traces["pruned"]["y"])


def trained(at: AppTest):
    ws = at.session_state["workspace"] if "workspace" in at.session_state else None
    return None if ws is None else ws.trained


# ----------------------------------------------------------------------------- every page
@pytest.mark.parametrize("page", [HOME, THRESHOLD, TRAIN])
def test_page_renders_from_a_fresh_session(page):
    at = open_page(page)
    assert not at.error, texts(at, "error")
    assert at.title, "every page has a title"


def test_home_start_here_leads_to_threshold_basics_then_train():
    at = open_page()
    assert "Pruning Playground" in at.title[0].value
    loop = charts(at)[0]
    steps = loop["data"][0]["text"]
    for want, got in zip(["Train", "Score", "Prune", "Fine-tune", "Repeat"], steps):
        assert want in got
    click(at, "home_start_threshold")
    assert "Threshold basics" in at.title[0].value
    at = open_page()
    click(at, "home_start_train")
    assert "Train" in at.title[0].value


# ----------------------------------------------------------------------------- threshold
def test_worked_example_keeps_05_and_03_at_threshold_03():
    at = open_page(THRESHOLD)
    assert at.slider(key="_w_thr_t").value == 0.3
    kept, pruned = kept_and_pruned(at)
    assert kept == [0.5, 0.3] and pruned == [0.2, 0.1]
    table = at.dataframe[0].value
    assert list(table["decision"]) == ["pruned", "kept", "pruned", "kept"]
    assert "0.5 and 0.3 stay; 0.2 and 0.1 are pruned; 0.3 stays because" in texts(at, "markdown")


def test_moving_the_threshold_changes_what_is_kept():
    at = open_page(THRESHOLD)
    at.slider(key="_w_thr_t").set_value(0.31).run()
    assert kept_and_pruned(at) == ([0.5], [0.2, 0.1, 0.3])
    at.slider(key="_w_thr_t").set_value(0.15).run()
    assert kept_and_pruned(at) == ([0.2, 0.5, 0.3], [0.1])
    at.slider(key="_w_thr_t").set_value(0.1).run()  # equal to the smallest weight: all stay
    assert kept_and_pruned(at) == ([0.2, 0.5, 0.1, 0.3], [])


def test_editing_a_weight_and_resetting():
    at = open_page(THRESHOLD)
    at.number_input(key="_w_thr_w2").set_value(-0.4).run()
    kept, pruned = kept_and_pruned(at)
    assert kept == [0.5, 0.4, 0.3] and pruned == [0.2]  # |−0.4| = 0.4 ≥ 0.3
    assert "−0.4 counts as 0.4" in texts(at, "markdown")
    click(at, "thr_reset")
    assert kept_and_pruned(at) == ([0.5, 0.3], [0.2, 0.1])


def test_threshold_survives_a_visit_to_another_page():
    at = open_page(THRESHOLD)
    at.slider(key="_w_thr_t").set_value(0.45).run()
    goto(at, HOME)
    goto(at, THRESHOLD)
    assert at.slider(key="_w_thr_t").value == 0.45
    assert kept_and_pruned(at) == ([0.5], [0.2, 0.1, 0.3])


def test_real_layer_sections_with_the_default_model():
    at = open_page(THRESHOLD, set_epochs=2)
    assert len(charts(at)) == 1, "without a model only the worked example is drawn"
    click(at, "use_default_model")
    assert not at.exception and trained(at) is not None
    # threshold -> sparsity on one layer, cross-checked against the model's weights
    w = trained(at).state["layers.0.weight"].abs()
    t = at.slider(key="_w_thr_layer_t:layers.0.weight").value
    shown = float(at.metric[0].value.rstrip(" %"))
    assert shown == pytest.approx(100 * float((w < t).float().mean()), abs=0.05)
    at.slider(key="_w_thr_layer_t:layers.0.weight").set_value(0.0).run()
    assert at.metric[0].value == "0.0 %"
    # sparsity -> threshold
    at.slider(key="_w_thr_layer_target").set_value(90).run()
    need = float(at.metric[1].value)
    assert float((w < need).float().mean()) == pytest.approx(0.9, abs=1e-3)
    # one global threshold: per-layer sparsities differ, and move with the slider
    bars = figure_titled(at, "% of each layer pruned")["data"]
    global_pct = values(bars[0]["y"])
    per_layer_pct = values(bars[1]["y"])
    assert max(global_pct) - min(global_pct) > max(per_layer_pct) - min(per_layer_pct)
    at.slider(key="_w_thr_global_t").set_value(0.01).run()
    lower = values(figure_titled(at, "% of each layer pruned")["data"][0]["y"])
    assert all(a < b for a, b in zip(lower, global_pct))
    assert "What to notice" in texts(at, "info")


# ----------------------------------------------------------------------------- train
def test_train_page_trains_the_default_digits_mlp_end_to_end():
    at = open_page(TRAIN, set_epochs=3)
    samples = figure_titled(at, "training images")
    assert samples["data"][-1]["type"] == "heatmap"
    assert trained(at) is None
    click(at, "train_button")
    assert not at.exception and not at.error, texts(at, "error")
    model = trained(at)
    assert model is not None
    assert model.data_config.name == "digits" and model.model_config.hidden == (300, 100)
    assert list(model.history["epoch"]) == [0, 1, 2, 3]
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["Train accuracy", "Validation accuracy", "Test accuracy",
                          "Train − test gap"]
    assert at.metric[2].value == f"{100 * model.metrics['test_acc']:.1f} %"
    confusion = figure_titled(at, "confusion matrix")
    z = as_array(confusion["data"][0]["z"])
    assert z.shape == (10, 10)
    assert z.sum() == pruning.core.data.load_dataset(model.data_config).sizes()["test"]
    assert int(np.trace(z)) == round(model.metrics["test_acc"] * z.sum())
    curves = figure_titled(at, "accuracy")
    assert len(values(curves["data"][0]["x"])) == 4
    assert "What to notice" in texts(at, "info")
    assert at.get("download_button"), "history CSV offered"


def test_two_sessions_do_not_see_each_others_models():
    a = open_page(TRAIN, set_epochs=1)
    click(a, "train_button")
    assert trained(a) is not None
    b = open_page(TRAIN, set_epochs=1)
    assert trained(b) is None
    goto(b, THRESHOLD)
    assert len(charts(b)) == 1  # no model: only the worked example
    assert trained(a) is not None


@pytest.mark.parametrize("setting, value, expect_error", [
    ("set_hidden", "abc", "whole numbers"),
    ("set_train_size", 5, "smaller than the number of classes"),
    ("set_label_noise", 1.0, None),
    ("set_train_size", 10, None),
    ("set_epochs", 0, None),
])
def test_bad_or_extreme_inputs_show_a_message_or_work(setting, value, expect_error):
    at = open_page(TRAIN, **{"set_epochs": 2, setting: value})
    if expect_error:
        assert expect_error in texts(at, "error")
        assert not [b for b in at.button if b.key == "train_button"], "no Train without data"
        return
    click(at, "train_button")
    assert not at.exception and not at.error, texts(at, "error")
    model = trained(at)
    assert model is not None
    note = texts(at, "info")
    if setting == "set_label_noise":
        assert "100 % of the training labels are wrong" in note
    if setting == "set_epochs":
        assert "0 epochs" in note and len(model.history) == 1


def test_a_bad_setting_after_training_keeps_the_model():
    at = open_page(TRAIN, set_epochs=1)
    click(at, "train_button")
    first = trained(at)
    at.session_state["set_hidden"] = "300,,x"
    at.run()
    assert "whole numbers" in texts(at, "error") and not at.exception
    assert trained(at) is first
    assert at.metric, "the model's results are still shown"
    at.session_state["set_hidden"] = "300,100"
    at.run()
    at.number_input(key="_w_train_lr").set_value(0.0).run()
    assert "learning rate must be above 0" in texts(at, "error")
    assert at.button(key="train_button").disabled
    assert trained(at) is first


def test_unavailable_dataset_is_a_clear_error(monkeypatch):
    def offline(cfg):
        raise DatasetUnavailable("MNIST is not on this machine and could not be downloaded")

    monkeypatch.setitem(pruning.core.data.DATASETS, "mnist", (offline, "test double"))
    at = open_page(TRAIN, set_epochs=1)
    click(at, "train_button")
    first = trained(at)
    at.session_state["set_dataset"] = "mnist"
    at.run()
    assert not at.exception
    assert "could not be downloaded" in texts(at, "error")
    assert trained(at) is first and at.metric


def test_an_interrupted_run_is_reported_and_the_previous_model_kept():
    at = open_page(TRAIN, set_epochs=1)
    click(at, "train_button")
    first = trained(at)
    # what a run leaves behind when the user leaves mid-training (the script is stopped
    # inside the progress callback, before the new model is stored)
    at.session_state["train_run"] = {"epochs": 30, "done": 7}
    at.run()
    assert "stopped after epoch 7 of 30" in texts(at, "warning")
    assert "previous model is unchanged" in texts(at, "warning")
    assert trained(at) is first
    at.run()
    assert not at.warning, "reported once"


def test_two_d_toy_set_shows_a_scatter():
    at = open_page(TRAIN, set_dataset="moons", set_epochs=1)
    fig = figure_titled(at, "training points")
    assert [t["name"] for t in fig["data"]] == ["class 0", "class 1"]
    click(at, "train_button")
    assert trained(at).data_config.name == "moons" and not at.error


def test_two_d_model_shows_its_decision_boundary_and_network():
    """After training on 2-D data the page keeps the live view's last pictures: the decision
    boundary and (small MLP) the network, as Vega-Lite specs (pruning.present.live_training)."""
    at = open_page(TRAIN, set_dataset="moons", set_epochs=2, set_hidden="8,8")
    click(at, "train_button")
    assert not at.exception and not at.error, texts(at, "error")
    model = trained(at)
    assert model.model_config.hidden == (8, 8)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = [s.get("title") for s in specs]
    assert "decision boundary" in titles and any("network" in str(t) for t in titles), titles
    names = [[d.name for d in c.proto.datasets] for c in at.get("vega_lite_chart")]
    assert ["grid", "points"] in names and ["edges", "units"] in names, names
    # classroom mode switched on afterwards: the kept pictures are drawn with its larger fonts
    normal = {s["config"]["axis"]["labelFontSize"] for s in specs}
    at.toggle(key="set_classroom").set_value(True).run()
    big = {json.loads(c.proto.spec)["config"]["axis"]["labelFontSize"]
           for c in at.get("vega_lite_chart")}
    assert min(big) >= 16 and min(big) > max(normal), (normal, big)
