"""AppTest checks of repeating the loop by hand (prune again from the fine-tuned model, the
saw-tooth, undo, reset) and of the run history (Runs page: overlay, rename, remove, CSV)."""
import io

import pandas as pd

from pruning.core.masks import sparsity
from tests.pages.kit import (
    FINETUNE,
    ITERATE,
    PRUNE,
    chart,
    click,
    goto,
    new_app,
    ok,
    texts,
    with_default_model,
)

RUNS = "pages/runs.py"


def prune_keep_finetune(at, target: float):
    goto(at, PRUNE)
    ok(at.slider(key="prune_sparsity").set_value(target).run())
    click(at, "prune_keep")
    goto(at, FINETUNE)
    ok(at.number_input(key="ft_epochs").set_value(2).run())
    return click(at, "ft_run")


def test_prune_again_from_the_fine_tuned_model_draws_the_sawtooth_and_undo_steps_back():
    at = with_default_model(new_app())
    prune_keep_finetune(at, 80.0)
    ws = at.session_state["workspace"]
    first_ft = ws.finetuned
    goto(at, PRUNE)
    assert at.radio(key="prune_start").value == "finetuned"  # prune again is the default
    assert "pruned already and stay pruned" in texts(at, "caption")
    prune_keep_finetune(at, 95.0)
    ws = at.session_state["workspace"]
    assert ws.pruned.started_from == "fine-tuned"
    for n, m in first_ft.masks.items():  # cumulative: nothing pruned before came back
        assert not (ws.pruned.masks[n] & ~m).any()
    assert abs(sparsity(ws.pruned.masks) - 0.95) < 1e-3
    assert [s.kind for s in ws.timeline] == ["train", "prune", "fine-tune", "prune", "fine-tune"]
    fig = chart(at, "ft_sawtooth")
    test = fig["data"][0]["y"]
    assert len(test) == 5 and test[1] < test[0] and test[2] > test[1] and test[3] < test[2]
    # undo the second fine-tune, then the second prune: back to the first fine-tuned model
    ok(at.button(key="ft_undo").click().run())
    ws = at.session_state["workspace"]
    assert ws.finetuned is None and ws.pruned.started_from == "fine-tuned"
    assert "Undone: fine-tune" in texts(at, "success")
    ok(at.button(key="ft_undo").click().run())
    assert at.session_state["workspace"].finetuned is first_ft
    goto(at, PRUNE)
    ok(at.radio(key="prune_start").set_value("dense").run())
    assert "pruned already" not in texts(at, "caption")


def test_reset_forgets_the_session_and_pages_offer_a_fresh_start():
    at = with_default_model(new_app())
    click(at, "prune_keep")
    ok(at.button(key="prune_reset").click().run())
    ws = at.session_state["workspace"]
    assert ws.trained is None and ws.timeline == [] and ws.runs == []
    assert "Session reset" in texts(at, "success") or "No trained model" in texts(at, "info")
    goto(at, FINETUNE)
    assert "No pruned model" in texts(at, "info")


def test_two_iterate_runs_overlay_rename_remove_and_download():
    at = with_default_model(new_app(), ITERATE)
    ok(at.number_input(key="it_epochs").set_value(1).run())
    ok(at.radio(key="it_schedule").set_value("oneshot").run())
    click(at, "it_run")
    ok(at.radio(key="it_schedule").set_value("iterative").run())
    ok(at.slider(key="it_rounds").set_value(3).run())
    click(at, "it_run")
    ws = at.session_state["workspace"]
    iterate_runs = [r for r in ws.runs if r.kind == "iterate"]
    assert len(iterate_runs) == 2
    goto(at, RUNS)
    fig = chart(at, "runs_overlay")  # the two newest runs are chosen at first
    names = [t["meta"] for t in fig["data"]]
    assert any(iterate_runs[0].name in n for n in names)
    assert any(iterate_runs[1].name in n for n in names)
    longest = max((t for t in fig["data"]), key=lambda t: len(t["x"]))
    assert len(longest["x"]) == 1 + 2 * 3
    # rename
    rid = iterate_runs[1].id
    ok(at.text_input(key=f"runs_name_{rid}").set_value("five rounds").run())
    ok(at.button(key=f"runs_rename_{rid}").click().run())
    assert at.session_state["workspace"].run(rid).name == "five rounds"
    assert any("five rounds" in t["meta"] for t in chart(at, "runs_overlay")["data"])
    # download: one tidy CSV, accuracy first
    assert at.get("download_button")
    table = pd.read_csv(io.StringIO(runs_csv(at)))
    assert list(table.columns[:2]) == ["test accuracy (%)", "train accuracy (%)"]
    assert set(table["run"]) >= {"five rounds"}
    # remove
    ok(at.button(key=f"runs_remove_{rid}").click().run())
    assert at.session_state["workspace"].run(rid) is None


def runs_csv(at) -> str:
    """The CSV the Runs page offers (built from the same session's runs)."""
    from pruning.app.runs import runs_table
    ws = at.session_state["workspace"]
    chosen = [ws.run(i) for i in at.session_state["runs_chosen"] if ws.run(i)]
    return runs_table(chosen or ws.runs).to_csv(index=False)
