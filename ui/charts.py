"""One way to put a figure on a page: ``show_chart(fig, key=…)``.

Every page draws its Plotly figures through here, so every chart gets the same two things:

* ``theme=None``: Streamlit's own chart theme otherwise replaces the figure's fonts with its
  ~12 px light-grey ticks, and the larger fonts classroom mode builds into every figure
  (``pruning.present.style.CLASSROOM_FONT_SCALE``) never reach the projector;
* no floating Plotly toolbar over the chart (it covers titles on a narrow projector screen).

    show_chart(fig, key="prune_hist")                 # in the page's main column
    show_chart(fig, key="ft_before", where=left)      # in a column / container
    show_chart(fig, static=True)                      # a picture: no zoom, no hover
    show_chart(figure_json, key="prune_heatmap_fc1")  # JSON made already (slider figures)

A ``FigureJSON`` (``pruning.present.figure_json``: a figure's JSON made without Plotly's
per-property validation, for figures re-sent on every slider move) is drawn through a
``PreparedFigure`` shell that no other thread uses at the same time (the dict may be shared
by sessions; a shell is not: ``st.plotly_chart`` reads it only during the call).
"""
from __future__ import annotations

import queue

import plotly.graph_objects as go
import streamlit as st

from pruning.present.figure_json import FigureJSON, PreparedFigure

#: Plotly's options for every chart: no mode bar (zoom still works by dragging).
CHART_CONFIG = {"displayModeBar": False}


#: Idle ``PreparedFigure`` shells (one is taken for each draw and put back after it: a shell
#: costs ~0.6 ms to make, and Streamlit runs each script run in a new thread).
_shells: queue.SimpleQueue[PreparedFigure] = queue.SimpleQueue()


def show_chart(fig: go.Figure | FigureJSON, *, key: str | None = None, where=None, static: bool = False,
               **kwargs):
    """``where.plotly_chart(fig, theme=None, …)`` (``where``: ``st`` or a column/container/
    ``st.empty()`` slot). ``static=True`` draws a fixed picture (no zoom, no hover). Extra
    keyword arguments go to ``st.plotly_chart`` (e.g. ``on_select``)."""
    target = st if where is None else where
    config = dict(CHART_CONFIG, staticPlot=True) if static else CHART_CONFIG
    if not isinstance(fig, FigureJSON):
        return target.plotly_chart(fig, theme=None, config=config, key=key, **kwargs)
    try:
        shell = _shells.get_nowait()
    except queue.Empty:
        shell = PreparedFigure()
    try:
        return target.plotly_chart(shell.show(fig), theme=None, config=config, key=key, **kwargs)
    finally:
        _shells.put(shell)
