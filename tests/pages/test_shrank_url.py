"""AppTest checks of the "What shrank?" page (measurements, exports, checkpoint upload) and of
the settings in the URL (links restore them, widgets update them, hostile values are ignored
with a notice) and classroom mode."""
import io
import pickle
import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from pruning.app.checkpoint import FORMAT, checkpoint_bytes
from pruning.labs import shrink as shrank
from pruning.present import shrink as shrank_view
from pruning.present.style import CLASSROOM_FONT_SCALE, FONT_SIZE
from tests.pages.kit import (
    ITERATE,
    PRUNE,
    SHRANK,
    chart,
    click,
    goto,
    new_app,
    ok,
    values,
    with_default_model,
)

TINY = {"hidden": "16,8", "seed": "5"}     # small, fast models (epochs set below)


def shrank_ready(at: AppTest, finetune: bool = True) -> AppTest:
    """The What-shrank page with the default model pruned 90 % (and fine-tuned)."""
    with_default_model(at, SHRANK)
    if not finetune:
        at.checkbox(key="shrank_default_finetune").uncheck()
    return click(at, "shrank_default_prune")


def headline(at: AppTest) -> str:
    found = [m.value for m in at.markdown if m.value.startswith("#### ") and "weights removed" in m.value]
    assert len(found) == 1
    return found[0].removeprefix("#### ")


# ----------------------------------------------------------------------------- links
def test_a_link_restores_the_settings_and_round_trips():
    query = {"dataset": "moons", "model": "mlp", "hidden": "16,8", "seed": "42",
             "scorer": "random", "scope": "layer", "sparsity": "0.5", "schedule": "gradual",
             "rounds": "3"}
    at = new_app(query)
    assert not at.warning
    assert at.selectbox(key="set_dataset").value == "moons"
    assert at.text_input(key="set_hidden").value == "16,8"
    assert at.number_input(key="set_seed").value == 42
    assert at.query_params == query                       # the address bar keeps the link
    # The pruning pages open with the link's values.
    with_default_model(at, ITERATE)
    assert at.selectbox(key="it_scorer").value == "random"
    assert at.radio(key="it_scope").value == "layer"
    assert at.radio(key="it_schedule").value == "gradual"
    assert at.slider(key="it_rounds").value == 3
    assert at.slider(key="it_sparsity").value == pytest.approx(50.0)
    goto(at, PRUNE)
    assert at.selectbox(key="prune_scorer").value == "random"
    assert at.slider(key="prune_sparsity").value == pytest.approx(50.0)
    assert at.query_params == query                       # visiting pages changes nothing


def sidebar_set(at: AppTest, key: str, value) -> AppTest:
    """Change a sidebar widget as a user would."""
    at.get_by_key(key).set_value(value)
    return ok(at.run())


def test_moving_widgets_updates_the_address_bar():
    at = new_app(TINY)
    sidebar_set(at, "set_dataset", "circles")
    assert at.query_params["dataset"] == "circles"
    sidebar_set(at, "set_seed", 7)
    assert at.query_params["seed"] == "7"
    sidebar_set(at, "set_hidden", "not sizes")               # invalid text: the link keeps 16,8
    assert at.query_params["hidden"] == "16,8"
    sidebar_set(at, "set_hidden", "12")
    assert at.query_params["hidden"] == "12"
    with_default_model(at, PRUNE)
    at.selectbox(key="prune_scorer").set_value("random").run()
    assert ok(at).query_params["scorer"] == "random"
    at.slider(key="prune_sparsity").set_value(75.0).run()
    assert ok(at).query_params["sparsity"] == "0.75"
    # A threshold replaces the sparsity in the link.
    at.radio(key="prune_mode").set_value("threshold").run()
    ok(at)
    assert "threshold" in at.query_params and "sparsity" not in at.query_params
    # …and the scorer chosen on the Prune page is what the Iterate page opens with.
    goto(at, ITERATE)
    assert at.selectbox(key="it_scorer").value == "random"


def test_a_threshold_link_opens_the_prune_page_in_threshold_mode():
    at = new_app({**TINY, "threshold": "0.05"})
    with_default_model(at, PRUNE)
    assert at.radio(key="prune_mode").value == "threshold"
    assert at.number_input(key="prune_threshold_exact").value == pytest.approx(0.05)
    assert at.query_params["threshold"] == "0.05"


HOSTILE = {"dataset": "../../etc/passwd", "seed": "-5", "sparsity": "nan",
           "model": "<script>alert(1)</script>", "rounds": "999", "hidden": "9" * 200,
           "scorer": "[x](javascript:alert(1))", "evil": "1"}


