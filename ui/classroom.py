"""Classroom mode: for a projector, larger text and charts, advanced controls hidden.

Two style sheets, both plain CSS over Streamlit's public test ids:

* ``_READABLE_CSS`` (always): labels wrap instead of ending in "…". Streamlit cuts metric
  labels, checkbox/radio labels and button texts to one line with an ellipsis, so on a
  1280-px screen "Dense test accuracy" and "Test accuracy (pruned)" both read "Test acc…"
  and nobody can tell which number is the pruned one. A second line costs nothing.
* ``_CLASSROOM_CSS`` (classroom mode): 18-px text, tighter page margins (Streamlit's wide
  layout keeps 5 rem each side, which at 18 px leaves ~700 px for content beside the
  sidebar at 1280×720), smaller top padding. The sidebar keeps Streamlit's own width, so
  collapsing it (the « button) really gives the page the whole screen.

Figures get larger fonts separately: ``ui.url_sync.sync_url_settings`` sets the figure font
scale, and ``ui.charts.show_chart`` draws them with ``theme=None`` so those fonts survive.
"""
from __future__ import annotations

import streamlit as st


def classroom_mode() -> bool:
    """True when the teacher switched on classroom mode (``?classroom=1``): pages hide their
    advanced controls (``if not classroom_mode(): …``) and everything is drawn larger."""
    return bool(st.session_state.get("set_classroom", False))


_READABLE_CSS = """
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] div,
[data-testid="stMetricLabel"] p,
[data-testid="stMetricValue"], [data-testid="stMetricValue"] div,
[data-testid="stWidgetLabel"] div, [data-testid="stWidgetLabel"] p,
[data-testid="stCheckbox"] label div, [data-testid="stCheckbox"] label p,
[data-testid="stRadio"] label div, [data-testid="stRadio"] label p,
[data-testid="stPageLink"] p, [data-testid="stPageLink"] span,
button[data-testid^="stBaseButton"] div, button[data-testid^="stBaseButton"] p {
  white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; overflow-wrap: anywhere;
}
button[data-testid^="stBaseButton"] { height: auto; }
"""

_CLASSROOM_CSS = """
html { font-size: 18px; }
[data-testid="stMainBlockContainer"] {
  padding-left: 1.5rem !important; padding-right: 1.5rem !important;
  padding-top: 3rem !important; max-width: none !important;
}
[data-testid="stMetricValue"] { font-size: 2.2rem; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
h1 { font-size: 2.4rem !important; }
"""


def apply_classroom_style() -> None:
    """Wrapping labels always; larger text and narrower margins in classroom mode (figures
    get larger fonts through ``sync_url_settings``)."""
    css = _READABLE_CSS + (_CLASSROOM_CSS if classroom_mode() else "")
    st.markdown(f"<style>{css}</style>", unsafe_allow_html=True)
