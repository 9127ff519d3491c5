"""The guided lesson: the 20-minute story in eight steps, and the sentences it says with the
session's own numbers.

Each ``LessonStep`` is one screen of ``pages/lesson.py``: a title, one line the room reads
(``lead``), and presenter notes the teacher opens: what to say, what to point at, and the
question to ask the room (wait for answers before pressing Next). The story follows the loop
of the article: four weights and a threshold → train → prune 90 % → the drop → fine-tune → the
recovery → repeat → what really shrank.

The sentence functions describe one model's change (before → after, in measured numbers);
they never compare two arms, so no "better / worse than" claim is made here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from pruning.present.format import pct
from pruning.present.style import PRUNED_COLOUR, figure


@dataclass(frozen=True)
class LessonStep:
    key: str
    title: str
    lead: str       # on screen, for the room
    say: str        # presenter: what to say
    point_at: str   # presenter: what to point at
    ask: str        # presenter: the question for the room
    more: str       # the page that goes deeper (a script under pages/)


STEPS: tuple[LessonStep, ...] = (
    LessonStep(
        "weights", "Four weights and a threshold",
        "Pruning removes the weights that matter least. The simplest rule: every weight whose "
        "size |w| is below a threshold becomes 0.",
        "A network is just many numbers called weights. Here are four: 0.2, 0.5, 0.1 and 0.3. "
        "With the threshold 0.3 we prune every weight *smaller* than 0.3, so 0.2 and 0.1 go. "
        "0.3 itself stays: the rule is strictly below.",
        "The bars: the amber ones are pruned. Then drag the threshold and watch bars change "
        "colour.",
        "If I move the threshold to 0.35, which weights survive? And what about at exactly 0.5?",
        "pages/threshold.py"),
    LessonStep(
        "train", "Train a network",
        "A small network learns the data set chosen in the sidebar (by default handwritten "
        "digits, 8×8 pixels, 10 classes). This is the dense model: every weight in use.",
        "Before we can prune, we need something worth pruning. This network has tens of "
        "thousands of weights and has learned from the training examples; the test accuracy "
        "counts examples it has never seen.",
        "The test accuracy number, and the curves: accuracy climbs in the first epochs, then "
        "flattens.",
        "Roughly what share of these weights do you think we could throw away before the "
        "network gets noticeably worse?",
        "pages/train.py"),
    LessonStep(
        "prune", "Prune 90 %",
        "Rank every weight by its size and set the smallest ones to exactly 0. Choose how many.",
        "We now apply the threshold rule to the real network, except that we pick the threshold "
        "so that a chosen share of the weights goes: 90 % means nine weights out of ten become 0.",
        "The heatmap: each cell is one weight; amber cells are pruned. Most of the picture turns "
        "amber.",
        "Nine out of ten weights are gone. What will happen to the accuracy: a small dip, or a "
        "crash?",
        "pages/prune.py"),
    LessonStep(
        "drop", "The drop",
        "Right after pruning, nothing was retrained: the surviving weights still expect their "
        "removed neighbours.",
        "The network was tuned with all its weights. Take most away at once and the rest no "
        "longer add up to the right answers, so accuracy falls. The size of the drop depends on "
        "how much was cut and on how the weights were chosen.",
        "The two test accuracies side by side, and the downward step in the line chart.",
        "The weights that are left are unchanged. Why does accuracy still fall so much?",
        "pages/prune.py"),
    LessonStep(
        "finetune", "Fine-tune",
        "Train the survivors a little more, on the same training data, while every pruned "
        "weight stays exactly 0.",
        "Fine-tuning is ordinary training with one rule: pruned weights stay at zero. Backpropagation "
        "adjusts the remaining weights so that they make up for the removed ones.",
        "The recovery curve: epoch 0 is the pruned model; watch the test line climb.",
        "How many epochs do you think it takes to win most of the accuracy back?",
        "pages/finetune.py"),
    LessonStep(
        "recovery", "The recovery",
        "Same 10 % of the weights, a few epochs later.",
        "With only one weight in ten, the fine-tuned network gets close to where the dense one "
        "was. Most of the dense model's weights were not needed for this task; what they did, "
        "the survivors learned to do.",
        "The three numbers: dense, right after pruning, after fine-tuning; and the line going "
        "down and back up.",
        "If we can remove 90 % and recover, why not 99 %? What do you expect?",
        "pages/finetune.py"),
    LessonStep(
        "repeat", "Repeat",
        "Prune the fine-tuned model again, a bit more, and fine-tune again: the loop. Pruned "
        "weights stay pruned.",
        "This is the whole loop from the article *Understanding Pruning in Deep Learning*: train, prune, fine-tune, repeat. Each round "
        "cuts a little more and gives the network time to adjust, which is why the line looks "
        "like a saw: down at each cut, up after each fine-tune.",
        "The saw-tooth: each drop is a cut, each climb a fine-tune. Look at how deep the last "
        "drop is.",
        "Where would you stop? What would tell you that you have cut too much?",
        "pages/iterate.py"),
    LessonStep(
        "shrank", "What really shrank?",
        "The pruned weights are zeros inside the same matrices. Is the file smaller? Is it "
        "faster?",
        "Here is the catch most people miss: setting weights to zero does not remove them. The "
        "model file and the computation are the same size until the zeros are stored in a "
        "sparse format, compressed, or whole neurons are removed.",
        "The file sizes: the pruned model stored as it is, compressed, and with the dead neurons "
        "removed.",
        "So what did pruning buy us here, and what would we need to change to get a smaller or "
        "faster model on a phone?",
        "pages/shrank.py"),
)

N_STEPS = len(STEPS)


def step_number(value, default: int = 1) -> int:
    """A step number from a link or the session, clamped to 1 … ``N_STEPS`` (bad text: the
    default)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(n, 1), N_STEPS)


