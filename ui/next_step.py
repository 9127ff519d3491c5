"""The "Next step →" link every page ends with, along ``pruning.app.path.PATH``.

``app.py`` calls ``next_step_link(nav.url_path)`` after the page ran to its end; a page that
stops early (``st.stop()`` while it waits for a button) calls ``next_step_link()`` itself
before stopping, so the way on is never missing.
"""
from __future__ import annotations

import streamlit as st

from pruning.app.path import PATH, has_next_link, next_stop
from ui.sources import sources_footer

_CURRENT = "_path_page"   # session key: the URL path of the page this run shows
_DRAWN = "_path_drawn"    # session key: the run already drew the link


def set_current_page(url_path: str) -> None:
    """Remember which page this run shows (app.py, before the page runs)."""
    st.session_state[_CURRENT] = url_path
    st.session_state[_DRAWN] = False


def next_step_link(url_path: str | None = None) -> None:
    """A divider and a link to the next stop on the path (once per run)."""
    page = url_path if url_path is not None else st.session_state.get(_CURRENT, "")
    if st.session_state.get(_DRAWN):
        return
    st.session_state[_DRAWN] = True
    sources_footer(page)   # every page's "Sources" list, just above the way on
    if not has_next_link(page):
        return
    target = next_stop(page)
    st.divider()
    if target is None:
        st.markdown("**You reached the end of the path.** Walk it again as a guided lesson, "
                    "or compare the runs you made.")
        c1, c2 = st.columns(2)
        c1.page_link("pages/lesson.py", label="The guided lesson →", icon="🎓")
        c2.page_link("pages/runs.py", label="Your runs →", icon="📚")
        return
    n = PATH.index(target) + 1
    st.page_link(target.page, label=f"Next step → {target.title}: {target.why}",
                 help=f"Stop {n} of {len(PATH)} on the path from Home to What shrank?.")
