"""Exports: the checkpoint (and reading untrusted ones safely), the HTML report, and the
torch.nn.utils.prune snippet."""
import copy
import io
import os
import pickle
import re
import zipfile
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from pruning.app.checkpoint import (
    FORMAT,
    checkpoint_bytes,
    checkpoint_data_config,
    checkpoint_dict,
    checkpoint_models,
    load_untrusted,
    read_checkpoint,
)
from pruning.config import DataConfig, ModelConfig, PruneConfig, TrainConfig
from pruning.core.data import load_dataset, validate_data_config
from pruning.core.records import finetune_pruned, prune_trained, train_model
from pruning.core.training import validate_train_config
from pruning.errors import PruningError
from pruning.loop.experiment import prune_step, run_prune_rounds
from pruning.present.html_report import Code, Section, html_report
from pruning.present.torch_code import schedule_snippet, snippet_for_masks

DC = DataConfig(name="digits", train_size=150, seed=0)
MC = ModelConfig(kind="mlp", hidden=(24, 12))
TC = TrainConfig(epochs=2, seed=0)
PC = PruneConfig(sparsity=0.8, schedule="oneshot", finetune_epochs=1)


@pytest.fixture(scope="module")
def data():
    return load_dataset(DC)


@pytest.fixture(scope="module")
def models(data):
    trained = train_model(DC, MC, TC, data=data)
    sel, _ = prune_step(trained.build(data), data, PC, 0.8)
    pruned = prune_trained(trained, data, PC, sel.masks)
    finetuned = finetune_pruned(trained, pruned, data, replace(TC, epochs=1))
    return trained, pruned, finetuned


@pytest.fixture(scope="module")
def raw(models):
    return checkpoint_bytes(*models)


def _loader(data):
    def load(cfg):
        assert cfg == DC
        return data
    return load


