"""The guided lesson: the 20-minute story in eight screens, each with its live controls,
presenter notes, Back / Next and a progress marker. The step is in the link (``?step=3``), so a
shared link opens the same screen. Texts: ``pruning.present.lesson``; the work is done by the
same functions the other pages call."""
import streamlit as st

from pruning.config import TrainConfig
from pruning.core.masks import count_total, sparsity
from pruning.core.records import finetune_pruned
from pruning.errors import PruningError
from pruning.labs import shrink as shrank
from pruning.present import shrink as shrank_view
from pruning.present.charts import training_curves
from pruning.present.format import pct
from pruning.present.lesson import (
    N_STEPS,
    STEPS,
    drop_sentence,
    file_sizes_figure,
    file_sizes_sentence,
    progress_label,
    recovery_sentence,
    repeat_target,
    step_number,
    trained_sentence,
)
from pruning.present.prune import layer_heatmap, recovery_curves
from pruning.present.timeline import sawtooth_figure, sawtooth_note
from pruning.structured.compact import compact_model
from ui.cache import trained_data
from ui.charts import show_chart
from ui.scaffold import ensure_default_pruned, prune_again, require_trained_model
from ui.timeline import undo_reset_buttons
from ui.widgets import NOTICE, delta_colour, show_error
from ui.worked_example import worked_example
from ui.workspace import workspace

STEP_KEY = "lesson_step"          # bound to the link's ``step`` (pruning.app.url_state)
FT_EPOCHS = 10
FT_BATCH = 32                     # the Fine-tune page's defaults (Adam, lr 0.001)


# ----------------------------------------------------------------------------- navigation
def _go(n: int) -> None:
    st.session_state[STEP_KEY] = step_number(n)


def header(n: int, step) -> None:
    """The step's title with Back / Next beside it, and the progress marker under it."""
    c1, c2, c3 = st.columns([5, 1, 1], vertical_alignment="center")
    c1.header(f"{n} · {step.title}", anchor=False)
    c2.button("← Back", key="lesson_back", on_click=_go, args=(n - 1,),
              disabled=n <= 1, width="stretch")
    c3.button("Next →", key="lesson_next", on_click=_go, args=(n + 1,),
              disabled=n >= N_STEPS, type="primary", width="stretch")
    st.progress(n / N_STEPS, text=progress_label(n))


def presenter_notes(step) -> None:
    with st.expander("🎓 Presenter notes (what to say, what to point at, what to ask)"):
        st.markdown(f"**Say:** {step.say}\n\n**Point at:** {step.point_at}\n\n"
                    f"**Ask the room:** {step.ask}")
        st.page_link(step.more, label="The full page for this step →")


def sawtooth(height: int = 320) -> None:
    frame = workspace().timeline_frame()
    if len(frame) > 1:
        show_chart(sawtooth_figure(frame, height=height), key="lesson_sawtooth")


def fine_tune_now(epochs: int) -> None:
    """Fine-tune the kept pruned model (pruned weights held at zero) with a progress bar."""
    ws = workspace()
    trained, pruned = ws.trained, ws.pruned
    cfg = TrainConfig(epochs=int(epochs), batch_size=FT_BATCH, seed=trained.train_config.seed)
    bar = st.progress(0.0, text="Fine-tuning…")
    try:
        ws.keep_finetuned(finetune_pruned(
            trained, pruned, trained_data(trained), cfg,
            progress=lambda ep, total, row: bar.progress(ep / max(total, 1),
                                                         text=f"Fine-tuning: epoch {ep}/{total}")))
    except PruningError as exc:
        show_error(exc)
    bar.empty()


def catch_up(need: str) -> bool:
    """A step that needs earlier steps (a link opened mid-lesson): say so and offer to do them
    with the lesson's defaults. True when the session has what ``need`` asks for."""
    ws = workspace()
    have = {"trained": ws.trained is not None,
            "pruned": ws.trained is not None and ws.pruned is not None,
            "finetuned": ws.trained is not None and ws.latest_finetuned() is not None}[need]
    if have:
        return True
    what = {"trained": "a trained model", "pruned": "a pruned model",
            "finetuned": "a fine-tuned model"}[need]
    st.info(f"This step needs {what}. Go back to the earlier steps, or catch up in one click "
            f"with the lesson's defaults (default model, 90 % pruned, {FT_EPOCHS} epochs of "
            "fine-tuning).")
    if st.button("Catch up", key="lesson_catch_up", type="primary"):
        try:
            with st.spinner("Catching up…"):
                if ws.pruned is None or need == "trained":
                    ensure_default_pruned(0.9)
                if need == "finetuned":
                    fine_tune_now(FT_EPOCHS)
        except PruningError as exc:
            show_error(exc)
            return False
        st.rerun()
    return False


