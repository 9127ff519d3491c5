"""Generalization lab: make a network overfit on purpose, then measure whether pruning helps —
over several seeds, next to random pruning, early stopping, weight decay and a small dense net.

Results are cached per settings with ``st.cache_data`` (tables only, never models), so a second
visit with the same settings, from any session, is instant.
"""
from dataclasses import replace

import streamlit as st

from pruning.errors import PruningError
from pruning.labs import generalization as gen
from pruning.present.columns import readable_csv
from pruning.present.format import pct
from pruning.present.generalization_figures import (
    level_label,
    overfitting_figure,
    sweep_figure,
)
from pruning.present.generalization_text import (
    CAPACITY_TEXT,
    GAP_CAVEAT,
    explain_sweep,
    overfit_heading,
)
from ui.cache import sweep_with_progress
from ui.charts import show_chart
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.tables import show_table
from ui.widgets import NOTICE, remembered, show_error

RESULT_KEY = "gl_ran"   # session_state: keys of the sweeps this session has run
LEVEL_MENU = gen.LEVEL_MENU


st.title("🔬 Generalization lab")
st.markdown(
    "The article *Understanding Pruning in Deep Learning* says a network with 1000 connections *might* overfit a small data set, and "
    "after pruning 500 of them *might* do better on unseen data. Here you make a network "
    "overfit on purpose and **measure** whether pruning helps — over several seeds, against "
    "random pruning and the usual remedies: early stopping, weight decay and simply a smaller "
    "dense net.")
with st.expander("Capacity and overfitting, in plain words", expanded=False):
    st.markdown(CAPACITY_TEXT)

names = list(gen.PRESETS)
preset_name = st.radio("Experiment", names, horizontal=True,
                       format_func=lambda n: gen.PRESETS[n].title,
                       help="Each preset fixes the data, the network and the training recipe.",
                       **remembered("gl_preset", names[0]))
preset = gen.PRESETS[preset_name]
base = preset.config
st.caption(preset.description)

p = preset_name  # widget values are remembered per preset: each has its own defaults
c1, c2, c3 = st.columns([3, 1, 1])
menu = sorted(set(LEVEL_MENU) | set(base.levels))
levels = c1.multiselect("Sparsity levels", menu, format_func=level_label,
                        help="Fractions of the weights removed. The levels are pruning rounds: "
                             "each starts from the previous level's fine-tuned net.",
                        **remembered(f"gl_levels_{p}", list(base.levels)))
n_seeds = c2.number_input("Seeds", min_value=1, max_value=5, step=1,
                          help="Each seed redraws the split, the noisy labels, the initial "
                               "weights and the batch order. The chart shows mean ± spread.",
                          **remembered(f"gl_seeds_{p}", len(base.seeds)))
rewind = c3.checkbox("Rewind", help="After each pruning round, reset the surviving weights to "
                                    "their initial values before retraining (lottery-ticket "
                                    "style).", **remembered(f"gl_rewind_{p}", base.rewind))
with st.expander("Training budget and controls"):
    d1, d2, d3 = st.columns(3)
    epochs = d1.number_input("Dense training epochs", min_value=1, max_value=1000, step=10,
                             help="The dense net trains this long without early stopping, so "
                                  "it can memorise its training set.",
                             **remembered(f"gl_epochs_{p}", base.train.epochs))
    ft_epochs = d2.number_input("Retraining epochs per level", min_value=0, max_value=1000, step=5,
                                help="Masked fine-tuning after each pruning round (with Rewind: "
                                     "the whole retraining budget).",
                                **remembered(f"gl_ft_{p}", base.finetune_epochs))
    patience = d3.number_input("Early-stopping patience (epochs)", min_value=1, max_value=1000,
                               help="Stop when validation accuracy has not improved for this "
                                    "many epochs; restore the best epoch.",
                               **remembered(f"gl_patience_{p}", base.patience))
    controls = st.multiselect("Controls", list(gen.CONTROLS),
                              format_func=gen.ARM_LABELS.get,
                              help="What pruning is compared with, on the same chart.",
                              **remembered(f"gl_controls_{p}", list(gen.CONTROLS)))

