"""The "Sources" list at the bottom of every page (texts in ``pruning.present.sources``).

Drawn once per run (with the link) by ``ui.next_step.next_step_link``, which every page
reaches (app.py after the page, or the page itself before it stops early), so no page needs
its own call.
"""
from __future__ import annotations

import streamlit as st

from pruning.present.sources import sources_markdown


def sources_footer(url_path: str) -> None:
    """A collapsed "Sources" box: the article and the papers this page draws on."""
    with st.expander("📚 Sources", expanded=False):
        st.markdown(sources_markdown(url_path))
