"""The pruning loop as a picture: train once, then score → prune → fine-tune, repeated.

    1 Train ──► 2 Score ──► 3 Prune ──► 4 Fine-tune ──► 5 Repeat
                   ▲                                       │
                   └───────── until the target sparsity ───┘

Train is drawn apart (it happens once, before the loop); the return arrow goes from Repeat back
to Score, because each round re-scores the weights that are still alive.
"""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from pruning.present.style import FONT_SIZE, PRUNED_COLOUR, font_scale


@dataclass(frozen=True)
class LoopStep:
    key: str
    title: str
    blurb: str  # three short lines, "<br>" between them (a box is ~150 px wide on a projector)


LOOP_STEPS: tuple[LoopStep, ...] = (
    LoopStep("train", "1 · Train", "fit a dense<br>network"),
    LoopStep("score", "2 · Score", "rate each<br>weight, e.g.<br>by size |w|"),
    LoopStep("prune", "3 · Prune", "zero the<br>weights with<br>low scores"),
    LoopStep("finetune", "4 · Fine-tune", "retrain the<br>rest; pruned<br>stay at 0"),
    LoopStep("repeat", "5 · Repeat", "until the<br>target<br>sparsity"),
)

BOX_FILL = "#dbe6f6"
TRAIN_FILL = "#eeeeee"
EDGE = "#1f4e9c"


def loop_figure(highlight: str | None = None, height: int = 330) -> go.Figure:
    """Five boxes in a row with arrows, and a return arrow from Repeat to Score.

    Trace 0 is a text trace: ``x`` are the box centres 0…4 and ``text`` the step titles with
    their blurbs, in loop order (what a test reads). ``highlight`` (a step key) fills that
    box with the pruned amber to point at it.
    """
    keys = [s.key for s in LOOP_STEPS]
    if highlight is not None and highlight not in keys:
        raise ValueError(f"unknown step {highlight!r}; one of {keys}")
    w, h, y0 = 0.9, 1.0, 0.0
    size = round(FONT_SIZE * font_scale())  # classroom mode enlarges every figure's text
    fig = go.Figure(go.Scatter(
        x=list(range(len(LOOP_STEPS))), y=[y0] * len(LOOP_STEPS), mode="text",
        text=[f"<b>{s.title}</b><br>{s.blurb}" for s in LOOP_STEPS],
        textfont=dict(size=size, color="#111111"), hoverinfo="skip",
        customdata=keys, showlegend=False))
    for i, step in enumerate(LOOP_STEPS):
        fill = TRAIN_FILL if step.key == "train" else BOX_FILL
        if step.key == highlight:
            fill = PRUNED_COLOUR
        fig.add_shape(type="rect", x0=i - w / 2, x1=i + w / 2, y0=y0 - h / 2, y1=y0 + h / 2,
                      line=dict(color=EDGE, width=3), fillcolor=fill, layer="below")
    for i in range(len(LOOP_STEPS) - 1):  # straight arrows box i -> box i+1
        fig.add_annotation(x=i + 1 - w / 2, y=y0, ax=i + w / 2, ay=y0, xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.4,
                           arrowwidth=3, arrowcolor=EDGE, text="")
    # Return path: down from Repeat, left under the boxes, up into Score.
    low = y0 - h / 2 - 0.45
    last, score_x = len(LOOP_STEPS) - 1, keys.index("score")
    fig.add_shape(type="path", path=f"M {last},{y0 - h / 2} L {last},{low} L {score_x},{low}",
                  line=dict(color=EDGE, width=3))
    fig.add_annotation(x=score_x, y=y0 - h / 2, ax=score_x, ay=low, xref="x", yref="y",
                       axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.4,
                       arrowwidth=3, arrowcolor=EDGE, text="")
    fig.add_annotation(x=(last + score_x) / 2, y=low, text="repeat: score → prune → fine-tune",
                       showarrow=False, yanchor="bottom", font=dict(size=size, color=EDGE))
    fig.update_xaxes(visible=False, range=[-0.55, len(LOOP_STEPS) - 0.45])
    fig.update_yaxes(visible=False, range=[low - 0.15, y0 + h / 2 + 0.1])
    fig.update_layout(height=round(height * (1 + (font_scale() - 1) / 2)),
                      margin=dict(l=10, r=10, t=10, b=10),
                      template="plotly_white", font=dict(size=size), dragmode=False)
    return fig
