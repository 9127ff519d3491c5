"""Every page, as a browser shows it: no exception box, and every chart really drawn.

The pages are discovered from the sidebar navigation, so a page added to app.py is checked
without touching this file.
"""
from __future__ import annotations

import re

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
        kit.act(page, lambda: page.goto(url))
        kit.assert_no_exception(page, f"{title} (fresh session)")
        kit.assert_charts_rendered(page, minimum=0, where=f"{title} (fresh session)")
        kit.screenshot(page, f"fresh-{_slug(title)}")
