"""Every page, as a browser shows it: no exception box, and every chart really drawn.

The pages are discovered from the sidebar navigation, so a page added to app.py is checked
without touching this file.
"""
from __future__ import annotations

import re

import pytest

from tests.browser import kit


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "home"


def discover_pages(page, base_url) -> list[tuple[str, str]]:
    """(title, url) of every page in the navigation (just Home when there is only one)."""
    kit.open_app(page, base_url)
    links = kit.nav_links(page)
    if not links:
        return [("Home", base_url + "/")]
    return [(title, href if href.startswith("http") else f"{base_url}/{href.lstrip('/')}")
            for title, href in links]


def test_every_page_on_a_fresh_session(page, base_url):
    """Open each page directly by its address (a reload = a new session, nothing trained)."""
    pages = discover_pages(page, base_url)
    for title, url in pages:
        kit.goto(page, url)
        kit.assert_no_exception(page, f"{title} (fresh session)")
        kit.assert_charts_rendered(page, minimum=0, where=f"{title} (fresh session)")
        kit.screenshot(page, f"fresh-{_slug(title)}")


# A page's main action, pressed after training so its charts exist (page title -> button).
# Pages not listed (or whose button is not there) are checked as they open. The
# Generalization lab's sweep trains many models (~25 s here), so it is only opened.
RUN_BUTTONS = {
    "Fine-tune": ["Prune the model to 90 % (global magnitude)", "Fine-tune"],
    "Iterate": ["Run the rounds"],
    "Compare scorers": ["Compare"],
    "Structured & sensitivity": ["Remove neurons and compact"],
    "Lottery tickets": ["Find tickets"],
}
# Pages that must show charts once the session has a trained model (and ran the action).
CHARTS_AFTER_TRAINING = {"Home": 1, "Threshold basics": 1, "Train": 3, "Prune": 4,
                         "Fine-tune": 1, "Iterate": 1, "Compare scorers": 1,
                         "Structured & sensitivity": 1, "Lottery tickets": 1}


@pytest.mark.timeout(300)
def test_every_page_after_training(page, base_url):
    """One session trains (the shared default model), then visits every page through the
    navigation (the session and its model survive), pressing each page's main action."""
    kit.open_app(page, base_url, "prune")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=180)
    titles = [title.split("\n")[-1] for title, _ in kit.nav_links(page)]
    assert len(titles) >= 6, titles
    seen = {}
    for title in titles:
        kit.go_to_page(page, title)
        where = f"{title} (after training)"
        kit.assert_no_exception(page, where)
        for button in RUN_BUTTONS.get(title, []):
            target = page.get_by_role("button", name=button, exact=True)
            if target.count():
                kit.click(page, target.first, timeout=180)
                kit.assert_no_exception(page, f"{where}, after pressing {button!r}")
        charts = kit.assert_charts_rendered(page, minimum=CHARTS_AFTER_TRAINING.get(title, 0),
                                            where=where)
        seen[title] = len(charts)
        kit.screenshot(page, f"trained-{_slug(title)}")
    kit.dump_json("charts-per-page.json", seen)
