"""The session's steps on a page: the saw-tooth of accuracy along them, Undo and Reset.

One helper, ``timeline_panel(key)``, drawn by the Prune, Fine-tune and lesson pages; the
figure and its sentence come from ``pruning.present.timeline``, the steps from
``pruning.app.workspace``.
"""
from __future__ import annotations

import streamlit as st

from pruning.present.timeline import sawtooth_figure, sawtooth_note
from ui.charts import show_chart
from ui.widgets import NOTICE
from ui.workspace import workspace


def _undo() -> None:
    step = workspace().undo()
    if step is not None:
        st.session_state["_timeline_msg"] = f"Undone: {step.label}."


def _reset() -> None:
    workspace().reset()
    st.session_state["_timeline_msg"] = ("Session reset: no model, no steps, no runs. "
                                         "Start again from Train (or the default model).")


def undo_reset_buttons(key: str) -> None:
    """Undo the last step, and reset the whole session (behind a confirmation)."""
    ws = workspace()
    c1, c2 = st.columns(2)
    last = ws.timeline[-1].label if ws.timeline else None
    c1.button("↶ Undo the last step", key=f"{key}_undo", on_click=_undo,
              disabled=not ws.can_undo(), width="stretch",
              help=(f"Takes back “{last}”: the models return to what they were before it."
                    if last else "Nothing to undo yet."))
    with c2.popover("Reset the session…", width="stretch", key=f"{key}_reset_menu",
                    help="Forgets your models, steps and runs in this browser session."):
        st.markdown("Forget every model, step and run of this session?")
        st.button("Yes, reset everything", key=f"{key}_reset", on_click=_reset,
                  type="primary")


def show_timeline_message() -> None:
    msg = st.session_state.pop("_timeline_msg", None)
    if msg:
        st.success(msg)


def timeline_panel(key: str, *, title: str = "Your steps so far") -> None:
    """The saw-tooth of this session's steps with its sentence, then Undo / Reset."""
    ws = workspace()
    st.subheader(title)
    show_timeline_message()
    frame = ws.timeline_frame()
    if len(frame) > 1:
        show_chart(sawtooth_figure(frame), key=f"{key}_sawtooth")
    st.markdown(NOTICE + sawtooth_note(frame))
    undo_reset_buttons(key)
