"""Many students, one server: two real browser sessions never see each other's work.

Both students start from the *same* shared default model (one object in st.cache_resource).
Student A prunes it to 95 %, keeps it and fine-tunes it; student B's model must still be
dense: 0 % pruned at the slider's left end, its test accuracy equal to the dense one, and no
pruned model in B's session.
"""
from __future__ import annotations

import re

import pytest

from pruning.present.compact_heatmap import pruned_cells
from tests.browser import kit

SPARSITY_SLIDER = "Target sparsity (% of prunable weights removed)"
PRUNED_COUNT = re.compile(r"Pruned( / kept)?")
PRUNED_TEST_ACC = re.compile(r"Test accuracy( after pruning)?")


def start_from_default_model(page, base_url) -> None:
    kit.open_app(page, base_url, "prune")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=180)
    kit.assert_no_exception(page, "Prune")


def pruned_cells_per_heatmap(page) -> list[int]:
    """Pruned cells of each layer heatmap of the Prune page (keys ``prune_heatmap_*``): the
    cells of its one weight trace at the pruned level (pruning.present.compact_heatmap)."""
    out = []
    for data in kit.keyed_chart_data(page, "prune_heatmap_"):
        assert len(data) == 1 and data[0]["type"] == "heatmap", data
        out.append(pruned_cells(kit.decode_array(data[0]["z"])))
    return out


@pytest.mark.timeout(300)
def test_two_browser_sessions_are_isolated(new_session, base_url):
    _, a = new_session()
    _, b = new_session()
    start_from_default_model(a, base_url)
    start_from_default_model(b, base_url)
    dense_a = kit.metric_value(a, "Dense test accuracy")
    dense_b = kit.metric_value(b, "Dense test accuracy")
    assert dense_a == dense_b, "both students start from the same shared default model"

    # A: 90 % -> 95 % with the keyboard, keep it, fine-tune it (weights change in A's copy).
    kit.press_on_slider(a, SPARSITY_SLIDER, "ArrowRight", times=10, shows="95.0 %")
    kit.wait_until(a, lambda: kit.metric_value(a, "Weights pruned") == "95.0 %",
                   what="A's page to show the 95 % result")
    assert kit.metric_value(a, "Weights pruned") == "95.0 %"
    kit.click(a, a.get_by_role("button", name="Keep this pruned model"))
    kit.go_to_page(a, "Fine-tune")
    epochs = a.get_by_label("Epochs", exact=True)
    kit.act(a, lambda: (epochs.fill("2"), epochs.press("Enter")))
    kit.click(a, a.get_by_role("button", name="Fine-tune", exact=True), timeout=180)
    kit.assert_no_exception(a, "A's Fine-tune")
    assert kit.number_in(kit.metric_value(a, re.compile(r"Fine-tuned test accuracy"))) > 0

    # B: still its own dense model. B's page re-runs (the slider moves to 0 %) and the server
    # recomputes everything from B's session and the shared cache.
    kit.press_on_slider(b, SPARSITY_SLIDER, "Home", shows="0.0 %")
    kit.wait_until(b, lambda: kit.metric_value(b, "Weights pruned") == "0.0 %",
                   what="B's page to show the 0 % result")
    kit.assert_no_exception(b, "B's Prune")
    assert kit.slider_value(b, "Target sparsity") == "0.0 %"
    assert kit.metric_value(b, "Weights pruned") == "0.0 %"
    assert kit.number_in(kit.metric_value(b, PRUNED_COUNT)) == 0
    assert kit.metric_value(b, PRUNED_TEST_ACC) == dense_b, \
        "B's unpruned model must score exactly the dense accuracy"
    assert kit.metric_value(b, "Dense test accuracy") == dense_b
    cells = pruned_cells_per_heatmap(b)
    assert len(cells) == 3 and all(c == 0 for c in cells), f"B's heatmaps show pruned cells: {cells}"
    kit.go_to_page(b, "Fine-tune")
    assert b.get_by_text("No pruned model in this session yet").is_visible()

    # A, for contrast, still has its 95 % model.
    kit.go_to_page(a, "Prune")
    kit.assert_no_exception(a, "A's Prune")
    assert a.get_by_text(re.compile(r"Kept \(an earlier setting\)|Kept \(this setting\)")).is_visible()
    assert "95" in a.get_by_text(re.compile(r"Kept \(")).inner_text()
    assert sum(pruned_cells_per_heatmap(a)) > 0, "A's heatmaps should show its pruned cells"
