"""The sidebar's two "copy link" buttons: one link for students (the plain page) and one for
the projector (classroom mode). Both carry every setting that changes a number
(``pruning.app.url_state.PROPS``), so a student who opens one and presses the same buttons
gets the teacher's numbers. The link is shown in a code block, whose copy icon copies it."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from ui.url_sync import share_link_query

KINDS = {"students": ("Copy link for students", False),
         "projector": ("Copy link for the projector", True)}


def _page_address() -> str:
    """This page's address without its query (empty when the server cannot tell)."""
    try:
        url = st.context.url or ""
    except Exception:  # no browser context (e.g. a script test)
        url = ""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) if parts.netloc else ""


def render_share_links() -> None:
    """Two buttons in the sidebar; the one pressed shows its link ready to copy."""
    with st.sidebar:
        for kind, (label, _) in KINDS.items():
            if st.button(label, key=f"share_{kind}", width="stretch", icon=":material/link:",
                          help="Shows the link with every setting of this experiment; the "
                               "icon at its right copies it."):
                st.session_state["share_shown"] = kind
        kind = st.session_state.get("share_shown")
        if kind in KINDS:
            label, classroom = KINDS[kind]
            st.caption("Link for the projector (classroom mode):" if classroom
                       else "Link for students (no classroom mode):")
            st.code(_page_address() + share_link_query(classroom=classroom), language=None,
                    wrap_lines=True)
