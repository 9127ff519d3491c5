"""The workspace store: a workspace (models, masks, run history, page results) comes back
equal after save/load, in another process too; bad records are refused alone; records expire;
deleting one leaves the others; the browser key never reaches the file."""
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field, replace

import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from pruning.app import store as store_mod
from pruning.app.store import (
    StoreError,
    WorkspaceStore,
    decode_workspace,
    new_key,
    settings_from_env,
    valid_key,
    workspace_bytes,
)
from pruning.app.workspace import Workspace
from pruning.config import DataConfig, ModelConfig, PruneConfig, TrainConfig
from pruning.core.data import load_dataset
from pruning.core.records import finetune_pruned, prune_trained, train_model
from pruning.errors import PruningError
from pruning.labs.iterate import run_iterate
from pruning.loop.experiment import prune_step

DC = DataConfig(name="digits", train_size=150, seed=0)
MC = ModelConfig(kind="mlp", hidden=(24, 12))
TC = TrainConfig(epochs=2, seed=0)
PC = PruneConfig(sparsity=0.8, schedule="oneshot", finetune_epochs=1)


@pytest.fixture(scope="module")
def full_workspace():
    data = load_dataset(DC)
    trained = train_model(DC, MC, TC, data=data)
    sel, _ = prune_step(trained.build(data), data, PC, 0.8)
    pruned = prune_trained(trained, data, PC, sel.masks)
    finetuned = finetune_pruned(trained, pruned, data, replace(TC, epochs=1))
    ws = Workspace()
    ws.set_trained(trained)
    ws.keep_pruned(pruned)
    ws.keep_finetuned(finetuned)
    ws.add_run("iterate", {"scorer": "magnitude"},
               pd.DataFrame({"series": ["a"], "stage": ["pruned"], "step": [1],
                             "sparsity": [0.8], "train_acc": [0.9], "test_acc": [0.85]}))
    ws.extras["iterate"] = run_iterate(trained, data, replace(PC, schedule="iterative", rounds=2),
                                       replace(TC, epochs=1))
    ws.extras["kept"] = ((1, "global"), {"table": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})})
    ws.extras["figure"] = (pruned, go.Figure())  # not storable: left out, recomputed by its page
    ws.extras["prune_scores"] = {"_trained": trained, ("magnitude", True, 0): {"w": torch.ones(3)}}
    return ws


def assert_same(a, b, where="value"):
    """Deep equality over what workspaces hold (tensors, frames, dataclasses, containers)."""
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=where)
    elif hasattr(a, "__dataclass_fields__"):
        assert type(a) is type(b), where
        for name in a.__dataclass_fields__:
            assert_same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_round_trip_keeps_models_masks_history_and_results(full_workspace, tmp_path):
    st = WorkspaceStore(tmp_path / "ws.sqlite3")
    key = new_key()
    size, left_out = st.save(key, full_workspace)
    assert size > 0 and left_out == ["figure"]
    back = st.load(key)
    assert back is not None and back.job is None
    ws = back.workspace
    expected = {k: v for k, v in full_workspace.extras.items() if k != "figure"}
    assert_same(full_workspace.trained, ws.trained, "trained")
    assert_same(full_workspace.pruned, ws.pruned, "pruned")
    assert_same(full_workspace.finetuned, ws.finetuned, "finetuned")
    assert_same(expected, ws.extras, "extras")
    assert_same(full_workspace.timeline, ws.timeline, "timeline")
    assert_same(full_workspace.runs, ws.runs, "runs")
    assert ws.run_counter == full_workspace.run_counter and len(ws.timeline) == 3
    assert ws.timeline[0].trained is ws.trained     # the history points at the same model
    assert all(m.dtype == torch.bool for m in ws.pruned.masks.values())
    # one object stays one object: the scores cache still knows it belongs to this model
    assert ws.extras["prune_scores"]["_trained"] is ws.trained


def test_new_plain_fields_of_a_workspace_are_saved_too(tmp_path, monkeypatch):
    """Generic over the fields: a field added to Workspace later is covered unchanged."""

    @dataclass
    class Later(Workspace):
        timeline: list = field(default_factory=list)

    monkeypatch.setattr(store_mod, "Workspace", Later)
    ws = Later(timeline=[("train", 1.5), {"step": 2}])
    assert decode_workspace(workspace_bytes(ws)[0]).timeline == ws.timeline


def test_another_process_reads_what_this_one_wrote(full_workspace, tmp_path):
    path, key = tmp_path / "shared.sqlite3", new_key()
    WorkspaceStore(path).save(key, full_workspace)
    code = ("import sys; from pruning.app.store import WorkspaceStore;"
            "w = WorkspaceStore(sys.argv[1]).load(sys.argv[2]).workspace;"
            "print(w.pruned.metrics['test_acc'], sorted(w.extras))")
    out = subprocess.run([sys.executable, "-c", code, str(path), key], capture_output=True,
                         text=True, timeout=300, check=True).stdout.split(maxsplit=1)
    assert float(out[0]) == full_workspace.pruned.metrics["test_acc"]
    assert "iterate" in out[1] and "figure" not in out[1]


