"""Compare scorers: several importance scores on the same trained model, the same sparsity."""
import streamlit as st

from pruning.app.job_costs import scorers_estimate, scoring_seconds
from pruning.app.jobs import UNKNOWN
from pruning.app.runs import model_settings, scorer_points
from pruning.core.selection import SCOPES
from pruning.labs.scorer_compare import DEFAULT_SCORERS, DEFAULT_SEEDS, compare_scorers
from pruning.present.columns import readable_csv
from pruning.present.format import pct
from pruning.present.scorer_compare import (
    accuracy_bars,
    agreement_bars,
    compared_caption,
    comparison_notes,
    jaccard_heatmap,
    layer_sparsity_heatmap,
    scorer_reference,
)
from pruning.scoring import SCORERS
from ui.charts import show_chart
from ui.classroom import classroom_mode
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.scaffold import page_context, run_and_keep
from ui.tables import show_table
from ui.widgets import NOTICE, remembered

RESULT_KEY = "scorers_compare"

st.title("🧮 Compare scorers")
st.markdown("Magnitude is one answer to *which weights matter least?* Here several answers "
            "prune the **same trained model** to the **same sparsity** — and the same recipe "
            "trained with other seeds, so a ranking has to hold beyond the seed-to-seed "
            "noise. Do they keep the same weights? Does it matter for accuracy — right away, "
            "and after a short fine-tune? Random pruning is the floor.")

trained, data, seed, ws = page_context()

with st.expander("The scorers: formulas and sources"):
    st.dataframe(scorer_reference(), hide_index=True, width="stretch")
    st.caption("Higher score = more important; each mask prunes the lowest scores. "
               "*ablation*, *movement* and *magnitude_increase* can be negative (removing "
               "the weight lowers the validation loss / fine-tuning pushes it towards zero / "
               "it shrank since initialisation): those go first. The last column says where "
               "the app's version differs from the paper.")

# ----------------------------------------------------------------------------- controls
c1, c2 = st.columns([3, 2])
chosen = c1.multiselect(
    "Scorers", list(SCORERS),
    help="Which scores to compare. " + " ".join(f"**{k}**: {s.description}." for k, s in SCORERS.items()),
    **remembered("sc_scorers", list(DEFAULT_SCORERS)))
sparsity = c2.slider("Sparsity (% of weights removed)", 5, 99, step=1, format="%d %%",
                     help="Every scorer removes exactly this share of the prunable weights.",
                     **remembered("sc_sparsity", 80)) / 100
d1, d2, d3 = st.columns(3)
scope = d1.radio("Scope", list(SCOPES), horizontal=True,
                 format_func={"layer": "Per layer", "global": "Global"}.get,
                 help="Global: one ranking over all layers (scorers then also decide which "
                      "layers lose most). Per layer: each layer loses the same share.",
                 **remembered("sc_scope", "global"))
n_seeds = d1.number_input("Seeds", min_value=1, max_value=10, step=1,
                          help="Each seed retrains the same model recipe from other initial "
                               "weights (the first is your trained model). Results are mean ± "
                               "1 sd; a scorer is called ahead only when every seed agrees.",
                          **remembered("sc_seeds", DEFAULT_SEEDS))
ft_epochs = d2.number_input("Fine-tune epochs", min_value=0, max_value=50, step=1,
                            help="Masked retraining after pruning (0 = no fine-tuning).",
                            **remembered("sc_ft_epochs", 2))
mv_epochs = 2
if not classroom_mode():
    mv_epochs = d3.number_input(
        "Movement probe epochs", min_value=1, max_value=50, step=1,
        help="Movement scores how weights move during fine-tuning, so a copy of the trained "
             "model is trained this many more epochs to watch. Its mask is then applied to "
             "the original trained weights, like every other mask.",
        **remembered("sc_mv_epochs", 2))

