"""The experiment settings every page shares (data set, model, seed, …), drawn in the sidebar
and read as configs."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from pruning.config import DataConfig, ModelConfig, TrainConfig, parse_hidden
from pruning.core.data import TOY_2D
from ui.classroom import classroom_mode

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


#: (TrainConfig field, session key of the Train page's widget, type) of the training knobs
#: on the Train page.
TRAIN_PAGE_KNOBS = (("lr", "train_lr", float), ("optimizer", "train_optimizer", str),
                    ("batch_size", "train_batch_size", int),
                    ("weight_decay", "train_weight_decay", float))


def _init_settings() -> None:
    for k, v in SETTINGS_DEFAULTS.items():
        st.session_state.setdefault(k, v)


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
    # The Train page's own knobs count everywhere a model is trained for these settings (the
    # one-click default model, Lottery, Structured): a link carries them (``url_state``) and
    # a student who opens it without visiting Train must get the teacher's numbers.
    knobs = {f: cast(s[key]) for f, key, cast in TRAIN_PAGE_KNOBS if s.get(key) is not None}
    return data, model, replace(train, **knobs) if knobs else train


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


def settings_from_checkpoint(data_cfg: DataConfig, model_cfg: ModelConfig,
                             train_cfg: TrainConfig) -> None:
    """Show a loaded model's settings in the sidebar (call it in a widget callback, before
    the sidebar is drawn)."""
    st.session_state.update({
        "set_dataset": data_cfg.name, "set_model": model_cfg.kind,
        "set_hidden": ",".join(map(str, model_cfg.hidden)), "set_seed": train_cfg.seed,
        "set_epochs": train_cfg.epochs, "set_train_size": data_cfg.train_size or 0,
        "set_label_noise": data_cfg.label_noise, "set_noise": data_cfg.noise})
