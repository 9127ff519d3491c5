"""The Train page's live charts (pruning.present.live_training): one spec for the whole run
(so the browser swaps data instead of mounting a new chart), the data right, small payloads,
and drawing the model while it trains leaves the run's numbers unchanged."""
import json
import math

import numpy as np
import pytest
import torch

from pruning import DataConfig, load_dataset
from pruning.config import ModelConfig, TrainConfig
from pruning.core.records import train_model
from pruning.present.boundary import boundary_grid
from pruning.present.live_training import (
    LIVE_RESOLUTION,
    MAX_POINTS,
    Pacer,
    edge_rows,
    grid_rows,
    history_rows,
    live_boundary,
    live_curves,
    live_network,
    mlp_weight_count,
    network_note,
    payload_bytes,
)
from pruning.present.network_diagram import MAX_DIAGRAM_WEIGHTS, linear_weights
from pruning.present.style import CLASSROOM_FONT_SCALE, set_font_scale

EPOCHS = 12


@pytest.fixture(scope="module")
def moons():
    return load_dataset(DataConfig(name="moons", seed=0))


@pytest.fixture(scope="module")
def snapshots(moons):
    """A small MLP trained on moons, drawn at every epoch through ``watch``: (history rows as
    reported, {epoch: (boundary grid, weights)}), and the trained model."""
    rows, seen = [], {}

    def watch(epoch, epochs, model):
        seen[epoch] = (boundary_grid(model, moons, resolution=LIVE_RESOLUTION),
                       [w.clone() for _, w in linear_weights(model)])

    trained = train_model(DataConfig(name="moons", seed=0), ModelConfig(kind="mlp", hidden=(8, 8)),
                          TrainConfig(epochs=EPOCHS, seed=0), data=moons,
                          progress=lambda e, n, row: rows.append(row), watch=watch)
    return rows, seen, trained


def _without_data(spec: dict) -> str:
    return json.dumps({k: v for k, v in spec.items() if k != "datasets"}, sort_keys=True)


def test_watching_the_model_does_not_change_the_run(moons, snapshots):
    rows, seen, watched = snapshots
    plain = train_model(DataConfig(name="moons", seed=0), ModelConfig(kind="mlp", hidden=(8, 8)),
                        TrainConfig(epochs=EPOCHS, seed=0), data=moons)
    assert sorted(seen) == list(range(EPOCHS + 1)), "watch is called after every epoch and epoch 0"
    assert plain.history.equals(watched.history)
    assert all(torch.equal(plain.state[k], watched.state[k]) for k in plain.state)
    assert len(rows) == EPOCHS + 1, "progress still reaches the caller beside watch"


def test_curves_keep_one_spec_while_the_data_grows(snapshots):
    rows = snapshots[0]
    early, late = live_curves(rows[:2], EPOCHS), live_curves(rows, EPOCHS)
    assert _without_data(early) == _without_data(late), \
        "a changed spec would make the browser mount a new chart (a blank frame)"
    assert early["encoding"]["x"]["scale"]["domain"] == [0, EPOCHS]
    assert early["encoding"]["y"]["scale"]["domain"] == [0, 100]
    data = late["datasets"]["history"]
    assert len(data) == EPOCHS + 1
    assert early["transform"] == [{"fold": ["train", "validation", "test"],
                                   "as": ["split", "accuracy"]}]
    assert list(data.columns) == ["epoch", "train", "validation", "test"]
    assert data["test"].iloc[-1] == pytest.approx(100 * rows[-1]["test_acc"], abs=1e-3)
    assert data["epoch"].tolist() == list(range(EPOCHS + 1))


def test_history_rows_of_an_empty_history():
    assert len(history_rows([])) == 0


def test_boundary_changes_its_data_not_its_spec(moons, snapshots):
    seen = snapshots[1]
    first, last = (live_boundary(seen[e][0], moons) for e in (0, EPOCHS))
    assert _without_data(first) == _without_data(last)
    g0, g1 = first["datasets"]["grid"], last["datasets"]["grid"]
    assert len(g0) == LIVE_RESOLUTION ** 2
    assert not np.array_equal(g0["p"], g1["p"]), "the boundary moves while the model trains"
    grid = seen[EPOCHS][0]
    np.testing.assert_array_equal(g1["p"].to_numpy(), np.rint(255 * grid.proba[:, :, 1]).ravel())
    # the spec turns the k-th row into its cell's rectangle: centred on the grid point, and
    # neighbouring cells touch (no gaps in the coloured plane)
    steps = last["layer"][0]["transform"]
    assert steps[0] == {"window": [{"op": "row_number", "as": "k"}]}

    def rect(k):
        """Vega's calculate steps, evaluated in Python for row k (row_number = k + 1)."""
        datum = {"k": k + 1}
        for step in steps[1:]:
            expr = step["calculate"]
            for name, value in datum.items():
                expr = expr.replace(f"datum.{name}", repr(value))
            datum[step["as"]] = eval(expr, {"__builtins__": {}, "floor": math.floor})
        return datum

    n = LIVE_RESOLUTION
    a, b, c = rect(0), rect(1), rect(n * n - 1)
    assert (a["i"], a["j"], b["i"], c["i"], c["j"]) == (0, 0, 1, n - 1, n - 1)
    assert (a["x0"] + a["x1"]) / 2 == pytest.approx(grid.xs[0], abs=1e-5)
    assert (c["y0"] + c["y1"]) / 2 == pytest.approx(grid.ys[-1], abs=1e-5)
    assert rect(n)["j"] == 1, "rows of the grid follow each other (row j has y = ys[j])"
    assert b["x0"] == pytest.approx(a["x1"]) and a["x1"] > a["x0"] and a["y1"] > a["y0"]
    points = last["datasets"]["points"]
    assert len(points) == min(MAX_POINTS, len(moons.y_train))
    assert set(points["c"]) == {0, 1}
    assert last["layer"][1]["transform"][0]["calculate"] == '["class 0", "class 1"][datum.c]'