def _resave(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------- round trip
def _plain_types_only(obj):
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain_types_only(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_plain_types_only(v) for v in obj)
    return obj is None or isinstance(obj, (str, int, float, bool)) or torch.is_tensor(obj)


def test_checkpoint_holds_only_plain_types_and_loads_with_weights_only(models, raw):
    obj = torch.load(io.BytesIO(raw), weights_only=True)
    assert obj["format"] == FORMAT and obj["stage"] == "finetuned"
    assert _plain_types_only(obj)
    assert _plain_types_only(checkpoint_dict(*models))
    trained, _, finetuned = models
    for k, v in finetuned.state.items():
        assert torch.equal(obj["state_dict"][k], v)
    assert all(m.dtype == torch.bool for m in obj["masks"].values())
    assert obj["model_config"]["hidden"] == [24, 12]


def test_checkpoint_round_trips_into_the_app(models, raw, data):
    ckpt, got_data = read_checkpoint(raw, _loader(data))
    assert got_data is data
    trained, pruned, finetuned = models
    assert (ckpt.data_config, ckpt.model_config, ckpt.train_config, ckpt.prune_config) == \
        (DC, MC, TC, PC)
    t2, p2, f2 = checkpoint_models(ckpt, data)
    assert f2 is not None
    assert all(torch.equal(t2.state[k], v) for k, v in trained.state.items())
    assert all(torch.equal(f2.state[k], v) for k, v in finetuned.state.items())
    assert all(torch.equal(p2.masks[k], v) for k, v in pruned.masks.items())
    assert t2.metrics["test_acc"] == pytest.approx(trained.metrics["test_acc"])
    assert f2.metrics["test_acc"] == pytest.approx(finetuned.metrics["test_acc"])
    assert len(t2.history) == len(trained.history)
    # the rebuilt init state is the seed's initialisation, as in training
    assert all(torch.equal(t2.init_state[k], v) for k, v in trained.init_state.items())


def test_pruned_only_checkpoint(models, data):
    trained, pruned, _ = models
    ckpt, _ = read_checkpoint(checkpoint_bytes(trained, pruned), _loader(data))
    assert ckpt.stage == "pruned"
    assert checkpoint_models(ckpt, data)[2] is None


# ----------------------------------------------------------------------------- hostile files
class _MakesAFile:
    """A pickle payload: unpickling it calls open(path, "w"), which creates the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_malicious_pickle_never_runs(tmp_path, data):
    target = tmp_path / "pwned.txt"
    evil_zip = _resave({"format": FORMAT, "version": 1, "payload": _MakesAFile(target)})
    evil_raw = pickle.dumps({"format": FORMAT, "payload": _MakesAFile(target)}, protocol=2)
    for blob in (evil_zip, evil_raw):
        with pytest.raises(PruningError, match="could run\\s+code|run code"):
            read_checkpoint(blob, _loader(data))
        assert not target.exists()
    # The payload is real: an unsafe load does create the file (so the check above can fail).
    torch.load(io.BytesIO(evil_zip), weights_only=False)
    assert target.exists()
    os.remove(target)


@pytest.mark.parametrize("blob,message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a readable PyTorch checkpoint"),
    (b"hello, this is a text file\n" * 10, "not a readable PyTorch checkpoint"),
])
def test_non_checkpoint_files_are_rejected(blob, message, data):
    with pytest.raises(PruningError, match=message):
        read_checkpoint(blob, _loader(data))


def test_truncated_and_oversized_files_are_rejected(raw, data):
    with pytest.raises(PruningError, match="not a readable PyTorch checkpoint"):
        read_checkpoint(raw[: len(raw) // 2], _loader(data))
    with pytest.raises(PruningError, match="MB are accepted"):
        read_checkpoint(raw, _loader(data), max_bytes=len(raw) - 1)
    with pytest.raises(PruningError, match="MB are accepted"):
        load_untrusted(b"\x00" * 2048, max_bytes=1024)


def test_other_torch_files_are_not_checkpoints(data):
    for obj in (torch.zeros(3), {"state_dict": {}}, [1, 2, 3], {"format": "something else"}):
        with pytest.raises(PruningError, match="not a Pruning Playground checkpoint"):
            read_checkpoint(_resave(obj), _loader(data))


def _tampered(models, edit):
    obj = copy.deepcopy(checkpoint_dict(*models))
    edit(obj)
    return _resave(obj)


@pytest.mark.parametrize("edit,message", [
    (lambda o: o["model_config"].update(hidden=[24, 13]), "shape"),
    (lambda o: o["state_dict"].update({"layers.0.weight": torch.zeros(5, 5)}), "shape"),
    (lambda o: o["state_dict"].pop("layers.1.bias"), "missing"),
    (lambda o: o["state_dict"].update({"evil": torch.zeros(1)}), "unexpected"),
    (lambda o: o["masks"].update({"layers.0.weight": o["masks"]["layers.0.weight"].float()}),
     "boolean"),
    (lambda o: o["masks"].update({"layers.0.weight": torch.ones(3, 3, dtype=torch.bool)}), "shape"),
    (lambda o: o["masks"].update({"layers.9.weight": torch.ones(3, dtype=torch.bool)}),
     "cannot prune"),
    (lambda o: o["state_dict"]["layers.0.weight"].fill_(float("nan")), "NaN"),
    (lambda o: o["state_dict"].update({"layers.0.weight": o["dense_state_dict"]["layers.0.weight"]}),
     "disagree"),
    (lambda o: o["prune_config"].update(scorer="evil"), "unknown scorer"),
    (lambda o: o["prune_config"].update(sparsity="0.9"), "invalid value"),
    (lambda o: o["train_config"].update(nonsense=1), "unknown field"),
    (lambda o: o["data_config"].update(name="../../etc/passwd"), "unknown dataset"),
    (lambda o: o.update(version=99), "version"),
    (lambda o: o.update(stage="deployed"), "stage"),
    (lambda o: o.update(masks={}), "no masks"),
])
def test_invalid_checkpoints_are_rejected_with_a_clear_message(models, data, edit, message):
    with pytest.raises(PruningError, match=message):
        read_checkpoint(_tampered(models, edit), _loader(data))


def test_a_checkpoint_for_other_data_is_rejected(raw):
    other = load_dataset(DataConfig(name="moons", n_samples=100))
    with pytest.raises(PruningError, match="trained on 'digits'"):
        read_checkpoint(raw, lambda cfg: other)


def test_a_version_1_mlp_checkpoint_is_still_read(models, data):
    obj = copy.deepcopy(checkpoint_dict(*models))
    obj["version"] = 1
    ckpt, _ = read_checkpoint(_resave(obj), _loader(data))
    _, _, finetuned = checkpoint_models(ckpt, data)
    assert finetuned.metrics["test_acc"] == pytest.approx(models[2].metrics["test_acc"])


def test_a_cnn_round_trips_and_an_old_cnn_is_refused_with_a_message(data):
    """Version 2 changed the CNN's head (a 4×4 grid of regions instead of one global
    average): today's CNN checkpoint reads back; a version-1 CNN is refused in words."""
    mc, pc = ModelConfig(kind="cnn", channels=(2, 3)), replace(PC, sparsity=0.5)
    trained = train_model(DC, mc, replace(TC, epochs=1), data=data)
    sel, _ = prune_step(trained.build(data), data, pc, 0.5)
    pruned = prune_trained(trained, data, pc, sel.masks)
    finetuned = finetune_pruned(trained, pruned, data, replace(TC, epochs=1))
    obj = checkpoint_dict(trained, pruned, finetuned)
    assert tuple(obj["state_dict"]["head.weight"].shape) == (10, 3 * 16)
    ckpt, _ = read_checkpoint(_resave(obj), _loader(data))
    _, _, back = checkpoint_models(ckpt, data)
    assert back.metrics["test_acc"] == pytest.approx(finetuned.metrics["test_acc"])
    old = copy.deepcopy(obj)
    old["version"] = 1
    for key in ("state_dict", "dense_state_dict"):
        old[key]["head.weight"] = torch.zeros(10, 3)    # the old head: one input per channel
    old["masks"]["head.weight"] = torch.ones(10, 3, dtype=torch.bool)
    with pytest.raises(PruningError, match="earlier version of the app.*Train the CNN again"):
        read_checkpoint(_resave(old), _loader(data))


