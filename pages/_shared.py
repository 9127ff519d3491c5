"""UI glue shared by every page: the app-wide settings, the session's workspace, caches.

Only widget reading and rendering lives here; every computation is a call into ``pruning``.

Isolation rules (many students share one server):
  * ``st.cache_resource`` holds only things nobody mutates: data bundles (read-only tensors)
    and the default ``TrainedModel`` (its weights are copied into a fresh module on every use).
  * Each session's own results live in ``st.session_state["workspace"]``.
"""
from __future__ import annotations

import logging

import streamlit as st
import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import TOY_2D, DataBundle, load_dataset
from pruning.core.records import TrainedModel, Workspace, train_model
from pruning.errors import PruningError


# A folder named ``pages/`` next to app.py is also Streamlit's *legacy* multipage layout, used
# until some session runs ``st.navigation``. So the first visitors after a server start who
# open a deep link (a teacher's ``/prune?…``) get that page run alone, without app.py: no
# settings sidebar, no link settings, every file of pages/ listed as a page. Every page imports
# this module first, so the first such run switches the legacy mode off for the whole server
# and asks for a rerun through app.py (page and query string kept). Not ``st.rerun()``: it
# raises, and an exception inside this import leaves the module half-initialised for the
# sessions importing it at the same moment (20 students at once got ImportErrors, measured
# by tests/load/load_test.py); a rerun *request* is honoured at the page's next Streamlit
# call, outside any import. Sessions already running a legacy run at that moment show it
# once and are back on the next click. Renaming pages/ would remove the legacy mode entirely.
def _leave_legacy_pages_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import RerunData, get_script_run_ctx
    except ImportError:  # a Streamlit without the legacy mode or these internals
        return
    if not getattr(PagesManager, "uses_pages_directory", None):
        return
    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    if ctx is not None and getattr(ctx, "script_requests", None) is not None:
        ctx.script_requests.request_rerun(RerunData(query_string=ctx.query_string,
                                                    page_script_hash=ctx.page_script_hash))


_leave_legacy_pages_mode()

# The server log says when shared work really runs (not served from a cache): the load test
# counts these lines to show the default model is trained once for a whole class.
_log = logging.getLogger("pruning_playground")
if not _log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)

# One student's training must not starve the others: torch's intra-op threads are
# process-wide, so cap them once for the whole server.
torch.set_num_threads(1)

DATASET_LABELS = {
    "digits": "Digits 8×8 (offline)",
    "moons": "Moons (2-D)",
    "circles": "Circles (2-D)",
    "spirals": "Spirals (2-D)",
    "xor": "XOR (2-D)",
    "mnist": "MNIST 28×28 (download)",
    "fashion_mnist": "Fashion-MNIST 28×28 (download)",
    "mnist1d": "MNIST-1D (generated)",
}


def workspace() -> Workspace:
    """This session's workspace (created on first use)."""
    if "workspace" not in st.session_state:
        st.session_state["workspace"] = Workspace()
    return st.session_state["workspace"]


# ----------------------------------------------------------------------------- settings
SETTINGS_DEFAULTS = {
    "set_dataset": "digits",
    "set_model": "mlp",
    "set_hidden": "300,100",
    "set_seed": 0,
    "set_epochs": 30,
    "set_train_size": 0,     # 0 = all
    "set_label_noise": 0.0,
    "set_noise": 0.2,
}


def _init_settings() -> None:
    for k, v in SETTINGS_DEFAULTS.items():
        st.session_state.setdefault(k, v)


def parse_hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in str(text).replace(" ", "").split(",") if s)
    except ValueError:
        raise PruningError(f"hidden sizes must be whole numbers separated by commas, like 300,100; got {text!r}")
    if not sizes or any(s < 1 or s > 4096 for s in sizes) or len(sizes) > 6:
        raise PruningError(f"give 1 to 6 hidden sizes between 1 and 4096, like 300,100; got {text!r}")
    return sizes


def current_configs() -> tuple[DataConfig, ModelConfig, TrainConfig]:
    """The app-wide settings as configs (raises PruningError for bad text input)."""
    _init_settings()
    s = st.session_state
    seed = int(s["set_seed"])
    data = DataConfig(name=s["set_dataset"],
                      train_size=int(s["set_train_size"]) or None,
                      label_noise=float(s["set_label_noise"]), noise=float(s["set_noise"]),
                      seed=seed)
    model = ModelConfig(kind=s["set_model"], hidden=parse_hidden(s["set_hidden"]))
    train = TrainConfig(epochs=int(s["set_epochs"]), seed=seed)
    return data, model, train


