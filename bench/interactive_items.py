"""One interactive update of the Prune page, server side: the work a slider move causes.

``prune_page_update`` repeats, call for call, what ``pages/prune.py`` computes on a rerun for
the default model (digits, MLP 300-100, magnitude scores already cached in the session), and
serializes every chart and the table the way Streamlit does before sending them:

  * chart: ``plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)``, then
    ``plotly.io.to_json(fig, validate=False)`` into a ``PlotlyChart`` protobuf (what
    ``st.plotly_chart`` does), then the protobuf's bytes and an md5 of the spec (the element id);
  * table: ``dataframe_util.convert_pandas_df_to_arrow_bytes`` (``st.dataframe``) and
    ``DataFrame.to_csv`` (the download button's payload).

What is *not* in it: Streamlit's own script-run overhead and the browser; the ``slider`` item
measures the whole round trip in a real browser.
"""
from __future__ import annotations

import hashlib

import numpy as np
import plotly.io
import plotly.tools
import torch

from pruning.core.records import prune_trained
from pruning.labs.prune_step import (
    compute_scores,
    first_layer_units,
    prune_config_for,
    select,
    sparsity_table,
    threshold_slider_range,
)
from pruning.present.charts import images_grid
from pruning.present.network_diagram import (
    MAX_DIAGRAM_WEIGHTS,
    count_weights,
    linear_weights,
)
from pruning.present.prune import (
    cutoff_histogram,
    dead_units_note,
    histogram_note,
    layer_heatmap,
    pruning_effect_note,
    unevenness_note,
    unit_images_note,
)

from .fixtures import default_data, default_trained
from .harness import Result, Stats, Target, timed

UPDATES_PER_REPEAT = 10


def _send_chart(fig) -> int:
    from streamlit.proto.PlotlyChart_pb2 import PlotlyChart

    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    proto = PlotlyChart(spec=plotly.io.to_json(figure, validate=False), config="{}")
    hashlib.md5(proto.spec.encode(), usedforsecurity=False).hexdigest()
    return len(proto.SerializeToString())


def _send_table(table) -> int:
    from streamlit import dataframe_util

    return len(dataframe_util.convert_pandas_df_to_arrow_bytes(table))


def prune_page_update(trained, data, scores, mode: str, value: float, scope: str = "global",
                      scorer: str = "magnitude", include_output: bool = True) -> dict:
    """Everything ``pages/prune.py`` computes after a slider move (scores are cached there
    too). Returns the bytes sent and the accuracies (so nothing is optimised away)."""
    seed = trained.train_config.seed
    if mode == "threshold":  # the page recomputes the slider range and the median each run
        threshold_slider_range(scores)
        float(torch.cat([s.flatten() for s in scores.values()]).median())
    sel = select(scores, mode, value, scope)
    cfg = prune_config_for(scorer, mode, value, scope, include_output, seed)
    pruned = prune_trained(trained, data, cfg, sel.masks)
    pruned_model = trained.build(data, pruned.state)
    table = sparsity_table(pruned_model, sel, scope, mode)
    empty = [n.removesuffix(".weight") for n, s in sel.per_layer.items() if s >= 1.0]
    pruning_effect_note(trained.metrics, pruned.metrics, sel.reached, data.n_classes, empty)
    unevenness_note(sel.per_layer, scope, mode)
    dead_units_note(table)
    sent = 0
    params = dict(trained.build(data).named_parameters())
    names = list(sel.masks)
    for name in names:
        w = params[name].detach()
        title = f"{name.removesuffix('.weight')} ({' × '.join(map(str, w.shape))})"
        sent += _send_chart(layer_heatmap(w, sel.masks[name], title=title,
                                          zmax=float(w.abs().max()) or 1.0))
    hist_masks = {n: sel.masks[n] for n in scores}
    sent += _send_chart(cutoff_histogram(scores, hist_masks, sel.cutoff, mode,
                                         title="scores of all prunable weights"))
    n_pruned_here = int(sum(int((~m).sum()) for m in hist_masks.values()))
    histogram_note(torch.cat([s.flatten() for s in scores.values()]).numpy(), sel.cutoff, mode,
                   n_pruned_here)
    sent += _send_table(table.dropna(axis=1, how="all")) + len(table.to_csv(index=False))
    first_name, first_w = next((n, p.detach()) for n, p in params.items() if p.ndim in (2, 4))
    if data.is_image:
        imgs, kept, titles = first_layer_units(first_w, sel.masks.get(first_name), data.image_shape)
        sent += _send_chart(images_grid(imgs, titles, cols=len(imgs), symmetric=True,
                                        title="before pruning", height=260))
        sent += _send_chart(images_grid(imgs, titles, cols=len(imgs), symmetric=True,
                                        title="after pruning (amber = pruned)", masks=kept,
                                        height=260))
        unit_images_note(first_w.ndim == 4, len(titles), 1 - float(np.mean(kept)))
    if trained.model_config.kind == "mlp":
        lin = linear_weights(pruned_model)
        if count_weights([w for _, w in lin]) <= MAX_DIAGRAM_WEIGHTS:
            raise NotImplementedError("the network diagram is only drawn for tiny MLPs; "
                                      "the default model does not reach this branch")
    return {"bytes": sent, "train_acc": pruned.metrics["train_acc"],
            "test_acc": pruned.metrics["test_acc"], "sparsity": sel.reached}


