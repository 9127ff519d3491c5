"""One way to put a figure on a page: ``show_chart(fig, key=…)``.

Every page draws its Plotly figures through here, so every chart gets the same two things:

* ``theme=None``: Streamlit's own chart theme otherwise replaces the figure's fonts with its
  ~12 px light-grey ticks, and the larger fonts classroom mode builds into every figure
  (``pruning.present.style.CLASSROOM_FONT_SCALE``) never reach the projector;
* no floating Plotly toolbar over the chart (it covers titles on a narrow projector screen).

    show_chart(fig, key="prune_hist")                 # in the page's main column
    show_chart(fig, key="ft_before", where=left)      # in a column / container
    show_chart(fig, static=True)                      # a picture: no zoom, no hover
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

#: Plotly's options for every chart: no mode bar (zoom still works by dragging).
CHART_CONFIG = {"displayModeBar": False}


def show_chart(fig: go.Figure, *, key: str | None = None, where=None, static: bool = False,
               **kwargs):
    """``where.plotly_chart(fig, theme=None, …)`` (``where``: ``st`` or a column/container/
    ``st.empty()`` slot). ``static=True`` draws a fixed picture (no zoom, no hover). Extra
    keyword arguments go to ``st.plotly_chart`` (e.g. ``on_select``)."""
    target = st if where is None else where
    config = dict(CHART_CONFIG, staticPlot=True) if static else CHART_CONFIG
    return target.plotly_chart(fig, theme=None, config=config, key=key, **kwargs)