# ----------------------------------------------------------------------------- HTML report
_EXTERNAL = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//",
                       re.IGNORECASE)


def test_html_report_is_standalone_and_escaped():
    fig = go.Figure(go.Bar(x=["a", "b"], y=[3, 7]))
    page = html_report("Title <script>alert(1)</script>", "lead & more",
                       [Section("Charts", [fig, pd.DataFrame({"x": ["<b>"]}), Code("x < 1"),
                                           "a <i>paragraph</i>"])])
    assert page.startswith("<!DOCTYPE html>")
    assert not _EXTERNAL.search(page)
    assert "<script src" not in page.lower()
    # (plotly.js mentions its CDN inside its own code, for geo maps; no tag loads from it)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert page.count("<script") >= 2           # plotly.js itself + the chart's call
    assert len(page) > 1_000_000                 # the embedded plotly.js bundle
    assert "Plotly.newPlot" in page and '"y":[3,7]' in page.replace(" ", "")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "&lt;b&gt;" in page and "x &lt; 1" in page and "&lt;i&gt;" in page


def test_external_pattern_catches_cdn_tags():
    assert _EXTERNAL.search('<script src="https://cdn.plot.ly/plotly.min.js"></script>')
    assert _EXTERNAL.search("<link href='//fonts.example/x.css'>")


# ----------------------------------------------------------------------------- show the code
def _masks_after_snippet(code, model, **namespace):
    exec(compile(code, "<snippet>", "exec"), {"model": model, **namespace})
    return {n: p.detach() != 0 for n, p in model.named_parameters()}


