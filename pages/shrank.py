"""What shrank? Parameters, bytes, latency and accuracy of the dense, pruned and compacted
models, measured on this machine; exports (checkpoint, CSV, HTML report) and the equivalent
torch.nn.utils.prune code."""
from dataclasses import replace

import streamlit as st

from pruning.app.checkpoint import (
    MAX_CHECKPOINT_BYTES,
    checkpoint_bytes,
    checkpoint_models,
    read_checkpoint,
)
from pruning.core.counts import layer_table
from pruning.core.records import finetune_pruned
from pruning.errors import PruningError
from pruning.labs import shrink as shrank
from pruning.labs.prune_step import describe_prune_config
from pruning.present import exports
from pruning.present import shrink as shrank_view
from pruning.present import tradeoff as tradeoff_view
from pruning.present.charts import training_curves
from pruning.present.format import pct
from pruning.present.html_report import Code, Section
from pruning.present.torch_code import snippet_for_masks
from pruning.structured.compact import compact_model
from ui.cache import get_data
from ui.charts import show_chart
from ui.classroom import classroom_mode
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.scaffold import ensure_default_pruned, page_context
from ui.settings import settings_from_checkpoint
from ui.tradeoff import (
    cached_tradeoff,
    measure_with_progress,
    measurement_key,
    store_measurement,
    stored_measurement,
)
from ui.widgets import show_error
from ui.workspace import workspace

CHECKPOINT_NAME = "pruned_model.pt"
UPLOAD_KEY = "shrank_upload"


# ----------------------------------------------------------------------------- upload (callback)
def _load_uploaded_checkpoint() -> None:
    """Runs before the script (a widget callback), so it may also set the sidebar settings to
    the checkpoint's. On any problem nothing changes and the message says why."""
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        ckpt, data = read_checkpoint(uploaded.getvalue(), get_data)
        trained, pruned, finetuned = checkpoint_models(ckpt, data)
    except PruningError as exc:
        st.session_state["shrank_upload_msg"] = ("error", f"{uploaded.name} was not loaded: {exc}. "
                                                 f"Your current model is unchanged.")
        return
    ws = workspace()
    ws.set_trained(trained, record=False)  # loaded, not trained here: steps, but no runs
    ws.keep_pruned(pruned, record=False)
    if finetuned is not None:
        ws.keep_finetuned(finetuned, record=False)
    settings_from_checkpoint(ckpt.data_config, ckpt.model_config, ckpt.train_config)
    st.session_state["shrank_upload_msg"] = (
        "success", f"Loaded {uploaded.name}: {describe_prune_config(ckpt.prune_config)}, "
                   f"{ckpt.stage}. The sidebar now shows its settings; accuracies below are "
                   f"measured again here.")


def checkpoint_uploader() -> None:
    """The upload box (an advanced control: hidden in classroom mode)."""
    if classroom_mode():
        return
    st.file_uploader(f"Load a checkpoint exported from this app (.pt, up to "
                     f"{MAX_CHECKPOINT_BYTES // 2**20} MB)", type=["pt"], key=UPLOAD_KEY,
                     max_upload_size=MAX_CHECKPOINT_BYTES // 2**20,
                     on_change=_load_uploaded_checkpoint,
                     help="Read with torch.load(weights_only=True) and checked against the model "
                          "its settings describe. Anything else is refused and your current "
                          "model stays.")


# ----------------------------------------------------------------------------- trade-off curve
def tradeoff_section(trained, data):
    """Accuracy against size and latency for three recipes, measured once per model (server
    cache), and the one sentence a decider needs. Returns the curve (None: not measured)."""
    st.subheader("How far can you go?")
    curve = cached_tradeoff(trained)
    if curve is None:
        st.markdown("Prune **this model** with three recipes at several levels — one-shot, "
                    "iterative and structured (whole neurons, then compacted) — each fine-tuned "
                    "for the same 3 epochs with 2 seeds, then measure every result's test "
                    "accuracy, stored size and speed.")
        if not st.button("Measure the trade-off curve (about half a minute)", type="primary",
                         key="shrank_tradeoff_run",
                         help="Runs once per model on this server; everyone with the same "
                              "model then sees the same measured points."):
            return None
        try:
            curve = measure_with_progress(trained, data)
        except PruningError as exc:
            show_error(exc)
            return None
    st.markdown(f"**{tradeoff_view.verdict_sentence(curve)}**")
    c1, c2 = side_by_side()
    show_chart(tradeoff_view.tradeoff_figure(curve, "size"), key="shrank_curve_size", where=c1)
    show_chart(tradeoff_view.tradeoff_figure(curve, "latency"), key="shrank_curve_latency", where=c2)
    st.caption(tradeoff_view.timing_caption(curve))
    with st.expander("Every measured point"):
        st.dataframe(tradeoff_view.points_table(curve), hide_index=True)
    return curve


