"""Prune: score the trained weights once, then prune by a threshold or a target sparsity.

Moving a slider only re-selects masks over the cached scores and evaluates the masked copy;
nothing is retrained here.
"""
import weakref

import numpy as np
import pyarrow as pa
import streamlit as st
import torch

from pruning.app.workspace import describe_pruned
from pruning.core.masks import count_total, sparsity
from pruning.core.records import prune_trained
from pruning.core.selection import SCOPES
from pruning.errors import PruningError
from pruning.labs.prune_step import (
    first_layer_units,
    prune_config_for,
    select,
    sparsity_table,
    threshold_slider_range,
)
from pruning.present.boundary import boundary_figure, boundary_grid, changed_fraction
from pruning.present.charts import images_grid
from pruning.present.columns import readable_csv, readable_with_formats
from pruning.present.format import pct
from pruning.present.network_diagram import (
    MAX_DIAGRAM_WEIGHTS,
    count_weights,
    cut_off_units,
    diagram_edges,
    layer_sizes,
    linear_weights,
    network_diagram,
)
from pruning.present.prune import (
    boundary_note,
    dead_units_note,
    diagram_note,
    histogram_note,
    pruning_effect_note,
    unevenness_note,
    unit_images_note,
)
from pruning.present.prune_views import views_for
from pruning.present.scorer_compare import method_note
from pruning.present.style import font_scale
from pruning.scoring import SCORERS
from ui.charts import show_chart
from ui.fragments import live_region
from ui.scaffold import page_context
from ui.tables import show_table
from ui.timeline import timeline_panel
from ui.widgets import NOTICE, delta_colour, show_error
from ui.workspace import cached, cached_scores, cached_scores_from

st.title("✂️ Prune")
st.markdown("Give every weight an importance **score**, then set the least important ones to "
            "exactly **0**. Move the slider: the trained weights are only masked, never retrained, "
            "so you see at once what pruning alone does.")

trained, data, seed, ws = page_context()

# Repeat by hand: prune again from the fine-tuned model (cumulative: what was pruned stays so).
start = ws.latest_finetuned()
if start is not None:
    already = sparsity(start.masks)
    again = st.radio(
        "Start from", ["finetuned", "dense"], key="prune_start", horizontal=True,
        format_func={"finetuned": f"the fine-tuned model ({pct(already)} pruned, test "
                                  f"{pct(start.metrics['test_acc'])})",
                     "dense": "the dense trained model"}.get,
        help="Prune again: the fine-tuned weights are scored and cut further. Targets count "
             "the original weights, and every weight pruned before stays pruned, so a target "
             "below the sparsity reached already removes nothing more.")
    if again == "dense":
        start = None
    else:
        st.caption(f"Pruning again: {pct(already)} of the weights are pruned already and stay "
                   f"pruned (the fine-tuned model's test accuracy: "
                   f"{pct(start.metrics['test_acc'])}). Choose a larger target to cut more. "
                   "The changes below are against the dense model.")

def session_scratch(trained, data):
    """This session's module to load a pruned state into and measure it (one per model; the
    figures and outcomes are shared, ``pruning.present.prune_views``, this is not)."""
    held = st.session_state.get("_prune_scratch")
    if held is None or held[0]() is not trained:
        held = st.session_state["_prune_scratch"] = (weakref.ref(trained), trained.build(data))
    return held[1]


@live_region
def prune_region() -> None:
    """Every control of the pruning and what it changes: a change reruns this region alone,
    a move of the slider only ``prune_results``."""
    # ----------------------------------------------------------------------------- controls
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
    scorer = c1.selectbox(
        "Scorer", list(SCORERS), key="prune_scorer",
        help="How important is each weight? " + " ".join(f"**{k}**: {s.description}." for k, s in SCORERS.items()))
    c1.caption(method_note(scorer))
    mode = c2.radio("Prune by", ["sparsity", "threshold"], key="prune_mode", horizontal=True,
                    format_func={"sparsity": "Target sparsity", "threshold": "Threshold"}.get,
                    help="Target sparsity: say which share of the weights to remove. "
                         "Threshold: remove every weight whose score is below a number you pick.")
    scope = c3.radio("Scope", list(SCOPES), key="prune_scope", horizontal=True,
                     format_func={"layer": "Per layer", "global": "Global"}.get,
                     index=list(SCOPES).index("global"), disabled=mode == "threshold",
                     help="Global: one ranking over all layers, so some layers lose more than others. "
                          "Per layer: every layer loses the same share. (A threshold is one number "
                          "for every layer, so the scope does not apply to it.)")
    st.session_state.setdefault("prune_include_output", True)   # (a link may set it)
    include_output = c4.checkbox("Prune the output layer too", key="prune_include_output",
                                 help="The last layer turns features into class scores. Leaving it "
                                      "dense is common because it is small and sensitive.")

    prune_results(scorer, mode, scope, include_output)


