"""AppTest checks of the Prune, Fine-tune and Iterate pages (pages/prune.py, finetune.py,
iterate.py): fresh sessions, the default model, sliders that change what is shown, the whole
train → prune → fine-tune path, pages in any order, isolation, extreme settings."""
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from pruning.present.compact_heatmap import PRUNED_LEVEL
from pruning.present.style import PRUNED_COLOUR
from tests.pages.kit import (
    FINETUNE,
    ITERATE,
    PRUNE,
    as_array,
    chart,
    charts,
    click,
    goto,
    metric,
    new_app,
    ok,
    texts,
    with_default_model,
)


# ----------------------------------------------------------------------------- figure helpers
def z_of(trace: dict) -> np.ndarray:
    """A heatmap trace's z values as floats (NaN where pruned)."""
    return as_array(trace["z"])


def pruned_cells(fig: dict) -> int:
    """Pruned weights of a heatmap: cells at the pruned level of the one-byte heatmap the Prune
    page and the Iterate replay send (``compact_heatmap``), NaN cells of a float one."""
    z = fig["data"][0]["z"]
    if isinstance(z, dict) and z.get("dtype") == "i1":
        return int((z_of(fig["data"][0]) == PRUNED_LEVEL).sum())
    return int(np.isnan(z_of(fig["data"][0])).sum())


def total_prunable(at: AppTest) -> int:
    """How many weights (not biases) the session's trained model has."""
    ws = at.session_state["workspace"]
    return sum(v.numel() for k, v in ws.trained.state.items() if k.endswith("weight"))


# ----------------------------------------------------------------------------- fresh sessions
@pytest.mark.parametrize("page, message", [(PRUNE, "No trained model"),
                                           (FINETUNE, "No pruned model"),
                                           (ITERATE, "No trained model")])
def test_each_page_renders_in_a_fresh_session_and_offers_a_default(page, message):
    at = goto(new_app(), page)
    assert any(message in i.value for i in at.info)
    assert at.session_state["workspace"].trained is None


def test_pages_render_after_using_the_default_model():
    at = with_default_model(new_app())
    assert at.session_state["workspace"].trained is not None
    assert len(charts(at, "prune_heatmap_")) == 3  # digits MLP 300-100: three weight layers
    assert metric(at, "Weights pruned") == "90.0 %"
    goto(at, ITERATE)
    assert at.button(key="it_run")
    goto(at, FINETUNE)
    assert any("No pruned model" in i.value for i in at.info)  # nothing kept yet


# ----------------------------------------------------------------------------- sliders
def test_target_sparsity_changes_the_shown_sparsity_and_the_heatmaps():
    at = with_default_model(new_app())
    n = total_prunable(at)
    heat = charts(at, "prune_heatmap_")
    at90 = sum(pruned_cells(f) for f in heat)
    assert at90 == int(np.floor(0.9 * n + 0.5))
    # one trace each (the weights, NaN where pruned) over an amber plot background
    for f in heat:
        assert len(f["data"]) == 1 and f["layout"]["plot_bgcolor"] == PRUNED_COLOUR

    ok(at.slider(key="prune_sparsity").set_value(50.0).run())
    assert metric(at, "Weights pruned") == "50.0 %"
    at50 = sum(pruned_cells(f) for f in charts(at, "prune_heatmap_"))
    assert at50 == int(np.floor(0.5 * n + 0.5)) and at50 < at90


def test_per_layer_scope_prunes_every_layer_by_the_same_share():
    at = with_default_model(new_app())
    ok(at.radio(key="prune_scope").set_value("layer").run())
    ok(at.slider(key="prune_sparsity").set_value(70.0).run())
    for f in charts(at, "prune_heatmap_"):
        z = z_of(f["data"][0])
        assert pruned_cells(f) == int(np.floor(0.7 * z.size + 0.5))


