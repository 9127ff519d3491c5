"""Iterate: prune + fine-tune in rounds on a schedule, and replay the weights round by round."""
from dataclasses import replace

import pandas as pd
import streamlit as st

from pruning.app.job_costs import iterate_estimate
from pruning.app.runs import iterate_points, iterate_settings, model_settings
from pruning.config import PruneConfig, TrainConfig
from pruning.core.schedules import SCHEDULES, schedule_targets
from pruning.core.selection import SCOPES
from pruning.errors import PruningError
from pruning.labs.iterate import round_budget, run_iterate
from pruning.present.charts import accuracy_vs_sparsity
from pruning.present.columns import readable_csv
from pruning.present.format import pct
from pruning.present.prune import iterate_notice, layer_heatmap, replay_notice
from pruning.present.scorer_compare import method_note
from pruning.scoring import SCORERS
from ui.charts import show_chart
from ui.fragments import live_region
from ui.jobs import run_job
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.persist import job
from ui.scaffold import page_context
from ui.tables import show_table
from ui.widgets import NOTICE, show_error

SCHEDULE_HELP = {
    "oneshot": "One-shot: remove everything in one round, then fine-tune once.",
    "iterative": "Iterative: every round removes the same share of the weights still alive "
                 "(e.g. 5 rounds to 90 %: about 37 % of the survivors each time).",
    "gradual": "Gradual (Zhu & Gupta): a cubic ramp that prunes a lot early and gently at the end.",
}

st.title("🔁 Iterate")
st.markdown("Does pruning a little, fine-tuning, and pruning again keep more accuracy than "
            "pruning everything at once? Pick a schedule, run the rounds, and watch the weights "
            "disappear round by round. The one-shot control gets the **same total fine-tuning "
            "epochs**, so a difference comes from the schedule, not from extra training.")

trained, data, seed, ws = page_context()

# ----------------------------------------------------------------------------- controls
c1, c2, c3, c4 = st.columns(4)
schedule = c1.radio("Schedule", list(SCHEDULES), key="it_schedule", index=1, horizontal=True,
                    format_func={"oneshot": "One-shot", "iterative": "Iterative",
                                 "gradual": "Gradual"}.get,
                    help=" ".join(SCHEDULE_HELP.values()))
rounds = c2.slider("Rounds", 1, 10, 5, key="it_rounds", disabled=schedule == "oneshot",
                   help="How many prune + fine-tune rounds (one-shot always uses one).")
final = c3.slider("Final sparsity (% removed)", 0.0, 100.0, 90.0, 0.5, key="it_sparsity",
                  format="%.1f %%", help="Share of the prunable weights removed after the last round.") / 100
# Defaults set here, not as value=: a shared link may have seeded these keys already
# (pruning.app.url_state.PROPS), and a widget must not get both.
st.session_state.setdefault("it_epochs", 15)
st.session_state.setdefault("it_oneshot", True)
ft_epochs = c4.number_input("Fine-tune epochs in total", min_value=0, max_value=100,
                            key="it_epochs",
                            help="The fine-tuning budget of the whole run, shared over the "
                                 "rounds (5 rounds, 15 epochs → 3 after each pruning step; 0 = "
                                 "prune only). One-shot gets all of it after its single step.")
d1, d2, d3 = st.columns([1, 1, 2])
scorer = d1.selectbox("Scorer", list(SCORERS), key="it_scorer",
                      help="How importance is measured. " +
                           " ".join(f"**{k}**: {s.description}." for k, s in SCORERS.items()))
d1.caption(method_note(scorer))
scope = d2.radio("Scope", list(SCOPES), key="it_scope", index=list(SCOPES).index("global"),
                 horizontal=True, format_func={"layer": "Per layer", "global": "Global"}.get,
                 help="Global: one ranking over all layers. Per layer: each layer loses the same share.")
rewind = d3.checkbox("Rewind survivors to their initial weights", key="it_rewind",
                     help="Lottery-ticket style: after each pruning step the surviving weights go "
                          "back to their values before training, then fine-tuning retrains them.")
oneshot_ctl = d3.checkbox("Also run one-shot pruning with the same budget", key="it_oneshot",
                          disabled=schedule == "oneshot",
                          help="The fair control for a schedule: the same final sparsity in one "
                               "step, fine-tuned for the same total epochs.")
baseline = d3.checkbox("Also run random pruning as a baseline", key="it_baseline",
                       help="The same schedule with random scores: the control every scorer must "
                            "beat. Doubles the running time.")

dense_epochs = int(trained.train_config.epochs)
rewind_epochs = None
if rewind:
    st.session_state.setdefault("it_rewind_epochs", min(dense_epochs, 100))
    rewind_epochs = int(d3.number_input(
        "Retraining epochs per round after rewinding", min_value=0, max_value=100,
        key="it_rewind_epochs",
        help=f"Rewinding resets the survivors to their initial weights, so every round is a "
             f"full retraining: Frankle & Carbin use the dense model's budget "
             f"({dense_epochs} epochs here)."))
n_rounds = 1 if schedule == "oneshot" else int(rounds)
prune_cfg = PruneConfig(scorer=scorer, scope=scope, sparsity=final, threshold=None,
                        schedule=schedule, rounds=n_rounds, finetune_epochs=int(ft_epochs),
                        rewind=rewind, include_output=True, seed=seed)
