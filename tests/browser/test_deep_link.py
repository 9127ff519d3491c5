"""A teacher's link opened by the very first visitor after the server starts.

Streamlit treats a ``pages/`` folder next to app.py as its legacy multipage layout until some
session runs ``st.navigation``; a deep link as the first request then ran the page alone,
without app.py (no settings sidebar, no link settings, helper modules listed as pages). This
needs a server nobody has visited yet (``unvisited_server``: the spare server of the browser
tests before anyone else opened it, else one of its own).
"""
from __future__ import annotations

import pytest

from tests.browser import kit


@pytest.mark.timeout(120)
def test_deep_link_as_first_request_runs_through_app(unvisited_server, page):
    kit.open_app(page, unvisited_server.url, "prune", "seed=3&sparsity=0.5")
    kit.assert_no_exception(page, "deep link to Prune")
    titles = [title.split("\n")[-1] for title, _ in kit.nav_links(page)]
    assert titles[:4] == ["Home", "Guided lesson", "Threshold basics", "Train"], titles
    assert not {"shared", "prune common", "app"} & set(titles), titles
    assert page.get_by_role("heading", name="Prune").first.is_visible()
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text("Experiment settings").is_visible()
    assert sidebar.get_by_label("Seed", exact=True).input_value() == "3", "the link's seed was not applied"
    assert "/prune" in page.url and "seed=3" in page.url