def side_by_side():
    """Chart beside its table; stacked in classroom mode, where large fonts need the width."""
    return (st.container(), st.container()) if classroom_mode() else st.columns([1, 1])


# ----------------------------------------------------------------------------- page
st.title("📦 What shrank?")
st.markdown("Pruning sets weights to **zero**. What does that buy outside this app — a smaller "
            "file? a faster model? Every number below is **measured** on this machine, not "
            "estimated.")

msg = st.session_state.pop("shrank_upload_msg", None)
if msg:
    (st.error if msg[0] == "error" else st.success)(msg[1])

trained, data, _, ws = page_context(if_missing=checkpoint_uploader)
curve = tradeoff_section(trained, data)
st.subheader("The model in this session")

if ws.pruned is None:
    st.info("No pruned model in this session yet. Prune on the **Prune** page, or here in one "
            "click: remove the 90 % of weights with the smallest |w| (ranked over all layers).")
    st.session_state.setdefault("shrank_default_finetune", True)   # (a link may set it)
    also_finetune = st.checkbox("Then fine-tune the survivors (5 epochs, pruned weights held at "
                                "zero)", key="shrank_default_finetune")
    if st.button("Prune 90 % now (global magnitude)", type="primary", key="shrank_default_prune"):
        try:
            with st.spinner("Pruning…"):
                pruned = ensure_default_pruned(0.9)
                if also_finetune:
                    pc = pruned.prune_config
                    ft_cfg = replace(trained.train_config, epochs=pc.finetune_epochs,
                                     batch_size=pc.finetune_batch_size or trained.train_config.batch_size)
                    ws.keep_finetuned(finetune_pruned(ws.trained, pruned, data, ft_cfg))
        except PruningError as exc:
            show_error(exc)
            stop_page()
        st.rerun()
    checkpoint_uploader()
    next_step_link()
    stop_page()

final = ws.finetuned if ws.finetuned is not None else ws.pruned
stage = "pruned and fine-tuned" if ws.finetuned is not None else "pruned (not fine-tuned)"
st.caption(f"Pruned model: {describe_prune_config(ws.pruned.prune_config)}, {stage}.")

# ----------------------------------------------------------------------------- measure
batch_size, repeats = 256, 9
if not classroom_mode():
    with st.expander("Timing settings"):
        c1, c2 = st.columns(2)
        batch_size = c1.select_slider("Batch size", [1, 16, 64, 256, 1024], value=256,
                                      key="shrank_batch",
                                      help="Examples per forward pass. Sparse kernels and small "
                                           "matrices behave differently at different batch sizes.")
        repeats = c2.slider("Timed runs per variant", 3, 21, 9, 2, key="shrank_repeats",
                            help="The median of these runs is reported; more runs, steadier "
                                 "numbers, longer wait.")

dense_model = trained.build(data)
pruned_model = trained.build(data, final.state)
cache = ws.extras.get("shrank")
stale = (cache is None or cache["trained"] is not trained or cache["final"] is not final
         or cache["setup"] != (batch_size, repeats))
again = st.button("Measure again", key="shrank_remeasure",
                  help="Timing depends on what else the machine is doing; measure again to see "
                       "how much the numbers move (this replaces the stored measurement).")
if again or stale:
    key = measurement_key(trained, final.state, (batch_size, repeats))
    stored = None if again else stored_measurement(key)
    if stored is None:
        try:
            with st.spinner("Measuring sizes and timing seven ways of running the model…"):
                compaction = compact_model(pruned_model)
                result = shrank.measure_shrinkage(dense_model, pruned_model, compaction,
                                                  final.masks, data, batch_size=batch_size,
                                                  repeats=repeats, min_run_s=0.01)
        except PruningError as exc:
            show_error(exc)
            stop_page()
        stored = store_measurement(key, (result, compaction))
    result, compaction = stored
    cache = ws.extras["shrank"] = {"trained": trained, "final": final, "result": result,
                                   "compaction": compaction, "setup": (batch_size, repeats)}