def test_threshold_changes_the_shown_sparsity_and_the_heatmaps():
    at = with_default_model(new_app())
    ok(at.radio(key="prune_mode").set_value("threshold").run())
    ws = at.session_state["workspace"]
    weights = torch.cat([v.flatten() for k, v in ws.trained.state.items() if k.endswith("weight")])
    slider = at.slider(key="prune_threshold_magnitude_True")
    shown = []
    for t in (0.01, 0.05):
        ok(slider.set_value(t).run())
        expected = int((weights.abs() < t).sum())  # strictly below the threshold is pruned
        cells = sum(pruned_cells(f) for f in charts(at, "prune_heatmap_"))
        assert cells == expected
        assert metric(at, "Weights pruned") == f"{100 * expected / weights.numel():.1f} %"
        shown.append(cells)
    assert shown[0] < shown[1]


def test_histogram_line_is_the_selection_cutoff():
    at = with_default_model(new_app())
    fig = chart(at, "prune_histogram")
    texts_ = [a["text"] for a in fig["layout"]["annotations"]]
    n = total_prunable(at)
    assert f"pruned: {int(np.floor(0.9 * n + 0.5)):,}" in texts_
    assert any(t.startswith("cut-off") for t in texts_)
    ok(at.checkbox(key="prune_log_x").check().run())
    assert chart(at, "prune_histogram")["layout"]["xaxis"]["title"]["text"] == "log10(score)"


def test_layer_table_and_csv_download():
    at = with_default_model(new_app())
    table = at.dataframe[0].value
    assert list(table["Layer"]) == ["layers.0", "layers.1", "layers.2"]
    assert table["Non-zero weights"].sum() == total_prunable(at) - int(np.floor(0.9 * total_prunable(at) + 0.5))
    assert at.get("download_button")


# ----------------------------------------------------------------------------- extremes
def test_sparsity_100_and_0_show_a_note_and_no_exception():
    at = with_default_model(new_app())
    ok(at.slider(key="prune_sparsity").set_value(100.0).run())
    assert metric(at, "Weights pruned") == "100.0 %"
    assert any("Every prunable weight is zero" in w.value for w in at.warning)
    for f in charts(at, "prune_heatmap_"):
        assert pruned_cells(f) == z_of(f["data"][0]).size
    ok(at.slider(key="prune_sparsity").set_value(0.0).run())
    assert metric(at, "Weights pruned") == "0.0 %"
    assert any("Nothing is pruned" in i.value for i in at.info)
    assert sum(pruned_cells(f) for f in charts(at, "prune_heatmap_")) == 0


def test_threshold_above_every_weight_prunes_everything_with_a_note():
    at = with_default_model(new_app())
    ok(at.radio(key="prune_mode").set_value("threshold").run())
    ok(at.checkbox(key="prune_threshold_exact_on").check().run())
    ok(at.number_input(key="prune_threshold_exact").set_value(1e6).run())
    assert metric(at, "Weights pruned") == "100.0 %"
    assert "above every score" in texts(at)
    assert any("Every prunable weight is zero" in w.value for w in at.warning)
    # the slider's right end is above every score too
    ok(at.checkbox(key="prune_threshold_exact_on").uncheck().run())
    slider = at.slider(key="prune_threshold_magnitude_True")
    ok(slider.set_value(slider.max).run())
    assert metric(at, "Weights pruned") == "100.0 %"


# ----------------------------------------------------------------------------- end to end
def _keep_and_finetune(at: AppTest, epochs: int = 3) -> AppTest:
    click(at, "prune_keep")
    goto(at, FINETUNE)
    at.number_input(key="ft_epochs").set_value(epochs)
    return click(at, "ft_run")


