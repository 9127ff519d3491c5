"""AppTest checks of the Generalization lab page: the run shows the dense net's gap, the sweep
chart with its controls and seed spread, and the computed explanation — all equal to what
``pruning.labs.generalization`` computes for the same settings; results are cached (a second
session does not recompute); bad input is a message, not a traceback."""
from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pruning.labs import generalization as gen
from pruning.present.generalization_text import explain_sweep, overfit_heading
from tests.pages.kit import (
    GENERALIZATION,
    HOME,
    as_array,
    chart,
    click,
    goto,
    metric,
    new_app,
    ok,
    texts,
)

#: Tiny budgets per preset so a test run takes seconds, not minutes.
TINY = {
    "digits-noisy": dict(epochs=4, ft=1, levels=[0.5, 0.9], seeds=2, patience=2),
    "article-2d": dict(epochs=20, ft=3, levels=[0.5, 0.8], seeds=2, patience=5),
    "mnist1d": dict(epochs=2, ft=1, levels=[0.5, 0.9], seeds=2, patience=1),
}


def tiny_config(preset: str) -> gen.SweepConfig:
    """The config the page builds from the TINY widget values (all controls on)."""
    t, base = TINY[preset], gen.PRESETS[preset].config
    return replace(base, levels=tuple(t["levels"]), seeds=tuple(range(t["seeds"])),
                   train=replace(base.train, epochs=t["epochs"]), finetune_epochs=t["ft"],
                   patience=t["patience"])


def page(preset: str = "digits-noisy") -> AppTest:
    """A session on the Generalization lab with the TINY budgets of ``preset`` set."""
    at = new_app(timeout=300, epochs=None)
    at.switch_page(GENERALIZATION)
    t = TINY[preset]
    at.session_state["gl_preset"] = preset
    at.session_state[f"gl_epochs_{preset}"] = t["epochs"]
    at.session_state[f"gl_ft_{preset}"] = t["ft"]
    at.session_state[f"gl_levels_{preset}"] = list(t["levels"])
    at.session_state[f"gl_seeds_{preset}"] = t["seeds"]
    at.session_state[f"gl_patience_{preset}"] = t["patience"]
    return ok(at.run())


def run(at: AppTest) -> AppTest:
    """Press "Run the sweep"."""
    return click(at, "gl_run")


def traces(spec: dict, name: str, axis: str = "y") -> list[dict]:
    """The traces called ``name`` drawn against y-axis ``axis``."""
    return [t for t in spec["data"] if t.get("name") == name and t.get("yaxis", "y") == axis]


def test_before_a_run_the_page_explains_and_offers_the_presets():
    at = page()
    radio = at.radio(key="_w_gl_preset")
    assert list(radio.options) == [p.title for p in gen.PRESETS.values()]
    assert "Capacity" in texts(at, "markdown") and "Overfitting" in texts(at, "markdown")
    assert any("Run the sweep" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_a_run_shows_the_gap_the_sweep_and_the_explanation_it_measured():
    at = run(page())
    expected = gen.run_sweep(tiny_config("digits-noisy"))  # deterministic: same numbers
    summary = gen.summarize(expected.runs)
    dense = summary[summary["arm"] == "dense"].iloc[0]

    assert "1 · " + overfit_heading(dense["gap_mean"]) in [h.value for h in at.subheader]
    assert metric(at, "Train accuracy (dense)") == f"{100 * dense['train_acc_mean']:.1f} %"
    assert metric(at, "Test accuracy (dense)") == f"{100 * dense['test_acc_mean']:.1f} %"
    assert metric(at, "Train − test gap") == f"{100 * dense['gap_mean']:.1f} points"

    over = chart(at, "gl_overfit")
    test_curve = [t for t in over["data"] if t.get("name") == "test"][0]
    d_hist = expected.history[expected.history["arm"] == "dense"]
    np.testing.assert_allclose(as_array(test_curve["y"]),
                               100 * d_hist.groupby("epoch")["test_acc"].mean().to_numpy())

    spec = chart(at, "gl_sweep")
    pruned = summary[summary["arm"] == "pruned"].sort_values("level")
    (line,) = traces(spec, "pruned + fine-tuned")
    np.testing.assert_allclose(as_array(line["y"]),
                               100 * np.r_[dense["test_acc_mean"], pruned["test_acc_mean"]])
    np.testing.assert_allclose(as_array(line["error_y"]["array"]),        # seed spread
                               100 * np.r_[dense["test_acc_std"], pruned["test_acc_std"]])
    (gap_line,) = traces(spec, "pruned + fine-tuned", "y2")
    np.testing.assert_allclose(as_array(gap_line["y"]),
                               100 * np.r_[dense["gap_mean"], pruned["gap_mean"]])
    names = {t.get("name", "") for t in spec["data"]}
    assert {"random pruning (control)", "small dense net, same #weights",
            "dense (no early stopping)", "best on validation"} <= names
    assert any(n.startswith("dense + early stopping") for n in names)
    assert any(n.startswith("dense + weight decay") for n in names)
    (star,) = traces(spec, "best on validation")
    assert star["x"] == [f"{100 * gen.best_sparsity(summary):.4g} %"]

    shown = texts(at, "markdown")
    for sentence in explain_sweep(expected.runs, summary, focus_level=0.9, history=expected.history):
        assert sentence in shown
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download every run (CSV)" in labels


def test_a_second_visit_and_a_second_session_do_not_recompute(monkeypatch):
    at = run(page())
    assert at.get("plotly_chart")
    # Same session: leaving and coming back shows the result without pressing the button.
    goto(at, HOME)
    goto(at, GENERALIZATION)
    assert len(at.get("plotly_chart")) == 2

    def must_not_run(*args, **kwargs):
        raise AssertionError("the sweep was recomputed")

    monkeypatch.setattr(gen, "run_sweep", must_not_run)
    other = run(page())                    # another student, same settings: from the cache
    assert len(other.get("plotly_chart")) == 2
    assert chart(other, "gl_sweep")["data"] == chart(at, "gl_sweep")["data"]


def test_new_settings_need_a_new_run():
    at = run(page())
    at.session_state["gl_seeds_digits-noisy"] = 1
    ok(at.run())
    assert not at.get("plotly_chart")
    assert any("Run the sweep" in i.value for i in at.info)


def test_bad_input_is_a_message_and_the_result_comes_back():
    at = run(page())
    at.session_state["gl_levels_digits-noisy"] = []
    ok(at.run())
    assert any("at least one sparsity level" in e.value for e in at.error)
    assert not at.get("plotly_chart")
    at.session_state["gl_levels_digits-noisy"] = TINY["digits-noisy"]["levels"]
    ok(at.run())
    assert len(at.get("plotly_chart")) == 2   # the earlier run, not lost


@pytest.mark.parametrize("preset", ["article-2d", "mnist1d"])
def test_the_other_presets_run(preset):
    at = run(page(preset))
    assert len(at.get("plotly_chart")) == 2
    assert "Dense net, trained for all" in texts(at, "markdown")
    spec = chart(at, "gl_sweep")
    (line,) = traces(spec, "pruned + fine-tuned")
    assert line["x"] == ["0 %"] + [f"{100 * v:.4g} %" for v in TINY[preset]["levels"]]
