"""Train: see the data, train a dense model with live curves, inspect the result.

The new model replaces the session's model only when training finishes: leaving the page or
changing a setting mid-run stops the run and keeps the previous model.
"""
from dataclasses import replace

import streamlit as st

from pruning.app.job_costs import training_estimate
from pruning.core.records import train_model
from pruning.core.training import validate_train_config
from pruning.errors import PruningError
from pruning.present.boundary import boundary_grid
from pruning.present.charts import confusion_matrix_figure, training_curves
from pruning.present.data_preview import data_samples_figure
from pruning.present.format import pct
from pruning.present.live_training import LIVE_RESOLUTION, live_boundary, live_network
from pruning.present.network_diagram import MAX_DIAGRAM_WEIGHTS
from pruning.present.style import font_scale
from pruning.present.training import (
    generalization_note,
    mistake_note,
    predict_test_split,
)
from ui.cache import get_data
from ui.charts import show_chart
from ui.jobs import run_job
from ui.live_training import LiveTraining, network_weights, show_vega
from ui.persist import job, running_job
from ui.settings import DATASET_LABELS, current_configs
from ui.widgets import NOTICE, remembered, show_error
from ui.workspace import workspace

RUN_KEY = "train_run"  # {"epochs": N, "done": k} while a run is in progress


def describe(data_cfg, model_cfg, train_cfg) -> str:
    model = (f"MLP {'-'.join(map(str, model_cfg.hidden))}" if model_cfg.kind == "mlp"
             else f"CNN {'-'.join(map(str, model_cfg.channels))}")
    extras = []
    if data_cfg.train_size:
        extras.append(f"{data_cfg.train_size:,} training examples")
    if data_cfg.label_noise:
        extras.append(f"{pct(data_cfg.label_noise, 0)} label noise")
    return (f"{DATASET_LABELS.get(data_cfg.name, data_cfg.name)} · {model} · "
            f"{train_cfg.epochs} epochs · {train_cfg.optimizer}, lr {train_cfg.lr:g}, "
            f"batch {train_cfg.batch_size}, weight decay {train_cfg.weight_decay:g} · "
            f"seed {train_cfg.seed}" + (" · " + ", ".join(extras) if extras else ""))


def hyper_parameters(base):
    """The page's own training knobs on top of the sidebar's epochs and seed."""
    c1, c2, c3, c4 = st.columns(4)
    lr = c1.number_input("Learning rate", min_value=0.0, max_value=1.0, step=1e-4, format="%.4f",
                         help="How big each update step is. Too small: slow progress. Too "
                              "large: the loss jumps around or explodes.",
                         **remembered("train_lr", base.lr))
    opt = c2.selectbox("Optimizer", ["adam", "sgd"],
                       format_func={"adam": "Adam", "sgd": "SGD with momentum"}.get,
                       help="Adam adapts the step size of every weight and usually needs no "
                            "tuning. SGD takes plain gradient steps (with momentum 0.9); try a "
                            "learning rate around 0.05.",
                       **remembered("train_optimizer", base.optimizer))
    bs = c3.number_input("Batch size", min_value=1, max_value=4096, step=16,
                         help="Examples per update step. Smaller batches: more, noisier steps "
                              "per epoch.", **remembered("train_batch_size", base.batch_size))
    wd = c4.number_input("Weight decay", min_value=0.0, max_value=1.0, step=1e-4, format="%.4f",
                         help="Pulls every weight a little towards zero at each step (L2 "
                              "penalty). Some decay leaves more small weights to prune.",
                         **remembered("train_weight_decay", base.weight_decay))
    return replace(base, lr=float(lr), optimizer=opt, batch_size=int(bs), weight_decay=float(wd))


def run_training(data_cfg, model_cfg, train_cfg, data) -> None:
    """Train with a progress bar and the live view (curves; for 2-D data also the decision
    boundary and the network, ``ui.live_training``); store the model only when it is done."""
    ws = workspace()
    run = st.session_state[RUN_KEY] = {"epochs": train_cfg.epochs, "done": 0}
    live = LiveTraining(data, model_cfg, train_cfg.epochs)

    def work(handle):
        def progress(epoch: int, total: int, row: dict) -> None:
            run["done"] = epoch
            handle.progress(epoch / total if total else 1.0,
                            f"Epoch {epoch} of {total} · train {pct(row['train_acc'])} · "
                            f"validation {pct(row['val_acc'])} · test {pct(row['test_acc'])}")
            live.progress(epoch, total, row)

        return train_model(data_cfg, model_cfg, train_cfg, data=data, progress=progress,
                           watch=live.watch)

    try:   # a job: cost estimate, server limits, queue, Stop (ui.jobs); the page's own
        # notice (RUN_KEY) says where an interrupted run stopped
        with job("Train"):
            trained = run_job("train", "Training", training_estimate(model_cfg, data, train_cfg),
                              work, notice=False)
    except PruningError as exc:
        st.session_state.pop(RUN_KEY, None)
        live.clear()
        show_error(exc)
        return
    ws.set_trained(trained)
    st.session_state.pop(RUN_KEY, None)
    live.clear()
    st.toast("Training finished; the new model is now this session's model.", icon=":material/check_circle:")


def show_pictures(trained, data) -> None:
    """For 2-D data: the final decision boundary and network, drawn as in the live view."""
    ws = workspace()
    pics = ws.extras.get("train.pictures")
    # the specs carry their font sizes: classroom mode switched on or off draws them anew
    if pics is None or pics[0] is not trained or pics[1] != font_scale():
        model = trained.build(data)
        grid = boundary_grid(model, data, resolution=LIVE_RESOLUTION)
        weights = network_weights(model) if trained.model_config.kind == "mlp" else None
        pics = ws.extras["train.pictures"] = (
            trained, font_scale(), live_boundary(grid, data),
            None if weights is None else live_network(weights))
    _, _, boundary, network = pics
    c1, c2 = st.columns(2)
    show_vega(boundary, c1, alt="The trained model's decision boundary over the data.")
    if network is not None:
        show_vega(network, c2, alt="The trained network: one line per weight, width = |weight|.")
    else:
        c2.caption("The network diagram is drawn for small MLPs (up to "
                   f"{MAX_DIAGRAM_WEIGHTS:,} weights), e.g. hidden sizes 32,32.")


def show_result(data) -> None:
    """Metrics, curves, confusion matrix and history of the session's model."""
    ws = workspace()
    trained = ws.trained
    d, m, t = trained.data_config, trained.model_config, trained.train_config
    st.header("Your model")
    st.caption(describe(d, m, t))
    met = trained.metrics
    gap = 100 * (met["train_acc"] - met["test_acc"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Train accuracy", f"{pct(met['train_acc'])}",
              help="Share of training examples classified as labelled (noisy labels count "
                   "as they are).")
    c2.metric("Validation accuracy", f"{pct(met['val_acc'])}",
              help="Held-out examples used to compare settings.")
    c3.metric("Test accuracy", f"{pct(met['test_acc'])}",
              help="Held-out examples never used for any decision: the honest score.")
    c4.metric("Train − test gap", f"{gap:.1f} points",
              help="How much better the model does on data it has seen than on new data. "
                   "A large gap means overfitting.")
    st.info(NOTICE + generalization_note(
        met, len(data.class_names), t.epochs, d.label_noise, trained.history))
    if data.n_features == 2:
        show_pictures(trained, data)

    c1, c2 = st.columns(2)
    show_chart(training_curves(trained.history, "acc"),
               key="train_acc_curve", where=c1)
    show_chart(training_curves(trained.history, "loss"),
               key="train_loss_curve", where=c2)

    preds = ws.extras.get("train.test_predictions")
    if preds is None or preds[0] is not trained:
        preds = (trained, *predict_test_split(trained, data))
        ws.extras["train.test_predictions"] = preds
    _, y_true, y_pred = preds
    c1, c2 = st.columns([3, 2])
    show_chart(confusion_matrix_figure(y_true, y_pred, data.class_names), key="train_confusion", where=c1)
    with c2:
        st.markdown("#### Reading the confusion matrix")
        st.markdown("Row = the true class, column = the class the model predicted. The "
                    "diagonal counts correct answers; every other cell is a mistake.")
        st.markdown(mistake_note(y_true, y_pred, data.class_names))
        st.download_button("Download training history (CSV)",
                           trained.history.to_csv(index=False), file_name="training_history.csv",
                           mime="text/csv", key="train_history_csv",
                           help="One row per epoch: loss and accuracy on train, validation "
                                "and test.")


st.title(":material/model_training: Train")
st.markdown("#### Train a dense network: the starting point that pruning cuts down.")

# (a run still going in the background after a dropped connection is not stale: app.py says so)
stale = None if running_job() else st.session_state.pop(RUN_KEY, None)
if stale is not None:
    kept = ("Your previous model is unchanged." if workspace().trained is not None
            else "No model was stored.")
    st.warning(f"The last training run stopped after epoch {stale['done']} of "
               f"{stale['epochs']} (Stop was pressed, the page was left or a setting changed). {kept} "
               f"Press **Train** to start again.")

configs = None
try:
    configs = current_configs()
except PruningError as exc:
    show_error(exc)

data = None
if configs is not None:
    data_cfg, model_cfg, base_train_cfg = configs
    st.caption("Data set, model, seed and epochs are set in the sidebar and shared by every page.")
    try:
        data = get_data(data_cfg)
    except PruningError as exc:  # includes DatasetUnavailable (MNIST offline)
        show_error(exc)

if data is not None:
    sizes = data.sizes()
    st.header("The data")
    st.markdown(f"**{DATASET_LABELS.get(data_cfg.name, data_cfg.name)}**: {data.n_classes} "
                f"classes, {sizes['train']:,} training / {sizes['val']:,} validation / "
                f"{sizes['test']:,} test examples, {data.n_features} inputs each.")
    show_chart(data_samples_figure(data, seed=data_cfg.seed),
               key="train_samples")

    st.header("Training")
    train_cfg = hyper_parameters(base_train_cfg)
    problem = None
    try:
        validate_train_config(train_cfg)
    except PruningError as exc:
        problem = exc
        show_error(exc)
    st.caption("Settings: " + describe(data_cfg, model_cfg, train_cfg))
    if st.button("▶ Train", type="primary", key="train_button", disabled=problem is not None,
                 help="Train a new model with these settings. Your current model stays until "
                      "the new one is finished."):
        run_training(data_cfg, model_cfg, train_cfg, data)

ws = workspace()
if ws.trained is not None:
    try:
        trained_data = (data if data is not None and ws.trained.data_config == data_cfg
                        else get_data(ws.trained.data_config))
    except PruningError as exc:
        show_error(exc)
    else:
        if configs is not None and (ws.trained.data_config, ws.trained.model_config) != configs[:2]:
            st.info("The sidebar settings differ from your model's. Your model below stays in "
                    "use on every page until you press **Train**.")
        show_result(trained_data)
else:
    st.info("No trained model in this session yet: press **Train** above.")
