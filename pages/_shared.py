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
from pruning.data import DATASETS, TOY_2D, DataBundle, load_dataset
from pruning.errors import PruningError
from pruning.workspace import TrainedModel, Workspace, train_model

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