def test_network_one_line_per_weight(snapshots):
    seen = snapshots[1]
    weights = seen[EPOCHS][1]
    spec, early = live_network(weights), live_network(seen[0][1])
    assert _without_data(spec) == _without_data(early)
    edges = spec["datasets"]["edges"]
    assert len(edges) == sum(w.numel() for w in weights) == mlp_weight_count(2, (8, 8), 2)
    assert edges["strength"].max() == pytest.approx(1.0)
    assert (edges["w"] > 0).sum() == sum(int((w > 0).sum()) for w in weights)
    np.testing.assert_allclose(edges["w"].abs() / edges["w"].abs().max(), edges["strength"],
                               rtol=1e-6)
    assert len(spec["datasets"]["units"]) == 2 + 8 + 8 + 2
    assert not np.allclose(edge_rows(seen[0][1])["w"], edges["w"]), "the weights move"


def test_live_updates_are_small(moons, snapshots):
    """Every live update re-sends its chart's data: tens of kB, not a figure's hundreds."""
    rows, seen, _ = snapshots
    long_run = [dict(rows[-1], epoch=e) for e in range(301)]
    sizes = {"curves (300 epochs)": payload_bytes(live_curves(long_run, 300)),
             "boundary": payload_bytes(live_boundary(seen[EPOCHS][0], moons)),
             "network 8-8": payload_bytes(live_network(seen[EPOCHS][1]))}
    big = [torch.randn(45, 2), torch.randn(40, 45), torch.randn(2, 40)]
    assert sum(w.numel() for w in big) <= MAX_DIAGRAM_WEIGHTS
    sizes["network, largest drawn"] = payload_bytes(live_network(big))
    assert all(b < 100_000 for b in sizes.values()), sizes


def test_grid_rows_of_three_classes():
    from pruning.present.boundary import BoundaryGrid

    proba = np.zeros((2, 3, 3), dtype=np.float32)
    proba[..., 2] = 1
    rows = grid_rows(BoundaryGrid(np.arange(3, dtype=np.float32), np.arange(2, dtype=np.float32), proba))
    assert len(rows) == 6 and set(rows["cls"]) == {2}


def test_classroom_mode_enlarges_the_live_fonts(snapshots):
    rows = snapshots[0]
    normal = live_curves(rows, EPOCHS)["config"]["axis"]["labelFontSize"]
    set_font_scale(CLASSROOM_FONT_SCALE)
    try:
        big = live_curves(rows, EPOCHS)
    finally:
        set_font_scale(1.0)
    assert big["config"]["axis"]["labelFontSize"] >= 16
    assert big["config"]["axis"]["labelFontSize"] > normal
    assert big["height"] > live_curves(rows, EPOCHS)["height"]


def _font_sizes(spec) -> list:
    """Every font size a spec sets, wherever it sets one (config, an axis, a legend, a mark)."""
    if isinstance(spec, dict):
        return [v for k, v in spec.items() if k.lower().endswith("fontsize")] + [
            size for v in spec.values() for size in _font_sizes(v)]
    if isinstance(spec, list):
        return [size for v in spec for size in _font_sizes(v)]
    return []


def test_every_live_chart_reads_from_the_back_in_classroom_mode(moons, snapshots):
    """The classroom standard (tick labels >= 16 px at 1280x720 with ?classroom=1) for the
    three Vega-Lite charts. They draw on a canvas, so the browser test's tick probe (SVG text
    of Plotly charts) cannot read them: their specs are checked here instead, every label,
    title and legend size, and Vega-Lite sizes are pixels whatever the chart's width."""
    rows, seen, _ = snapshots
    grid, weights = seen[EPOCHS]
    set_font_scale(CLASSROOM_FONT_SCALE)
    try:
        specs = {"curves": live_curves(rows, EPOCHS), "boundary": live_boundary(grid, moons),
                 "network": live_network(weights)}
    finally:
        set_font_scale(1.0)
    for name, spec in specs.items():
        sizes = _font_sizes({k: v for k, v in spec.items() if k != "datasets"})
        assert spec["config"]["axis"]["labelFontSize"] >= 16, name
        assert sizes and min(sizes) >= 16, (name, sizes)


def test_pacer_limits_the_update_rate():
    now = [0.0]
    pacer = Pacer(0.5, clock=lambda: now[0])
    due = []
    for step in range(20):       # an epoch every 0.1 s for 2 s
        now[0] = step * 0.1
        due.append(pacer.due(final=step == 19))
    assert due[0] and due[-1], "the first and the last epoch are always drawn"
    assert sum(due) == 5, due     # 0.0, 0.5, 1.0, 1.5 and the final 1.9


def test_the_note_for_a_large_network_suggests_sizes_that_are_drawn():
    note = network_note(mlp_weight_count(2, (64, 64), 2))
    assert f"{MAX_DIAGRAM_WEIGHTS:,}" in note and f"{mlp_weight_count(2, (64, 64), 2):,}" in note
    for hidden in ((32, 32), (8, 8)):           # the sizes it suggests, on 2-D data
        for classes in (2, 3, 4):
            assert mlp_weight_count(2, hidden, classes) <= MAX_DIAGRAM_WEIGHTS
