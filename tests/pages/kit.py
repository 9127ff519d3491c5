"""Helpers shared by the AppTest page tests: open a session, move between pages, press buttons,
and read what a student sees (Plotly figure JSON, metrics, message text).

A plain module (no fixtures: those live in ``tests/pages/conftest.py``); import it as
``from tests.pages.kit import ...``.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

#: Absolute, because AppTest resolves a relative script path from the file that calls it.
APP = str(Path(__file__).resolve().parents[2] / "app.py")

HOME, THRESHOLD, TRAIN = "pages/home.py", "pages/threshold.py", "pages/train.py"
PRUNE, FINETUNE, ITERATE = "pages/prune.py", "pages/finetune.py", "pages/iterate.py"
SCORERS, STRUCTURED, LOTTERY = "pages/scorers.py", "pages/structured.py", "pages/lottery.py"
GENERALIZATION, SHRANK = "pages/generalization.py", "pages/shrank.py"

#: Message kinds ``texts`` reads by default.
TEXT_KINDS = ("markdown", "info", "warning", "success", "error", "caption")


# ----------------------------------------------------------------------------- sessions
def new_app(query: dict | None = None, *, page: str | None = None, timeout: float = 120,
            epochs: int | None = 3, **state) -> AppTest:
    """A fresh session after its first run (app.py), checked for exceptions.

    ``epochs`` presets the sidebar's ``set_epochs`` (3: tiny, fast models; None keeps the app's
    default); ``state`` is put in session_state and ``query`` in the URL before that first run;
    ``page`` is then opened with ``goto``.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    if epochs is not None:
        at.session_state["set_epochs"] = epochs
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    ok(at.run())
    return at if page is None else goto(at, page)


def ok(at: AppTest) -> AppTest:
    """``at`` after asserting its last run raised no exception."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to ``page`` (e.g. ``PRUNE``) and run it, checked."""
    return ok(at.switch_page(page).run())


def click(at: AppTest, key: str) -> AppTest:
    """Press the button with key ``key`` and rerun, checked."""
    return ok(at.button(key=key).click().run())


def with_default_model(at: AppTest, page: str = PRUNE) -> AppTest:
    """Open ``page`` and press its "use the default model" button."""
    goto(at, page)
    return click(at, "use_default_model")


# ----------------------------------------------------------------------------- figures
def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure JSON of the chart with widget key ``key``."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)]
    assert found, f"no chart with key {key!r}"
    return json.loads(found[0].proto.spec)


def charts(at: AppTest, prefix: str = "") -> list[dict]:
    """The Plotly figure JSON of every chart whose key starts with ``prefix`` (default: all)."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")
            if c.proto.id.rsplit("-", 1)[-1].startswith(prefix)]


def as_array(v) -> np.ndarray:
    """A figure JSON array as floats: a typed array {"dtype", "bdata" (base64), "shape"?}, or a
    (nested) list, where None becomes NaN (a gap)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape(tuple(int(s) for s in str(v["shape"]).split(",")))
        return a.astype(float)
    return np.array(v, dtype=float)


def values(v) -> list:
    """A figure JSON array as a (nested) list of floats."""
    return as_array(v).tolist()


# ----------------------------------------------------------------------------- text
def texts(at: AppTest, *kinds: str) -> str:
    """The text of the page's elements of ``kinds`` (default ``TEXT_KINDS``), one a line."""
    return "\n".join(str(e.value) for kind in (kinds or TEXT_KINDS) for e in getattr(at, kind))


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled ``label`` (asserts there is one)."""
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]
