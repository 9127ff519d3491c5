"""The loop as the user walked it, and runs laid over each other.

``sawtooth_figure(frame)`` draws the timeline (``Workspace.timeline_frame()``: one row per
train / prune / fine-tune step) as test and train accuracy along the steps: every prune is a
drop, every fine-tune a recovery, so repeating the loop by hand draws a saw-tooth. The weights
pruned after each step are printed above it.

``runs_overlay(points)`` puts any number of runs (``pruning.app.runs``: tidy points with
``run``, ``series``, ``stage``, ``sparsity``, ``train_acc``, ``test_acc``) on one
accuracy-vs-sparsity chart: one colour per run line, test solid, train dotted.
Pure functions of tables: no session, no Streamlit.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pruning.present.format import pct
from pruning.present.style import (
    CLASS_COLOURS,
    FONT_SIZE,
    SPLIT_COLOURS,
    figure,
    fixed_margin,
)

KIND_SYMBOLS = {"train": "circle", "prune": "triangle-down", "fine-tune": "triangle-up"}


def _tick(row: dict) -> str:
    """Short, so that a projector shows them level (the sparsity is printed above)."""
    return {"train": "train", "prune": "cut", "fine-tune": "fine-tune"}.get(row["kind"], "")


def sawtooth_figure(frame: pd.DataFrame, title: str | None = None,
                    height: int = 420) -> go.Figure:
    """Test (red) and train (blue) accuracy after each step; x = the steps in order. The
    title names the two colours (no legend: on a projector it would sit on the lines).

    ``fig.data[0]`` is test, ``fig.data[1]`` train (y in %); a dashed vertical line marks a
    step that trained a new dense model after the first.
    """
    if title is None:
        title = (f"accuracy: <span style='color:{SPLIT_COLOURS['test']}'>test</span> · "
                 f"<span style='color:{SPLIT_COLOURS['train']}'>train</span>")
    rows = frame.to_dict("records")
    x = [r["step"] for r in rows]
    ticks = [_tick(r) for r in rows]
    symbols = [KIND_SYMBOLS.get(r["kind"], "circle") for r in rows]
    hover = [f"{r['label']}<br>weights pruned: {pct(r['sparsity'])}" for r in rows]
    data = [dict(type="scatter", x=x, y=[100 * r[f"{split}_acc"] for r in rows],
                 mode="lines+markers", name=f"{split} accuracy",
                 line=dict(color=SPLIT_COLOURS[split], width=3 if split == "test" else 2,
                           dash="solid" if split == "test" else "dot"),
                 marker=dict(size=11, symbol=symbols), customdata=hover,
                 hovertemplate="%{customdata}<br>" + split + " %{y:.1f} %<extra></extra>")
            for split in ("test", "train")]
    shapes = [dict(type="line", x0=r["step"] - 0.5, x1=r["step"] - 0.5, y0=0, y1=1,
                   yref="paper", line=dict(color="#555", dash="dash", width=1))
              for r in rows[1:] if r["kind"] == "train"]
    annotations = [dict(x=r["step"], y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                        text=pct(r["sparsity"], 0) if r["sparsity"] else "dense",
                        font=dict(size=FONT_SIZE - 2, color="#444"))
                   for r in rows]
    spec = dict(xaxis=dict(title=dict(text="step"), tickmode="array", tickvals=x,
                           ticktext=ticks, range=[0.5, max(x, default=1) + 0.5]),
                yaxis=dict(title=dict(text="accuracy (%)"), rangemode="tozero"),
                shapes=shapes, annotations=annotations,
                showlegend=False, margin=fixed_margin(l=75, r=20, t=85, b=45))
    return figure(data, spec, title, height)


def sawtooth_note(frame: pd.DataFrame) -> str:
    """What the saw-tooth says, in measured numbers of the steps since the last training."""
    if frame.empty:
        return "No steps yet: train, prune and fine-tune, and each step adds a point here."
    last_train = frame.index[frame["kind"] == "train"]
    part = frame.loc[last_train[-1]:] if len(last_train) else frame
    prunes = part[part["kind"] == "prune"]
    if prunes.empty:
        return ("One point so far: the dense model. Prune it (and fine-tune) and the line "
                "drops at each cut and climbs back after each fine-tune.")
    rows = part.to_dict("records")
    pieces = []
    for prev, cur in zip(rows, rows[1:]):
        change = 100 * (cur["test_acc"] - prev["test_acc"])
        if cur["kind"] == "prune":
            pieces.append(f"step {cur['step']} cut to {pct(cur['sparsity'])} "
                          f"({change:+.1f} points of test accuracy)")
        elif cur["kind"] == "fine-tune":
            pieces.append(f"step {cur['step']} fine-tuned ({change:+.1f} points)")
    last = rows[-1]
    return ("Test accuracy along your steps: " + "; ".join(pieces) + ". "
            f"Now {pct(last['test_acc'])} test accuracy with {pct(last['sparsity'])} of the "
            "weights pruned.")


# ----------------------------------------------------------------------------- runs overlay
def runs_overlay(points: pd.DataFrame, title: str = "accuracy vs weights pruned",
                 show_train: bool = True, height: int = 460) -> go.Figure:
    """One line per (run, series) through its points in order (dense → after pruning → after
    fine-tuning …): test accuracy solid, train dotted, one colour per line. Each trace's
    ``meta`` is ``"<run> — <series>: test"``; its legend name is the run, the series on a
    second line, and "(test)" / "(train)" when both are drawn."""
    data = []
    lines = list(dict.fromkeys(zip(points["run"], points["series"])))
    for i, (run, series) in enumerate(lines):
        part = points[(points["run"] == run) & (points["series"] == series)].sort_values("step")
        colour = CLASS_COLOURS[i % len(CLASS_COLOURS)]
        label = run + (f" — {series}" if series else "")
        hover = [f"{label}<br>{s}" for s in part["stage"]]
        for split in ("test", "train") if show_train else ("test",):
            # The legend does not wrap: a long run name goes on its own line.
            shown = run + (f"<br>   {series}" if series else "")
            shown += f" ({split})" if show_train else ""
            data.append(dict(
                type="scatter", x=(100 * part["sparsity"]).tolist(),
                y=(100 * part[f"{split}_acc"]).tolist(), mode="lines+markers",
                name=shown, meta=f"{label}: {split}", legendgroup=label, customdata=hover,
                line=dict(color=colour, width=3 if split == "test" else 2,
                          dash="solid" if split == "test" else "dot"),
                marker=dict(size=9, symbol="circle" if split == "test" else "circle-open"),
                hovertemplate="%{customdata}<br>" + split
                              + " %{y:.1f} % at %{x:.1f} % pruned<extra></extra>"))
    spec = dict(xaxis=dict(title=dict(text="weights pruned (%)"), range=[-2, 102]),
                yaxis=dict(title=dict(text="accuracy (%)"), rangemode="tozero"),
                legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
                margin=dict(l=70, r=20, t=60, b=60))
    n_legend_lines = sum(1 + t["name"].count("<br>") for t in data)
    return figure(data, spec, title, height + 24 * n_legend_lines)