def progress_label(n: int) -> str:
    """``"Step 3 of 8 · Prune 90 %"``."""
    return f"Step {n} of {N_STEPS} · {STEPS[n - 1].title}"


# ----------------------------------------------------------------------------- sentences
def trained_sentence(metrics: Mapping[str, float], n_weights: int) -> str:
    return (f"The dense network uses all {n_weights:,} weights and gets "
            f"**{pct(metrics['test_acc'])}** of the test examples right "
            f"(training examples: {pct(metrics['train_acc'])}).")


def drop_sentence(dense: Mapping[str, float], pruned: Mapping[str, float],
                  sparsity: float) -> str:
    """One model before and after a cut, in measured numbers."""
    change = 100 * (pruned["test_acc"] - dense["test_acc"])
    return (f"Removing {pct(sparsity)} of the weights took test accuracy from "
            f"**{pct(dense['test_acc'])}** to **{pct(pruned['test_acc'])}** "
            f"({change:+.1f} points), without any retraining.")


def recovery_sentence(dense: Mapping[str, float], pruned: Mapping[str, float],
                      finetuned: Mapping[str, float], epochs: int) -> str:
    """The fine-tuned model against the pruned one it started from, and the dense level."""
    lost = dense["test_acc"] - pruned["test_acc"]
    won = finetuned["test_acc"] - pruned["test_acc"]
    text = (f"After {epochs} epoch{'s' if epochs != 1 else ''} of fine-tuning: test accuracy "
            f"**{pct(finetuned['test_acc'])}** (right after pruning {pct(pruned['test_acc'])}, "
            f"dense {pct(dense['test_acc'])}).")
    if lost > 0.005 and won > 0:
        text += f" {100 * won:.1f} of the {100 * lost:.1f} points lost came back."
    elif won <= 0:
        text += " Fine-tuning did not raise test accuracy this time."
    return text


def repeat_target(current: float) -> float:
    """The next cut the lesson suggests after ``current`` sparsity: four fifths of what is
    left (90 % → 98 %), in half-percent steps, at most 99.5 %. A smaller second cut of a
    fine-tuned model (90 % → 95 % on the default model) costs well under a point, which is the
    point of pruning gradually but hides the second tooth of the saw."""
    nxt = current + 0.8 * (1 - current)
    return min(round(nxt * 200) / 200, 0.995)


# ----------------------------------------------------------------------------- what shrank
def _kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB" if n >= 10 * 1024 else f"{n / 1024:,.1f} KB"


def file_sizes(s) -> list[tuple[str, float]]:
    """The four files the room compares, from a ``labs.shrink.Shrinkage``: (label, bytes)."""
    d, p, c = s.model("dense"), s.model("pruned"), s.model("compacted")
    return [("dense<br>model", float(d.dense_file_bytes)),
            ("pruned,<br>as it is", float(p.dense_file_bytes)),
            ("pruned,<br>gzip", float(p.dense_gzip_bytes)),
            (f"pruned, dead<br>{s.unit_name}s removed", float(c.dense_file_bytes))]


def file_sizes_figure(s, height: int = 320):
    """Bars of the four files' measured sizes (``torch.save`` bytes), labelled in KB."""
    sizes = file_sizes(s)
    colours = ["#4c72b0", "#4c72b0", PRUNED_COLOUR, PRUNED_COLOUR]
    data = [dict(type="bar", x=[label for label, _ in sizes], y=[b / 1024 for _, b in sizes],
                 marker_color=colours, text=[_kb(b) for _, b in sizes], textposition="outside",
                 cliponaxis=False, hovertemplate="%{x}: %{text}<extra></extra>")]
    top = max(b for _, b in sizes) / 1024
    spec = dict(yaxis=dict(title=dict(text="KB on disk"), range=[0, 1.25 * top]),
                xaxis=dict(title=dict(text=""), tickangle=0), showlegend=False,
                margin=dict(l=70, r=20, t=60, b=70))
    return figure(data, spec, "the model file, measured", height)


def file_sizes_sentence(s) -> str:
    """What the four files say, in measured bytes."""
    (_, dense), (_, as_is), (_, gz), (_, compact) = file_sizes(s)
    removed = s.units_removed
    text = (f"Saved as it is, the pruned model's file is **{_kb(as_is)}**; the dense one's is "
            f"{_kb(dense)}: a zero takes as much room as any other number. Compressed, the "
            f"pruned file is **{_kb(gz)}**")
    if removed:
        text += (f". Removing its {removed} dead {s.unit_name}{'s' if removed != 1 else ''} "
                 f"instead leaves smaller dense matrices, saved without compression: "
                 f"**{_kb(compact)}**.")
    else:
        text += f"; no {s.unit_name} died, so none could be removed."
    return text