result, compaction = cache["result"], cache["compaction"]

# ----------------------------------------------------------------------------- headline
head = shrank_view.headline(result)
st.markdown(f"#### {head}")
st.caption("🗣️ One sentence from the measurements below, for your manager. Measured once and "
           "kept: it stays the same between visits until you press **Measure again**.")
rows = result.models.set_index("model")
d_row, p_row, c_row = (rows.loc[shrank.MODEL_LABELS[k]] for k in ("dense", "pruned", "compacted"))
size = shrank.best_size(result)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Weights removed", f"{pct(result.sparsity)}",
          help="Share of the prunable weights that the masks set to zero.")
m2.metric("Test accuracy", f"{pct(p_row.test_acc)}",
          f"{100 * (p_row.test_acc - d_row.test_acc):+.1f} points",
          help=f"Pruned model on the test split; the dense model had {pct(d_row.test_acc)}.")
m3.metric("Stored (smallest lossless)", f"{size.nbytes / 1024:,.1f} KB",
          f"{100 * (size.nbytes / size.dense_bytes - 1):+.0f} %", delta_color="inverse",
          help=f"{size.fmt}, float32 values, {shrank.MODEL_LABELS[size.model]}; the dense model "
               f"in plain float32: {size.dense_bytes / 1024:,.1f} KB. Every format is in the "
               f"Storage table below.")
lat = shrank_view.latency_change(result)
m4.metric("Latency per batch", f"{lat.ms:.3f} ms", lat.delta,
          delta_color="inverse" if lat.decided else "off",
          delta_arrow="auto" if lat.decided else "off", help=lat.help)
st.caption(f"Latency metric: {lat.variant}, per batch of {int(result.latency['batch_size'].iloc[0])} "
           f"= {1000 * lat.ms / int(result.latency['batch_size'].iloc[0]):.2f} µs per example, "
           f"{int(result.latency['threads'].iloc[0])} thread.")

st.subheader("What to notice")
st.markdown("\n".join(f"- {n}" for n in shrank_view.notes(result)))

# ----------------------------------------------------------------------------- tables & charts
st.subheader("Size")
show_chart(shrank_view.bytes_figure(result), key="shrank_bytes_chart")
st.dataframe(shrank.storage_table(result), hide_index=True)
st.caption("Torch's files are what `torch.save` writes (its sparse tensors keep 8-byte indices). "
           "The encoded formats are real bytes of the weights with narrower indices (no file "
           "header); the relative layout is Deep Compression's (Han et al., 2016), with linear "
           "int8 values instead of their trained 5-bit shared weights and Huffman coding. "
           + shrank_view.compaction_caption(compaction))
st.dataframe(shrank.counts_table(result), hide_index=True)

st.subheader("Speed")
show_chart(shrank_view.latency_figure(result), key="shrank_latency_chart")
st.dataframe(shrank.latency_table(result).drop(columns=["lower quartile (ms)",
                                                        "upper quartile (ms)"]),
             hide_index=True)
st.caption("Median of the timed runs (each long enough to swamp the clock's resolution), variants "
           "timed in turn so background load hits all alike; whiskers span the middle half of "
           "the runs. The dense model is timed twice: how far apart those two come out is the "
           "noise. A variant is called faster only when the middle halves of the runs do not "
           "overlap and the gain is larger than that noise and 10 %; that decision is made once "
           "per measurement and every sentence, chart and export uses it.")

st.subheader("Accuracy")
st.dataframe(shrank.accuracy_table(result), hide_index=True)

st.subheader("Would this carry over to a larger model?")
st.markdown("\n".join(f"- {n}" for n in shrank_view.carry_over(result)))

# ----------------------------------------------------------------------------- exports
st.subheader("Take it with you")
settings = {"data set": trained.data_config.name, "model": trained.model_config.kind,
            "hidden sizes": ",".join(map(str, trained.model_config.hidden)),
            "seed": trained.train_config.seed, "pruning": describe_prune_config(ws.pruned.prune_config),
            "stage": stage}