ft_cfg = TrainConfig(seed=seed)
per_round: list[int] = []   # fine-tuning epochs of each round (also priced by the job)
try:
    targets = schedule_targets(schedule, final, n_rounds)
    per_round, budget_warnings = round_budget(prune_cfg, int(ft_epochs), dense_epochs,
                                              rewind_epochs)
    st.caption("Target after each round: " + " → ".join(pct(t) for t in targets)
               + f". {SCHEDULE_HELP[schedule]} Fine-tuning epochs per round: "
               + ", ".join(str(e) for e in per_round) + f" ({sum(per_round)} in all).")
    for w in budget_warnings:
        st.warning(w)
except PruningError as exc:
    show_error(exc)

if st.button("Run the rounds", type="primary", key="it_run",
             help="Works on a fresh copy of your trained model; the model itself is not changed."):
    def work(handle):
        return run_iterate(trained, data, prune_cfg, ft_cfg, baseline,
                           lambda stage, frac, msg: handle.progress(frac, msg),
                           total_epochs=int(ft_epochs), rewind_epochs=rewind_epochs,
                           with_oneshot=oneshot_ctl and schedule != "oneshot")

    arms = (2 if baseline else 1) + (1 if oneshot_ctl and schedule != "oneshot" else 0)
    epochs_per_arm = sum(per_round) or int(ft_epochs)
    try:   # a job: estimate, server limits, queue, Stop (ui.jobs)
        with job("Iterate"):
            ws.extras["iterate"] = run_job(
                "iterate", "The rounds",
                iterate_estimate(trained.model_config, data, epochs_per_arm * arms,
                                 n_rounds * arms,
                                 replace(ft_cfg, batch_size=prune_cfg.finetune_batch_size
                                         or ft_cfg.batch_size)), work)
        done = ws.extras["iterate"]
        ws.add_run("iterate", {**model_settings(trained),
                               **iterate_settings(prune_cfg, ft_cfg, baseline)},
                   iterate_points(done.rounds, done.dense, scorer, done.baseline_rounds,
                                  getattr(done, "oneshot_rounds", None)))
        st.session_state["it_round"] = len(ws.extras["iterate"].snapshots) - 1  # show the end
    except PruningError as exc:
        show_error(exc)

result = ws.extras.get("iterate")
if result is None:
    st.caption("Press **Run the rounds**. With the defaults this takes a few seconds on digits.")
    next_step_link()
    stop_page()

shown_cfg = result.prune_config
if shown_cfg != prune_cfg:
    st.info(f"Showing the last run ({shown_cfg.schedule}, {shown_cfg.rounds} round(s) to "
            f"{pct(shown_cfg.sparsity)}, {shown_cfg.scorer}, {shown_cfg.scope}"
            f"{', rewind' if shown_cfg.rewind else ''}); the controls have changed since. "
            "Press **Run the rounds** to update.")

# ----------------------------------------------------------------------------- results
st.subheader("Accuracy vs sparsity")
oneshot_rounds = getattr(result, "oneshot_rounds", None)
show_chart(accuracy_vs_sparsity(result.rounds, dense=result.dense,
                                baseline=result.baseline_rounds,
                                others=[(oneshot_rounds, "one-shot, same budget")],
                                title=f"{shown_cfg.scorer} scores, {shown_cfg.schedule} schedule"),
           key="it_accuracy_chart")
st.markdown(NOTICE + iterate_notice(result.rounds, result.dense, result.baseline_rounds,
                                    oneshot_rounds, getattr(result, "n_test", None) or None))
st.page_link("pages/runs.py", label="Lay this run over earlier ones (Runs) →",
             help="Every finished run is kept in this session: overlay two or more Iterate "
                  "runs, prunes or fine-tunes on one accuracy-vs-sparsity chart.")

@live_region
def replay(result) -> None:
    """The round slider and the layer it shows: a move reruns this region alone."""
    st.subheader("Replay: the weights round by round")
    n = len(result.snapshots) - 1
    if st.session_state.get("it_round", n) > n:
        st.session_state["it_round"] = n  # a shorter new run: keep the slider valid
    st.session_state.setdefault("it_round", n)
    r1, r2 = st.columns([2, 1])
    rnd = r1.slider("Round", 0, n, key="it_round",
                    help="0 is the dense model; move right to prune round by round.")
    names = result.layer_names
    layer = r2.selectbox("Layer", names, key="it_layer", format_func=lambda s: s.removesuffix(".weight"),
                         help="Which layer's weight matrix to show.")
    snap = result.snapshots[rnd]
    zmax = max(float(s.weights[layer].abs().max()) for s in result.snapshots) or 1.0
    w = snap.weights[layer]
    show_chart(layer_heatmap(w, snap.masks[layer], zmax=zmax, compact=True,
                             title=f"{layer.removesuffix('.weight')} after round {rnd}"),
               key="it_replay_heatmap")
    layer_sparsity = 1 - float(snap.masks[layer].float().mean())
    st.markdown(NOTICE + replay_notice(result.rounds, rnd, layer, layer_sparsity))


replay(result)

st.subheader("Rounds")
show_table(result.rounds.dropna(axis=1, how="all"))
tables = [result.rounds.assign(run=shown_cfg.scorer)]
if result.baseline_rounds is not None:
    tables.append(result.baseline_rounds.assign(run="random baseline"))
if getattr(result, "oneshot_rounds", None) is not None:
    tables.append(result.oneshot_rounds.assign(run="one-shot, same budget"))
st.download_button("Download the rounds (CSV)", readable_csv(pd.concat(tables, ignore_index=True)),
                   "prune_rounds.csv", "text/csv", key="it_rounds_csv",
                   help="One row per round (and per run): target and reached sparsity, accuracies "
                        "right after pruning and after fine-tuning, per-layer sparsity.")