# ----------------------------------------------------------------------------- the steps
def step_weights() -> None:
    worked_example(header=None, editable=False, table=False, height=300)


def step_train() -> None:
    trained = require_trained_model()
    if trained is None:
        return
    n_weights = count_total({k: v for k, v in trained.state.items() if k.endswith("weight")})
    st.markdown(trained_sentence(trained.metrics, n_weights))
    c1, c2 = st.columns([1, 2])
    c1.metric("Test accuracy", pct(trained.metrics["test_acc"]),
              help="Examples the network never saw while training.")
    c1.metric("Train accuracy", pct(trained.metrics["train_acc"]))
    if len(trained.history):
        show_chart(training_curves(trained.history, "acc", height=300), key="lesson_train", where=c2)


def step_prune() -> None:
    if not catch_up("trained"):
        return
    ws = workspace()
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    st.session_state.setdefault("lesson_sparsity", 90.0)   # (a link may set it)
    target = c1.slider("Share of the weights to remove (%)", 50.0, 99.0, step=0.5,
                       key="lesson_sparsity", format="%.1f %%",
                       help="The smallest weights (by |w|, ranked over all layers) become 0.")
    if c2.button(f"Prune {target:.1f} %", key="lesson_prune", type="primary", width="stretch",
                 icon="✂️", help="Sets the smallest weights to exactly 0; nothing is retrained."):
        try:
            ensure_default_pruned(target / 100)
        except PruningError as exc:
            show_error(exc)
    pruned = ws.pruned
    if pruned is None:
        st.caption("Press the button: nothing is retrained, the weights are only set to 0.")
        return
    name = max(pruned.masks, key=lambda n: pruned.masks[n].numel())
    m = pruned.masks[name]
    dense_w = ws.trained.state[name]
    rows, cols = dense_w.shape[0], dense_w.shape[-1]
    show_chart(layer_heatmap(dense_w, m, height=300, zmax=float(dense_w.abs().max()) or 1.0,
                             title=f"the largest layer ({rows} units × {cols} inputs): "
                                   f"{pct(1 - float(m.float().mean()))} pruned"),
               key="lesson_heatmap")


def step_drop() -> None:
    if not catch_up("pruned"):
        return
    ws = workspace()
    d, p = ws.trained.metrics, ws.pruned.metrics
    left, right = st.columns([1, 2])
    left.metric("Dense: test", pct(d["test_acc"]))
    left.metric("Pruned: test", pct(p["test_acc"]),
                delta=f"{100 * (p['test_acc'] - d['test_acc']):+.1f} points",
                delta_color=delta_colour(p["test_acc"] - d["test_acc"]),
                help=f"{pct(sparsity(ws.pruned.masks))} of the weights removed, nothing retrained.")
    with right:
        sawtooth(300)
    st.markdown(drop_sentence(d, p, sparsity(ws.pruned.masks)))


def step_finetune() -> None:
    if not catch_up("pruned"):
        return
    ws = workspace()
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    st.session_state.setdefault("lesson_ft_epochs", FT_EPOCHS)   # (a link may set it)
    epochs = c1.number_input("Epochs", 1, 50, step=1, key="lesson_ft_epochs",
                             help="Passes over the training data; pruned weights stay 0.")
    if c2.button(f"Fine-tune {int(epochs)} epochs", key="lesson_finetune", type="primary",
                 icon="🔧"):
        fine_tune_now(int(epochs))
    ft = ws.finetuned
    if ft is None:
        st.caption("Press the button: only the surviving weights are trained.")
        return
    show_chart(recovery_curves(ft.history, ws.trained.metrics, height=300),
               key="lesson_recovery")


