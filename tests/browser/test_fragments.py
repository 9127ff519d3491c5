"""Interactive regions rerun alone (``ui.fragments.live_region``) and still keep the link in
step: moving the Prune slider reruns only its fragment, yet the address bar follows the
slider (app.py, which keeps the link otherwise, does not run on a fragment's own rerun), and
the numbers shown are the new setting's."""
from __future__ import annotations

import re

import pytest

from tests.browser import kit

SLIDER = "Target sparsity (% of prunable weights removed)"


@pytest.mark.timeout(300)
def test_prune_slider_move_reruns_its_region_and_updates_the_link(page, base_url):
    kit.open_app(page, base_url, "prune", "sparsity=0.9")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=180)
    kit.assert_no_exception(page, "Prune")
    kit.wait_until(page, lambda: "Weights pruned" in kit.metrics(page), timeout=60,
                   what="the Prune page's numbers")
    before = kit.metric_value(page, "Weights pruned")
    kit.press_on_slider(page, SLIDER, "ArrowRight", times=2, shows="91.0 %")
    kit.wait_until(page, lambda: kit.metric_value(page, "Weights pruned") != before, timeout=60,
                   what="the numbers to follow the slider")
    kit.assert_no_exception(page, "after the slider move")
    kit.wait_until(page, lambda: re.search(r"sparsity=0\.91(&|$)", page.url) is not None,
                   timeout=30, what=f"the link to carry sparsity=0.91 (is {page.url})")
    assert "/prune" in page.url
    # and back: the link follows every move, not only the first
    kit.press_on_slider(page, SLIDER, "ArrowLeft", times=4, shows="89.0 %")
    kit.wait_until(page, lambda: re.search(r"sparsity=0\.89(&|$)", page.url) is not None,
                   timeout=30, what=f"the link to carry sparsity=0.89 (is {page.url})")
