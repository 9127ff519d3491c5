"""Classroom mode: for a projector, larger text and charts, advanced controls hidden."""
from __future__ import annotations

import streamlit as st


def classroom_mode() -> bool:
    """True when the teacher switched on classroom mode (``?classroom=1``): pages hide their
    advanced controls (``if not classroom_mode(): …``) and everything is drawn larger."""
    return bool(st.session_state.get("set_classroom", False))


_CLASSROOM_CSS = """
<style>
html { font-size: 18px; }
section[data-testid="stSidebar"] { width: 22rem !important; min-width: 22rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
h1 { font-size: 2.8rem !important; }
</style>
"""


def apply_classroom_style() -> None:
    """Larger text for a projector (figures get larger fonts through ``sync_url_settings``)."""
    if classroom_mode():
        st.markdown(_CLASSROOM_CSS, unsafe_allow_html=True)
