"""AppTest checks of the guided lesson (pages/lesson.py): all eight steps in order with their
live controls, the step in the link, a link opened mid-lesson, and the "Next step" path every
other page ends with."""
import pytest

from pruning.app.path import PATH
from pruning.present.lesson import N_STEPS, STEPS
from tests.pages.kit import chart, click, goto, new_app, texts

LESSON = "pages/lesson.py"
ACTIONS = ("use_default_model", "lesson_prune", "lesson_finetune", "lesson_repeat")


def press_if_there(at, key):
    if any(b.key == key for b in at.button):
        click(at, key)
        return True
    return False


def test_the_lesson_runs_start_to_finish_and_the_link_follows_the_step():
    at = new_app(page=LESSON, epochs=None)  # the app's default model: a clear drop and recovery
    pressed = []
    for n in range(1, N_STEPS + 1):
        assert at.session_state["lesson_step"] == n
        assert at.header[0].value == f"{n} · {STEPS[n - 1].title}"
        assert at.query_params.get("step") in (None, [str(n)], str(n)) or n == 1
        assert any("Presenter notes" in e.label for e in at.main.expander)
        assert STEPS[n - 1].ask in texts(at, "markdown")
        pressed += [k for k in ACTIONS if press_if_there(at, k)]
        if n < N_STEPS:
            click(at, "lesson_next")
            assert at.query_params["step"] in ([str(n + 1)], str(n + 1))
    assert pressed == list(ACTIONS)
    ws = at.session_state["workspace"]
    assert [s.kind for s in ws.timeline] == ["train", "prune", "fine-tune", "prune", "fine-tune"]
    assert ws.pruned.started_from == "fine-tuned"
    assert any(t["type"] == "bar" for t in chart(at, "lesson_bytes")["data"])
    assert at.button(key="lesson_next").disabled
    click(at, "lesson_back")
    assert at.session_state["lesson_step"] == N_STEPS - 1
    # the repeat step drew the saw-tooth: down at each cut, up after each fine-tune
    test = chart(at, "lesson_sawtooth")["data"][0]["y"]
    assert len(test) == 5 and test[1] < test[0] and test[2] > test[1] and test[3] < test[2]


@pytest.mark.parametrize("step", [4, 6])
def test_a_link_to_a_later_step_opens_it_and_offers_to_catch_up(step):
    at = new_app({"step": str(step)}, page=LESSON)
    assert at.session_state["lesson_step"] == step
    assert at.header[0].value.startswith(f"{step} · ")
    assert "Catch up" in [b.label for b in at.button]
    click(at, "lesson_catch_up")
    assert "Catch up" not in [b.label for b in at.button]
    assert at.metric  # the step's numbers are shown now


def test_a_bad_step_in_the_link_is_ignored_with_a_notice():
    at = new_app({"step": "99"}, page=LESSON)
    assert at.session_state["lesson_step"] == 1
    assert "step" in texts(at, "warning")


@pytest.mark.parametrize("i", range(len(PATH) - 1))
def test_every_page_on_the_path_ends_with_a_next_step_link(i):
    at = goto(new_app(), PATH[i].page)
    links = [e for e in at.get("page_link")]
    labels = [e.proto.label for e in links]
    want = f"Next step → {PATH[i + 1].title}"
    assert any(label.startswith(want) for label in labels), labels
    assert not at.exception


def test_the_last_stop_and_the_lesson_have_no_next_step():
    at = goto(new_app(), "pages/shrank.py")
    assert not any(e.proto.label.startswith("Next step") for e in at.get("page_link"))
    at = goto(new_app(), LESSON)
    assert not any(e.proto.label.startswith("Next step") for e in at.get("page_link"))


def test_a_link_carries_the_lessons_targets():
    """The teacher's prune and repeat targets and fine-tuning epochs come with the link: the
    student's lesson prunes and fine-tunes exactly as the teacher's did."""
    at = new_app({"step": "7", "ls_sparsity": "85", "ls_ft_epochs": "2", "ls_again": "97.5"},
                 page=LESSON)
    click(at, "lesson_catch_up")
    assert at.slider(key="lesson_again").value == 97.5
    click(at, "lesson_repeat")
    ws = at.session_state["workspace"]
    cuts = [s for s in ws.timeline if s.kind == "prune"]
    assert [round(100 * s.sparsity, 1) for s in cuts][-1] == 97.5
    assert at.session_state["lesson_sparsity"] == 85.0
    assert at.session_state["lesson_ft_epochs"] == 2
