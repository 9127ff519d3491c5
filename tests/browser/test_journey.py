"""The main journey of a new student, in a real browser, reading only what the page shows:

home → train the default model → prune with the slider (the heatmap changes, the pruned count
rises; its table downloads as CSV) → keep it → fine-tune (accuracy recovers) →
download the history CSV.

Screenshots of every step go to test-artifacts/screenshots/ (and to docs/screenshots/ with
REFRESH_DOCS_SCREENSHOTS=1, see scripts/refresh_screenshots.sh).
"""
from __future__ import annotations

import re

import pytest

from pruning.present.compact_heatmap import pruned_cells as cells_at_pruned_level
from tests.browser import kit

SPARSITY_SLIDER = "Target sparsity (% of prunable weights removed)"
# Metric labels on the Prune page (regexes: the wording may still be polished).
PRUNED_COUNT = re.compile(r"Pruned( / kept)?")
PRUNED_TEST_ACC = re.compile(r"Test accuracy( after pruning)?")
NONZERO_AT_PRUNED = re.compile(r"Non-zero weights at pruned positions|Pruned weights ≠ 0")


def pruned_cells(page, chart_index: int = 0) -> int:
    """Pruned cells drawn in a weight heatmap: its one trace holds the weights, pruned ones at
    the pruned level (pruning.present.compact_heatmap), read from the data the browser holds."""
    data = kit.chart_data(page, chart_index)
    assert data and len(data) == 1 and data[0]["type"] == "heatmap", data
    return cells_at_pruned_level(kit.decode_array(data[0]["z"]))


@pytest.mark.timeout(300)
def test_new_student_journey(page, base_url):
    # --- home
    kit.open_app(page, base_url)
    kit.assert_no_exception(page, "home")
    kit.screenshot(page, "01-home", full_page=True)

    # --- train the default model (the sidebar's defaults, the Train page's button)
    kit.go_to_page(page, "Train")
    assert page.get_by_text("No trained model in this session yet").is_visible()
    kit.click(page, page.get_by_role("button", name=re.compile(r"^\W*Train$")), timeout=180)
    kit.assert_no_exception(page, "Train")
    dense_test = kit.number_in(kit.metric_value(page, "Test accuracy"))
    assert dense_test > 80, f"the default model should learn digits, test accuracy {dense_test} %"
    kit.assert_charts_rendered(page, minimum=3, where="Train after training")
    kit.screenshot(page, "02-train", full_page=True)

    # --- prune: the page starts at 90 %; the slider moves it up with the keyboard
    kit.go_to_page(page, "Prune")
    kit.assert_no_exception(page, "Prune")
    assert kit.slider_value(page, "Target sparsity") == "90.0 %"
    before_pct = kit.number_in(kit.metric_value(page, "Weights pruned"))
    before_count = kit.number_in(kit.metric_value(page, PRUNED_COUNT))
    before_cells = pruned_cells(page, 0)
    heatmap = page.locator("[data-testid='stPlotlyChart']").first
    before_png = heatmap.screenshot()
    assert dense_test == kit.number_in(kit.metric_value(page, "Dense test accuracy"))

    kit.press_on_slider(page, SPARSITY_SLIDER, "ArrowRight", times=10, shows="95.0 %")
    kit.wait_until(page, lambda: kit.metric_value(page, "Weights pruned") == "95.0 %",
                   what="the page to show the 95 % result")
    kit.assert_no_exception(page, "Prune after the slider moved")
    assert kit.slider_value(page, "Target sparsity") == "95.0 %"
    after_pct = kit.number_in(kit.metric_value(page, "Weights pruned"))
    after_count = kit.number_in(kit.metric_value(page, PRUNED_COUNT))
    after_cells = pruned_cells(page, 0)
    assert (before_pct, after_pct) == (90.0, 95.0)
    assert after_count > before_count, (before_count, after_count)
    assert after_cells > before_cells, "the first heatmap should show more pruned (amber) cells"
    assert heatmap.screenshot() != before_png, "the heatmap picture did not change"
    kit.assert_charts_rendered(page, minimum=4, where="Prune")
    pruned_test = kit.number_in(kit.metric_value(page, PRUNED_TEST_ACC))
    assert pruned_test < dense_test, "removing 95 % of the weights without retraining costs accuracy"
    kit.screenshot(page, "03-prune", full_page=True)

    # The per-layer table downloads as CSV and says what the page says: 95 % of the weights.
    table = kit.download_csv(page, "Download the table (CSV)")
    assert len(table) == 3 and (table["Weights"] > 0).all(), table
    pruned_share = 1 - table["Non-zero weights"].sum() / table["Weights"].sum()
    assert abs(pruned_share - 0.95) < 0.001, table

    kit.click(page, page.get_by_role("button", name="Keep this pruned model"))
    assert page.get_by_text("Kept (this setting)").is_visible()

    # --- fine-tune the kept model: accuracy comes back
    kit.go_to_page(page, "Fine-tune")
    kit.assert_no_exception(page, "Fine-tune")
    kit.click(page, page.get_by_role("button", name="Fine-tune", exact=True), timeout=180)
    kit.assert_no_exception(page, "Fine-tune after running")
    shown = kit.metrics(page)
    assert kit.number_in(shown["Pruned test accuracy"]) == pruned_test
    tuned_test = kit.number_in(shown["Fine-tuned test accuracy"])
    assert tuned_test > pruned_test + 5, f"fine-tuning should recover accuracy: {shown}"
    assert kit.number_in(kit.metric_value(page, NONZERO_AT_PRUNED)) == 0
    kit.assert_charts_rendered(page, minimum=3, where="Fine-tune")
    kit.screenshot(page, "04-finetune", full_page=True)

    # --- download the history as CSV: it parses and has one row per epoch (+ the start)
    history = kit.download_csv(page, "Download the fine-tuning history (CSV)")
    epochs = int(page.get_by_label("Epochs", exact=True).input_value())
    assert epochs > 0 and len(history) == epochs + 1, history
    assert history["epoch"].tolist() == list(range(epochs + 1))
    assert {"epoch", "test_acc"} <= set(history.columns), list(history.columns)
    assert abs(100 * history["test_acc"].iloc[-1] - tuned_test) < 0.051