settings = dict(scorers=tuple(chosen), sparsity=sparsity, scope=scope,
                finetune_epochs=int(ft_epochs), movement_epochs=int(mv_epochs),
                n_seeds=int(n_seeds))


def compare(progress):
    return compare_scorers(trained, data, chosen, sparsity, scope, int(ft_epochs), int(mv_epochs),
                           seed=seed, progress=progress, n_seeds=int(n_seeds))


clicked = st.button("Compare", type="primary", key="sc_run",
                    help="Scores, prunes and fine-tunes fresh copies of your trained model; the "
                         "model itself is not changed.")
estimate = None
if clicked:   # priced only when it will run (the scorers' own estimates build a model copy)
    estimate = scorers_estimate(trained.model_config, data, trained.train_config, len(chosen),
                                int(ft_epochs), int(mv_epochs), "movement" in chosen,
                                scoring_seconds(trained, data, chosen, seed), int(n_seeds))
kept = run_and_keep(RESULT_KEY, settings, compare, run=clicked, progress=True,
                    estimate=estimate or UNKNOWN, name="Comparing scorers")
if kept is None:
    st.caption("Press **Compare**. On digits with the default model it takes a few seconds per "
               "scorer and seed (each extra seed also trains the dense model once).")
    next_step_link()
    stop_page()
shown, cmp = kept.settings, kept.value
if clicked and ws.extras.get("scorers_recorded") is not cmp:  # a new comparison: a run
    ws.extras["scorers_recorded"] = cmp
    ws.add_run("scorers", {**model_settings(trained),
                           "scorers": ", ".join(shown["scorers"]),
                           "sparsity": f"{shown['sparsity']:g}", "scope": shown["scope"],
                           "fine-tune epochs": str(shown["finetune_epochs"])},
               scorer_points(cmp.table, cmp.dense))
if kept.stale:
    st.info(f"Showing the last comparison ({', '.join(shown['scorers'])} at "
            f"{pct(shown['sparsity'], 0)}, {shown['scope']} scope); the controls have changed "
            f"since. Press **Compare** to update.")
for name, why in cmp.skipped.items():
    st.warning(f"**{name}** was skipped: {why}")

# ----------------------------------------------------------------------------- results
notes = comparison_notes(cmp)
st.subheader("Accuracy")
show_chart(accuracy_bars(cmp), key="sc_accuracy_chart")
st.markdown(NOTICE + " ".join(notes[k] for k in ("accuracy", "floor") if k in notes))
table = cmp.table
show_table(table)
st.download_button("Download the accuracy table (CSV)", readable_csv(table),
                   file_name="scorer_comparison.csv", mime="text/csv", key="sc_dl_table")

st.subheader("Do they keep the same weights?")
# One under the other, each the page's full width: side by side, seven scorers' two-digit
# overlaps ran into each other on a 1280-px projector.
show_chart(jaccard_heatmap(cmp), key="sc_jaccard_chart")
st.caption("Jaccard overlap = weights kept by both ÷ weights kept by either (1 = identical "
           "masks). Below: the share of each layer a scorer removes.")
show_chart(layer_sparsity_heatmap(cmp), key="sc_layers_chart")
if "overlap" in notes:
    st.markdown(NOTICE + notes["overlap"])
st.download_button("Download the overlap matrix (CSV)", readable_csv(cmp.jaccard),
                   file_name="scorer_jaccard.csv", mime="text/csv", key="sc_dl_jaccard")

st.subheader("Where they disagree")
show_chart(agreement_bars(cmp), key="sc_agreement_chart")
if "disagree" in notes:
    st.markdown(NOTICE + notes["disagree"])
st.caption(compared_caption(cmp))
st.download_button("Download per-layer sparsity and agreement (CSV)",
                   readable_csv(cmp.per_layer.merge(cmp.agreement, on=["layer", "weights"])),
                   file_name="scorer_layers.csv", mime="text/csv", key="sc_dl_layers")