def test_damaged_or_old_records_are_refused_and_nothing_else_is_lost(full_workspace, tmp_path):
    path = tmp_path / "ws.sqlite3"
    st = WorkspaceStore(path)
    good, bad, old = new_key(), new_key(), new_key()
    for k in (good, bad, old):
        st.save(k, full_workspace)
    db = sqlite3.connect(path)
    db.execute("UPDATE workspaces SET blob = ? WHERE key_hash = ?",
               (b"not a torch file", store_mod._key_hash(bad)))
    db.execute("UPDATE workspaces SET version = 0 WHERE key_hash = ?", (store_mod._key_hash(old),))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="damaged"):
        st.load(bad)
    with pytest.raises(StoreError, match="another version"):
        st.load(old)
    assert st.load(good).workspace.trained is not None
    assert st.count() == 3               # refused records are left for the next save to replace
    st.save(bad, Workspace())
    assert st.load(bad).workspace.trained is None


def test_a_blob_naming_foreign_classes_or_fields_is_refused(tmp_path):
    payload, _ = store_mod.encode_workspace(Workspace())
    payload["fields"]["extras"] = {"__t": "dict", "items": [["x", {"__t": "dc",
                                                                  "cls": "os:system", "f": {}}]]}
    import io
    buf = io.BytesIO()
    torch.save(payload, buf)
    with pytest.raises(StoreError, match="class"):
        decode_workspace(buf.getvalue())
    payload, _ = store_mod.encode_workspace(Workspace())
    payload["fields"]["no_such_field"] = 1
    buf = io.BytesIO()
    torch.save(payload, buf)
    with pytest.raises(StoreError, match="another version"):
        decode_workspace(buf.getvalue())


def test_records_expire(full_workspace, tmp_path):
    st = WorkspaceStore(tmp_path / "ws.sqlite3", ttl_seconds=60)
    key, other = new_key(), new_key()
    st.save(key, full_workspace, now=1000.0)
    st.save(other, Workspace())
    assert st.load(key, now=1059.0) is not None
    assert st.load(key, now=1061.0) is None
    st.purge_expired()
    assert st.count() == 1 and st.load(other) is not None


def test_delete_removes_only_that_browser(full_workspace, tmp_path):
    st = WorkspaceStore(tmp_path / "ws.sqlite3")
    a, b = new_key(), new_key()
    st.save(a, full_workspace)
    st.save(b, full_workspace)
    st.delete(a)
    assert st.load(a) is None and st.load(b) is not None


def test_the_key_itself_is_not_in_the_file(full_workspace, tmp_path):
    path = tmp_path / "ws.sqlite3"
    key = new_key()
    st = WorkspaceStore(path)
    st.save(key, full_workspace)
    st.checkpoint()
    assert key.encode() not in path.read_bytes()
    assert valid_key(key) and not valid_key("short") and not valid_key(key[:-1] + "'")


def test_a_running_job_is_reported_when_its_result_never_came(full_workspace, tmp_path):
    st = WorkspaceStore(tmp_path / "ws.sqlite3")
    key, fresh = new_key(), new_key()
    st.save(key, full_workspace)
    st.mark_job(key, "Train")
    st.mark_job(fresh, "Fine-tune")      # a job before any save: the marker alone
    assert st.load(key).job == "Train" and st.load(key).workspace.trained is not None
    assert st.load(fresh).job == "Fine-tune" and st.load(fresh).workspace.trained is None
    st.save(key, full_workspace)         # the job's result saved: no longer running
    assert st.load(key).job is None
    st.mark_job(key, "Iterate")
    st.clear_job(key)
    assert st.load(key).job is None


def test_too_large_a_workspace_is_refused_with_a_message(full_workspace, tmp_path):
    st = WorkspaceStore(tmp_path / "ws.sqlite3", max_record_bytes=1000)
    with pytest.raises(StoreError, match="not saved across restarts"):
        st.save(new_key(), full_workspace)


def test_settings_from_the_environment(tmp_path):
    s = settings_from_env({"PRUNING_STORE_PATH": str(tmp_path / "x.db"),
                           "PRUNING_STORE_TTL_HOURS": "2", "PRUNING_STORE_MAX_RECORD_MB": "8"})
    assert s.path == tmp_path / "x.db" and s.ttl_seconds == 7200 and s.max_record_bytes == 8 * 2**20
    assert settings_from_env({}).path == store_mod.DEFAULT_PATH
    assert settings_from_env({"PRUNING_STORE_PATH": "off"}).path is None
    with pytest.raises(PruningError, match="PRUNING_STORE_TTL_HOURS"):
        settings_from_env({"PRUNING_STORE_TTL_HOURS": "-1"})
