"""Structured & sensitivity: remove whole neurons / channels and really shrink the model;
find out which layers tolerate pruning."""
from dataclasses import replace

import streamlit as st

from pruning.app.job_costs import sensitivity_estimate, structured_estimate
from pruning.labs.granularity import compare_granularity
from pruning.labs.sensitivity import (
    SENSITIVITY_LEVELS,
    evaluate_per_layer,
    sensitivity_scan,
    suggest_sparsities,
)
from pruning.labs.structured_run import run_structured
from pruning.present.columns import readable_csv
from pruning.present.format import pct
from pruning.present.structured import (
    compaction_note,
    granularity_figure,
    granularity_notes,
    sensitivity_figure,
    sensitivity_notes,
    unit_scores_figure,
)
from pruning.scoring import SCORERS
from pruning.structured.units import UNIT_METHOD_LABELS, UNIT_METHODS, UNIT_OPTIONS
from ui.charts import show_chart
from ui.scaffold import page_context, run_and_keep
from ui.tables import show_table
from ui.widgets import NOTICE, remembered

UNIT_LABELS = {**UNIT_METHOD_LABELS, "sum:obd": "sum of OBD scores of incoming weights",
               "sum:snip": "sum of SNIP scores of incoming weights"}
PCT = {"format": "percent"}

st.title("🧱 Structured pruning & sensitivity")
st.markdown("Zeroing single weights leaves every matrix its full size. Removing **whole "
            "neurons** (MLP) or **channels** (CNN) deletes rows and columns: the model becomes "
            "a genuinely smaller dense model. And before pruning everything at once, "
            "**sensitivity analysis** asks each layer alone how much it tolerates.")

trained, data, seed, _ = page_context()
unit_word = "neurons" if trained.model_config.kind == "mlp" else "channels"

tab_struct, tab_budget, tab_sens = st.tabs(
    [f"Remove {unit_word}", "Same budget: units vs weights", "Sensitivity analysis"])

# ----------------------------------------------------------------------------- structured
with tab_struct:
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox("Unit score", UNIT_OPTIONS, format_func=UNIT_LABELS.get,
                          help="How important is a whole unit? L1/L2: size of its incoming "
                               "weights. Taylor: first-order estimate of the loss change if it "
                               "is removed. Ablation: the exact change, measured. Sums: a "
                               "weight scorer added up over the unit's incoming weights.",
                          **remembered("st_method", "l1"))
    fraction = c2.slider(f"{unit_word.capitalize()} removed per hidden layer", 0, 95, step=5,
                         format="%d %%", help="The same share of every hidden layer; at least "
                                              "one unit per layer always stays.",
                         **remembered("st_fraction", 50)) / 100
    ft = c3.number_input("Fine-tune epochs", min_value=0, max_value=50, step=1,
                         help="Masked retraining after removing the units (0 = none).",
                         **remembered("st_ft_epochs", 2))
    clicked = st.button(f"Remove {unit_word} and compact", type="primary", key="st_run",
                        help="Works on a copy of your trained model.")
    kept = run_and_keep("structured", (method, fraction),
                        lambda: run_structured(trained, data, method, fraction, int(ft), seed),
                        run=clicked, spinner="Scoring units, pruning, compacting…",
                        estimate=structured_estimate(trained.model_config, data,
                                                     trained.train_config, int(ft)))
    if kept is None:
        st.caption("Press the button to remove units. It takes a second or two.")
    else:
        rep = kept.value
        if kept.stale:
            st.info(f"Showing the last run ({UNIT_LABELS[rep.method]}, "
                    f"{pct(rep.fraction, 0)} removed); the controls have changed since.")
        sizes = rep.sizes.set_index("model")
        dense, small = sizes.iloc[0], sizes.loc["compacted (smaller dense)"]
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Stored parameters", f"{small['stored_params']:,}",
                  f"{small['stored_params'] - dense['stored_params']:+,}", delta_color="inverse",
                  help="Parameters of the compacted model (a dense model with fewer units).")
        m2.metric("Multiply-adds per example", f"{small['macs_per_example']:,}",
                  f"{small['macs_per_example'] - dense['macs_per_example']:+,}",
                  delta_color="inverse", help="Work a dense computation really does.")
        m3.metric("Test accuracy (compacted)", f"{pct(small['test_acc'])}",
                  f"{100 * (small['test_acc'] - dense['test_acc']):+.1f} points",
                  help="Right after removing the units, before fine-tuning.")
        m4.metric("Largest output difference", f"{rep.max_output_difference:.1e}",
                  help="Max |logit(masked) − logit(compacted)| over the test split: the two "
                       "compute the same function, up to float rounding.")
        st.markdown(NOTICE + compaction_note(rep))
        show_table(rep.sizes)
        st.download_button("Download the sizes (CSV)", readable_csv(rep.sizes),
                           file_name="structured_sizes.csv", mime="text/csv", key="st_dl_sizes")
        show_chart(unit_scores_figure(rep), key="st_units_chart")

