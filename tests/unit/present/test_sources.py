"""Every page in the app's navigation ends with a Sources list: the article named (no invented
link), and papers with well-formed https links."""
import re
from pathlib import Path
from urllib.parse import urlparse

from pruning.present.sources import (
    ARTICLE_TITLE,
    PAGE_SOURCES,
    page_script,
    sources_for,
    sources_markdown,
)
from pruning.scoring import SCORERS

ROOT = Path(__file__).resolve().parents[3]


def _nav_pages() -> list[str]:
    return re.findall(r'st\.Page\("(pages/[a-z_]+\.py)"', (ROOT / "app.py").read_text())


def test_every_page_in_the_navigation_has_sources():
    pages = _nav_pages()
    assert len(pages) >= 10
    missing = [p for p in pages if p not in PAGE_SOURCES]
    assert not missing, missing
    for page in pages:
        assert (ROOT / page).exists(), page
        assert len(sources_for(page)) >= 1


def test_each_page_names_the_article_first_without_a_link():
    for page, sources in PAGE_SOURCES.items():
        assert sources[0].title == ARTICLE_TITLE and sources[0].url is None, page
        assert ARTICLE_TITLE in sources_markdown(page)


def test_every_link_is_a_well_formed_https_url():
    for page, sources in PAGE_SOURCES.items():
        for s in sources[1:]:
            assert s.url is not None, (page, s.title)
            u = urlparse(s.url)
            assert u.scheme == "https" and "." in u.netloc and u.path not in ("", "/"), s.url
            assert not re.search(r"\s", s.url), s.url
            if u.netloc == "arxiv.org":
                assert re.fullmatch(r"/abs/\d{4}\.\d{5}", u.path), s.url
            assert f"]({s.url})" in sources_markdown(page)


def test_url_paths_find_their_page():
    assert page_script("") == "pages/home.py"
    assert sources_for("prune") == PAGE_SOURCES["pages/prune.py"]
    assert sources_for("lottery")[1].cite.startswith("Frankle")


def test_every_scorer_paper_is_listed_on_the_pages_that_offer_the_scorers():
    for page in ("pages/prune.py", "pages/scorers.py"):
        cites = " ".join(s.cite for s in sources_for(page))
        for scorer in SCORERS.values():
            if scorer.source:
                first_author = re.sub(r"^the .*; ", "", scorer.source).split()[0].rstrip(",")
                assert first_author in cites, (page, scorer.name, scorer.source)