def _equal_masks(ours, theirs):
    return all(torch.equal(theirs[k], v) for k, v in ours.items())


@pytest.mark.parametrize("scope,schedule", [("global", "oneshot"), ("global", "iterative"),
                                            ("layer", "oneshot"), ("layer", "gradual")])
def test_snippet_reproduces_our_magnitude_masks(models, data, scope, schedule):
    trained = models[0]
    cfg = PruneConfig(scope=scope, schedule=schedule, rounds=3, sparsity=0.85, finetune_epochs=0)
    ours = trained.build(data)
    _, _, _, masks = run_prune_rounds(ours, data, cfg, TC)
    snippet = schedule_snippet(trained.build(data), cfg)
    assert snippet.method == {"global": "global_unstructured", "layer": "l1_unstructured"}[scope]
    theirs = _masks_after_snippet(snippet.code, trained.build(data))
    assert _equal_masks(masks, theirs)
    assert "prune.remove" in snippet.code


def test_snippet_for_a_threshold(models, data):
    trained = models[0]
    cfg = PruneConfig(sparsity=None, threshold=0.05, schedule="iterative", rounds=2,
                      finetune_epochs=0)
    _, _, _, masks = run_prune_rounds(trained.build(data), data, cfg, TC)
    snippet = schedule_snippet(trained.build(data), cfg)
    assert snippet.method == "threshold"
    assert _equal_masks(masks, _masks_after_snippet(snippet.code, trained.build(data)))


def test_snippet_for_another_scorer_loads_the_checkpoint_masks(models, data, tmp_path):
    trained = models[0]
    cfg = PruneConfig(scorer="random", sparsity=0.7, schedule="oneshot")
    sel, _ = prune_step(trained.build(data), data, cfg, 0.7)
    pruned = prune_trained(trained, data, cfg, sel.masks)
    path = tmp_path / "pruned_model.pt"
    path.write_bytes(checkpoint_bytes(trained, pruned))
    snippet = schedule_snippet(trained.build(data), cfg, checkpoint_name=str(path))
    assert snippet.method == "custom_from_mask"
    assert _equal_masks(sel.masks, _masks_after_snippet(snippet.code, trained.build(data)))


def test_snippet_for_masks_picks_the_one_shot_call_only_when_it_is_exact(models, data, tmp_path):
    trained, pruned, _ = models
    one = snippet_for_masks(trained.build(data), pruned.masks, PC)
    assert one.method == "global_unstructured"
    assert _equal_masks(pruned.masks, _masks_after_snippet(one.code, trained.build(data)))
    # masks from several rounds with fine-tuning are not one magnitude step: load them instead
    cfg = PruneConfig(sparsity=0.8, schedule="iterative", rounds=2, finetune_epochs=1)
    _, _, _, iter_masks = run_prune_rounds(trained.build(data), data, cfg, TC)
    other = snippet_for_masks(trained.build(data), iter_masks, cfg)
    assert other.method == "custom_from_mask"


def test_a_deeply_nested_version_is_refused_at_once():
    """Printing a deeply nested list holds the interpreter for every session: the message
    shows only a few characters of it."""
    import time

    nested = []
    for _ in range(100_000):
        nested = [nested]
    t0 = time.perf_counter()
    with pytest.raises(PruningError, match="unsupported checkpoint version") as err:
        checkpoint_data_config({"format": FORMAT, "version": nested})
    assert time.perf_counter() - t0 < 1.0 and len(str(err.value)) < 120


@pytest.mark.parametrize("seed", [2**70, -1, 2**31, 1.5, True, "3"])
def test_a_seed_out_of_range_is_a_message_not_a_traceback(seed):
    with pytest.raises(PruningError, match="seed must be a whole number from 0 to"):
        validate_train_config(TrainConfig(seed=seed))
    with pytest.raises(PruningError, match="seed must be a whole number from 0 to"):
        validate_data_config(DataConfig(seed=seed))


