"""The look every figure shares: colours, font sizes, classroom scaling, one title and layout.

Conventions, chosen for a projector and for colour-blind viewers:
  * weights use a diverging blue–white–red scale centred on 0 (``RdBu`` reversed: blue
    negative, red positive), symmetric limits;
  * pruned weights are drawn in one distinct colour (``PRUNED_COLOUR``, amber), never a
    shade of the weight scale, so "zeroed" cannot be confused with "small";
  * classes use one colour-blind-safe palette (``CLASS_COLOURS``, Okabe–Ito);
  * large fonts (``FONT_SIZE``), scaled up in classroom mode.
"""
from __future__ import annotations

import contextvars

import plotly.graph_objects as go
import plotly.io as pio

PRUNED_COLOUR = "#f5a623"      # amber: outside the blue–red weight scale
WEIGHT_SCALE = "RdBu_r"
FONT_SIZE = 16
SPLIT_COLOURS = {"train": "#1f77b4", "val": "#7f7f7f", "test": "#d62728"}
SPLIT_LABELS = {"train": "train", "val": "validation", "test": "test"}
# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and on a projector.
CLASS_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                 "#F0E442", "#000000", "#999999", "#882255")


# Classroom mode (a projector) enlarges every figure's fonts. A ContextVar, not a module
# global: each Streamlit session runs its script in its own thread, and one teacher's
# projector setting must not change the charts of every other session on the server.
_FONT_SCALE: contextvars.ContextVar[float] = contextvars.ContextVar("font_scale", default=1.0)


def set_font_scale(scale: float) -> None:
    """Scale the fonts of figures built from now on *in this thread* (1.0 = normal).
    The app sets it at the start of every script run (classroom mode: ``CLASSROOM_FONT_SCALE``)."""
    _FONT_SCALE.set(min(max(float(scale), 0.5), 3.0))


def font_scale() -> float:
    return _FONT_SCALE.get()


CLASSROOM_FONT_SCALE = 1.4


def _scale_set_fonts(fig: go.Figure, scale: float) -> None:
    """Multiply font sizes already set on annotations, the legend and trace texts."""
    for ann in fig.layout.annotations or ():
        if ann.font.size:
            ann.font.size = ann.font.size * scale
    if fig.layout.legend.font.size:
        fig.layout.legend.font.size = fig.layout.legend.font.size * scale
    for trace in fig.data:
        tf = getattr(trace, "textfont", None)
        if tf is not None and tf.size is not None and not isinstance(tf.size, (tuple, list)):
            tf.size = tf.size * scale


#: Trace types the app draws. A template carries defaults for every trace type plotly knows
#: (3-D, maps, tables…): 7 kB of JSON in every figure, re-sent on every Prune slider move for
#: each of its six figures. The lean template keeps plotly_white's layout and only these
#: types' defaults, so the figures look the same and carry 3 kB less each.
DRAWN_TRACE_TYPES = ("bar", "heatmap", "scatter", "scattergl", "histogram", "contour", "image")
LEAN_TEMPLATE = "playground_white"
#: plotly_white's layout defaults for subplot kinds no trace type above is drawn on (maps,
#: polar, 3-D scenes, ternary): left out of the lean template (1 kB a figure, never used).
UNDRAWN_SUBPLOTS = ("geo", "polar", "scene", "ternary")


#: Template parts that only colour a trace without a colour scale of its own: the layout's
#: default scales and colour axis, and each trace type's default ``colorscale``.
COLOUR_SCALE_DEFAULTS = ("colorscale", "coloraxis")


