"""The article's worked example, live: four weights, one threshold, which weights are pruned.
Drawn by the Threshold basics page and by the guided lesson's first step (same widgets, same
session keys, so the threshold a class set on one is the threshold on the other)."""
from __future__ import annotations

import math

import streamlit as st

from pruning.errors import PruningError
from pruning.labs.threshold_example import (
    WORKED_EXAMPLE_THRESHOLD,
    WORKED_EXAMPLE_WEIGHTS,
    decide_by_threshold,
)
from pruning.present.thresholds import decision_sentence, threshold_bars
from ui.charts import show_chart
from ui.fragments import live_region
from ui.widgets import remembered, set_remembered, show_error

# theme=None: keep the figures' own large fonts (the Streamlit theme shrinks tick labels).
DIGITS = 4  # sliders move in decimal steps; rounding keeps 0.3 exactly 0.3


def _reset_example() -> None:
    for i, w in enumerate(WORKED_EXAMPLE_WEIGHTS):
        set_remembered(f"thr_w{i}", w)
    set_remembered("thr_t", WORKED_EXAMPLE_THRESHOLD)


@live_region
def worked_example(*, header: str | None = "1 · Four weights, one threshold",
                   editable: bool = True, table: bool = True, height: int = 380) -> None:
    """The weights (editable, or the article's 0.2, 0.5, 0.1, 0.3), the threshold slider, the
    bars and the sentence saying which weights go."""
    if header:
        st.header(header)
    if editable:
        st.markdown("Change the weights or move the threshold: the bars and the sentence follow.")
        cols = st.columns(len(WORKED_EXAMPLE_WEIGHTS) + 1)
        weights = []
        for i, w in enumerate(WORKED_EXAMPLE_WEIGHTS):
            weights.append(cols[i].number_input(
                f"weight w{i + 1}", min_value=-10.0, max_value=10.0, step=0.05, format="%.3f",
                help="A weight of the network. Pruning looks at its size |w|, so a negative "
                     "weight counts by how far it is from zero.", **remembered(f"thr_w{i}", w)))
        cols[-1].button("↺ Article's numbers", on_click=_reset_example, key="thr_reset",
                        help="Back to the example in the article *Understanding Pruning in Deep "
                             "Learning*: weights 0.2, 0.5, 0.1, 0.3 and threshold 0.3.")
    else:
        weights = list(WORKED_EXAMPLE_WEIGHTS)
    weights = [round(w, 6) for w in weights]
    top = max(1.0, math.ceil(12 * max(abs(w) for w in weights)) / 10)
    t = st.slider("Threshold t", 0.0, top, step=0.01,
                  help="Weights whose size |w| is strictly below t are pruned (set to 0); "
                       "a weight exactly equal to t stays.",
                  **remembered("thr_t", WORKED_EXAMPLE_THRESHOLD, lo=0.0, hi=top))
    try:
        decision = decide_by_threshold(weights, round(t, DIGITS))
    except PruningError as exc:
        show_error(exc)
        return
    left, right = st.columns([3, 2])
    show_chart(threshold_bars(decision, height=height), key="thr_bars", where=left)
    with right:
        # Beside a table the sentence is the headline; alone (the lesson) it must fit its column.
        st.markdown(f"{'###' if table else '####'} {decision_sentence(decision)}")
        if table:
            st.dataframe(decision.table(), hide_index=True,
                         column_config={"weight_no": "weight", "weight": "w",
                                        "size_abs_w": "|w|", "decision": "decision"})