def interactive_update(repeats: int) -> Result:
    """Threshold mode (the headline) and target-sparsity mode (the page's default), each
    slider position different from the one before, as a student dragging the slider."""
    data = default_data()
    trained = default_trained()
    scores = compute_scores(trained.build(data), data, "magnitude", True, 0)
    top, step = threshold_slider_range(scores)
    median = float(torch.cat([s.flatten() for s in scores.values()]).median())
    # Slider positions around the page's starting point (the median score) and the default 90 %.
    thresholds = [round(median * f / step) * step for f in np.linspace(0.5, 2.5, UPDATES_PER_REPEAT)]
    sparsities = list(np.linspace(0.5, 0.95, UPDATES_PER_REPEAT))
    prune_page_update(trained, data, scores, "threshold", thresholds[0])  # warm-up
    prune_page_update(trained, data, scores, "sparsity", sparsities[0])
    t_thr, c_thr, t_sp, sizes = [], [], [], []
    for _ in range(repeats):
        for t, s in zip(thresholds, sparsities):
            wall, cpu, out = timed(lambda: prune_page_update(trained, data, scores, "threshold", t))
            t_thr.append(wall)
            c_thr.append(cpu)
            sizes.append(out["bytes"])
            wall, _, out = timed(lambda: prune_page_update(trained, data, scores, "sparsity", s))
            t_sp.append(wall)
    apptest = _apptest_reruns(sparsities, repeats)
    res = Result("update", "one interactive update of the Prune page (server side)",
                 Target("<=", 50.0, " ms"), Stats.of(t_thr), headline_scale=1e3,
                 headline_unit="ms", headline_digits=1)
    res.detail("threshold mode (headline), per update", Stats.of(t_thr), 1e3, "ms", 1)
    res.detail("threshold mode, thread CPU per update", Stats.of(c_thr), 1e3, "ms", 1)
    res.detail("target-sparsity mode (page default), per update", Stats.of(t_sp), 1e3, "ms", 1)
    if apptest is not None:
        res.detail("cross-check: whole Prune-page script rerun in AppTest after a slider move",
                   Stats.of(apptest), 1e3, "ms", 1)
    res.detail("bytes serialized per update (6 charts + table + CSV)",
               f"{min(sizes) / 1e3:.0f}–{max(sizes) / 1e3:.0f} kB")
    res.notes.append(f"{UPDATES_PER_REPEAT} slider positions per repeat (thresholds "
                     f"{thresholds[0]:.3g}…{thresholds[-1]:.3g}, sparsities 50…95 %); "
                     f"train/val/test accuracy of the masked model on all "
                     f"{sum(data.sizes().values())} examples every time.")
    return res


def _apptest_reruns(sparsities, repeats: int) -> list[float] | None:
    """The real page, run by ``streamlit.testing.v1.AppTest``: seconds per rerun after the
    target-sparsity slider moves. An upper bound of the server's work (AppTest also parses
    every delta into its element tree), and a check that the mirror above has not drifted
    far from the page. None if the page cannot be driven (its widgets changed)."""
    from streamlit.testing.v1 import AppTest

    from .harness import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/prune.py").run()
    buttons = [b for b in at.button if b.key == "use_default_model"]
    if buttons:
        buttons[0].click().run()
    sliders = [s for s in at.slider if s.key == "prune_sparsity"]
    if not sliders or at.exception:
        return None
    slider = sliders[0]
    slider.set_value(100 * float(sparsities[0])).run()  # warm-up
    times = []
    for _ in range(repeats):
        for s in sparsities:
            wall, _, _ = timed(lambda: slider.set_value(round(200 * float(s)) / 2).run())
            times.append(wall)
    return times