# ----------------------------------------------------------------------------- hostile archives
def _never_called(cfg):
    raise AssertionError("data was built for a checkpoint that should have been refused")


def _rezip(raw: bytes, replace_entries: dict | None = None, extra: int = 0,
           compression=zipfile.ZIP_STORED) -> bytes:
    """The archive ``raw`` rewritten: entries replaced (name suffix -> bytes or a callable
    writing into the open entry), ``extra`` empty entries added."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as dst:
        for info in src.infolist():
            new = next((v for k, v in (replace_entries or {}).items()
                        if info.filename.endswith(k)), None)
            if callable(new):
                with dst.open(info.filename, "w") as f:
                    new(f)
            else:
                dst.writestr(info.filename, src.read(info) if new is None else new)
        for i in range(extra):
            dst.writestr(f"archive/extra/{i}", b"")
    return out.getvalue()


def test_an_inflating_archive_is_refused_before_torch_load(raw, data, monkeypatch):
    """A storage entry that DEFLATEs 300 MB of zeros into a few hundred KB: refused from
    the archive's directory, before torch.load or any data is built."""
    def zeros(f, n=300 * 2**20):
        chunk = bytes(2**20)
        for _ in range(n // len(chunk)):
            f.write(chunk)

    bomb = _rezip(raw, {"data/0": zeros}, compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 2 * 2**20
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was reached"))
    with pytest.raises(PruningError, match="unpacks to 30\\d MB"):
        read_checkpoint(bomb, _never_called)
    with pytest.raises(PruningError, match="unpacks to"):
        load_untrusted(bomb)


def test_an_archive_of_many_parts_is_refused(raw):
    with pytest.raises(PruningError, match="parts"):
        read_checkpoint(_rezip(raw, extra=300), _never_called)


def test_a_storage_of_the_wrong_size_is_refused(raw):
    with pytest.raises(PruningError, match="does not have the size"):
        read_checkpoint(_rezip(raw, {"data/0": b"\x00" * 8}), _never_called)


@pytest.mark.parametrize("edit,message", [
    (lambda o: o["data_config"].update(name="mnist1d", n_samples=200_000), "200,000 samples"),
    (lambda o: o["data_config"].update(val_fraction=0.0), "validation split would be empty"),
    (lambda o: o["data_config"].update(test_fraction=0.0), "test split would be empty"),
    (lambda o: o["data_config"].update(train_size=10**9), "training-set size"),
    (lambda o: o["model_config"].update(hidden=[4096] * 16), "hidden sizes"),
    (lambda o: o["data_config"].update(seed=2**70), "seed must be a whole number"),
    (lambda o: o["metrics"].update(dense={"test_acc": [[1] * 10] * 10}), "finite numbers"),
])
def test_bad_settings_are_refused_before_any_data_or_tensor_is_built(models, edit, message,
                                                                    monkeypatch):
    blob = _tampered(models, edit)
    if "metrics" not in message and "finite" not in message:
        monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was reached"))
    loader = _never_called if "finite" not in message else _loader(load_dataset(DC))
    with pytest.raises(PruningError, match=message) as err:
        read_checkpoint(blob, loader)
    assert len(str(err.value)) < 300


def test_tensor_shapes_are_checked_before_torch_load(models, monkeypatch):
    blob = _tampered(models, lambda o: o["state_dict"].update(
        {"layers.0.weight": torch.zeros(64, 5)}))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was reached"))
    with pytest.raises(PruningError, match="shape"):
        read_checkpoint(blob, _never_called)


@pytest.mark.parametrize("name", ["digits", "moons", "mnist1d"])
def test_dataset_shapes_match_the_data(name):
    from pruning.app.checkpoint import DATASET_SHAPES
    d = load_dataset(DataConfig(name=name, n_samples=200))
    assert DATASET_SHAPES[name] == (d.n_features, d.n_classes, d.image_shape)
