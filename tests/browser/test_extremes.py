"""Extreme settings from the UI, as a curious student sets them: 100 % sparsity, a threshold
above every weight, a 10-sample (and a too small 5-sample) training set, 100 % label noise,
zero training and fine-tuning epochs.

Each gives a clear message in the app and no traceback. A setting the app refuses leaves the
student's current model in place; a setting that trains (10 samples, all labels wrong, zero
epochs) replaces it only because the student pressed Train, and says what that model is.
"""
from __future__ import annotations

import re

import pytest

from tests.browser import kit

SPARSITY_SLIDER = "Target sparsity (% of prunable weights removed)"
TRAIN_BUTTON = re.compile(r"^\W*Train$")
PRUNED_TEST_ACC = re.compile(r"Test accuracy( after pruning)?")


def alerts_matching(page, pattern: str) -> list[str]:
    return [t for t in kit.alert_texts(page) if re.search(pattern, t, re.S)]


def assert_clean(page, where: str) -> None:
    kit.assert_no_exception(page, where)
    kit.assert_charts_rendered(page, minimum=0, where=where)


def open_knobs(page) -> None:
    """The sidebar's "Training data knobs" expander (folded by default)."""
    label = page.get_by_label("Training-set size (0 = all)", exact=True)
    if not label.is_visible():
        page.locator("[data-testid='stSidebar'] [data-testid='stExpander']") \
            .filter(has_text="Training data knobs").locator("summary").click()
        label.wait_for(state="visible")


def set_number(page, label: str, value) -> None:
    field = page.get_by_label(label, exact=True)
    kit.act(page, lambda: (field.fill(str(value)), field.press("Enter")))


def settings_caption(page) -> str:
    """The Train page's "Settings: …" line: what the next Train press will use."""
    return page.get_by_text("Settings:").first.inner_text()


def model_test_accuracy(page) -> str:
    """The Train page's "Your model" test accuracy (the session's current model)."""
    kit.go_to_page(page, "Train")
    return kit.metric_value(page, "Test accuracy")


@pytest.mark.timeout(360)
def test_extreme_settings_give_messages_not_tracebacks(page, base_url):
    kit.open_app(page, base_url, "prune")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=180)
    kit.wait_until(page, lambda: "Dense test accuracy" in kit.metrics(page), timeout=60,
                   what="the Prune page's numbers after the default model")
    dense = kit.metric_value(page, "Dense test accuracy")
    chance = 10.0  # digits: 10 balanced classes

    # --- 100 % sparsity: every weight zero, said plainly, accuracy at chance level
    kit.press_on_slider(page, SPARSITY_SLIDER, "End", shows="100.0 %")
    kit.wait_until(page, lambda: kit.metric_value(page, "Weights pruned") == "100.0 %",
                   what="the 100 % result")
    assert_clean(page, "Prune at 100 %")
    assert kit.metric_value(page, "Weights pruned") == "100.0 %"
    assert alerts_matching(page, r"Every prunable weight is zero"), kit.alert_texts(page)
    assert abs(kit.number_in(kit.metric_value(page, PRUNED_TEST_ACC)) - chance) < 5
    assert kit.metric_value(page, "Dense test accuracy") == dense

    # --- a threshold above every weight (typed exactly)
    kit.click(page, page.get_by_text("Threshold", exact=True))
    kit.click(page, page.get_by_text("Type an exact threshold"))
    set_number(page, "Exact threshold", 1000)
    assert_clean(page, "Prune with threshold 1000")
    assert kit.metric_value(page, "Weights pruned") == "100.0 %"
    assert alerts_matching(page, r"Every prunable weight is zero"), kit.alert_texts(page)
    kit.screenshot(page, "extreme-threshold-above-every-weight")
    assert model_test_accuracy(page) == dense, "pruning must not change the trained model"

    # --- a training set smaller than the number of classes: refused, the model stays
    open_knobs(page)
    set_number(page, "Training-set size (0 = all)", 5)
    assert_clean(page, "Train with 5 examples")
    assert alerts_matching(page, r"smaller than the number of classes"), kit.alert_texts(page)
    assert kit.metric_value(page, "Test accuracy") == dense, "the current model was lost"

    # --- 10 examples (one per class): trains, and says it overfits
    set_number(page, "Training-set size (0 = all)", 10)
    kit.click(page, page.get_by_role("button", name=TRAIN_BUTTON), timeout=180)
    assert_clean(page, "Train with 10 examples")
    assert page.get_by_text("10 training examples").first.is_visible()
    assert kit.number_in(kit.metric_value(page, "Train accuracy")) == 100.0
    assert alerts_matching(page, r"What to notice:.*(gap|chance)"), kit.alert_texts(page)

    # --- 100 % label noise: every training label wrong, said so
    set_number(page, "Training-set size (0 = all)", 0)
    kit.press_on_slider(page, "Label noise", "End", shows="1.00")
    kit.wait_until(page, lambda: "100 % label noise" in settings_caption(page),
                   what="the Train page to take the label noise")
    set_number(page, "Training epochs", 5)  # enough to learn the wrong labels; keeps it quick
    kit.click(page, page.get_by_role("button", name=TRAIN_BUTTON), timeout=180)
    assert_clean(page, "Train with 100 % label noise")
    assert alerts_matching(page, r"100 % of the training labels are wrong"), kit.alert_texts(page)
    assert kit.number_in(kit.metric_value(page, "Test accuracy")) < 30, \
        "a model taught only wrong labels cannot be good on clean test labels"

    # --- zero epochs: an untrained model, said so
    kit.press_on_slider(page, "Label noise", "Home", shows="0.00")
    kit.wait_until(page, lambda: "label noise" not in settings_caption(page),
                   what="the Train page to drop the label noise")
    set_number(page, "Training epochs", 0)
    kit.click(page, page.get_by_role("button", name=TRAIN_BUTTON), timeout=180)
    assert_clean(page, "Train with 0 epochs")
    assert alerts_matching(page, r"With 0 epochs the weights were never updated"), \
        kit.alert_texts(page)
    untrained = kit.metric_value(page, "Test accuracy")

    # --- zero fine-tuning epochs: nothing changes, said so; the models stay
    kit.go_to_page(page, "Fine-tune")
    kit.click(page, page.get_by_role("button", name=re.compile("Prune the model to 90 %")))
    set_number(page, "Epochs", 0)
    kit.click(page, page.get_by_role("button", name="Fine-tune", exact=True), timeout=180)
    assert_clean(page, "Fine-tune with 0 epochs")
    assert page.get_by_text("No fine-tuning epochs were run").is_visible()
    shown = kit.metrics(page)
    assert shown["Fine-tuned test accuracy"] == shown["Pruned test accuracy"], shown
    assert model_test_accuracy(page) == untrained
