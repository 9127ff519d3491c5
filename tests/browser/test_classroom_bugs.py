"""Two bugs a teacher met in class, each reproduced in a real browser as it was reported:

* What shrank? → load an exported checkpoint → open Fine-tune: a raw
  ``ValueError: cannot convert float NaN to integer`` (the checkpoint carries no fine-tuning
  history);
* Prune → choose ablation (refused for the default model) → choose magnitude: the slider
  showed 90 % while the numbers were computed for another value, ``scorer=ablation`` stayed
  in the address bar, and Iterate then opened with ablation.
"""
from __future__ import annotations

import re

import pytest

from tests.browser import kit


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (click it, click the option)."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    kit.click(page, page.get_by_role("option", name=option, exact=True))


def shown_choice(page, label: str) -> str:
    """The option a selectbox shows (its combobox input holds the chosen label)."""
    main = page.locator("[data-testid='stMain']")
    return main.get_by_label(label, exact=True).input_value()


@pytest.mark.timeout(600)
def test_prune_after_a_refused_scorer_shows_the_numbers_it_computes(page, base_url):
    kit.open_app(page, base_url, "prune")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=300)
    # The teacher moves the slider first (90 % -> 50 %), as in class.
    kit.press_on_slider(page, "Target sparsity (% of prunable weights removed)", "PageDown",
                        times=4, shows=None)
    kit.wait_until(page, lambda: kit.slider_value(page, "Target sparsity") != "90.0 %",
                   what="the slider to move")
    before = kit.slider_value(page, "Target sparsity")
    assert kit.metric_value(page, "Weights pruned") == before
    choose(page, "Scorer", "ablation")
    assert kit.error_texts(page), "ablation should be refused for the default model"
    assert "scorer=ablation" in page.url
    choose(page, "Scorer", "magnitude")
    kit.assert_no_exception(page, "Prune after ablation → magnitude")
    shown = kit.slider_value(page, "Target sparsity")
    assert kit.metric_value(page, "Weights pruned") == shown, \
        f"slider shows {shown}, numbers are for {kit.metric_value(page, 'Weights pruned')}"
    assert shown == before, f"the slider was at {before} before ablation; now {shown}"
    kit.wait_until(page, lambda: "scorer=magnitude" in page.url,
                   what=f"the link to say scorer=magnitude (it is {page.url})")
    fraction = float(re.search(r"sparsity=([0-9.]+)", page.url).group(1))
    assert abs(100 * fraction - kit.number_in(shown)) < 1e-6, (page.url, shown)
    kit.go_to_page(page, "Iterate")
    assert shown_choice(page, "Scorer") == "magnitude"


@pytest.mark.timeout(600)
def test_fine_tune_after_loading_a_checkpoint_shows_the_model_not_a_traceback(new_session,
                                                                              base_url):
    # A student exports the pruned and fine-tuned model from What shrank? …
    _, teacher = new_session()
    kit.open_app(teacher, base_url, "shrank")
    kit.click(teacher, teacher.get_by_role("button", name="Use a trained default model"),
              timeout=300)
    kit.click(teacher, teacher.get_by_role("button", name="Prune 90 % now (global magnitude)"),
              timeout=300)
    name, checkpoint = kit.download(teacher, "⬇️ Pruned model (.pt)")
    assert name.endswith(".pt")
    # … and loads it in a fresh session on What shrank?, then opens Fine-tune.
    _, page = new_session()
    kit.open_app(page, base_url, "shrank")
    field = page.locator("[data-testid='stFileUploader'] input[type='file']")
    kit.act(page, lambda: field.set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": checkpoint}),
        timeout=300)
    kit.assert_no_exception(page, "What shrank? after loading the checkpoint")
    kit.go_to_page(page, "Fine-tune")
    kit.assert_no_exception(page, "Fine-tune after loading a checkpoint")
    assert any("loaded from a checkpoint file" in t for t in kit.alert_texts(page)), \
        kit.alert_texts(page)
    assert kit.metric_value(page, "Fine-tuned test accuracy").endswith("%")
    # Fine-tuning it again here works and draws the recovery.
    kit.click(page, page.get_by_role("button", name="Fine-tune", exact=True), timeout=300)
    kit.assert_no_exception(page, "Fine-tune again after loading")
    assert not any("loaded from a checkpoint file" in t for t in kit.alert_texts(page))
