"""The network diagram of a small MLP (pruning.present.network_diagram)."""
import numpy as np
import pytest
import torch

from pruning import ModelConfig, PruningError, build_model
from pruning.present.network_diagram import (
    NEGATIVE_COLOUR,
    POSITIVE_COLOUR,
    cut_off_units,
    diagram_edges,
    layer_sizes,
    linear_weights,
    network_diagram,
)
from pruning.present.style import PRUNED_COLOUR


@pytest.fixture
def net():
    torch.manual_seed(0)
    return [torch.randn(3, 2), torch.randn(2, 3)]  # 2 -> 3 -> 2, 12 weights


def _segments(fig):
    """(x0, y0, y1, colour, width) of every drawn connection."""
    out = []
    for t in fig.data:
        if t.mode != "lines":
            continue
        x, y = np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)
        for i in range(0, len(x), 3):
            assert np.isnan(x[i + 2])
            out.append((x[i], y[i], y[i + 1], t.line.color, t.line.width))
    return out


def test_edges_table_has_one_row_per_weight_with_its_mask(net):
    masks = [torch.tensor([[True, False], [True, True], [False, False]]), None]
    e = diagram_edges(net, masks)
    assert len(e) == 12 and e["kept"].sum() == 12 - 3
    row = e[(e.layer == 0) & (e.dst == 0) & (e.src == 1)].iloc[0]
    assert row.weight == pytest.approx(float(net[0][0, 1])) and not row.kept
    assert layer_sizes(net) == [2, 3, 2]


def test_pruned_connections_vanish_and_the_rest_are_drawn_once(net):
    full = _segments(network_diagram(net))
    assert len(full) == 12
    masks = [torch.rand(3, 2) > 0.5, torch.rand(2, 3) > 0.5]
    drawn = _segments(network_diagram(net, masks))
    n_kept = int(sum(int(m.sum()) for m in masks))
    assert len(drawn) == n_kept < 12
    # every drawn segment is a kept connection (layer x, source y → destination y)
    ys = [np.linspace(min(1.0, (n - 1) / 8), -min(1.0, (n - 1) / 8), n) for n in (2, 3, 2)]
    kept_coords = {(float(l), round(ys[l][s], 6), round(ys[l + 1][d], 6))
                   for l, m in enumerate(masks) for d, s in zip(*torch.nonzero(m, as_tuple=True))
                   for d, s in [(int(d), int(s))]}
    assert {(x, round(y0, 6), round(y1, 6)) for x, y0, y1, _, _ in drawn} == kept_coords


def test_colour_is_the_sign_and_width_grows_with_magnitude():
    w = torch.tensor([[0.1, -0.2], [1.0, -1.0]])  # (out, in)
    y = [0.125, -0.125]                             # two units per layer: compact spacing
    drawn = {(round(y0, 6), round(y1, 6)): (colour, width)
             for _, y0, y1, colour, width in _segments(network_diagram([w]))}
    look = {(d, s): drawn[(y[s], y[d])] for d in range(2) for s in range(2)}  # (dst, src)
    assert look[0, 0][0] == look[1, 0][0] == POSITIVE_COLOUR   # w = 0.1 and 1.0
    assert look[0, 1][0] == look[1, 1][0] == NEGATIVE_COLOUR   # w = -0.2 and -1.0
    assert look[1, 0][1] > look[0, 0][1]                       # |1.0| wider than |0.1|
    assert look[1, 1][1] > look[0, 1][1]                       # |-1.0| wider than |-0.2|


def test_units_cut_off_by_pruning_are_marked(net):
    masks = [torch.ones(3, 2, dtype=torch.bool), torch.ones(2, 3, dtype=torch.bool)]
    masks[0][1] = False          # hidden unit 1 loses every incoming weight
    masks[1][:, 2] = False       # hidden unit 2 loses every outgoing weight
    masks[1][0] = False          # output unit 0 loses every incoming weight
    cut = cut_off_units(diagram_edges(net, masks), [2, 3, 2])
    assert cut[0].tolist() == [False, False]
    assert cut[1].tolist() == [False, True, True]
    assert cut[2].tolist() == [True, False]
    units = [t for t in network_diagram(net, masks).data if t.name == "units"][0]
    assert list(units.marker.color).count(PRUNED_COLOUR) == 3


def test_limits_and_bad_inputs(net):
    with pytest.raises(PruningError, match="2,000|up to"):
        network_diagram([torch.zeros(50, 50)])
    with pytest.raises(PruningError, match="mask shape"):
        diagram_edges(net, [torch.ones(2, 3, dtype=torch.bool), None])
    with pytest.raises(PruningError, match="inputs"):
        diagram_edges([torch.zeros(3, 2), torch.zeros(2, 4)])
    cnn = build_model(ModelConfig(kind="cnn", channels=(2,)), 64, 10, (1, 8, 8))
    with pytest.raises(PruningError, match="MLP"):
        linear_weights(cnn)
    mlp = build_model(ModelConfig(hidden=(8, 8)), 2, 2)
    names = [n for n, _ in linear_weights(mlp)]
    assert names == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    assert len(_segments(network_diagram([w for _, w in linear_weights(mlp)]))) == 96