snippet = snippet_for_masks(trained.build(data), final.masks, ws.pruned.prune_config,
                            CHECKPOINT_NAME)
pruned_for_table = trained.build(data, final.state)
extra = [Section("Training of the dense model", [training_curves(trained.history)]
                 if len(trained.history) else ["(no training history in this session)"]),
         Section("Per layer", [layer_table(pruned_for_table, data.n_features)]),
         Section("Reproduce with torch.nn.utils.prune", [snippet.note, Code(snippet.code)])]
pruned_state = (ws.trained, ws.pruned, ws.finetuned)

model_settings = {"data set": trained.data_config.name,
                  "model": f"{trained.model_config.kind} "
                           + ",".join(map(str, trained.model_config.hidden
                                          if trained.model_config.kind == "mlp"
                                          else trained.model_config.channels)),
                  "trained epochs": trained.train_config.epochs,
                  "training seed": trained.train_config.seed}
budget = (f"{len(ws.finetuned.history)} epochs" if ws.finetuned is not None
          else "none (not fine-tuned)")
summary = exports.summary_table(result, curve, model_settings,
                                describe_prune_config(ws.pruned.prune_config), budget)
st.markdown("**Summary: one row per recipe** — the same numbers as the charts above, the CSV and "
            "the report (which add each recipe's settings, seeds, ms per batch and the model)."
            + ("" if curve is not None else " Measure the trade-off curve (top of the page) to "
                                            "add its recipes."))
st.dataframe(summary[list(exports.SUMMARY_PAGE_COLUMNS)], hide_index=True)
lead_sections = (exports.curve_sections(curve, trained.build(data)) if curve is not None else
                 [Section("How far can you go?", ["The trade-off curve was not measured when "
                                                  "this report was made."])])
lead = (f"{tradeoff_view.verdict_sentence(curve)} This session's model: {head}"
        if curve is not None else head)

e1, e2, e3, e4 = st.columns(4)
e1.download_button("⬇️ Pruned model (.pt)", data=lambda: checkpoint_bytes(*pruned_state),
                   file_name=CHECKPOINT_NAME, mime="application/octet-stream",
                   key="shrank_dl_checkpoint", on_click="ignore",
                   help="A plain PyTorch checkpoint: weights, masks and settings as tensors, "
                        "numbers, strings, lists and dicts. Load it with "
                        "torch.load(path, weights_only=True).")
e2.download_button("⬇️ Summary (.csv)", data=summary.to_csv(index=False),
                   file_name="what_shrank_summary.csv", mime="text/csv", key="shrank_dl_csv",
                   on_click="ignore", help="The summary table above: one row per recipe, with "
                                           "its settings.")
e3.download_button("⬇️ Full data (.csv)",
                   data=lambda: exports.full_data_table(result, curve).to_csv(index=False),
                   file_name="what_shrank_full_data.csv", mime="text/csv",
                   key="shrank_dl_full_csv", on_click="ignore",
                   help="Every measured number, one row per quantity (every seed and timed "
                        "variant of the curve too).")
e4.download_button("⬇️ Report (.html)",
                   data=lambda: shrank_view.report_html(result, settings, extra, lead_sections,
                                                        lead, summary),
                   file_name="pruning_report.html", mime="text/html", key="shrank_dl_html",
                   on_click="ignore",
                   help="One file: the trade-off curve, the headline, the recipe with its code, "
                        "the summary table and every chart; opens in any browser, offline.")
with st.expander("Use the checkpoint in your own project"):
    st.code(f'import torch\n\nckpt = torch.load("{CHECKPOINT_NAME}", weights_only=True)  '
            f'# plain data: no code runs\nmodel.load_state_dict(ckpt["state_dict"])  '
            f'# same layer names as the app\'s model\nmasks = ckpt["masks"]  '
            f'# True = kept\nprint(ckpt["prune_config"], ckpt["metrics"])', language="python")

checkpoint_uploader()

st.subheader("Show the code")
st.markdown(f"The same pruning with PyTorch's own `torch.nn.utils.prune` "
            f"(`{snippet.method}`). {snippet.note}")
st.code(snippet.code, language="python")
