"""The worked example: the decision (pruning.labs.threshold_example), its sentence and bar chart
(pruning.present.thresholds)."""
import pytest

from pruning.errors import PruningError
from pruning.labs.threshold_example import (
    WORKED_EXAMPLE_THRESHOLD,
    WORKED_EXAMPLE_WEIGHTS,
    decide_by_threshold,
)
from pruning.present.style import PRUNED_COLOUR
from pruning.present.thresholds import KEPT_COLOUR, decision_sentence, threshold_bars


def test_article_example_keeps_05_and_03():
    d = decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, WORKED_EXAMPLE_THRESHOLD)
    assert d.kept == (False, True, False, True)
    assert d.kept_weights == (0.5, 0.3)
    assert d.pruned_weights == (0.2, 0.1)
    assert d.tied_weights == (0.3,)
    assert d.sparsity == 0.5
    assert list(d.table()["decision"]) == ["pruned", "kept", "pruned", "kept"]


def test_article_sentence_is_built_from_the_numbers():
    d = decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, 0.3)
    s = decision_sentence(d)
    assert s.startswith("0.5 and 0.3 stay; 0.2 and 0.1 are pruned; 0.3 stays because only "
                        "weights strictly below the threshold are pruned.")
    assert "2 of 4 weights pruned: 50 % sparsity" in s


@pytest.mark.parametrize("t, kept", [(0.0, (0.2, 0.5, 0.1, 0.3)), (0.1, (0.2, 0.5, 0.1, 0.3)),
                                     (0.15, (0.2, 0.5, 0.3)), (0.31, (0.5,)), (0.5, (0.5,)),
                                     (0.51, ())])
def test_threshold_moves_the_cut(t, kept):
    d = decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, t)
    assert d.kept_weights == kept
    assert set(d.kept_weights) | set(d.pruned_weights) == set(WORKED_EXAMPLE_WEIGHTS)


def test_sentence_without_ties_has_no_because_clause_and_handles_extremes():
    assert "because" not in decision_sentence(decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, 0.25))
    s = decision_sentence(decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, 0.9))
    assert s.startswith("No weight stays; 0.2, 0.5, 0.1 and 0.3 are pruned.")
    s = decision_sentence(decide_by_threshold([0.4], 0.1))
    assert s.startswith("0.4 stays; nothing is pruned.")


def test_negative_weights_are_judged_by_size():
    d = decide_by_threshold([-0.4, 0.2], 0.3)
    assert d.kept == (True, False)
    assert "−0.4 counts as 0.4" in decision_sentence(d)


@pytest.mark.parametrize("weights, t", [([], 0.3), (["a"], 0.3), ([float("nan")], 0.3),
                                        ([0.1], -1.0), ([0.1], "x")])
def test_bad_input_is_a_pruning_error(weights, t):
    with pytest.raises(PruningError):
        decide_by_threshold(weights, t)


def test_bar_chart_shows_kept_and_pruned_in_their_colours():
    fig = threshold_bars(decide_by_threshold(WORKED_EXAMPLE_WEIGHTS, 0.3))
    kept, pruned, legend_line = fig.data
    assert legend_line.name == "threshold t = 0.3"
    assert (kept.name, pruned.name) == ("kept", "pruned")
    assert list(kept.y) == [0.5, 0.3] and list(pruned.y) == [0.2, 0.1]
    assert list(kept.x) == ["w2 = 0.5", "w4 = 0.3"]
    assert kept.marker.color == KEPT_COLOUR and pruned.marker.color == PRUNED_COLOUR
    line = [s for s in fig.layout.shapes if s.type == "line"][0]
    assert line.y0 == line.y1 == 0.3
    # the category order is the input order, so bars do not jump around when the cut moves
    assert list(fig.layout.xaxis.categoryarray) == ["w1 = 0.2", "w2 = 0.5", "w3 = 0.1", "w4 = 0.3"]