# ----------------------------------------------------------------------------- same budget
with tab_budget:
    st.markdown(f"Remove a share of the {unit_word}, count the weights that remain, and prune "
                "the same number of single weights by magnitude instead — once with one global "
                "ranking (which can empty a whole layer: *layer collapse*) and once with the "
                "same share of every layer. All three are fine-tuned the same way.")
    b1, b2, b3 = st.columns(3)
    fracs = b1.multiselect(f"{unit_word.capitalize()} removed", [25, 50, 75, 90],
                           format_func=lambda v: f"{v} %",
                           help="Each share is one point on each curve.",
                           **remembered("st_budget_fracs", [50, 75, 90]))
    b_method = b2.selectbox("Unit score", UNIT_METHODS, format_func=UNIT_METHOD_LABELS.get,
                            help="How the structured side picks units.",
                            **remembered("st_budget_method", "l1"))
    b_ft = b3.number_input("Fine-tune epochs", min_value=0, max_value=50, step=1,
                           help="Masked retraining for both granularities.",
                           **remembered("st_budget_ft", 2))

    def compare_both_ways():
        ft_cfg = replace(trained.train_config, epochs=int(b_ft), seed=seed)
        return compare_granularity(trained.build(data), data, [f / 100 for f in sorted(fracs)],
                                   b_method, ft_cfg, seed)

    clicked = st.button("Compare granularities", type="primary", key="st_budget_run")
    kept = run_and_keep("granularity", (tuple(sorted(fracs)), b_method, int(b_ft)),
                        compare_both_ways, run=clicked,
                        spinner="Pruning both ways and fine-tuning…",
                        estimate=structured_estimate(trained.model_config, data,
                                                     trained.train_config, int(b_ft),
                                                     runs=2 * max(len(fracs), 1)))
    if kept is None:
        st.caption("Press **Compare granularities**: two fine-tunes per share.")
    else:
        gtable = kept.value
        show_chart(granularity_figure(gtable, trained.metrics["test_acc"]),
                   key="st_budget_chart")
        for note in granularity_notes(gtable):
            st.markdown(NOTICE + note)
        show_table(gtable)
        st.download_button("Download the comparison (CSV)", readable_csv(gtable),
                           file_name="granularity.csv", mime="text/csv", key="st_dl_budget")

# ----------------------------------------------------------------------------- sensitivity
with tab_sens:
    st.markdown("Prune **one layer at a time** at "
                + ", ".join(f"{100 * s:.0f}" for s in SENSITIVITY_LEVELS)
                + " % (the others untouched, no fine-tuning) and measure validation accuracy.")
    s1, s2 = st.columns(2)
    s_scorer = s1.selectbox("Scorer", [s for s in SCORERS if s not in ("ablation", "movement")],
                            help="Which weights go first inside the pruned layer. (Ablation is "
                                 "too slow for a whole scan; movement needs a fine-tuning run.)",
                            **remembered("st_sens_scorer", "magnitude"))
    tol = s2.slider("Tolerance (accuracy points below dense)", 0.0, 10.0, step=0.5,
                    format="%.1f", help="A layer's suggested sparsity is the largest tested one "
                                        "whose validation accuracy (and every smaller one's) stays "
                                        "within this many points of the dense model.",
                    **remembered("st_sens_tol", 1.0)) / 100

    def scan_layers():
        scan = sensitivity_scan(trained.build(data), data, scorer=s_scorer, seed=seed,
                                init_state=trained.init_state)
        return scan, {}  # {} = the combined model's accuracy per tolerance, filled below

    clicked = st.button("Run sensitivity analysis", type="primary", key="st_sens_run")
    n_layers = sum(1 for k in trained.state if k.endswith(".weight"))
    kept = run_and_keep("sensitivity", s_scorer, scan_layers, run=clicked,
                        spinner="Pruning each layer at each sparsity…",
                        estimate=sensitivity_estimate(trained.model_config, data, n_layers,
                                                      len(SENSITIVITY_LEVELS)))
    if kept is None:
        st.caption("Press **Run sensitivity analysis** (a few seconds).")
    else:
        used_scorer, (scan, combined_by_tol) = kept.settings, kept.value
        if kept.stale:
            st.info(f"Showing the last scan ({used_scorer}); press the button to scan with "
                    f"{s_scorer}.")
        dense_val = trained.metrics["val_acc"]
        sugg = suggest_sparsities(scan, dense_val, tol)
        if tol not in combined_by_tol:  # moving the slider re-scores only once per tolerance
            combined_by_tol[tol] = evaluate_per_layer(
                trained.build(data), data, dict(zip(sugg["layer"], sugg["suggested_sparsity"])),
                used_scorer, seed, trained.init_state)
        combined = combined_by_tol[tol]
        show_chart(sensitivity_figure(scan, dense_val, tol), key="st_sens_chart")
        for note in sensitivity_notes(scan, sugg, dense_val, combined):
            st.markdown(NOTICE + note)
        st.markdown("**Suggested per-layer sparsities**")
        show_table(sugg)
        d1, d2 = st.columns(2)
        d1.download_button("Download the suggestions (CSV)", readable_csv(sugg),
                           file_name="sensitivity_suggestions.csv", mime="text/csv",
                           key="st_dl_sugg")
        d2.download_button("Download the whole scan (CSV)", readable_csv(scan),
                           file_name="sensitivity_scan.csv", mime="text/csv", key="st_dl_scan")
