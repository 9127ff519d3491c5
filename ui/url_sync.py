"""The address bar and the widgets in step: a shared link opens the same experiment, and moving
a widget updates the link. What a link carries, how it is read and written, and which widgets
show each setting is one table, ``pruning.app.url_state.PROPS``; this module only runs it
against the session state once per run."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from pruning.app.url_state import (
    KEPT_WIDGETS,
    WIDGET_BINDINGS,
    AppSettings,
    bound_values,
    encode_settings,
    given_settings,
    parse_query_params,
    propagated_values,
    resolve_pending,
    settings_from_widgets,
    share_query,
    widget_values,
)
from pruning.present import style


def _query_params() -> dict:
    try:
        return dict(st.query_params.to_dict())
    except Exception:  # a malformed query string must never stop the app
        return {}


def sync_url_settings() -> AppSettings:
    """Keep the address bar and the widgets in step; call once per run, before any widget.

    First run of a session: the link's settings are read (bad values ignored, with notices
    kept for ``show_url_notices``) and seeded into their widgets. Later runs: the widget the
    user moved updates the settings. Every run: widgets that appeared without a value (a page
    opened) are seeded, the address bar is rewritten if it differs, and the figure font scale
    follows classroom mode.
    """
    s = st.session_state
    # One read of the whole state: every access of st.session_state takes Streamlit's lock and
    # the binding table reads a few hundred keys (a tenth of a slider move's time otherwise).
    state = s.to_dict()
    pending: set[str] = set()
    if "_url_settings" not in state:
        params = _query_params()
        settings, notices = parse_query_params(params)
        s["_url_notices"] = notices
        touched = given_settings(params)
    else:
        settings, changed, pending = settings_from_widgets(
            state, state.get("_url_seen", {}), state["_url_settings"], WIDGET_BINDINGS)
        touched = state.get("_url_touched", set()) | changed
        for key, value in propagated_values(settings, changed, WIDGET_BINDINGS, state).items():
            s[key] = state[key] = value   # the same setting's widgets on other pages follow
    for key, value in widget_values(settings, touched, WIDGET_BINDINGS, state).items():
        s[key] = state[key] = value
    for key in KEPT_WIDGETS:   # re-assigned: kept while their page is not drawn
        if key in state:
            s[key] = state[key]
    if "set_classroom" not in state:
        s["set_classroom"] = False
    s["_url_settings"], s["_url_touched"], s["_url_pending"] = settings, touched, pending
    _write_query_params(settings)
    style.set_font_scale(style.CLASSROOM_FONT_SCALE if settings.classroom else 1.0)
    return settings


def _write_query_params(settings: AppSettings, always: bool = False) -> None:
    params = encode_settings(settings)
    if always or _query_params() != params:
        st.query_params.from_dict(params)


def remember_url_widgets(full_run: bool = True) -> None:
    """End of a run (call it in a ``finally`` around the page): settle settings whose widget
    only appeared during this run, and record the bound widgets' values so the next run can
    tell which one the user moved. ``full_run=False`` for a fragment's own rerun."""
    s = st.session_state
    state = s.to_dict()   # one read (see sync_url_settings)
    pending = state.get("_url_pending")
    if pending and "_url_settings" in state:
        settings, changed = resolve_pending(state, state["_url_settings"], pending, WIDGET_BINDINGS)
        s["_url_settings"] = state["_url_settings"] = settings
        s["_url_pending"] = set()
        s["_url_touched"] = state.get("_url_touched", set()) | changed
    if "_url_settings" in state:
        # Written again at the end of every full run: when a session starts on a page other
        # than Home, the browser applies the page's own address after the first write and
        # drops the query (measured with Chromium); a later write wins. A fragment's rerun
        # comes after that and writes only a change.
        _write_query_params(state["_url_settings"], always=full_run)
    s["_url_seen"] = bound_values(state, WIDGET_BINDINGS)


def show_url_notices() -> None:
    """The link's ignored values, as a warning that stays until dismissed."""
    notices = st.session_state.get("_url_notices") or []
    if not notices:
        return
    box = st.container()
    box.warning("**Some settings in this link were ignored** — the app uses its defaults for "
                "them:\n\n" + "\n".join(f"- {n}" for n in notices[:12]))
    if box.button("Dismiss", key="url_notices_dismiss"):
        st.session_state["_url_notices"] = []
        st.rerun()


def url_settings() -> AppSettings:
    """The settings the address bar currently carries."""
    return st.session_state.get("_url_settings") or AppSettings()


def share_link_query(classroom: bool = False) -> str:
    """``?dataset=…&…`` for the current settings, to hand out (``ui.share_links``): classroom
    mode only when asked for, whatever this browser uses."""
    return "?" + urlencode(share_query(url_settings(), classroom))
