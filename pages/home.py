"""Home: what pruning is, the loop as a picture, where each step lives, and where to start."""
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from pruning.present.format import pct
from pruning.present.loop_diagram import LOOP_STEPS, loop_figure
from ui.charts import show_chart
from ui.settings import DATASET_LABELS
from ui.workspace import workspace

#: step key -> (page file, button label, tooltip)
STEP_PAGES = {
    "train": ("pages/train.py", "Train", "Train a dense network on the data set chosen in the sidebar."),
    "score": ("pages/prune.py", "Score",
              "Scoring happens on the Prune page: pick how each weight is rated."),
    "prune": ("pages/prune.py", "Prune", "Zero the lowest-scored weights by a threshold or a "
                                         "target sparsity, and see what it costs."),
    "finetune": ("pages/finetune.py", "Fine-tune",
                 "Retrain the pruned model while the pruned weights stay exactly zero."),
    "repeat": ("pages/iterate.py", "Iterate", "Run several prune + fine-tune rounds and watch "
                                              "accuracy against sparsity."),
}

MORE_PAGES = [
    ("pages/scorers.py", "Compare scorers", ":material/balance:", "Magnitude, gradient-based and random scores side by side."),
    ("pages/structured.py", "Structured & sensitivity", ":material/view_module:",
     "Remove whole neurons or filters, and see which layers can lose the most."),
    ("pages/lottery.py", "Lottery tickets", ":material/confirmation_number:",
     "Rewind the surviving weights to their initial values and retrain."),
    ("pages/generalization.py", "Generalization lab", ":material/science:",
     "Does pruning change overfitting? Label noise, small training sets."),
    ("pages/shrank.py", "What shrank?", ":material/inventory_2:",
     "Count what pruning really saves: parameters, bytes, multiply-adds."),
]


def page_link(path: str, label: str, icon: str | None = None, help: str | None = None) -> None:
    """A link to a page, or a plain line when this build of the app has no such page."""
    try:
        st.page_link(path, label=label, icon=icon, help=help)
    except StreamlitPageNotFoundError:
        st.markdown(f"{label} *(not in this version of the app)*")


# Links and buttons read as small print on a projector; enlarge them on this page only.
st.html("<style>a[data-testid='stPageLink-NavLink'] p {font-size: 1.25rem; font-weight: 600;}"
        "button[data-testid='stBaseButton-primary'] p {font-size: 1.35rem; font-weight: 600;}"
        "</style>")
st.title("✂️ Pruning Playground")
st.markdown("### Train a small neural network, remove most of its weights, "
            "and measure what that costs.")

# ---------------------------------------------------------------------------- start here
with st.container(border=True):
    st.markdown("## :material/touch_app: Start here")
    st.markdown("#### New to pruning? See the idea on four numbers, then train your first model.")
    c1, c2, _ = st.columns([1, 1, 1])
    if c1.button("① Threshold basics →", type="primary", key="home_start_threshold",
                 width="stretch",
                 help="Four weights and one threshold: which weights are pruned and which stay. "
                      "Two minutes, no training needed."):
        st.switch_page("pages/threshold.py")
    if c2.button("② Train a model →", type="primary", key="home_start_train",
                 width="stretch",
                 help="Train a network on the data set chosen in the sidebar (digits by default, "
                      "a few seconds)."):
        st.switch_page("pages/train.py")
    trained = workspace().trained
    if trained is None:
        st.caption("This session has no trained model yet. The sidebar settings (data set, "
                   "model, seed) apply to every page.")
    else:
        d = trained.data_config
        st.caption(f"This session's model: {trained.model_config.kind.upper()} on "
                   f"{DATASET_LABELS.get(d.name, d.name)}, test accuracy "
                   f"{pct(trained.metrics['test_acc'])}. It stays yours until you train "
                   f"a new one.")

# ---------------------------------------------------------------------------- the loop
st.header("The pruning loop")
show_chart(loop_figure(), static=True)

st.markdown("#### Where each step lives (click to go there)")
for col, step in zip(st.columns(len(LOOP_STEPS)), LOOP_STEPS):
    path, label, tip = STEP_PAGES[step.key]
    with col.container(horizontal_alignment="center"):  # under its box in the picture
        page_link(path, label=label, icon=":material/arrow_forward:", help=tip)

# ---------------------------------------------------------------------------- why
st.header("What pruning is, and why")
st.markdown(
    """
#### A trained network often keeps most of its accuracy with many of its weights removed. How many? You measure it here.
- **Pruning** gives every weight a score (most simply its size |w|), sets the
  lowest-scored weights to **exactly zero** and keeps them there.
- **Fine-tuning** then retrains the weights that are left, so the network recovers
  the accuracy the cut cost it.
- Doing this in rounds (**iterating**) lets the network adapt between cuts; the Iterate
  page measures whether that beats cutting everything at once, on your data.
"""
)

st.header("What pruning saves — and what it doesn't")
st.markdown(
    """
#### Setting weights to zero does **not**, by itself, make a model smaller or faster.
- In this app a pruned weight is a **0.0 stored in the same dense table**: the saved
  model file has the same size, and an ordinary (dense) matrix multiplication still does
  every multiplication, zeros included.
- Savings appear only when something **uses the zeros**: a sparse storage format that keeps
  only the non-zero weights plus their positions (this pays off only at high sparsity,
  because each position costs memory too), software or hardware that skips zeros, or
  **structured pruning** that removes whole neurons or filters, so the dense tables
  themselves get smaller.
"""
)
page_link("pages/shrank.py", label="What shrank? — count it for your model", icon=":material/inventory_2:",
          help="Parameters, bytes in dense and sparse storage, multiply-adds: measured, not assumed.")

# ---------------------------------------------------------------------------- more
st.header("More experiments")
cols = st.columns(2)
for i, (path, label, icon, tip) in enumerate(MORE_PAGES):
    with cols[i % 2]:
        page_link(path, label=label, icon=icon, help=tip)
        st.caption(tip)
