"""AppTest checks of the Compare scorers, Structured & sensitivity and Lottery tickets pages:
fresh sessions, the default model, what the buttons compute (against the workspace's numbers),
bad input shown as a message, and the shared default model left untouched."""
import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.pages.kit import (
    LOTTERY,
    SCORERS,
    STRUCTURED,
    as_array,
    chart,
    click,
    goto,
    metric,
    new_app,
    ok,
    texts,
    with_default_model,
)


def small_app(**settings) -> AppTest:
    """``new_app`` with this file's 64-16-10 MLP (the expected sizes below assume it)."""
    return new_app(timeout=180, **{"set_hidden": "16", **settings})


def notices(at: AppTest) -> str:
    """The "What to notice" paragraphs."""
    return "\n".join(m.value for m in at.markdown if "What to notice" in m.value)


# ----------------------------------------------------------------------------- fresh sessions
@pytest.mark.parametrize("page", [SCORERS, STRUCTURED])
def test_pages_need_a_model_and_offer_the_default(page):
    at = goto(small_app(), page)
    assert any("No trained model" in i.value for i in at.info)
    assert at.session_state["workspace"].trained is None


def test_lottery_page_renders_without_a_model():
    at = goto(small_app(), LOTTERY)
    assert at.button(key="lt_run")
    assert "Press **Find tickets**" in texts(at)


# ----------------------------------------------------------------------------- compare scorers
def test_compare_scorers_shows_accuracy_overlap_and_disagreement():
    at = with_default_model(small_app(), SCORERS)
    trained = at.session_state["workspace"].trained
    shared_state = {k: v.clone() for k, v in trained.state.items()}
    at.multiselect(key="_w_sc_scorers").set_value(["magnitude", "obd", "snip", "random"])
    at.slider(key="_w_sc_sparsity").set_value(70)
    at.number_input(key="_w_sc_ft_epochs").set_value(1)
    click(at, "sc_run")
    _, cmp = at.session_state["workspace"].extras["scorers_compare"]
    assert list(cmp.table["scorer"]) == ["magnitude", "obd", "snip", "random"]
    assert np.allclose(cmp.table["sparsity"], 0.7, atol=1e-3)
    # Accuracy bars carry the table's numbers.
    bars = chart(at, "sc_accuracy_chart")["data"]
    assert np.allclose(as_array(bars[1]["y"]), 100 * cmp.table["test_acc"].to_numpy())
    # Jaccard heatmap: symmetric, 1 on the diagonal, equal to a count by hand.
    z = as_array(chart(at, "sc_jaccard_chart")["data"][0]["z"])
    assert np.allclose(np.diag(z), 1.0) and np.allclose(z, z.T)
    a, b = cmp.masks["magnitude"], cmp.masks["obd"]
    inter = sum(int((a[n] & b[n]).sum()) for n in a)
    union = sum(int((a[n] | b[n]).sum()) for n in a)
    assert z[0, 1] == pytest.approx(inter / union, abs=1e-6)
    assert chart(at, "sc_agreement_chart")["data"]
    # issue #13: three seeds by default, mean ± sd bars, and no ranking beyond the shared rule
    assert cmp.seeds == (trained.train_config.seed + 0, trained.train_config.seed + 1,
                         trained.train_config.seed + 2)
    assert (cmp.table["n_seeds"] == 3).all() and bars[1]["error_y"]["visible"]
    assert set(cmp.table.set_index("scorer")["pruned_at"]) == {"trained", "init"}
    best = cmp.table.set_index("scorer")["test_acc"].idxmax()
    text = notices(at)
    assert f"{best} has the highest mean ({100 * cmp.table.set_index('scorer').loc[best, 'test_acc']:.1f} %" in text
    assert "3 seeds" in text and " is ahead (" not in text
    assert len(at.get("download_button")) == 3
    # The shared, cached model is read-only.
    for k, v in trained.state.items():
        assert torch.equal(v, shared_state[k])


def test_compare_scorers_defaults_all_run_on_the_default_model():
    at = with_default_model(small_app(set_hidden="300,100"), SCORERS)
    assert "ablation" not in at.multiselect(key="_w_sc_scorers").value
    at.number_input(key="_w_sc_seeds").set_value(1)
    at.number_input(key="_w_sc_ft_epochs").set_value(0)
    click(at, "sc_run")
    assert not at.warning or not any("was skipped" in w.value for w in at.warning)
    _, cmp = at.session_state["workspace"].extras["scorers_compare"]
    assert list(cmp.table["scorer"]) == list(at.multiselect(key="_w_sc_scorers").value)
    assert "One seed only" in notices(at)


