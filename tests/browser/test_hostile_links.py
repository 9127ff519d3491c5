"""Links typed or crafted by strangers: bad query parameters are ignored with a visible notice,
the app keeps working with its defaults (and with the parameters that were valid), nothing
in a parameter is rendered as HTML or run, and no traceback appears.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import kit

NOTICE_TITLE = "Some settings in this link were ignored"


def notice_text(page) -> str:
    boxes = [t for t in kit.alert_texts(page) if NOTICE_TITLE in t]
    assert len(boxes) == 1, f"expected one notice about the link, alerts: {kit.alert_texts(page)}"
    return boxes[0]


def sidebar_setting(page, label: str) -> str:
    """What a sidebar widget shows (number and text inputs, and selectboxes, which are
    combobox inputs holding the chosen option's label)."""
    sidebar = page.locator("[data-testid='stSidebar']")
    return sidebar.get_by_label(label, exact=True).input_value()


@pytest.mark.timeout(180)
def test_bad_query_parameters_are_ignored_with_a_notice(page, base_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    params = {
        "seed": "7",                                  # valid: must be applied
        "dataset": "../../etc/passwd",                # a path as a data-set name
        "model": "<script>alert(1)</script>",         # markup as a model name
        "hidden": "9" * 5000,                         # very long
        "sparsity": "1.5",                            # out of range
        "rounds": "abc",                              # wrong type
        "scope": "",                                  # empty
        "hacker": "1", "__proto__": "x",              # unknown names
    }
    kit.open_app(page, base_url, "prune", urlencode(params))
    kit.assert_no_exception(page, "Prune opened with a hostile link")
    text = notice_text(page)
    for needle in ("dataset", "looks like a file path", "model", "HTML markup", "hidden",
                   "5000 characters long", "sparsity", "rounds", "whole number", "hacker",
                   "__proto__"):
        assert needle in text, f"{needle!r} not explained in the notice:\n{text}"
    assert "9" * 100 not in text, "a very long value must not be echoed in full"
    assert "seed" not in text.split("reads")[0], "the valid seed must not be reported as ignored"
    # Markup in a value is shown as text, never parsed: no alert dialog, no injected element.
    assert not dialogs, dialogs
    assert page.locator("script:text('alert(1)')").count() == 0

    # The app uses its defaults for what was ignored, and the valid value.
    assert sidebar_setting(page, "Seed") == "7"
    assert sidebar_setting(page, "Data set") == "Digits 8×8 (offline)"
    assert sidebar_setting(page, "Hidden layer sizes") == "300,100"
    # The address bar now carries only valid settings.
    assert "passwd" not in page.url and "hacker" not in page.url and "seed=7" in page.url
    kit.screenshot(page, "hostile-link-notice")

    # Dismissing the notice works and the app keeps working.
    kit.click(page, page.get_by_role("button", name="Dismiss"))
    assert not [t for t in kit.alert_texts(page) if NOTICE_TITLE in t]
    kit.assert_no_exception(page, "after dismissing")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("query, needles", [
    ("dataset=..%2F..%2Fetc%2Fpasswd&hidden=%2Fetc%2Fshadow", ["looks like a file path"] * 2),
    ("seed=1e9&sparsity=nan&threshold=-inf&classroom=maybe&dataset=%00%01&rounds=99",
     ["seed=1e9: must be a whole number", "sparsity=nan: must be a number from 0 to 1",
      "threshold=-inf: must be a number from", "classroom=maybe: use 1 or 0",
      "dataset=??: it contains control characters",
      "rounds=99: must be a whole number from 1 to 10"]),
])
def test_each_bad_value_is_named_in_the_notice(page, base_url, query, needles):
    kit.open_app(page, base_url, "", query)
    kit.assert_no_exception(page, f"home with ?{query}")
    text = notice_text(page)
    for needle in needles:
        assert needle in text, f"{needle!r} not in the notice:\n{text}"
    assert text.count("Ignored") >= len(needles)
    assert page.get_by_role("heading", name="Pruning Playground").is_visible()


@pytest.mark.timeout(300)
def test_addresses_that_are_not_pages_and_huge_links_land_with_a_notice(page, base_url):
    """Served by the server's guard (pruning/app/guard.py) before Streamlit: ``/a/b`` used to
    give a blank white page, and a link with more than 1,000 parameters opened with the
    defaults and no word (Streamlit drops such a query string whole)."""
    kit.goto(page, f"{base_url}/a/b?seed=5")
    kit.assert_no_exception(page, "an address with two path segments")
    assert "/a/" not in page.url, page.url
    assert "not a page of this app" in notice_text(page)
    assert sidebar_setting(page, "Seed") == "5"
    assert page.get_by_role("heading", name="Pruning Playground").count() == 1, "not on Home"

    # an unknown single name: Streamlit's own "Page not found" notice, then Home
    kit.goto(page, f"{base_url}/nosuchpage?seed=4")
    assert "Page not found" in " ".join(page.locator("[role='dialog']").all_inner_texts())
    assert page.get_by_role("heading", name="Pruning Playground").count() == 1, "not on Home"
    assert sidebar_setting(page, "Seed") == "4"

    params = [(f"p{i}", "1") for i in range(1200)] + [("seed", "7"), ("scorer", "random")]
    kit.open_app(page, base_url, "prune", urlencode(params), timeout=180)
    kit.assert_no_exception(page, "Prune with a link of 1,202 parameters")
    text = notice_text(page)
    assert "1,202 parameters" in text and "1,200 parameter(s) dropped" in text, text
    assert sidebar_setting(page, "Seed") == "7"
    assert "/prune" in page.url and "p1199" not in page.url and "pp_notice" not in page.url