@live_region
def prune_results(scorer: str, mode: str, scope: str, include_output: bool) -> None:
    """The slider and everything it changes: a move reruns this region alone."""
    if mode == "sparsity":
        # Drawn before the scores: a scorer that refuses (ablation on a large model) ends the
        # region, and a slider not drawn in a run loses its value in Streamlit; the next run
        # then showed 90 % on the slider while the link and the numbers kept the user's value.
        value = st.slider("Target sparsity (% of prunable weights removed)", 0.0, 100.0, 90.0, 0.5,
                          key="prune_sparsity", format="%.1f %%",
                          help="90 % removes nine weights out of ten. 100 % removes all of them "
                               "(the network can no longer use its input).") / 100

    try:
        scores = (cached_scores(trained, data, scorer, include_output, seed) if start is None else
                  cached_scores_from(trained, start, data, scorer, include_output, seed))
    except PruningError as exc:
        show_error(exc)
        return

    if mode == "threshold":
        top, step = threshold_slider_range(scores)
        key = f"prune_threshold_{scorer}_{include_output}"
        if key in st.session_state and st.session_state[key] > top:
            st.session_state[key] = top  # another model's range: keep the slider valid
        if key not in st.session_state:
            # Start at the median score (about half pruned), rounded to a readable number.
            median = float(torch.cat([s.flatten() for s in scores.values()]).median())
            st.session_state[key] = min(float(f"{median:.2g}"), top)
        tc1, tc2 = st.columns([3, 1])
        value = tc1.slider("Threshold (prune every weight whose score is below it)", 0.0, top,
                           step=step, key=key, format="%.3g",
                           help="A weight is pruned when its score is strictly below the threshold; "
                                "a weight exactly at the threshold stays. The right end is above every "
                                "score.")
        if tc2.checkbox("Type an exact threshold", key="prune_threshold_exact_on",
                        help="Enter any value, also one above every score."):
            value = tc2.number_input("Exact threshold", min_value=0.0, value=float(value),
                                     format="%.6g", key="prune_threshold_exact",
                                     help="Any number ≥ 0; weights with a smaller score are pruned.")

    views = views_for(trained, start, data, font_scale())
    pruned_model = session_scratch(trained, data)   # made to hold the pruned weights below
    computed = []

    params = views.params
    first_name, first_w = next((n, p) for n, p in params.items() if p.ndim in (2, 4))

    def prune_at() -> tuple:
        """Everything a slider position shows that does not depend on the session."""
        sel = select(scores, mode, value, scope, previous=None if start is None else start.masks)
        cfg = prune_config_for(scorer, mode, value, scope, include_output, seed)
        pruned = prune_trained(trained, data, cfg, sel.masks, start=start, into=pruned_model)
        computed.append(True)
        table = sparsity_table(pruned_model, sel, scope, mode)
        heatmaps = {n: views.heatmap(n).at(m) for n, m in sel.masks.items()}
        pictures = None
        if data.is_image:
            imgs, kept, titles = first_layer_units(first_w, sel.masks.get(first_name),
                                                   data.image_shape)
            pictures = (kept, None if kept is None else views.pictures(imgs, titles)[1].at(kept))
        shown, formats = readable_with_formats(table.dropna(axis=1, how="all"))
        # As an Arrow table: st.dataframe then skips converting the pandas frame on every move.
        return (sel, cfg, pruned, table, (pa.Table.from_pandas(shown, preserve_index=False),
                                          formats), heatmaps, pictures)

    try:   # the same setting of the same model is computed once for every session
        sel, cfg, pruned, table, shown_table, heatmaps, pictures = views.outcome(
            (scorer, include_output, seed, mode, scope, float(value)), prune_at)
    except PruningError as exc:
        show_error(exc)
        return
    if not computed and data.n_features == 2:
        # A kept outcome: only the decision boundary below measures the pruned copy itself
        # (the network diagram reads its layer names and shapes only).
        pruned_model.load_state_dict(pruned.state)
    dense_m, pruned_m = trained.metrics, pruned.metrics
    empty_layers = [n.removesuffix(".weight") for n, s in sel.per_layer.items() if s >= 1.0]

    # ----------------------------------------------------------------------------- numbers
    # One row of four columns, two metrics in each (counts above, accuracies below): the same
    # grid as two rows of columns, with 5 fewer layout blocks to send on every move.
    m = st.columns(4)
    m[0].metric("Weights pruned", pct(sel.reached),
                help="Share of the prunable weights set to zero (measured from the masks).")
    m[0].metric("Dense test accuracy", pct(dense_m["test_acc"]), help="Before any pruning.")
    m[1].metric("Pruned", f"{sel.n_pruned:,}", help=f"Out of {count_total(sel.masks):,} prunable weights.")
    m[1].metric("Test accuracy after pruning", pct(pruned_m["test_acc"]),
                delta=f"{100 * (pruned_m['test_acc'] - dense_m['test_acc']):+.1f} points",
                delta_color=delta_colour(pruned_m["test_acc"] - dense_m["test_acc"]),
                help="Test examples were never used for training or scoring. The change is against "
                     "the dense model.")
    m[2].metric("Kept", f"{sel.n_kept:,}", help="Weights that keep their trained value.")
    m[2].metric("Dense train accuracy", pct(dense_m["train_acc"]), help="Before any pruning.")
    m[3].metric("Ties at the cut-off", f"{sel.n_tied:,}",
                help="How many not-yet-pruned scores are exactly equal to the cut-off (the threshold, "
                     "or the largest pruned score). With a target sparsity, 1 is the cut-off weight "
                     "itself; more than 1 means a tie that was broken by position (earlier weights "
                     "pruned first). With a threshold, these weights stay.")
    m[3].metric("Train accuracy after pruning", pct(pruned_m["train_acc"]),
                delta=f"{100 * (pruned_m['train_acc'] - dense_m['train_acc']):+.1f} points",
                delta_color=delta_colour(pruned_m["train_acc"] - dense_m["train_acc"]),
                help="The change is against the dense model.")

    effect = pruning_effect_note(dense_m, pruned_m, sel.reached, data.n_classes, empty_layers)
    if sel.reached >= 1.0 or empty_layers:
        st.warning(effect)
    elif sel.reached <= 0:
        st.info(effect)
    else:
        st.markdown(NOTICE + effect)
    st.caption("Masked weights are zeros inside the same dense matrices: this model is not faster "
               "and its file is not smaller until it is stored or run in a sparse format.")

    k1, k2 = st.columns([1, 3])
    if k1.button("Keep this pruned model", type="primary", key="prune_keep",
                 help="Saves this pruned model in your session for the Fine-tune page."):
        ws.keep_pruned(pruned)  # a step of the timeline; clears the fine-tuned model
        st.rerun()              # the whole page: the timeline below this region shows the step
    if ws.pruned is not None:
        same = ws.pruned.prune_config == cfg and ws.pruned.started_from == pruned.started_from
        k2.success(f"{'✅ Kept (this setting)' if same else 'Kept (an earlier setting)'}: "
                   f"{describe_pruned(ws.pruned)} — test accuracy "
                   f"{pct(ws.pruned.metrics['test_acc'])}.")
        k2.page_link("pages/finetune.py", label="Fine-tune the kept model →")

    # ----------------------------------------------------------------------------- heatmaps
    st.subheader("Weights (amber = pruned)")
    st.markdown("Rows are a layer's units, columns their inputs; blue is negative, red positive. "
                + unevenness_note(sel.per_layer, scope, mode) + " " + dead_units_note(table))
    names = list(sel.masks)
    cols = st.columns(2)   # layers 1, 3, … on the left, 2, 4, … on the right
    for i, name in enumerate(names):
        show_chart(heatmaps[name], key=f"prune_heatmap_{name}", where=cols[i % 2])

    # ----------------------------------------------------------------------------- histogram + table
    st.subheader("Scores and the line")
    h1, h2 = st.columns([3, 1])
    per_layer_cutoffs = mode == "sparsity" and scope == "layer"
    hist_layer = h2.selectbox("Histogram of", ["all"] + names, key="prune_hist_layer",
                              format_func=lambda n: "all prunable layers" if n == "all"
                              else n.removesuffix(".weight"),
                              help="All prunable weights together, or one layer's.")
    log_x = h2.checkbox("Log scale (x)", key="prune_log_x",
                        help="Scores often span several powers of ten; a log axis spreads the small ones.")
    hist_scores = scores if hist_layer == "all" else {hist_layer: scores[hist_layer]}
    if per_layer_cutoffs:
        line = None if hist_layer == "all" else sel.cutoffs.get(hist_layer)
    else:
        line = sel.cutoff
    hist_masks = {n: sel.masks[n] for n in hist_scores}
    histogram = views.histogram(
        (scorer, include_output, seed, hist_layer), hist_scores, log_x,
        title="scores of " + ("all prunable weights" if hist_layer == "all"
                              else hist_layer.removesuffix(".weight")))
    show_chart(histogram.at(line, mode, hist_masks), key="prune_histogram", where=h1)
    n_pruned_here = int(sum(int((~m_).sum()) for m_ in hist_masks.values()))
    flat = histogram.scores
    if per_layer_cutoffs and hist_layer == "all":
        h2.info("Per-layer scope: every layer has its own cut-off. Pick a layer to see its line.")
    else:
        h2.markdown(NOTICE + histogram_note(flat, line, mode, n_pruned_here, histogram.summary))

    st.markdown("**Per layer**")
    show_table(view=shown_table)  # without empty columns; the CSV keeps every column
    # The CSV is made when the button is pressed (a callable), not on every slider move.
    st.download_button("Download the table (CSV)", lambda: readable_csv(table), "pruned_layers.csv",
                       "text/csv", key="prune_table_csv",
                       help="One row per layer: shape, weights, non-zeros, target and reached sparsity.")

    # ----------------------------------------------------------------------------- pictures
    if data.is_image:
        st.subheader("What the first layer looks at")
        imgs, _, titles = first_layer_units(first_w, None, data.image_shape)
        before_grid, _ = views.pictures(imgs, titles)
        kept, after_grid = pictures
        # One row each (full width): bigger pictures, and titles never overlap a row above.
        show_chart(before_grid, key="prune_units_before")
        show_chart(images_grid(imgs, titles, cols=len(imgs), symmetric=True,
                               title="after pruning (amber = pruned)", height=260)
                   if kept is None else after_grid, key="prune_units_after")
        share = 0.0 if kept is None else 1 - float(np.mean(kept))
        st.markdown(NOTICE + unit_images_note(first_w.ndim == 4, len(titles), share))

    if data.n_features == 2:
        st.subheader("Decision boundary")
        try:
            before = cached("prune_dense_grid", trained, "grid",
                            lambda: boundary_grid(trained.build(data), data))
            after = boundary_grid(pruned_model, data)
            b1, b2 = st.columns(2)
            show_chart(boundary_figure(before, data, title=f"dense — test {pct(dense_m['test_acc'])}"),
                       key="prune_boundary_before", where=b1)
            show_chart(boundary_figure(after, data,
                                       title=f"pruned {pct(sel.reached)} — test {pct(pruned_m['test_acc'])}"),
                       key="prune_boundary_after", where=b2)
            st.markdown(NOTICE + boundary_note(changed_fraction(before, after), dense_m["test_acc"],
                                             pruned_m["test_acc"]))
        except PruningError as exc:
            show_error(exc)

    if trained.model_config.kind == "mlp":
        lin = linear_weights(pruned_model)
        n_weights = count_weights([w for _, w in lin])
        if n_weights <= MAX_DIAGRAM_WEIGHTS:
            st.subheader("The network")
            dense_lin = [params[n] for n, _ in lin]
            masks = [sel.masks.get(n) for n, _ in lin]
            edges = diagram_edges(dense_lin, masks)
            cut = cut_off_units(edges, layer_sizes(dense_lin))
            show_chart(network_diagram(dense_lin, masks, title="connections that remain"),
                       key="prune_network")
            st.markdown(NOTICE + diagram_note(int(edges["kept"].sum()), len(edges),
                                            int(sum(c.sum() for c in cut)),
                                            int(sum(len(c) for c in cut))))
        else:
            st.caption(f"A network diagram is drawn for MLPs with up to {MAX_DIAGRAM_WEIGHTS:,} weights; "
                       f"this one has {n_weights:,}. Try a 2-D data set with hidden sizes 32,32 (it learns the 2-D sets with the default epochs).")


prune_region()
timeline_panel("prune")
