"""The "What shrank?" HTML report opens in a browser with the network cut off: plotly.js is
embedded, the charts draw and stay interactive, and nothing is fetched from anywhere."""
from __future__ import annotations

import copy

import torch

from pruning.config import ModelConfig
from pruning.core.data import DataBundle
from pruning.core.models import build_model
from pruning.labs import shrink as shrank
from pruning.present import shrink as shrank_view
from pruning.structured.compact import compact_model


def _tiny_report() -> str:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 12, generator=g)
    y = torch.randint(0, 3, (40,), generator=g)
    data = DataBundle("toy", X, y, X, y, X, y, 3, ("a", "b", "c"), None, y)
    dense = build_model(ModelConfig(hidden=(16, 8)), 12, 3, seed=0).eval()
    pruned = copy.deepcopy(dense)
    masks = {}
    with torch.no_grad():
        for name, p in pruned.named_parameters():
            if name.endswith("weight"):
                masks[name] = torch.rand(p.shape, generator=g) >= 0.9
                p.mul_(masks[name])
    result = shrank.measure_shrinkage(dense, pruned, compact_model(pruned), masks, data,
                                      batch_size=8, repeats=3, min_run_s=0.002)
    return shrank_view.report_html(result, {"data set": "toy"})


def test_html_report_draws_its_charts_offline(page, tmp_path):
    path = tmp_path / "pruning_report.html"
    path.write_text(_tiny_report(), encoding="utf-8")
    requested = []

    def block_network(route):
        requested.append(route.request.url)
        route.abort()

    page.route("http://**/*", block_network)
    page.route("https://**/*", block_network)
    page.goto(path.as_uri())
    page.wait_for_function("window.Plotly !== undefined", timeout=20_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
    assert page.locator(".js-plotly-plot").count() == 2          # bytes + latency
    assert page.locator(".js-plotly-plot .bars path").count() > 0 # bars really drawn
    assert "of the weights removed" in page.locator(".lead").inner_text()
    # interactive: hovering a bar shows plotly's hover label
    page.locator(".js-plotly-plot").first.locator(".bars path").first.hover(force=True)
    page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
    assert requested == [], f"the report tried to load {requested}"
