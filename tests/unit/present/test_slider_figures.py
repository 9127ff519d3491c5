"""The Prune page's figures built once and updated per slider move are, property for property,
the figures the one-shot builders make for the same setting (same JSON), move after move,
also in classroom font size; and the colour-scale-free template only goes to figures whose
traces all bring their own colours."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io
import plotly.tools
import pytest
import torch

from pruning.core.selection import select_by_sparsity, select_by_threshold
from pruning.labs.prune_step import first_layer_units
from pruning.present import style
from pruning.present.charts import images_grid
from pruning.present.figure_json import FigureJSON, PreparedFigure, typed_array
from pruning.present.prune import (
    cutoff_histogram,
    histogram_note,
    layer_heatmap,
    score_summary,
)
from pruning.present.slider_figures import SliderHeatmap, SliderHistogram, SliderImages


def _json(fig) -> str:
    """What ``st.plotly_chart`` sends, keys sorted (a ``FigureJSON`` drawn as
    ``ui.charts.show_chart`` draws it: through a ``PreparedFigure``)."""
    if isinstance(fig, FigureJSON):
        fig = PreparedFigure().show(fig)
    sent = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return json.dumps(json.loads(plotly.io.to_json(sent, validate=False)), sort_keys=True)


def _model(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"layers.0.weight": torch.randn(30, 64, generator=gen),
            "layers.1.weight": torch.randn(10, 30, generator=gen) * 0.3,
            "head.weight": torch.randn(4, 10, generator=gen)}


def _settings(scores):
    """(mode, line, masks) for a run of slider positions, both modes, incl. 0 % and 100 %."""
    out = []
    for v in (0.9, 0.5, 0.0, 1.0, 0.97):
        sel = select_by_sparsity(scores, v, "global")
        out.append(("sparsity", sel.cutoff, sel.masks))
    for v in (0.5, 0.0, 10.0):
        sel = select_by_threshold(scores, v)
        out.append(("threshold", sel.cutoff, sel.masks))
    return out


@pytest.fixture(params=[1.0, style.CLASSROOM_FONT_SCALE])
def font(request):
    style.set_font_scale(request.param)
    yield request.param
    style.set_font_scale(1.0)


def test_heatmaps_match_the_one_shot_figure_move_after_move(font):
    weights = _model()
    scores = {n: w.abs() for n, w in weights.items()}
    views = {n: SliderHeatmap(w, n, float(w.abs().max())) for n, w in weights.items()}
    for _, _, masks in _settings(scores):
        for name, w in weights.items():
            expected = layer_heatmap(w, masks[name], title=name, zmax=float(w.abs().max()),
                                     compact=True)
            assert _json(views[name].at(masks[name])) == _json(expected)


@pytest.mark.parametrize("log_x", [False, True])
def test_histogram_matches_the_one_shot_figure_and_note(font, log_x):
    weights = _model(1)
    scores = {n: w.abs() for n, w in weights.items()}
    view = SliderHistogram(scores, log_x=log_x, title="scores of all prunable weights")
    flat = torch.cat([s.flatten() for s in scores.values()]).numpy()
    for mode, line, masks in _settings(scores):
        line = line if masks and any(bool((~m).any()) for m in masks.values()) else None
        expected = cutoff_histogram(scores, masks, line, mode, log_x=log_x,
                                    title="scores of all prunable weights")
        assert _json(view.at(line, mode, masks)) == _json(expected)
        n = int(sum(int((~m).sum()) for m in masks.values()))
        assert histogram_note(view.scores, line, mode, n, view.summary) == \
            histogram_note(flat, line, mode, n)
    assert view.summary == score_summary(flat)


def test_first_layer_pictures_match_the_one_shot_figure(font):
    weights = _model(2)
    scores = {n: w.abs() for n, w in weights.items()}
    first = weights["layers.0.weight"]
    imgs, _, titles = first_layer_units(first, None, (1, 8, 8))
    view = SliderImages(imgs, titles, "after pruning (amber = pruned)")
    for _, _, masks in _settings(scores):
        _, kept, _ = first_layer_units(first, masks["layers.0.weight"], (1, 8, 8))
        expected = images_grid(imgs, titles, cols=len(imgs), symmetric=True,
                               title="after pruning (amber = pruned)", masks=kept, height=260)
        assert _json(view.at(kept)) == _json(expected)


def test_template_without_colour_scales_only_where_every_trace_brings_its_own():
    own = layer_heatmap(torch.randn(5, 6), None, zmax=1.0, compact=True)
    template = json.loads(_json(own))["layout"]["template"]
    assert "colorscale" not in template["layout"] and set(template["data"]) == {"heatmap"}
    assert "colorscale" not in template["data"]["heatmap"][0]
    assert not {"geo", "polar", "scene", "ternary"} & set(template["layout"])
    # a trace with no colour scale of its own keeps the defaults it is drawn with
    grey = style.figure([dict(type="heatmap", z=np.zeros((2, 2)))], {}, "t")
    kept = json.loads(_json(grey))["layout"]["template"]
    assert "colorscale" in kept["layout"] and "colorscale" in kept["data"]["heatmap"][0]


@pytest.mark.parametrize("a", [np.arange(-5, 7, dtype=np.int8).reshape(3, 4),
                               np.linspace(-1, 1, 10, dtype=np.float32),
                               np.array([[np.nan, 1.5], [2.0, -3.0]], np.float32),
                               np.arange(6, dtype=np.int64).reshape(2, 3) * 100,
                               np.arange(4.0)])
def test_typed_arrays_are_what_plotly_writes(a):
    """``typed_array`` is Plotly's own typed-array spec for the same array (dtype, base64
    bytes, shape), so a prepared figure's JSON is the figure's."""
    plotly_made = go.Figure(go.Heatmap(z=a)).to_dict()["data"][0]["z"]
    assert typed_array(a) == plotly_made


def test_a_drawn_figure_json_is_sent_as_it_is_and_never_changed():
    """``st.plotly_chart`` takes a ``PreparedFigure``'s dict without validating or copying
    it again, and the dict is the same after it was drawn (shared between sessions)."""
    fig = layer_heatmap(torch.randn(4, 5), None, title="t", zmax=1.0, compact=True)
    spec = FigureJSON(fig.to_dict())
    before = json.dumps(spec.spec, sort_keys=True)
    sent = plotly.tools.return_figure_from_figure_or_data(PreparedFigure().show(spec),
                                                          validate_figure=True)
    assert sent is spec.spec
    assert plotly.io.to_json(sent, validate=False) and json.dumps(spec.spec, sort_keys=True) == before
    assert _json(spec) == _json(fig)