def test_train_prune_finetune_keeps_pruned_weights_exactly_zero():
    at = with_default_model(new_app())
    ok(at.slider(key="prune_sparsity").set_value(80.0).run())
    _keep_and_finetune(at)
    ws = at.session_state["workspace"]
    pruned, ft = ws.pruned, ws.finetuned
    assert ft is not None and len(ft.history) == 4  # epoch 0 + 3 epochs
    assert metric(at, "Pruned weights ≠ 0") == "0"
    assert at.success and "exactly 0.0" in at.success[-1].value
    moved = False
    for name, mask in pruned.masks.items():
        assert torch.equal(ft.masks[name], mask)
        assert int((ft.state[name][~mask] != 0).sum()) == 0
        moved |= not torch.equal(ft.state[name][mask], pruned.state[name][mask])
    assert moved, "fine-tuning should change the surviving weights"
    assert abs(1 - sum(int(m.sum()) for m in pruned.masks.values()) / total_prunable(at) - 0.8) < 1e-3
    assert chart(at, "ft_curves")["data"]
    assert np.isnan(z_of(chart(at, "ft_heatmap_after")["data"][0])).sum() == \
        np.isnan(z_of(chart(at, "ft_heatmap_before")["data"][0])).sum() > 0


def test_keeping_a_new_pruned_model_drops_the_old_finetuned_one():
    at = with_default_model(new_app())
    _keep_and_finetune(at, epochs=1)
    goto(at, PRUNE)
    ok(at.slider(key="prune_sparsity").set_value(60.0).run())
    click(at, "prune_keep")
    ws = at.session_state["workspace"]
    assert ws.finetuned is None and ws.pruned.prune_config.sparsity == 0.6


# ----------------------------------------------------------------------------- any order
def test_finetune_first_offers_the_90_percent_default_and_works():
    at = goto(new_app(), FINETUNE)
    click(at, "ft_default_prune")
    ws = at.session_state["workspace"]
    assert ws.trained is not None and ws.pruned is not None
    assert ws.pruned.prune_config.sparsity == 0.9 and ws.pruned.prune_config.scope == "global"
    at.number_input(key="ft_epochs").set_value(1)
    click(at, "ft_run")
    assert metric(at, "Pruned weights ≠ 0") == "0"


def test_iterate_first_runs_rounds_replays_them_and_keeps_the_result():
    at = with_default_model(new_app(), ITERATE)
    trained_before = {k: v.clone() for k, v in at.session_state["workspace"].trained.state.items()}
    at.slider(key="it_rounds").set_value(3)
    at.number_input(key="it_epochs").set_value(1)
    at.checkbox(key="it_baseline").check()
    click(at, "it_run")
    result = at.session_state["workspace"].extras["iterate"]
    assert list(result.rounds["round"]) == [1, 2, 3]
    assert len(result.baseline_rounds) == 3
    names = [t["name"] for t in chart(at, "it_accuracy_chart")["data"]]
    assert any(n.startswith("random: ") for n in names) and any(not n.startswith("random") for n in names)
    # issue #13: one-shot gets the same total fine-tuning budget, shown beside each curve
    assert list(result.rounds["finetune_epochs"]) == [0, 0, 1]
    assert list(result.oneshot_rounds["finetune_epochs"]) == [1]
    assert any(n.startswith("one-shot, same budget: ") and n.endswith("1 round, 1 fine-tuning epoch")
               for n in names)
    assert any(n.endswith("3 rounds, 1 fine-tuning epoch") for n in names)
    assert "one-shot pruning with the same 1 fine-tuning epoch" in texts(at)

    counts = []
    for r in (0, 1, 3):
        ok(at.slider(key="it_round").set_value(r).run())
        fig = chart(at, "it_replay_heatmap")
        expected = int((~result.snapshots[r].masks["layers.0.weight"]).sum())
        assert pruned_cells(fig) == expected
        counts.append(expected)
    assert counts[0] == 0 < counts[1] < counts[2]
    # the trained model is untouched: iterate works on a copy
    for k, v in at.session_state["workspace"].trained.state.items():
        assert torch.equal(v, trained_before[k])
    # leave and come back: the result is still there without running again
    goto(at, PRUNE)
    goto(at, ITERATE)
    assert at.session_state["workspace"].extras["iterate"] is result
    assert chart(at, "it_accuracy_chart")["data"]
    assert at.get("download_button")


