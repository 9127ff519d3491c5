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
plain call. Regions may nest (the Prune page's slider and results are a region inside the
region of its controls): a move of the inner one's widget reruns the inner one alone, and an
inner region called while an outer one reruns is a plain call too (the outer one keeps the
link and saves).
"""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable

import streamlit as st

from ui.page_stop import page_stops_here
from ui.persist import save_if_changed
from ui.url_sync import remember_url_widgets, sync_url_settings

#: Session-state flag: True while app.py runs the whole app (set and cleared there).
FULL_RUN = "_full_run"

#: True while a region's own rerun runs its function (in the script thread of that run).
_IN_REGION: contextvars.ContextVar[bool] = contextvars.ContextVar("in_live_region", default=False)


def live_region(fn: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment(fn)``, keeping the link in step when the fragment reruns alone. The
    arguments of the call in the full run are kept by Streamlit for the fragment's reruns
    (they are not hashed or copied: pass what the page already holds)."""

    @st.fragment
    @functools.wraps(fn)
    def region(*args, **kwargs) -> None:
        if st.session_state.get(FULL_RUN) or _IN_REGION.get():
            fn(*args, **kwargs)
            return
        sync_url_settings()
        inside = _IN_REGION.set(True)
        try:
            with page_stops_here():  # a stop_page() inside ends the region, not the run
                fn(*args, **kwargs)
        finally:
            _IN_REGION.reset(inside)
            remember_url_widgets(full_run=False)
            save_if_changed()

    return region