def render_settings_sidebar() -> None:
    """The settings every page shares: data set, model, seed (drawn in the sidebar)."""
    _init_settings()
    with st.sidebar:
        st.markdown("### Experiment settings")
        st.selectbox("Data set", list(DATASET_LABELS), key="set_dataset",
                     format_func=DATASET_LABELS.get,
                     help="What the network learns to classify. Digits works offline; MNIST "
                          "and Fashion-MNIST download once. The 2-D sets show decision boundaries.")
        st.selectbox("Model", ["mlp", "cnn"], key="set_model",
                     format_func={"mlp": "MLP (fully connected)", "cnn": "Small CNN (images only)"}.get,
                     help="MLP: layers of neurons each connected to every input. "
                          "CNN: small 3×3 filters slid over the image.")
        if st.session_state["set_model"] == "mlp":
            st.text_input("Hidden layer sizes", key="set_hidden",
                          help="Neurons per hidden layer, comma-separated. 300,100 is the classic "
                               "LeNet-300-100 shape.")
        st.number_input("Seed", min_value=0, max_value=10_000, step=1, key="set_seed",
                        help="Fixes every random choice (split, initial weights, batch order). "
                             "Same seed, same numbers.")
        if classroom_mode():
            # Hidden, not reset: re-assigning keeps Streamlit from dropping the values of
            # widgets that are not drawn, so the experiment stays the same.
            for key in ("set_epochs", "set_train_size", "set_label_noise", "set_noise"):
                if key in st.session_state:
                    st.session_state[key] = st.session_state[key]
        else:
            with st.expander("Training data knobs"):
                st.number_input("Training epochs", min_value=0, max_value=500, step=5, key="set_epochs",
                                help="Passes over the training data for the dense model.")
                st.number_input("Training-set size (0 = all)", min_value=0, max_value=100_000, step=50,
                                key="set_train_size",
                                help="Use fewer training examples to make overfitting easy to see.")
                st.slider("Label noise", 0.0, 1.0, step=0.05, key="set_label_noise",
                          help="Fraction of training labels replaced by a wrong class. "
                               "Validation and test labels stay correct.")
                if st.session_state["set_dataset"] in TOY_2D:
                    st.slider("Input noise (2-D sets)", 0.0, 1.0, step=0.05, key="set_noise",
                              help="How much the 2-D points scatter around their shape.")
        st.toggle("Classroom mode", key="set_classroom",
                  help="For a projector: larger text and charts, advanced controls hidden. "
                       "Add ?classroom=1 to a link to open it this way.")


# ----------------------------------------------------------------------------- caches
@st.cache_resource(show_spinner="Loading data…", max_entries=16)
def _cached_data(_cfg: DataConfig, key: str) -> DataBundle:
    return load_dataset(_cfg)


def get_data(cfg: DataConfig) -> DataBundle:
    """The (shared, read-only) data bundle for ``cfg``."""
    return _cached_data(cfg, repr(cfg))


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_default_model(_d: DataConfig, _m: ModelConfig, _t: TrainConfig, key: str) -> TrainedModel:
    _log.info("training shared default model %s", key)
    return train_model(_d, _m, _t, data=get_data(_d))


def default_trained_model(d: DataConfig, m: ModelConfig, t: TrainConfig) -> TrainedModel:
    """Trained once per server for these settings and shared read-only between sessions."""
    return _cached_default_model(d, m, t, repr((d, m, t)))


def require_trained_model() -> TrainedModel | None:
    """The session's trained model, or None after offering a one-click default."""
    ws = workspace()
    if ws.trained is not None:
        return ws.trained
    st.info("No trained model in this session yet. Train one on the **Train** page, "
            "or start from the default model for the current settings.")
    if st.button("Use a trained default model", type="primary", key="use_default_model",
                 help="Trains the model for the sidebar settings once on this server "
                      "(a few seconds) and gives you your own copy."):
        try:
            d, m, t = current_configs()
            with st.spinner("Training the default model…"):
                ws.set_trained(default_trained_model(d, m, t))
        except PruningError as exc:
            st.error(str(exc))
            return None
        st.rerun()
    return None


