"""A student alone follows "Next step →" from Home to What shrank? in a real browser: every
page on the path (pruning/app/path.py) ends with the link to the next one, also before any
model exists, and no page shows an exception on the way."""
from __future__ import annotations

import re

import pytest

from pruning.app.path import PATH
from tests.browser import kit


@pytest.mark.timeout(600)
def test_next_step_links_lead_from_home_to_what_shrank(page, base_url):
    kit.open_app(page, base_url)
    for here, there in zip(PATH, PATH[1:]):
        kit.assert_no_exception(page, here.title)
        link = page.get_by_role("link", name=re.compile(rf"^Next step → {re.escape(there.title)}"))
        kit.wait_until(page, lambda: link.count() == 1, timeout=120, what=f"link on {here.title}")
        kit.click(page, link)
        kit.wait_until(page, lambda: page.url.split("?")[0].endswith("/" + there.url_path),
                       timeout=120, what=f"arrived at {there.title}")
    kit.assert_no_exception(page, PATH[-1].title)
    assert page.get_by_text("You reached the end of the path").count() == 1
