"""Every control that changes a number is carried by a link (``url_state.PROPS``).

The pages and ``ui/`` are read as source: every Streamlit input widget with a key (``key=…``
or ``**remembered(…)``) must either be bound to a setting of the link, or be listed below as
changing only the view, with the reason. A new page control therefore fails this test until
it is given a ``Binding`` (a teacher's link then reproduces it) or is shown to change nothing
a student would compare.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from pruning.app.url_state import WIDGET_BINDINGS

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"])
INPUTS = {"slider", "select_slider", "number_input", "selectbox", "radio", "toggle", "checkbox",
          "multiselect", "text_input", "text_area", "segmented_control", "pills", "data_editor",
          "file_uploader", "color_picker", "date_input", "time_input", "feedback"}

#: Controls that change what is shown, not a number a student would compare, and why.
VIEW_ONLY = {
    "ft_layer": "Fine-tune: which layer's weights the heatmap shows",
    "it_round": "Iterate: which round's masks are shown",
    "it_layer": "Iterate: which layer's masks are shown",
    "prune_hist_layer": "Prune: which layer the score histogram shows",
    "prune_log_x": "Prune: the histogram's axis scale",
    "runs_chosen": "Runs: which of this session's runs are overlaid (the runs are session data)",
    "runs_train": "Runs: also draw train accuracy",
    "runs_name_*": "Runs: a run's display name",
    "<UPLOAD_KEY>": "What shrank?: a checkpoint file (a link cannot carry a file)",
    "shrank_batch": "What shrank?: timing batch size; timings measure this machine, and no "
                    "link can reproduce them on another",
    "shrank_repeats": "What shrank?: how many timed runs; as above",
}

#: Controls that do change numbers and are not carried yet, with the reason (a known gap).
NOT_CARRIED: dict[str, str] = {}

#: Keys a page computes in a variable: (file, variable) -> an example of the key it holds.
COMPUTED_KEYS = {("pages/prune.py", "key"): "prune_threshold_magnitude_True"}


def _key_text(node: ast.expr, path: str) -> str:
    """A key expression as text: a constant as is, an f-string with ``*`` for its fields, a
    name as ``<name>`` (or the example in COMPUTED_KEYS)."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "*" for v in node.values)
    if isinstance(node, ast.Name):
        return COMPUTED_KEYS.get((path, node.id), f"<{node.id}>")
    return f"<{ast.unparse(node)}>"


def widget_keys() -> dict[str, str]:
    """{key (pattern): "file:line"} of every keyed input widget in the pages and ui/."""
    out = {}
    for file in SOURCES:
        path = str(file.relative_to(ROOT))
        for node in ast.walk(ast.parse(file.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in INPUTS):
                continue
            key = None
            for kw in node.keywords:
                if kw.arg == "key":
                    key = _key_text(kw.value, path)
                elif kw.arg is None and isinstance(kw.value, ast.Call) \
                        and getattr(kw.value.func, "id", "") == "remembered":
                    key = _key_text(kw.value.args[0], path)
            if key is not None:
                out[key] = f"{path}:{node.lineno}"
    return out


def bound(key: str) -> bool:
    """Is ``key`` (a pattern) the key of a widget some setting of the link is bound to?"""
    states = [{}, {"thr_layer": "net.0.weight"}, {"gl_preset": "mnist1d"},
              {"prune_scorer": "magnitude", "prune_include_output": True}]
    pattern = re.compile(re.escape(key).replace(r"\*", ".+"))
    for group in WIDGET_BINDINGS.values():
        for b in group:
            for state in ([{}] if not callable(b.key) else states):
                resolved = b.resolve(state)
                if resolved is not None and (resolved == key or pattern.fullmatch(resolved)):
                    return True
    return False


def test_the_scan_finds_the_pages_controls():
    keys = widget_keys()
    for expected in ("set_epochs", "prune_scorer", "lt_rate", "gl_levels_*", "thr_layer_t:*",
                     "prune_threshold_magnitude_True", "runs_name_*"):
        assert expected in keys, sorted(keys)
    assert len(keys) >= 60


def test_every_control_that_changes_a_number_is_carried_by_a_link():
    unbound = {k: where for k, where in widget_keys().items()
               if k not in VIEW_ONLY and k not in NOT_CARRIED and not bound(k)}
    assert not unbound, (
        "These controls are in no link: give each a Binding in pruning/app/url_state.PROPS "
        "(a teacher's link then reproduces it), or, if it changes only what is shown, list it "
        f"in VIEW_ONLY here with the reason: {unbound}")


def test_the_lists_name_real_controls_and_no_carried_one():
    keys = widget_keys()
    for k in [*VIEW_ONLY, *NOT_CARRIED]:
        assert k in keys, f"{k} is listed here but no page has it any more"
        assert not bound(k), f"{k} is carried by a link now: take it off the list"