def show_error(exc: Exception) -> None:
    """A clear message for a bad input (never a traceback)."""
    st.error(f"⚠️ {exc}")


# ----------------------------------------------------------------------------- page widgets
def remembered(key: str, default, lo=None, hi=None) -> dict:
    """Widget kwargs that keep a page's own widget value while the user visits other pages.

    Streamlit drops the state of a widget that a run does not draw, so a page-local slider
    would jump back to its default after a visit elsewhere. The value lives under ``key``
    (read it as ``st.session_state[key]`` or from the widget's return value); the widget
    itself uses ``"_w_" + key``. ``lo`` / ``hi`` clamp a remembered value into a range that
    may have changed (e.g. a slider whose maximum depends on the model).

    Usage: ``t = st.slider("Threshold", 0.0, 1.0, step=0.01, **remembered("thr_t", 0.3))``
    """
    st.session_state.setdefault(key, default)
    value = st.session_state[key]
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    widget = "_w_" + key
    if widget not in st.session_state or st.session_state[widget] != value:
        st.session_state[key] = value
        st.session_state[widget] = value
    return {"key": widget, "on_change": _copy_widget_value, "args": (key,)}


def _copy_widget_value(key: str) -> None:
    st.session_state[key] = st.session_state["_w_" + key]


def set_remembered(key: str, value) -> None:
    """Change a ``remembered`` widget's value from code (call it in a callback, before the
    widget is drawn)."""
    st.session_state[key] = value
    st.session_state["_w_" + key] = value


# ----------------------------------------------------------------------------- shareable links
# The settings a link carries (pruning.app.url_state.AppSettings) and the widgets that show them.
# A page that adds a widget for one of these settings adds a Binding here, so that opening a
# link shows the value and moving the widget updates the address bar. Keys of pages owned by
# others are listed as those pages name them (Prune: prune_*, Iterate: it_*).
from pruning.app.url_state import (  # noqa: E402
    PARAM_NAMES,
    AppSettings,
    Binding,
    bound_values,
    encode_settings,
    parse_query_params,
    resolve_pending,
    settings_from_widgets,
    widget_values,
)
from pruning.present import style  # noqa: E402


def _pct(fraction: float) -> float:
    return round(100.0 * float(fraction), 6)


def _fraction_text(percent) -> str:
    return repr(round(float(percent) / 100.0, 10))


def _prune_threshold_slider_key(state) -> str:
    return (f"prune_threshold_{state.get('prune_scorer', 'magnitude')}_"
            f"{state.get('prune_include_output', True)}")


def _prune_threshold(state):
    if state.get("prune_threshold_exact_on"):
        return state.get("prune_threshold_exact")
    return state.get(_prune_threshold_slider_key(state))


def _by_threshold(state) -> bool:
    return state.get("prune_mode") == "threshold"


def _by_sparsity(state) -> bool:
    return state.get("prune_mode", "sparsity") == "sparsity"


URL_BINDINGS: dict[str, list[Binding]] = {
    "dataset": [Binding("set_dataset")],
    "model": [Binding("set_model")],
    "hidden": [Binding("set_hidden", to_widget=lambda h: ",".join(str(x) for x in h))],
    "seed": [Binding("set_seed", to_widget=int)],
    "classroom": [Binding("set_classroom", to_widget=bool, to_text=lambda v: "1" if v else "0")],
    "scorer": [Binding("prune_scorer"), Binding("it_scorer")],
    "scope": [Binding("prune_scope"), Binding("it_scope")],
    "sparsity": [
        Binding("prune_sparsity", _pct, _fraction_text, active=_by_sparsity,
                companions=(("prune_mode", "sparsity"),)),
        Binding("prune_mode", to_text=_fraction_text, active=_by_sparsity, seed=False,
                read=lambda state: state.get("prune_sparsity", 90.0)),
        Binding("it_sparsity", _pct, _fraction_text),
    ],
    "threshold": [
        Binding("prune_threshold_exact", float, repr,
                active=lambda state: _by_threshold(state) and bool(state.get("prune_threshold_exact_on")),
                companions=(("prune_mode", "threshold"), ("prune_threshold_exact_on", True))),
        Binding(_prune_threshold_slider_key, to_text=repr, seed=False,
                active=lambda state: _by_threshold(state) and not state.get("prune_threshold_exact_on")),
        Binding("prune_mode", to_text=repr, active=_by_threshold, read=_prune_threshold, seed=False),
        Binding("prune_threshold_exact_on", to_text=repr, active=_by_threshold,
                read=_prune_threshold, seed=False),
    ],
    "schedule": [Binding("it_schedule")],
    "rounds": [Binding("it_rounds", to_widget=int)],
}


