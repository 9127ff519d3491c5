"""Threshold basics: the article's four weights live, then the same rule on a trained model."""
import math

import streamlit as st

from pruning.errors import PruningError
from pruning.labs import layer_thresholds as lt
from pruning.present.charts import score_histogram
from pruning.present.columns import THRESHOLD_TABLE_NAMES, readable_csv
from pruning.present.format import pct
from pruning.present.thresholds import (
    layer_sparsity_figure,
    one_layer_note,
    sparsity_curve_figure,
    uneven_pruning_note,
)
from ui.cache import trained_data
from ui.charts import show_chart
from ui.fragments import live_region
from ui.scaffold import require_trained_model
from ui.settings import DATASET_LABELS
from ui.tables import show_table
from ui.widgets import NOTICE, remembered, set_remembered, show_error
from ui.worked_example import worked_example


@live_region
def real_layer(scores: dict, labels: dict) -> None:
    st.header("2 · The same rule on one real layer")
    names = list(scores)
    if st.session_state.get("thr_layer") not in names:
        set_remembered("thr_layer", names[0])
    name = st.selectbox("Layer", names, format_func=labels.get,
                        help="A weight matrix of your trained model (input size → output size).",
                        **remembered("thr_layer", names[0]))
    s = scores[name]
    n = s.numel()
    hi = max(math.ceil(float(s.max()) * 1000) / 1000, 0.001)
    median = round(float(s.median()), 3)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("#### Threshold → sparsity")
        t = st.slider("Threshold t on |w|", 0.0, hi, step=0.001, format="%.3f",
                      help="Pick a threshold; see what share of this layer's weights falls "
                           "strictly below it.",
                      **remembered(f"thr_layer_t:{name}", median, lo=0.0, hi=hi))
        t = round(t, 6)
        reached = lt.sparsity_at_threshold(s, t)
        st.metric("Pruned in this layer", f"{pct(reached)}",
                  help="Share of this layer's weights with |w| < t.")
        st.caption(f"{round(reached * n):,} of {n:,} weights")
    with c2:
        st.markdown("#### Sparsity → threshold")
        target = st.slider("Target sparsity (%)", 0, 100, step=1,
                           help="Pick how much of the layer to prune; see the threshold that "
                                "does it (the smallest |w| that stays).",
                           **remembered("thr_layer_target", 50))
        need = lt.threshold_for_sparsity(s, target / 100)
        st.metric("Threshold needed", f"{need.threshold:.4g}",
                  help="Every weight with |w| below this number is pruned.")
        st.caption(f"reaches {pct(need.reached)} ({need.n_pruned:,} of {n:,} weights)")
    show_chart(score_histogram(s, threshold=t, title=f"sizes |w| in {labels[name]}"), key="thr_layer_hist")
    st.markdown(NOTICE + one_layer_note(s, t, reached, need, target))


@live_region
def global_threshold(scores: dict) -> None:
    st.header("3 · One threshold for every layer")
    st.markdown("Layers have weights of different sizes, so one global threshold cuts deep into "
                "the layers with small weights and barely touches the others. Pruning each "
                "layer to the same share needs a different threshold per layer.")
    curves = lt.sparsity_curves(scores)
    hi = max(math.ceil(float(curves["threshold"].max()) * 1000) / 1000, 0.001)
    default = round(min(lt.threshold_for_sparsity(scores, 0.5).threshold, hi), 3)
    t = st.slider("Global threshold t (all layers)", 0.0, hi, step=0.001, format="%.3f",
                  help="One threshold applied to every layer's |w| at once.",
                  **remembered("thr_global_t", default, lo=0.0, hi=hi))
    t = round(t, 6)
    table = lt.layer_threshold_table(scores, t)
    c1, c2 = st.columns(2)
    show_chart(layer_sparsity_figure(table), key="thr_layers_bar", where=c1)
    show_chart(sparsity_curve_figure(curves, threshold=t),
               key="thr_curves", where=c2)
    st.info(NOTICE + uneven_pruning_note(table))
    shown = table.drop(columns=["name", "global_threshold"])
    show_table(shown, names=THRESHOLD_TABLE_NAMES)
    st.download_button("Download this table (CSV)", readable_csv(table, THRESHOLD_TABLE_NAMES),
                       file_name="global_vs_per_layer_threshold.csv", mime="text/csv",
                       key="thr_download",
                       help="One row per layer: weight sizes, what the global threshold prunes, "
                            "and the per-layer alternative.")


st.title(":material/tune: Threshold basics")
st.markdown("#### The rule: a weight is **kept** when its size |w| is at least the threshold t, "
            "and **pruned** (set to 0) when it is strictly below.")
worked_example()

st.divider()
trained = require_trained_model()
if trained is None:
    st.caption("Sections 2 and 3 use the weights of a trained model.")
else:
    try:
        data = trained_data(trained)
    except PruningError as exc:
        show_error(exc)
    else:
        model = trained.build(data)
        scores = lt.magnitude_scores(model)
        labels = {n: lt.layer_shape_label(n, s.shape) for n, s in scores.items()}
        d = trained.data_config
        st.caption(f"Your model: {trained.model_config.kind.upper()} on "
                   f"{DATASET_LABELS.get(d.name, d.name)} (test accuracy "
                   f"{pct(trained.metrics['test_acc'])}). Nothing here changes it.")
        real_layer(scores, labels)
        st.divider()
        global_threshold(scores)
