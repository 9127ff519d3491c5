"""The lesson's texts and the one path through the app (pruning/present/lesson.py,
pruning/app/path.py)."""
from pathlib import Path

import pytest

from pruning.app.path import PATH, SIDE_PAGES, has_next_link, next_stop, stop
from pruning.present.lesson import (
    N_STEPS,
    STEPS,
    drop_sentence,
    progress_label,
    recovery_sentence,
    repeat_target,
    step_number,
)

ROOT = Path(__file__).resolve().parents[3]


def test_eight_steps_in_the_story_order_each_with_presenter_notes():
    assert N_STEPS == 8
    assert [s.key for s in STEPS] == ["weights", "train", "prune", "drop", "finetune",
                                      "recovery", "repeat", "shrank"]
    for s in STEPS:
        assert s.lead and s.say and s.point_at and s.ask.endswith("?")
        assert (ROOT / s.more).exists()
    assert progress_label(3) == "Step 3 of 8 · Prune 90 %"


@pytest.mark.parametrize("raw, n", [("4", 4), (0, 1), (99, 8), ("x", 1), (None, 1), (8, 8)])
def test_step_numbers_from_links_are_clamped(raw, n):
    assert step_number(raw) == n


def test_sentences_say_the_measured_numbers():
    dense = {"test_acc": 0.972, "train_acc": 1.0}
    pruned = {"test_acc": 0.529, "train_acc": 0.54}
    ft = {"test_acc": 0.958, "train_acc": 0.99}
    assert drop_sentence(dense, pruned, 0.9) == (
        "Removing 90.0 % of the weights took test accuracy from **97.2 %** to **52.9 %** "
        "(-44.3 points), without any retraining.")
    text = recovery_sentence(dense, pruned, ft, 10)
    assert "After 10 epochs" in text and "42.9 of the 44.3 points lost came back" in text
    worse = recovery_sentence(dense, pruned, {"test_acc": 0.5, "train_acc": 0.5}, 1)
    assert "did not raise test accuracy" in worse and "epoch of" in worse


def test_repeat_target_cuts_most_of_what_is_left():
    assert repeat_target(0.9) == pytest.approx(0.98)
    assert repeat_target(0.5) == pytest.approx(0.9)
    assert repeat_target(0.999) == pytest.approx(0.995)


def test_the_path_runs_from_home_to_what_shrank_over_real_pages():
    assert PATH[0].title == "Home" and PATH[-1].title == "What shrank?"
    for s in PATH:
        assert (ROOT / s.page).exists()
    app = (ROOT / "app.py").read_text()
    for s in PATH:
        assert f'"{s.page}"' in app          # every stop is in the navigation
    for a, b in zip(PATH, PATH[1:]):
        assert next_stop(a.page) is b and next_stop(a.url_path) is b
    assert next_stop(PATH[-1].page) is None
    assert stop("") is PATH[0] and stop("prune").page == "pages/prune.py"
    for side, target in SIDE_PAGES.items():
        assert next_stop(side).page == target
    assert not has_next_link("pages/lesson.py") and not has_next_link("lesson")
    assert has_next_link("pages/runs.py")


def test_the_file_sizes_come_from_the_measured_shrinkage():
    import pandas as pd

    from pruning.labs.shrink import MODEL_LABELS
    from pruning.present.lesson import file_sizes_figure, file_sizes_sentence

    class S:  # the two things the lesson reads of a labs.shrink.Shrinkage
        units_removed, unit_name = 40, "neuron"
        models = pd.DataFrame({"model": [MODEL_LABELS[k] for k in ("dense", "pruned", "compacted")],
                               "dense_file_bytes": [204_800, 204_800, 81_920],
                               "dense_gzip_bytes": [188_416, 20_480, 70_000]})

        def model(self, key):
            return self.models.set_index("model").loc[MODEL_LABELS[key]]

    fig = file_sizes_figure(S())
    assert list(fig.data[0].y) == [200.0, 200.0, 20.0, 80.0]
    assert list(fig.data[0].text) == ["200 KB", "200 KB", "20 KB", "80 KB"]
    text = file_sizes_sentence(S())
    assert "**200 KB**" in text and "**20 KB**" in text and "Removing its 40 dead neurons instead" in text and "**80 KB**" in text