def test_hostile_query_values_are_ignored_with_a_visible_notice():
    at = new_app(HOSTILE)
    assert len(at.warning) == 1
    text = at.warning[0].value
    assert "ignored" in text.lower()
    for name in ("dataset", "seed", "sparsity", "model", "rounds", "hidden", "scorer", "evil"):
        assert f"`{name}`" in text
    assert "9" * 100 not in text                           # long values are not echoed in full
    assert at.selectbox(key="set_dataset").value == "digits"
    assert at.number_input(key="set_seed").value == 0
    # The address bar now carries only valid values.
    assert at.query_params["dataset"] == "digits" and at.query_params["seed"] == "0"
    assert "evil" not in at.query_params
    assert not any(re.search(r"[/<>]", v) for v in at.query_params.values())
    # The notice stays on other pages until dismissed.
    goto(at, SHRANK)
    assert len(at.warning) == 1
    click(at, "url_notices_dismiss")
    assert not at.warning


def test_classroom_mode_from_a_link():
    at = new_app({**TINY, "classroom": "1"})
    assert at.toggle(key="set_classroom").value is True
    assert not [e for e in at.sidebar.expander if e.label == "Training data knobs"]
    assert any("<style>" in m.value for m in at.markdown)
    assert at.session_state["set_epochs"] == 3              # hidden, not reset
    shrank_ready(at)
    assert at.session_state["set_epochs"] == 3
    assert not [e for e in at.expander if e.label == "Timing settings"]
    assert not at.file_uploader                             # advanced: upload is hidden
    font = chart(at, "shrank_bytes_chart")["layout"]["font"]["size"]
    assert font == round(FONT_SIZE * CLASSROOM_FONT_SCALE)
    # Switching it off brings the controls back, and normal fonts.
    sidebar_set(at, "set_classroom", False)
    assert "classroom" not in at.query_params
    assert [e for e in at.sidebar.expander if e.label == "Training data knobs"]
    assert chart(at, "shrank_bytes_chart")["layout"]["font"]["size"] == FONT_SIZE