cfg = replace(base, levels=tuple(sorted(float(v) for v in levels)),
              seeds=tuple(range(int(n_seeds))), rewind=bool(rewind),
              train=replace(base.train, epochs=int(epochs)), finetune_epochs=int(ft_epochs),
              patience=int(patience), controls=tuple(c for c in gen.CONTROLS if c in controls))
try:
    gen.validate_sweep_config(cfg)
except PruningError as exc:
    show_error(exc)
    stop_page()
if len(cfg.levels) < 6:
    st.caption(f"{len(cfg.levels)} level(s): six or more give a clearer curve.")

ran: set = st.session_state.setdefault(RESULT_KEY, set())
key = cfg.key()
clicked = st.button("Run the sweep", type="primary", key="gl_run",
                    help="Trains every arm for every seed. The same settings come back "
                         "instantly afterwards (also for other visitors).")
if not clicked and key not in ran:
    st.info("Press **Run the sweep**. The default noisy-digits sweep takes about 15 seconds "
            "on a quiet server, longer when many visitors share it; "
            "results are cached, so the same settings come back instantly.")
    next_step_link()
    stop_page()

try:
    out = sweep_with_progress(cfg)
except PruningError as exc:
    show_error(exc)
    stop_page()
ran.add(key)
runs, history = out["runs"], out["history"]
summary = gen.summarize(runs)
st.caption(f"{len(cfg.seeds)} seed(s) × {len(cfg.levels)} levels, computed in "
           f"{out['seconds']:.0f} s with {out['threads']} CPU thread(s); cached for these settings.")

dense = summary[summary["arm"] == "dense"].iloc[0]
st.subheader("1 · " + overfit_heading(dense["gap_mean"]))
m1, m2, m3 = st.columns(3)
m1.metric("Train accuracy (dense)", f"{pct(dense['train_acc_mean'])}",
          help="On the training labels the net saw, noisy ones included.")
m2.metric("Test accuracy (dense)", f"{pct(dense['test_acc_mean'])}",
          help="On held-out examples with clean labels.")
m3.metric("Train − test gap", f"{100 * dense['gap_mean']:.1f} points",
          help=f"Mean over {int(dense['n_seeds'])} seeds; ± "
               f"{100 * dense['gap_std']:.1f} points (1 sample standard deviation).")
es = runs[runs["arm"] == "early_stopping"].set_index("seed")["epoch"].to_dict()
show_chart(overfitting_figure(history, es or None), key="gl_overfit")

st.subheader("2 · The sweep, with its controls")
show_chart(sweep_figure(summary), key="gl_sweep")
best = gen.best_sparsity(summary)
st.caption(f"The star marks the sparsity with the best mean **validation** accuracy "
           f"({level_label(best)}); the test split never chooses anything. Error bars and bands: "
           "± 1 sample standard deviation over seeds.")

st.subheader("3 · What this run shows")
for sentence in explain_sweep(runs, summary, focus_level=preset.focus_level, history=history):
    st.markdown("- " + sentence)
st.markdown(NOTICE + GAP_CAVEAT)

with st.expander("The numbers (mean and spread over seeds)"):
    view = summary.assign(arm=summary["arm"].map(gen.ARM_LABELS))
    cols = ["arm", "level", "weight_decay", "hidden", "weights", "epoch", "train_acc_mean",
            "val_acc_mean", "test_acc_mean", "test_acc_std", "gap_mean", "gap_std"]
    show_table(view[cols])
d1, d2 = st.columns(2)
d1.download_button("Download every run (CSV)", readable_csv(runs),
                   file_name=f"sweep_{cfg.name}_runs.csv", mime="text/csv", key="gl_dl_runs",
                   help="One row per arm, sparsity level, weight decay and seed.")
d2.download_button("Download the summary (CSV)", readable_csv(summary),
                   file_name=f"sweep_{cfg.name}_summary.csv", mime="text/csv", key="gl_dl_summary")
