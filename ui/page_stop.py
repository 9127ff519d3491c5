"""Ending a page early without losing the end of the run: ``stop_page()``.

``st.stop()`` ends the run, but it also leaves Streamlit's stop request standing: from then on
every Streamlit call in that run — reading ``st.session_state`` included — raises again. So the
work ``app.py`` does after every page (remember the widgets the address bar follows, save the
workspace) never happened after a page stopped early, and the next run mistook the user's new
choice for the old one: on Prune, ablation refused and then magnitude chosen, the link kept
``scorer=ablation`` and Iterate opened with ablation.

``stop_page()`` raises ``PageStop`` instead; ``app.py`` runs the page inside
``page_stops_here()``, which catches it, so the run's end-of-page work runs normally.

    if trained is None:
        st.info("Train a model first.")
        stop_page()
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import NoReturn

import streamlit as st

# Set while app.py runs a page. A ContextVar: each session's script runs in its own thread.
_CATCHING: contextvars.ContextVar[bool] = contextvars.ContextVar("page_stop_catching",
                                                                 default=False)


class PageStop(BaseException):
    """Raised by ``stop_page``, caught by ``page_stops_here``. A ``BaseException`` (like
    ``KeyboardInterrupt``) so a page's ``except Exception`` cannot swallow it."""


@contextmanager
def page_stops_here():
    """Run the page inside this: a ``stop_page()`` in it ends the page, not the run."""
    token = _CATCHING.set(True)
    try:
        yield
    except PageStop:
        pass
    finally:
        _CATCHING.reset(token)


def stop_page() -> NoReturn:
    """End the current page here (what ``st.stop()`` does, with the end of the run intact).
    A page run without app.py around it (Streamlit's first run of a deep link before the
    navigation exists) falls back to ``st.stop()``."""
    if _CATCHING.get():
        raise PageStop
    st.stop()
    raise PageStop  # not reached: st.stop() raises
