"""Every page, as a browser shows it: no exception box, and every chart really drawn.

The pages are discovered from the sidebar navigation, so a page added to app.py is checked
without touching this file.
"""
from __future__ import annotations

import re
from itertools import pairwise

import pytest

from pruning.app.path import PATH
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


@pytest.mark.timeout(600)
def test_every_page_on_a_fresh_session(page, base_url):
    """Open each page directly by its address (a reload = a new session, nothing trained):
    no exception, every chart drawn. Each page on the student's path (pruning/app/path.py)
    ends with "Next step →" to the next stop, also before any model exists (its address is
    checked on every stop, and Home's link is followed: it arrives there in the same
    session), and What shrank? says the path ends there."""
    pages = [(title.split("\n")[-1], url) for title, url in discover_pages(page, base_url)]
    assert {title for title, _ in pages} >= {s.title for s in PATH}, pages
    following = {here.title: there for here, there in pairwise(PATH)}
    for title, url in pages:
        kit.goto(page, url)
        kit.assert_no_exception(page, f"{title} (fresh session)")
        kit.assert_charts_rendered(page, minimum=0, where=f"{title} (fresh session)")
        kit.screenshot(page, f"fresh-{_slug(title)}")
        if title == PATH[-1].title:
            assert page.get_by_text("You reached the end of the path").count() == 1
        there = following.get(title)
        if there is None:
            continue
        link = page.get_by_role("link", name=re.compile(rf"^Next step → {re.escape(there.title)}"))
        kit.wait_until(page, lambda link=link: link.count() == 1, timeout=120, what=f"link on {title}")
        href = link.get_attribute("href").split("?")[0].rstrip("/")   # "threshold" or a URL
        assert href.rsplit("/", 1)[-1] == there.url_path, (title, href, there.url_path)
        if title == PATH[0].title:
            kit.click(page, link)
            kit.wait_until(page, lambda to=there: page.url.split("?")[0].endswith("/" + to.url_path),
                           timeout=120, what=f"arrived at {there.title}")
            kit.assert_no_exception(page, f"{there.title} after Home's next step")


# A page's main action, pressed after training so its charts exist (page title -> button);
# tests/browser/test_classroom.py walks every page after training with these, in classroom
# mode and without.
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