def _lean_template(base: str = "plotly_white", trace_types: tuple[str, ...] | None = None,
                   scales: bool = True) -> str:
    """The name of a registered template: ``base``'s layout without ``UNDRAWN_SUBPLOTS`` and
    the trace defaults of ``trace_types`` only (default ``DRAWN_TRACE_TYPES``). A figure whose
    traces are all given (``figure()``) gets the template of just its trace types: plotly
    applies a template's trace defaults by trace type only, so the others never show.
    ``scales=False`` also leaves out ``COLOUR_SCALE_DEFAULTS``, for a figure whose every trace
    brings its own colour scale or a fixed colour (``_own_colours``): plotly uses a default
    scale only for a trace without one, so those never show either (0.9 kB a figure)."""
    types = DRAWN_TRACE_TYPES if trace_types is None else tuple(sorted(set(trace_types)))
    name = LEAN_TEMPLATE if trace_types is None else f"{LEAN_TEMPLATE}_{'_'.join(types)}"
    name += "" if scales else "_ownscales"
    if name not in pio.templates:   # registered once per process (same content if two race)
        full = pio.templates[base]
        drop = UNDRAWN_SUBPLOTS + (() if scales else COLOUR_SCALE_DEFAULTS)
        layout = {k: v for k, v in full.layout.to_plotly_json().items() if k not in drop}
        data = {}
        for t in types:
            defaults = getattr(full.data, t) if t in DRAWN_TRACE_TYPES else None
            if defaults:
                data[t] = [d if scales else {k: v for k, v in d.to_plotly_json().items()
                                             if k != "colorscale"} for d in defaults]
        pio.templates[name] = go.layout.Template(layout=layout, data=data)
    return name


def _own_colours(trace: dict) -> bool:
    """Does this trace (a ``figure()`` data dict) bring its own colours, so no default colour
    scale of the template can apply? A heatmap or contour with a ``colorscale``, a bar with one
    fixed marker colour."""
    kind = trace.get("type", "scatter")
    if kind in ("heatmap", "contour"):
        return "colorscale" in trace
    if kind == "bar":
        return isinstance((trace.get("marker") or {}).get("color"), str)
    return False


def _set_template(fig: go.Figure, name: str | None = None) -> None:
    """``fig.update_layout(template=name)`` without its cost.

    Setting a template validates a deep copy of it (~10 ms, most of building a small figure,
    and the Prune page builds six per slider move). A registered template is valid already,
    so it is assigned with validation off, exactly as plotly assigns its default template to
    every new figure (``BaseFigure._initialize_layout_template``); the figure's JSON is the same.
    """
    name = name or _lean_template()
    layout = fig.layout
    if not hasattr(layout, "_validate"):  # a plotly without the switch: take the slow path
        fig.update_layout(template=name)
        return
    validate, layout._validate = layout._validate, False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = validate


def layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    scale = _FONT_SCALE.get()
    if scale != 1.0:
        _scale_set_fonts(fig, scale)
    _set_template(fig)
    fig.update_layout(title=dict(text=title, x=0.0, font=dict(size=round((FONT_SIZE + 2) * scale))),
                      font=dict(size=round(FONT_SIZE * scale)),
                      height=round(height * (1 + (scale - 1) / 2)),
                      margin=dict(l=60, r=20, t=60, b=50))
    return fig


def figure(data: list[dict], spec: dict, title: str, height: int = 420) -> go.Figure:
    """``layout(go.Figure(data, layout), title, height)`` built in one pass, with the template
    of just these traces' types (``_lean_template``; a trace added later gets no template
    defaults of its own type).

    Plotly validates on every ``update_*`` / ``add_*`` call, so a figure assembled by ten
    updates costs about three times one built from a single dict (the Prune page rebuilds its
    figures on every slider move). Same figure, same JSON.
    """
    scale = _FONT_SCALE.get()
    fig = go.Figure(data=data, layout={
        **spec,
        "title": dict(text=title, x=0.0, font=dict(size=round((FONT_SIZE + 2) * scale))),
        "font": dict(size=round(FONT_SIZE * scale)),
        "height": round(height * (1 + (scale - 1) / 2)),
        "margin": spec.get("margin", dict(l=60, r=20, t=60, b=50))})
    if scale != 1.0:
        _scale_set_fonts(fig, scale)
    _set_template(fig, _lean_template(trace_types=tuple(d.get("type", "scatter") for d in data),
                                      scales=not all(_own_colours(d) for d in data)))
    return fig


def fixed_margin(l: int, r: int, t: int, b: int) -> dict:
    """Margins in pixels that plotly must not recompute (``autoexpand`` off), scaled with the
    fonts. Why: with automatic margins every redraw measures the tick labels and colour bar
    and may lay the figure out twice; on the Prune page's slider move that cost about a third
    of the browser's work (BENCHMARKS.md, "slider"). The sizes fit the widest labels these
    figures draw (three-digit unit numbers, a colour bar with four-character ticks)."""
    k = _FONT_SCALE.get()
    return dict(l=round(l * k), r=round(r * k), t=round(t * k), b=round(b * k), autoexpand=False)
