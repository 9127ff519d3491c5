"""Small widget helpers every page uses: remembered values, error display, notices, deltas."""
from __future__ import annotations

import streamlit as st

#: Prefix of the "what to notice" sentence beside a chart (plain text: no emoji font needed).
NOTICE = "**What to notice:** "


def show_error(exc: Exception) -> None:
    """A clear message for a bad input (never a traceback)."""
    st.error(f"⚠️ {exc}")


def delta_colour(change: float) -> str:
    """``st.metric`` delta colour: grey for a change that prints as 0.0 points (an arrow
    would claim a direction the shown number does not have)."""
    return "off" if abs(change) < 0.0005 else "normal"


def remembered(key: str, default, lo=None, hi=None) -> dict:
    """Widget kwargs that keep a page's own widget value while the user visits other pages.

    Streamlit drops the state of a widget that a run does not draw, so a page-local slider
    would jump back to its default after a visit elsewhere. The value lives under ``key``
    (read it as ``st.session_state[key]`` or from the widget's return value); the widget
    itself uses ``"_w_" + key``. ``lo`` / ``hi`` clamp a remembered value into a range that
    may have changed (e.g. a slider whose maximum depends on the model).

    Usage: ``t = st.slider("Threshold", 0.0, 1.0, step=0.01, **remembered("thr_t", 0.3))``
    """
    st.session_state.setdefault(key, default)
    value = st.session_state[key]
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    widget = "_w_" + key
    if widget not in st.session_state or st.session_state[widget] != value:
        st.session_state[key] = value
        st.session_state[widget] = value
    return {"key": widget, "on_change": _copy_widget_value, "args": (key,)}


def _copy_widget_value(key: str) -> None:
    st.session_state[key] = st.session_state["_w_" + key]


def set_remembered(key: str, value) -> None:
    """Change a ``remembered`` widget's value from code (call it in a callback, before the
    widget is drawn)."""
    st.session_state[key] = value
    st.session_state["_w_" + key] = value
