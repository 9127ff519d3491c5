"""The five-step loop picture."""
import pytest

from pruning.present.loop_diagram import LOOP_STEPS, loop_figure
from pruning.present.style import PRUNED_COLOUR


def test_five_steps_in_loop_order():
    fig = loop_figure()
    text = fig.data[0].text
    assert [s.key for s in LOOP_STEPS] == ["train", "score", "prune", "finetune", "repeat"]
    for want, got in zip(["Train", "Score", "Prune", "Fine-tune", "Repeat"], text):
        assert want in got
    assert list(fig.data[0].x) == [0, 1, 2, 3, 4]
    # four forward arrows + the arrow back into Score
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5
    back = arrows[-1]
    assert back.x == 1 and back.ax == 1 and back.ay < back.y  # points up, into Score


def test_highlight_fills_one_box():
    fig = loop_figure(highlight="prune")
    fills = [s.fillcolor for s in fig.layout.shapes if s.type == "rect"]
    assert fills.count(PRUNED_COLOUR) == 1 and fills[2] == PRUNED_COLOUR
    with pytest.raises(ValueError):
        loop_figure(highlight="nope")