def step_recovery() -> None:
    if not catch_up("finetuned"):
        return
    ws = workspace()
    pruned, ft = ws.last_finetune()  # the pair, even after a later cut on step 7
    d = ws.trained.metrics
    left, right = st.columns([1, 2])
    left.metric("Pruned: test", pct(pruned.metrics["test_acc"]),
                help=f"Right after pruning; the dense model had {pct(d['test_acc'])}.")
    left.metric("Fine-tuned: test", pct(ft.metrics["test_acc"]),
                delta=f"{100 * (ft.metrics['test_acc'] - pruned.metrics['test_acc']):+.1f} points",
                delta_color=delta_colour(ft.metrics["test_acc"] - pruned.metrics["test_acc"]),
                help="The change is against the pruned model it started from.")
    with right:
        sawtooth(300)
    epochs = int(ft.history["epoch"].max()) if len(ft.history) else 0
    st.markdown(recovery_sentence(d, pruned.metrics, ft.metrics, epochs))


def step_repeat() -> None:
    if not catch_up("finetuned"):
        return
    ws = workspace()
    start = ws.latest_finetuned()
    now = sparsity(start.masks)
    default = round(100 * repeat_target(now), 1)
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    lo = min(100 * now + 0.5, 99.5)
    # The target lives in the session state (a link may set it): the suggested one whenever
    # the model to prune again changed, and never below what is pruned already.
    s = st.session_state
    if s.get("lesson_again") is None or s.get("_lesson_again_at", now) != now \
            or not lo <= s["lesson_again"] <= 99.5:
        s["lesson_again"] = min(max(default, lo), 99.5)
    s["_lesson_again_at"] = now
    target = c1.slider("Prune again to (% of the original weights)", lo, 99.5, step=0.5,
                       key="lesson_again", format="%.1f %%",
                       help=f"{pct(now)} are pruned already and stay pruned.")
    if c2.button(f"Prune to {target:.1f} % and fine-tune", key="lesson_repeat", type="primary",
                 width="stretch",
                 help=f"Prune the fine-tuned model to {target:.1f} %, then fine-tune "
                      f"{FT_EPOCHS} epochs."):
        try:
            prune_again(target / 100)
            fine_tune_now(FT_EPOCHS)
        except PruningError as exc:
            show_error(exc)
    sawtooth(280)
    st.markdown(NOTICE + sawtooth_note(ws.timeline_frame()))
    undo_reset_buttons("lesson")


def step_shrank() -> None:
    if not catch_up("pruned"):
        return
    ws = workspace()
    final = ws.finetuned if ws.finetuned is not None else ws.pruned
    kept = ws.extras.get("lesson_shrank")
    if kept is None or kept[0] is not final:
        data = trained_data(ws.trained)
        try:
            with st.spinner("Measuring the files…"):
                model = ws.trained.build(data, final.state)
                result = shrank.measure_shrinkage(ws.trained.build(data), model,
                                                  compact_model(model), final.masks, data,
                                                  repeats=3, min_run_s=0.005)
        except PruningError as exc:
            show_error(exc)
            return
        kept = ws.extras["lesson_shrank"] = (final, result)
    result = kept[1]
    st.markdown(file_sizes_sentence(result))
    show_chart(file_sizes_figure(result, height=300), key="lesson_bytes")
    st.caption("The What shrank? page's summary: " + shrank_view.headline(result))


BODIES = {"weights": step_weights, "train": step_train, "prune": step_prune, "drop": step_drop,
          "finetune": step_finetune, "recovery": step_recovery, "repeat": step_repeat,
          "shrank": step_shrank}

# ----------------------------------------------------------------------------- page
st.session_state.setdefault(STEP_KEY, 1)  # before any Next: the link follows from then on
n = step_number(st.session_state[STEP_KEY])
step = STEPS[n - 1]
# One screen per step on a 1280×720 projector: less empty space above the step's title.
st.html("<style>[data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>")
header(n, step)
st.markdown(step.lead)
BODIES[step.key]()
presenter_notes(step)
if n == N_STEPS:
    st.success("That is the whole loop. Explore any step further on its own page, or compare "
               "the runs you made.")
    c1, c2 = st.columns(2)
    c1.page_link("pages/shrank.py", label="Measure it fully: What shrank? →")
    c2.page_link("pages/runs.py", label="Your runs →")
