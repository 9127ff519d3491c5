"""Every page ends with its "Sources" list (ui.sources via ui.next_step): the article named,
the page's papers linked — also on a page that stops early waiting for a model, and on the
guided lesson, which has no "Next step" link."""
import pytest

from pruning.present.sources import ARTICLE_TITLE, sources_for
from tests.pages.kit import new_app

PAGES = ["pages/home.py", "pages/lesson.py", "pages/prune.py", "pages/lottery.py"]


@pytest.mark.parametrize("page", PAGES)
def test_the_page_ends_with_its_sources(page):
    at = new_app(page=page)
    assert not at.exception
    boxes = [e for e in at.main.expander if e.label.endswith("Sources")]
    assert len(boxes) == 1, [e.label for e in at.main.expander]
    text = " ".join(m.value for m in boxes[0].markdown)
    assert ARTICLE_TITLE in text
    for s in sources_for(page)[1:]:
        assert f"]({s.url})" in text, (page, s.title)
