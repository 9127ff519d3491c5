"""A figure sent as JSON already made: for the figures a slider re-sends on every move.

Plotly validates a figure twice on its way to the browser: each property assignment
(``fig.data[0].z = …``) goes through its validators, and ``st.plotly_chart`` calls the
figure's ``to_dict()``, which deep-copies every property and walks the whole tree to turn
arrays into typed-array specs. For the Prune page's figures that was about a third of a slider
move's server time (BENCHMARKS.md, "Third pass"). A figure whose parts are already plain JSON
(made once with Plotly, then only a few values swapped per move) needs none of it::

    base = fig.to_dict()                                   # once: Plotly's own JSON dict
    spec = FigureJSON({**base, "data": [{**base["data"][0], "z": typed_array(z)}]})  # per move
    st.plotly_chart(PreparedFigure().show(spec))           # sends the dict as it is

``PreparedFigure`` is a ``go.Figure`` whose ``to_dict()`` returns the dict it was given:
``st.plotly_chart`` (Streamlit 1.67: ``plotly.tools.return_figure_from_figure_or_data``) takes
a figure's ``to_dict()`` as validated and serialises it with ``plotly.io.to_json(…,
validate=False)``, while a plain dict would be validated again (there is no public option to
skip that). The caller promises the dict is what Plotly would produce; the Prune page's
figures are compared with the one-shot builders' JSON in
``tests/unit/present/test_slider_figures.py``.

Per-move dicts share their unchanged parts with the base (``{**base, …}`` copies only the
path to what changed), so nobody may modify a base or a returned dict in place; that also
makes them safe to share between sessions and threads (a ``FigureJSON`` is never changed,
only a ``PreparedFigure`` shell is, so each thread draws through a shell of its own).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

#: numpy dtype → plotly.js typed-array name (the ``dtype`` of a ``{"dtype", "bdata"}`` spec).
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "float32": "f4", "float64": "f8"}


def typed_array(a: np.ndarray) -> dict:
    """A numpy array as plotly.js's typed-array spec, as ``fig.to_dict()`` writes it:
    ``{"dtype": "i1", "bdata": <base64 of the C-order bytes>, "shape": "64, 784"}`` (``shape``
    only for 2-D and more). int64 arrays are stored in the narrowest signed type that holds
    them, as Plotly does."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.int64:
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        a = a.astype(next(t for t in (np.int8, np.int16, np.int32, np.int64)
                          if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max))
    spec = {"dtype": _TYPED[str(a.dtype)], "bdata": base64.b64encode(a).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = str(a.shape)[1:-1]
    return spec


@dataclass(frozen=True, eq=False)
class FigureJSON:
    """A figure as Plotly's JSON dict (``fig.to_dict()`` form, arrays as typed-array specs).
    Never modified after it is made."""

    spec: dict


class PreparedFigure(go.Figure):
    """A ``go.Figure`` standing for a JSON dict made already (``to_dict()`` returns it, not a
    copy). The figure itself is an empty shell: only ``to_dict`` (and what builds on it:
    ``to_json``, ``to_plotly_json``) reflects the dict. Make one shell and ``show`` each new
    dict through it: a shell costs ~0.6 ms to make, showing a dict nothing."""

    def __init__(self, spec: FigureJSON | None = None):
        super().__init__(layout={"template": None})   # an empty shell; the default template costs 2 ms
        self._spec = {"data": [], "layout": {}} if spec is None else spec.spec

    def show(self, spec: FigureJSON) -> PreparedFigure:
        """This shell, now standing for ``spec``."""
        self._spec = spec.spec
        return self

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec
