"""Fine-tune: retrain the kept pruned model with its pruned weights held at exactly zero."""
import pandas as pd
import streamlit as st

from pruning.app.job_costs import training_estimate
from pruning.app.url_state import FT_BATCH_SIZES, FT_LEARNING_RATES
from pruning.app.workspace import describe_pruned
from pruning.config import TrainConfig
from pruning.core.masks import count_kept, count_total, sparsity
from pruning.core.records import finetune_pruned
from pruning.errors import PruningError
from pruning.labs.prune_step import nonzero_at_pruned
from pruning.present.format import pct
from pruning.present.prune import (
    LOADED_FINETUNED_NOTE,
    finetune_change_note,
    finetune_note,
    layer_heatmap,
    recovery_curves,
    zero_check_note,
)
from ui.charts import show_chart
from ui.jobs import run_job
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.persist import job
from ui.scaffold import ensure_default_pruned, page_context
from ui.timeline import timeline_panel
from ui.widgets import NOTICE, delta_colour, show_error
from ui.workspace import workspace

LEARNING_RATES = list(FT_LEARNING_RATES)

st.title("🔧 Fine-tune")
st.markdown("Pruning usually costs accuracy. **Fine-tuning** trains the surviving weights a little "
            "more while every pruned weight stays **exactly zero**, so the network can make up "
            "for what it lost.")

ws = workspace()
if ws.pruned is None or ws.trained is None:
    st.info("No pruned model in this session yet. Keep one on the **Prune** page, or start from "
            "the model pruned to 90 % with global magnitude scores.")
    c1, c2 = st.columns([1, 2])
    if c1.button("Prune the model to 90 % (global magnitude)", type="primary",
                 key="ft_default_prune",
                 help="Uses your trained model (or trains the default one for the sidebar "
                      "settings), removes the 90 % of weights with the smallest |w|, and keeps "
                      "the result here."):
        try:
            ensure_default_pruned(0.9)
        except PruningError as exc:
            show_error(exc)
            stop_page()
        st.rerun()
    c2.page_link("pages/prune.py", label="Choose the pruning yourself on the Prune page →")
    next_step_link()
    stop_page()

trained, data, _, ws = page_context()
pruned = ws.pruned
pruned_sparsity = sparsity(pruned.masks)
st.markdown(f"**Pruned model:** {describe_pruned(pruned)} — "
            f"{pct(pruned_sparsity)} of the prunable weights are zero; test accuracy "
            f"{pct(pruned.metrics['test_acc'])} (dense: {pct(trained.metrics['test_acc'])}).")

# ----------------------------------------------------------------------------- controls
c1, c2, c3, c4, c5 = st.columns(5)
# Defaults set here, not as value=: a shared link may have seeded these keys already
# (pruning.app.url_state.PROPS), and a widget must not get both.
for _key, _default in (("ft_epochs", 10), ("ft_lr", 1e-3), ("ft_momentum", 0.9), ("ft_batch", 32)):
    st.session_state.setdefault(_key, _default)
epochs = c1.number_input("Epochs", min_value=0, max_value=200, step=1, key="ft_epochs",
                         help="Passes over the training data. Each pass updates only the weights "
                              "that survived pruning.")
lr = c2.select_slider("Learning rate", LEARNING_RATES, key="ft_lr",
                      format_func=lambda v: f"{v:g}",
                      help="Step size of each update. Too large and the survivors are thrown "
                           "far from their trained values; too small and nothing recovers.")
optimizer = c3.radio("Optimizer", ["adam", "sgd"], key="ft_optimizer", horizontal=True,
                     format_func={"adam": "Adam", "sgd": "SGD + momentum"}.get,
                     help="Adam adapts the step per weight and works with 0.001. SGD with "
                          "momentum usually wants a larger rate, e.g. 0.01–0.05.")
momentum = c4.slider("Momentum (SGD)", 0.0, 0.99, step=0.01, key="ft_momentum",
                     disabled=optimizer != "sgd",
                     help="How much of the previous update SGD keeps adding. Pruned positions "
                          "get their momentum zeroed too.")
batch = c5.selectbox("Batch size", list(FT_BATCH_SIZES), key="ft_batch",
                     help="Examples per update: smaller batches give more, noisier updates.")

run = st.button("Fine-tune", type="primary", key="ft_run",
                help="Starts from the pruned model kept on the Prune page (your dense model is "
                     "not changed).")
