"""Runs: every finished train, prune, fine-tune, Iterate run and scorer comparison of this
session, with its settings; lay any of them over each other, rename, remove, download."""
import streamlit as st

from pruning.app.runs import overlay_points, runs_table
from pruning.present.timeline import runs_overlay
from ui.charts import show_chart
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.workspace import workspace

st.title("📚 Runs")
st.markdown("Every run you finish in this session is kept here with its settings: training, "
            "a kept pruned model, fine-tuning, an Iterate run, a scorer comparison. Pick two or "
            "more to lay them over each other on one accuracy-vs-sparsity chart.")

ws = workspace()
msg = st.session_state.pop("runs_msg", None)
if msg:
    st.success(msg)
if not ws.runs:
    st.info("No runs yet. Train a model, keep a pruned model, fine-tune, or press **Run the "
            "rounds** on Iterate: each finished run appears here.")
    st.page_link("pages/iterate.py", label="Run the rounds on Iterate →")
    next_step_link()
    stop_page()

by_id = {r.id: r for r in ws.runs}
newest = [r.id for r in ws.runs[-2:]]
st.session_state.setdefault("runs_chosen", newest)
st.session_state["runs_chosen"] = [i for i in st.session_state["runs_chosen"] if i in by_id]
chosen = st.multiselect("Runs to show", list(by_id)[::-1], key="runs_chosen",
                        format_func=lambda i: by_id[i].name,
                        help="Newest first. Each run is one line (an Iterate run with a random "
                             "baseline, or a scorer comparison, is several).")
show_train = st.checkbox("Also show train accuracy (dotted)", value=False, key="runs_train",
                         help="Test accuracy is solid. Train accuracy above test accuracy is "
                              "what the model memorised.")
picked = [by_id[i] for i in chosen]
if picked:
    show_chart(runs_overlay(overlay_points(picked), show_train=show_train),
               key="runs_overlay")
else:
    st.caption("Choose at least one run above to draw it.")

table = runs_table(picked or ws.runs)
st.download_button(f"Download {'the chosen runs' if picked else 'all runs'} (CSV)",
                   table.to_csv(index=False), "runs.csv", "text/csv", key="runs_csv",
                   help="One row per measured model: test and train accuracy first, then the "
                        "weights pruned, the stage, the run and every setting.")
st.dataframe(table, hide_index=True, width="stretch")


# ----------------------------------------------------------------------------- manage
def _rename(run_id: int) -> None:
    name = st.session_state.get(f"runs_name_{run_id}", "")
    if workspace().rename_run(run_id, name):
        st.session_state["runs_msg"] = f"Renamed to “{workspace().run(run_id).name}”."


def _remove(run_id: int) -> None:
    run = workspace().run(run_id)
    if run is not None and workspace().remove_run(run_id):
        st.session_state["runs_msg"] = f"Removed “{run.name}”."


st.subheader("Your runs")
for run in ws.runs[::-1]:
    with st.expander(run.name):
        st.markdown("  \n".join(f"**{k}:** {v}" for k, v in run.settings.items()) or "—")
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        c1.text_input("Name", value=run.name, key=f"runs_name_{run.id}", max_chars=80)
        c2.button("Rename", key=f"runs_rename_{run.id}", on_click=_rename, args=(run.id,))
        c3.button("Remove", key=f"runs_remove_{run.id}", on_click=_remove, args=(run.id,))