# ----------------------------------------------------------------------------- isolation
def test_two_sessions_do_not_see_each_others_pruned_models():
    a = with_default_model(new_app())
    ok(a.slider(key="prune_sparsity").set_value(70.0).run())
    click(a, "prune_keep")
    b = goto(new_app(), FINETUNE)
    assert any("No pruned model" in i.value for i in b.info)
    assert b.session_state["workspace"].pruned is None
    with_default_model(b)
    ok(b.slider(key="prune_sparsity").set_value(30.0).run())
    click(b, "prune_keep")
    assert a.session_state["workspace"].pruned.prune_config.sparsity == 0.7
    assert b.session_state["workspace"].pruned.prune_config.sparsity == 0.3
    # the shared default model is the same read-only object; pruning did not change it
    ta, tb = a.session_state["workspace"].trained, b.session_state["workspace"].trained
    assert all(int((v == 0).sum()) == 0 for k, v in ta.state.items() if k.endswith("weight"))
    assert ta is tb


# ----------------------------------------------------------------------------- 2-D data
def test_two_d_data_shows_boundaries_and_a_network_diagram_that_loses_connections():
    at = with_default_model(new_app(set_dataset="moons", set_hidden="8,8"))
    before = chart(at, "prune_boundary_before")
    after = chart(at, "prune_boundary_after")
    assert z_of(before["data"][0]).shape == z_of(after["data"][0]).shape
    assert "changed the predicted class" in texts(at) or "did not move" in texts(at)

    def drawn_connections(fig):
        return sum(int(np.isnan(as_array(t["x"])).sum())
                   for t in fig["data"] if t.get("mode") == "lines")

    ok(at.slider(key="prune_sparsity").set_value(20.0).run())
    few_pruned = drawn_connections(chart(at, "prune_network"))
    ok(at.slider(key="prune_sparsity").set_value(80.0).run())
    many_pruned = drawn_connections(chart(at, "prune_network"))
    total = 2 * 8 + 8 * 8 + 8 * 2
    assert few_pruned == total - int(np.floor(0.2 * total + 0.5))
    assert many_pruned == total - int(np.floor(0.8 * total + 0.5))


def test_iterate_extremes_and_rewind_do_not_crash():
    at = with_default_model(new_app(), ITERATE)
    at.radio(key="it_schedule").set_value("oneshot")
    at.number_input(key="it_epochs").set_value(0)
    for final in (100.0, 0.0):
        at.slider(key="it_sparsity").set_value(final)
        click(at, "it_run")
        rounds = at.session_state["workspace"].extras["iterate"].rounds
        assert list(rounds["sparsity"]) == [final / 100]
        assert f"At **{final:.1f} %** sparsity" in texts(at)
    ok(at.radio(key="it_schedule").set_value("gradual").run())  # enables the rounds slider
    at.slider(key="it_rounds").set_value(2)
    at.slider(key="it_sparsity").set_value(80.0)
    at.number_input(key="it_epochs").set_value(1)
    ok(at.checkbox(key="it_rewind").check().run())
    # rewinding retrains the dense model's full budget by default, and warns when shortened
    dense_epochs = at.session_state["workspace"].trained.train_config.epochs
    assert at.number_input(key="it_rewind_epochs").value == dense_epochs
    assert not any("retrains only" in w.value for w in at.warning)
    at.number_input(key="it_rewind_epochs").set_value(1)
    click(at, "it_run")
    assert any("retrains only 1 epoch" in w.value for w in at.warning)
    result = at.session_state["workspace"].extras["iterate"]
    assert result.prune_config.rewind and list(result.rounds["round"]) == [1, 2]
    assert list(result.rounds["finetune_epochs"]) == [1, 1]
    assert at.slider(key="it_round").value == 2  # a new run shows its last round


def test_an_unfinished_model_is_said_out_loud_on_prune_and_iterate():
    """issue #13: a model that has not finished learning was pruned without a word."""
    at = with_default_model(new_app(set_model="cnn", set_epochs=3, set_train_size=200))
    assert at.session_state["workspace"].trained.metrics["train_acc"] < 0.9
    assert any("has not finished learning" in w.value for w in at.warning)
    goto(at, ITERATE)
    assert any("has not finished learning" in w.value for w in at.warning)