live = st.empty()
if run:
    cfg = TrainConfig(epochs=int(epochs), batch_size=int(batch), lr=float(lr), optimizer=optimizer,
                      momentum=float(momentum), seed=trained.train_config.seed)
    rows = []

    def work(handle):
        def progress(epoch, total, row):
            rows.append(row)
            handle.progress(epoch / max(total, 1), f"Fine-tuning: epoch {epoch} of {total}")
            show_chart(recovery_curves(pd.DataFrame(rows), trained.metrics,
                                       title="recovery while fine-tuning (live)"),
                       key=f"ft_live_{epoch}", where=live)

        return finetune_pruned(trained, pruned, data, cfg, progress=progress)

    try:   # a job: estimate, server limits, queue, Stop (ui.jobs)
        with job("Fine-tune"):
            ws.keep_finetuned(run_job("finetune", "Fine-tuning",
                                      training_estimate(trained.model_config, data, cfg,
                                                        copies=4), work))
    except PruningError as exc:
        show_error(exc)
    live.empty()

ft = ws.finetuned
if ft is None:
    st.caption("Press **Fine-tune** to start. With the defaults this takes a few seconds on digits.")
    timeline_panel("ft")
    next_step_link()
    stop_page()

# ----------------------------------------------------------------------------- results
# A model loaded from a checkpoint (What shrank?) has no fine-tuning history: max() of an
# empty column is NaN, which int() refused with a raw traceback.
loaded = ft.history.empty
if loaded:
    st.info(LOADED_FINETUNED_NOTE)
ft_epochs = 0 if loaded else int(ft.history["epoch"].max())
for split in ("test", "train"):
    d, p, f = (trained.metrics[f"{split}_acc"], pruned.metrics[f"{split}_acc"],
               ft.metrics[f"{split}_acc"])
    m = st.columns(3)
    m[0].metric(f"Dense {split} accuracy", pct(d), help="Before pruning.")
    m[1].metric(f"Pruned {split} accuracy", pct(p), delta=f"{100 * (p - d):+.1f} points",
                delta_color=delta_colour(p - d),
                help="Right after pruning, before fine-tuning; change against the dense model.")
    m[2].metric(f"Fine-tuned {split} accuracy", pct(f), delta=f"{100 * (f - p):+.1f} points",
                delta_color=delta_colour(f - p),
                help=f"After {ft_epochs} epochs of fine-tuning; change against the pruned model.")
if not loaded:
    st.markdown(NOTICE + finetune_note(trained.metrics, pruned.metrics, ft.metrics,
                                      pruned_sparsity, ft_epochs))

bad = nonzero_at_pruned(ft.state, ft.masks)
n_bad = sum(bad.values())
z1, z2 = st.columns([1, 3])
z1.metric("Pruned weights ≠ 0", f"{n_bad:,}",
          help="Counted in the fine-tuned weights wherever the mask says 'pruned'. Must be 0.")
n_masked = count_total(ft.masks) - count_kept(ft.masks)
(z2.success if n_bad == 0 else z2.error)(zero_check_note(n_bad, n_masked))

if not loaded:
    show_chart(recovery_curves(ft.history, trained.metrics), key="ft_curves")
    st.download_button("Download the fine-tuning history (CSV)", ft.history.to_csv(index=False),
                       "finetune_history.csv", "text/csv", key="ft_history_csv",
                       help="One row per epoch: loss and accuracy on train, validation and test.")

st.subheader("Weights before and after fine-tuning")
names = list(ft.masks)
layer = st.selectbox("Layer", names, key="ft_layer", format_func=lambda n: n.removesuffix(".weight"),
                     help="Which layer's weight matrix to show.")
w_before, w_after, mask = pruned.state[layer], ft.state[layer], ft.masks[layer]
zmax = float(max(w_before.abs().max(), w_after.abs().max())) or 1.0
h1, h2 = st.columns(2)
short = layer.removesuffix(".weight")
show_chart(layer_heatmap(w_before, mask, title=f"{short}: pruned, before fine-tuning", zmax=zmax),
           key="ft_heatmap_before", where=h1)
show_chart(layer_heatmap(w_after, mask, title=f"{short}: after fine-tuning", zmax=zmax),
           key="ft_heatmap_after", where=h2)
st.markdown(NOTICE + finetune_change_note(w_before, w_after, mask))

st.page_link("pages/prune.py", label="Repeat: prune this fine-tuned model again →",
             help="The Prune page starts from this fine-tuned model: every weight pruned so far "
                  "stays pruned, and a larger target cuts more.")
timeline_panel("ft")