# ----------------------------------------------------------------------------- the page
def test_shrank_page_offers_a_one_click_prune_then_measures():
    at = new_app(TINY)
    goto(at, SHRANK)
    assert at.button(key="use_default_model")              # no model yet: offered
    at = shrank_ready(at)
    ws = at.session_state["workspace"]
    assert ws.finetuned is not None
    result = ws.extras["shrank"]["result"]
    h = headline(at)
    assert h == shrank_view.headline(result)
    d = ws.trained.metrics["test_acc"]
    assert f"test accuracy {100 * d:.1f} % → {100 * ws.finetuned.metrics['test_acc']:.1f} %" in h
    assert h.startswith(f"{100 * result.sparsity:.0f} % of the weights removed")
    # the tables are the measured ones (found by their columns: the curve may add one)
    frames = {tuple(df.value.columns)[:2]: df.value for df in at.dataframe}
    storage = frames[("format", "dense (trained) (KB)")]
    assert list(storage["format"]) == [n for n, _ in shrank.STORAGE_ROWS] + [
        "torch.save file, linear layers int8 (quantize_dynamic)"]
    torch_file = storage.iloc[0]
    assert torch_file["dense (trained) (KB)"] == torch_file["pruned (masked) (KB)"]
    assert storage["pruned (masked) (KB)"].iloc[1] == round(
        result.model("pruned").dense_gzip_bytes / 1024, 1)
    counts = frames[("model", "parameters")]
    assert list(counts["non-zero"]) == list(result.models["nonzero_parameters"])
    assert [x.replace("<br>", " ") for x in chart(at, "shrank_latency_chart")["data"][0]["x"]] == [
        shrank.DENSE, shrank.MASKED, shrank.SPARSE, shrank.COMPACT, shrank.DENSE_INT8,
        shrank.COMPACT_INT8]
    assert values(chart(at, "shrank_latency_chart")["data"][0]["y"]) == list(result.latency["median_ms"])[:6]
    latency = frames[("variant", "ms per batch (median)")]
    assert list(latency["variant"])[-1] == shrank.DENSE_AGAIN      # the A/A check is shown
    assert list(latency["noise gate"]) == list(result.latency["verdict"])
    keys = {b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")}
    assert {"shrank_dl_checkpoint", "shrank_dl_csv", "shrank_dl_html"} <= keys
    code = [c.value for c in at.code if "import torch.nn.utils.prune" in c.value]
    assert code and "global_unstructured" in code[0]


def test_measurements_are_cached_until_asked_again():
    at = shrank_ready(new_app(TINY), finetune=False)
    ws = at.session_state["workspace"]
    first = ws.extras["shrank"]["result"]
    at.run()
    assert ws.extras["shrank"]["result"] is first             # a rerun does not re-time
    click(at, "shrank_remeasure")
    assert ws.extras["shrank"]["result"] is not first


def test_the_headline_is_the_same_on_the_next_visit():
    """Measured once per (model, pruned weights, timing set-up) on the server: a second
    session with the same model gets the same numbers instead of new timings."""
    first = shrank_ready(new_app(TINY))
    again = shrank_ready(new_app(TINY))
    assert headline(again) == headline(first)
    a = again.session_state["workspace"].extras["shrank"]["result"]
    b = first.session_state["workspace"].extras["shrank"]["result"]
    assert a.latency["median_ms"].tolist() == b.latency["median_ms"].tolist()


# ----------------------------------------------------------------------------- upload
def _session_checkpoint(at: AppTest) -> bytes:
    ws = at.session_state["workspace"]
    return checkpoint_bytes(ws.trained, ws.pruned, ws.finetuned)


def test_an_exported_checkpoint_loads_into_a_fresh_session():
    src = shrank_ready(new_app(TINY))
    raw = _session_checkpoint(src)
    src_ws = src.session_state["workspace"]
    at = goto(new_app(), SHRANK)                        # default settings: 300,100, seed 0
    at.file_uploader(key="shrank_upload").set_value(("pruned_model.pt", raw, "application/octet-stream"))
    ok(at.run())
    assert at.success and "Loaded pruned_model.pt" in at.success[0].value
    ws = at.session_state["workspace"]
    assert all(torch.equal(ws.finetuned.state[k], v) for k, v in src_ws.finetuned.state.items())
    assert ws.finetuned.metrics["test_acc"] == pytest.approx(src_ws.finetuned.metrics["test_acc"])
    assert at.text_input(key="set_hidden").value == "16,8"   # the sidebar follows the file
    assert at.number_input(key="set_seed").value == 5
    assert at.query_params["hidden"] == "16,8"               # …and so does the link
    assert headline(at)


class _CreatesFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _bad_files(raw: bytes, tmp_path):
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": 1, "x": _CreatesFile(tmp_path / "pwned")}, buf)
    tampered = checkpoint_dict_from(raw)
    tampered["state_dict"]["layers.0.weight"] = torch.zeros(3, 3)
    wrong = io.BytesIO()
    torch.save(tampered, wrong)
    return [
        ("evil.pt", buf.getvalue(), "could run code"),
        ("evil_raw.pt", pickle.dumps(_CreatesFile(tmp_path / "pwned"), protocol=2), "could run code"),
        ("half.pt", raw[: len(raw) // 3], "not a readable PyTorch checkpoint"),
        ("picture.pt", b"\x89PNG\r\n\x1a\n" + bytes(300), "not a readable PyTorch checkpoint"),
        ("tensor.pt", _saved(torch.ones(4)), "not a Pruning Playground checkpoint"),
        ("wrong.pt", wrong.getvalue(), "shape"),
        ("huge.pt", b"\x00" * (26 * 2**20), "MB are accepted"),
    ]


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def checkpoint_dict_from(raw: bytes) -> dict:
    return torch.load(io.BytesIO(raw), weights_only=True)


def test_bad_uploads_are_refused_and_the_model_stays(tmp_path):
    at = shrank_ready(new_app(TINY), finetune=False)
    ws = at.session_state["workspace"]
    trained, pruned = ws.trained, ws.pruned
    raw = _session_checkpoint(at)
    for name, blob, message in _bad_files(raw, tmp_path):
        at.file_uploader(key="shrank_upload").set_value((name, blob, "application/octet-stream"))
        ok(at.run())
        errors = [e.value for e in at.error]
        assert any(message in e and name in e for e in errors), (name, errors)
        assert any("current model is unchanged" in e for e in errors)
        assert ws.trained is trained and ws.pruned is pruned      # nothing lost
        assert headline(at)                                       # the page still works
        assert not (tmp_path / "pwned").exists()                  # no code ran


# ----------------------------------------------------------------------------- HTML report
_EXTERNAL = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//",
                       re.IGNORECASE)


def test_the_html_report_of_the_session_is_standalone(tmp_path):
    at = shrank_ready(new_app(TINY))
    result = at.session_state["workspace"].extras["shrank"]["result"]
    page = shrank_view.report_html(result, {"data set": "digits"})
    path = tmp_path / "pruning_report.html"
    path.write_text(page, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert not _EXTERNAL.search(text)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    assert text.count("Plotly.newPlot") == 2                 # bytes + latency charts
    assert shrank_view.headline(result).replace("→", "") .split(";")[0] in text