def test_compare_scorers_bad_input_and_a_skipped_scorer():
    at = with_default_model(small_app(set_hidden="300,100"), SCORERS)
    at.number_input(key="_w_sc_seeds").set_value(1)
    at.multiselect(key="_w_sc_scorers").set_value([])
    click(at, "sc_run")
    assert any("choose at least one scorer" in e.value for e in at.error)
    at.multiselect(key="_w_sc_scorers").set_value(["ablation", "magnitude"])
    at.number_input(key="_w_sc_ft_epochs").set_value(0)
    click(at, "sc_run")
    warnings = " ".join(w.value for w in at.warning)
    assert "**ablation** was skipped" in warnings and "once per weight" in warnings
    _, cmp = at.session_state["workspace"].extras["scorers_compare"]
    assert list(cmp.table["scorer"]) == ["magnitude"]


# ----------------------------------------------------------------------------- structured
def test_structured_removal_compacts_exactly():
    at = with_default_model(small_app(), STRUCTURED)
    at.slider(key="_w_st_fraction").set_value(50)
    at.number_input(key="_w_st_ft_epochs").set_value(1)
    click(at, "st_run")
    _, rep = at.session_state["workspace"].extras["structured"]
    sizes = rep.sizes.set_index("model")
    assert sizes.loc["compacted (smaller dense)", "hidden_units"] == "8"
    assert sizes.loc["compacted (smaller dense)", "stored_params"] == 64 * 8 + 8 + 8 * 10 + 10
    assert rep.max_output_difference < 1e-4 and rep.same_predictions == 1.0
    assert metric(at, "Stored parameters") == f"{64 * 8 + 8 + 8 * 10 + 10:,}"
    assert "hidden sizes 8 instead of 16" in notices(at)
    bars = chart(at, "st_units_chart")["data"][0]
    assert len(as_array(bars["y"])) == 16


def test_equal_budget_and_sensitivity_tabs():
    at = with_default_model(small_app(), STRUCTURED)
    at.multiselect(key="_w_st_budget_fracs").set_value([50])
    at.number_input(key="_w_st_budget_ft").set_value(1)
    click(at, "st_budget_run")
    _, g = at.session_state["workspace"].extras["granularity"]
    assert list(g["granularity"]) == ["structured", "unstructured", "unstructured_layer"]
    assert g[g["granularity"] != "unstructured_layer"]["kept_weights"].nunique() == 1
    assert len(chart(at, "st_budget_chart")["data"]) == 6

    click(at, "st_sens_run")
    _, (scan, _) = at.session_state["workspace"].extras["sensitivity"]
    fig = chart(at, "st_sens_chart")
    assert len(fig["data"]) == 2  # layers.0 and layers.1 of the 64-16-10 MLP
    assert np.allclose(as_array(fig["data"][0]["y"]),
                       100 * scan[scan["layer"] == "layers.0"]["val_acc"].to_numpy())
    sugg_strict = at.dataframe[-1].value.copy()
    at.slider(key="_w_st_sens_tol").set_value(10.0)
    ok(at.run())
    sugg_loose = at.dataframe[-1].value
    assert (sugg_loose["Suggested sparsity"] >= sugg_strict["Suggested sparsity"]).all()
    assert "most sensitive layer" in notices(at)


# ----------------------------------------------------------------------------- lottery
def test_lottery_runs_and_reports_three_variants():
    at = goto(small_app(lt_epochs=2, lt_rounds=2), LOTTERY)
    click(at, "lt_run")
    _, table = at.session_state["workspace"].extras["lottery"]
    assert len(table) == 1 + 3 * 2
    fig = chart(at, "lt_chart")
    assert [t["name"] for t in fig["data"]] == ["winning ticket (rewound)",
                                                "same mask, new random init", "random pruning"]
    ticket = table[table["variant"] == "ticket"]["test_acc"].to_numpy()
    assert np.allclose(as_array(fig["data"][0]["y"])[1:], 100 * ticket)
    dense = table[table["variant"] == "dense"]["test_acc"].item()
    assert f"{100 * dense:.1f} %" in notices(at)
    assert at.get("download_button")


def test_lottery_bad_rewind_epoch_is_a_message():
    at = goto(small_app(lt_epochs=2, lt_rounds=1, lt_rewind=5), LOTTERY)
    click(at, "lt_run")
    assert any("rewind epoch" in e.value for e in at.error)
    assert "lottery" not in at.session_state["workspace"].extras