def _query_params() -> dict:
    try:
        return dict(st.query_params.to_dict())
    except Exception:  # a malformed query string must never stop the app
        return {}


def sync_url_settings() -> AppSettings:
    """Keep the address bar and the widgets in step; call once per run, before any widget.

    First run of a session: the link's settings are read (bad values ignored, with notices
    kept for ``show_url_notices``) and seeded into their widgets. Later runs: the widget the
    user moved updates the settings. Every run: widgets that appeared without a value (a page
    opened) are seeded, the address bar is rewritten if it differs, and the figure font scale
    follows classroom mode.
    """
    s = st.session_state
    pending: set[str] = set()
    if "_url_settings" not in s:
        params = _query_params()
        settings, notices = parse_query_params(params)
        given = {n for n in PARAM_NAMES if n in params and not parse_query_params({n: params[n]})[1]}
        s["_url_notices"] = notices
        touched = set(given)
    else:
        settings, changed, pending = settings_from_widgets(
            s, s.get("_url_seen", {}), s["_url_settings"], URL_BINDINGS)
        touched = s.get("_url_touched", set()) | changed
    for key, value in widget_values(settings, touched, URL_BINDINGS, s).items():
        s[key] = value
    s.setdefault("set_classroom", False)
    s["_url_settings"], s["_url_touched"], s["_url_pending"] = settings, touched, pending
    _write_query_params(settings)
    style.set_font_scale(style.CLASSROOM_FONT_SCALE if settings.classroom else 1.0)
    return settings


def _write_query_params(settings: AppSettings, always: bool = False) -> None:
    params = encode_settings(settings)
    if always or _query_params() != params:
        st.query_params.from_dict(params)


def remember_url_widgets() -> None:
    """End of a run (call it in a ``finally`` around the page): settle settings whose widget
    only appeared during this run, and record the bound widgets' values so the next run can
    tell which one the user moved."""
    s = st.session_state
    pending = s.get("_url_pending")
    if pending and "_url_settings" in s:
        settings, changed = resolve_pending(s, s["_url_settings"], pending, URL_BINDINGS)
        s["_url_settings"], s["_url_pending"] = settings, set()
        s["_url_touched"] = s.get("_url_touched", set()) | changed
    if "_url_settings" in s:
        # Written again at the end of every run: when a session starts on a page other than
        # Home, the browser applies the page's own address after the first write and drops
        # the query (measured with Chromium); a later write wins.
        _write_query_params(s["_url_settings"], always=True)
    s["_url_seen"] = bound_values(s, URL_BINDINGS)


def show_url_notices() -> None:
    """The link's ignored values, as a warning that stays until dismissed."""
    notices = st.session_state.get("_url_notices") or []
    if not notices:
        return
    box = st.container()
    box.warning("**Some settings in this link were ignored** — the app uses its defaults for "
                "them:\n\n" + "\n".join(f"- {n}" for n in notices[:12]))
    if box.button("Dismiss", key="url_notices_dismiss"):
        st.session_state["_url_notices"] = []
        st.rerun()


def url_settings() -> AppSettings:
    """The settings the address bar currently carries."""
    return st.session_state.get("_url_settings") or AppSettings()


def share_link_query() -> str:
    """``?dataset=…&…`` for the current settings (pages may show it next to a copy hint)."""
    from urllib.parse import urlencode

    return "?" + urlencode(encode_settings(url_settings()))


# ----------------------------------------------------------------------------- classroom mode
def classroom_mode() -> bool:
    """True when the teacher switched on classroom mode (``?classroom=1``): pages hide their
    advanced controls (``if not classroom_mode(): …``) and everything is drawn larger."""
    return bool(st.session_state.get("set_classroom", False))


_CLASSROOM_CSS = """
<style>
html { font-size: 18px; }
section[data-testid="stSidebar"] { width: 22rem !important; min-width: 22rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
h1 { font-size: 2.8rem !important; }
</style>
"""


def apply_classroom_style() -> None:
    """Larger text for a projector (figures get larger fonts through ``sync_url_settings``)."""
    if classroom_mode():
        st.markdown(_CLASSROOM_CSS, unsafe_allow_html=True)
