"""Interactive regions that rerun alone: ``st.fragment`` plus the link kept in step.

    @live_region
    def prune_region(): …       # the Prune slider and everything it changes
    prune_region()

A widget inside an ``st.fragment`` reruns only that function, not ``app.py``, the sidebar and
the rest of the page: a slider move costs what it changes. But ``app.py`` is also where the
address bar follows the widgets (``ui.url_sync``: ``sync_url_settings`` before any widget,
``remember_url_widgets`` after the page) and where a changed workspace is saved
(``ui.persist.save_if_changed``, e.g. after "Keep this pruned model"). On a fragment's own
rerun ``app.py`` does not run, so ``live_region`` runs those around the fragment instead; in a
full run ``app.py`` already does (it marks the run with ``FULL_RUN``), and the region is a
plain call.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from ui.page_stop import page_stops_here
from ui.persist import save_if_changed
from ui.url_sync import remember_url_widgets, sync_url_settings

#: Session-state flag: True while app.py runs the whole app (set and cleared there).
FULL_RUN = "_full_run"


def live_region(fn: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment(fn)``, keeping the link in step when the fragment reruns alone. The
    arguments of the call in the full run are kept by Streamlit for the fragment's reruns
    (they are not hashed or copied: pass what the page already holds)."""

    @st.fragment
    @functools.wraps(fn)
    def region(*args, **kwargs) -> None:
        if st.session_state.get(FULL_RUN):
            fn(*args, **kwargs)
            return
        sync_url_settings()
        try:
            with page_stops_here():  # a stop_page() inside ends the region, not the run
                fn(*args, **kwargs)
        finally:
            remember_url_widgets()
            save_if_changed()

    return region
