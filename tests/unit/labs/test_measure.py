"""Measured bytes and latency, sparse inference, compaction, and the "What shrank?" words."""
import copy
import time

import pytest
import torch
from torch import nn

from pruning.config import ModelConfig
from pruning.core.data import DataBundle
from pruning.core.models import build_model
from pruning.errors import PruningError
from pruning.labs import shrink as shrank
from pruning.labs import storage
from pruning.labs.measure import (
    clearly_faster,
    gzip_size,
    saved_bytes,
    sparse_state_dict,
    storage_sizes,
    time_forward,
    to_sparse_inference,
)
from pruning.present import shrink as shrank_view
from pruning.structured.compact import compact_model


def _mlp(hidden=(16, 8), n_in=12, n_out=3, seed=0):
    return build_model(ModelConfig(kind="mlp", hidden=hidden), n_in, n_out, seed=seed).eval()


def _cnn(channels=(4, 6), seed=0):
    return build_model(ModelConfig(kind="cnn", channels=channels), 64, 3, (1, 8, 8), seed=seed).eval()


@torch.no_grad()
def _prune_randomly(model, fraction, seed=0):
    gen = torch.Generator().manual_seed(seed)
    masks = {}
    for name, p in model.named_parameters():
        if name.endswith("weight"):
            masks[name] = torch.rand(p.shape, generator=gen) >= fraction
            p.mul_(masks[name])
    return masks


# ----------------------------------------------------------------------------- bytes
def test_saved_bytes_is_what_torch_save_writes_to_disk(tmp_path):
    model = _mlp()
    # torch names the zip's inner folder after the file's stem ("archive" for a buffer), so
    # the byte counts match for a file called archive.pt; other names differ by a few bytes.
    path = tmp_path / "archive.pt"
    torch.save(model.state_dict(), path)
    assert len(saved_bytes(model.state_dict())) == path.stat().st_size


def test_masking_does_not_shrink_the_file_but_compression_and_sparse_storage_do():
    dense = _mlp(hidden=(64, 64), n_in=64)
    pruned = copy.deepcopy(dense)
    _prune_randomly(pruned, 0.95)
    d, p = storage_sizes(dense), storage_sizes(pruned)
    assert p["dense_file"] == d["dense_file"]                 # zeros still take 4 bytes
    assert p["dense_gzip"] < d["dense_gzip"] / 3              # runs of zeros compress
    assert p["csr_file"] < p["dense_file"] / 2                # 5 % kept: sparse pays off
    assert d["csr_file"] > d["dense_file"]                    # 0 % pruned: indices cost extra
    assert p["coo_file"] < p["dense_file"]
    assert gzip_size(b"a" * 1000) < 100 and gzip_size(b"x") == gzip_size(b"x")


def test_sparse_state_dict_layouts_and_values():
    model = _cnn()
    _prune_randomly(model, 0.5)
    for layout, torch_layout in (("csr", torch.sparse_csr), ("coo", torch.sparse_coo)):
        sd = sparse_state_dict(model, layout)
        w = sd["convs.0.weight"]
        assert w.layout == torch_layout
        assert torch.equal(w.to_dense(), model.convs[0].weight.reshape(4, -1))
        assert sd["convs.0.bias"].layout == torch.strided
    with pytest.raises(PruningError):
        sparse_state_dict(model, "bsr")


# ----------------------------------------------------------------------------- sparse inference
@pytest.mark.parametrize("make,n_in", [(_mlp, 12), (_cnn, 64)])
def test_sparse_inference_computes_the_same_function(make, n_in):
    model = make()
    _prune_randomly(model, 0.8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    sparse = to_sparse_inference(model)
    X = torch.randn(33, n_in, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(sparse(X), model(X), atol=1e-5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    kinds = {type(m).__name__ for m in sparse.modules()}
    assert "Linear" not in kinds and "Conv2d" not in kinds


# ----------------------------------------------------------------------------- timing
class _Sleepy(nn.Module):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


def test_time_forward_tells_a_slow_model_from_a_fast_one():
    X = torch.zeros(4, 3)
    t = time_forward({"slow": _Sleepy(0.004), "fast": _Sleepy(0.0005)}, X, repeats=5,
                     warmup=1, min_run_s=0.01)
    assert list(t["variant"]) == ["slow", "fast"]
    assert (t["q1_ms"] <= t["median_ms"]).all() and (t["median_ms"] <= t["q3_ms"]).all()
    slow = t.set_index("variant").loc["slow"]
    assert 3.5 <= slow["median_ms"] <= 40           # sleep(4 ms) measured in ms per call
    assert (t["repeats"] == 5).all() and (t["batch_size"] == 4).all()
    assert clearly_faster(t, "fast", "slow") and not clearly_faster(t, "slow", "fast")


def test_time_forward_rejects_bad_requests():
    X = torch.zeros(2, 3)
    with pytest.raises(PruningError):
        time_forward({}, X)
    with pytest.raises(PruningError):
        time_forward({"a": nn.Identity()}, X, repeats=0)
    with pytest.raises(PruningError):
        time_forward({"a": nn.Identity()}, torch.zeros(0, 3))


# ----------------------------------------------------------------------------- compaction
@torch.no_grad()
def test_mlp_compaction_removes_dead_neurons_and_keeps_the_function():
    model = _mlp(hidden=(10, 6))
    l0, l1, l2 = model.layers
    l0.weight[[1, 4]] = 0.0               # in-dead neurons: constant relu(b)…
    l0.bias[1], l0.bias[4] = 0.7, -0.3    # …one positive (folded), one zero after relu
    l1.weight[:, 7] = 0.0                 # out-dead neuron 7 of layer 0
    l1.weight[2] = 0.0                    # in-dead neuron 2 of layer 1
    l1.bias[2] = 0.5
    l2.weight[:, 5] = 0.0                 # out-dead neuron 5 of layer 1
    c = compact_model(model)
    assert c.widths_before == (10, 6) and c.widths_after == (7, 4)
    assert c.units_removed == 5
    X = torch.randn(50, 12, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(c.model(X), model(X), atol=1e-5)
    assert sum(p.numel() for p in c.model.parameters()) < sum(p.numel() for p in model.parameters())


@torch.no_grad()
def test_compaction_cascades_and_survives_a_cut_network():
    model = _mlp(hidden=(5, 4))
    model.layers[0].weight[:3] = 0.0
    model.layers[1].weight[:, 3:] = 0.0      # neurons 3, 4 of layer 0 now out-dead…
    # …so every layer-0 neuron goes; then every layer-1 neuron has only constant inputs and is
    # folded into the output bias. One all-zero placeholder per layer keeps the net well-formed.
    c = compact_model(model)
    assert c.widths_after == (1, 1)
    X = torch.randn(20, 12, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(c.model(X), model(X), atol=1e-5)


@torch.no_grad()
def test_cnn_compaction_is_exact():
    model = _cnn(channels=(6, 5))
    c0, c1, head = model.convs[0], model.convs[1], model.head
    c0.weight[2] = 0.0
    c0.bias[2] = -1.0                 # dead and zero after relu: removable in a middle layer
    c0.weight[3] = 0.0
    c0.bias[3] = 0.8                  # constant but padded by the next conv: must stay
    c1.weight[:, 4] = 0.0             # channel 4 of conv 0 is never read
    c1.weight[1] = 0.0
    c1.bias[1] = 0.6                  # last conv: constant channel folds into the head
    head.weight.view(head.out_features, 5, -1)[:, 3] = 0.0   # last conv channel 3 is never read (all its regions)
    c = compact_model(model)
    assert c.widths_after == (4, 3)
    X = torch.randn(9, 64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(c.model(X), model(X), atol=1e-5)


def test_compaction_rejects_other_models():
    with pytest.raises(PruningError):
        compact_model(nn.Sequential(nn.Linear(2, 2)))


# ----------------------------------------------------------------------------- the page's words
def _bundle(n_in=12, n=40, classes=3):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, n_in, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return DataBundle("toy", X, y, X, y, X, y, classes, tuple("abc"), None, y)


def _shrinkage():
    data = _bundle()
    dense = _mlp(hidden=(32, 16))
    pruned = copy.deepcopy(dense)
    masks = _prune_randomly(pruned, 0.9)
    return shrank.measure_shrinkage(dense, pruned, compact_model(pruned), masks, data,
                                    batch_size=16, repeats=3, min_run_s=0.002)


def test_measure_shrinkage_tables_are_measured_and_consistent():
    s = _shrinkage()
    m = s.models.set_index("model")
    d, p, c = (m.loc[shrank.MODEL_LABELS[k]] for k in ("dense", "pruned", "compacted"))
    assert d.parameters == p.parameters >= c.parameters
    assert p.nonzero_parameters < d.nonzero_parameters
    assert p.dense_file_bytes == d.dense_file_bytes
    assert p.macs_effective < p.macs_dense == d.macs_dense
    assert abs(c.test_acc - p.test_acc) < 1e-9            # compaction keeps the function
    assert 0.85 < s.sparsity < 0.95
    assert list(s.latency["variant"]) == [shrank.DENSE, shrank.MASKED, shrank.SPARSE, shrank.COMPACT,
                                          shrank.DENSE_INT8, shrank.COMPACT_INT8, shrank.DENSE_AGAIN]
    assert s.latency.loc[0, "speedup_vs_dense"] == pytest.approx(1.0)
    assert set(s.latency["verdict"]) <= {"reference", shrank.FASTER, shrank.SLOWER, shrank.SAME,
                                         shrank.NOT_CALLED}
    # int8: smaller, measured from torch's own quantized file (tiny model: headers dominate)
    di = m.loc[shrank.MODEL_LABELS["dense_int8"]]
    assert di.dense_file_bytes < d.dense_file_bytes
    assert abs(di.test_acc - d.test_acc) < 0.2
    # encodings: narrower indices are smaller, and the best lossless is what the headline uses
    assert p[f"enc:{storage.CSR16}"] < p[f"enc:{storage.CSR32}"] < p[f"enc:{storage.DENSE32}"]
    best = shrank.best_size(s)
    assert best.nbytes == min(p[f"enc:{f}"] for f in storage.LOSSLESS) or \
        best.nbytes == min(c[f"enc:{f}"] for f in storage.LOSSLESS)
    assert best.dense_bytes == d[f"enc:{storage.DENSE32}"]
    table = shrank.storage_table(s)
    assert len(table) == len(shrank.STORAGE_ROWS) + 1 and "dense ÷ pruned" in table.columns
    csv = shrank.results_csv_table(s)
    assert list(csv.columns) == ["subject", "quantity", "value"]
    assert len(csv) > 30


def _with_latency(s, medians, spread=0.01):
    """``s`` with made-up medians for DENSE, MASKED, SPARSE, COMPACT, DENSE_AGAIN (the int8
    variants get the dense median), the verdicts decided again from them."""
    meds = medians[:4] + [medians[0], medians[0]] + medians[4:]
    lat = s.latency.drop(columns=["verdict"]).copy()
    lat["median_ms"] = meds
    lat["q1_ms"] = [v * (1 - spread) for v in meds]
    lat["q3_ms"] = [v * (1 + spread) for v in meds]
    return shrank.Shrinkage(s.models, lat, s.sparsity, s.units_before, s.units_after)


def test_headline_is_computed_from_the_numbers():
    s = _shrinkage()
    m = s.models.set_index("model")
    d, p = m.loc[shrank.MODEL_LABELS["dense"]], m.loc[shrank.MODEL_LABELS["pruned"]]
    fast_compact = _with_latency(s, [1.0, 1.0, 0.8, 0.5, 1.0])
    h = shrank_view.headline(fast_compact)
    assert h.startswith(f"{100 * s.sparsity:.0f} % of the weights removed")
    assert f"{100 * d.test_acc:.1f} % → {100 * p.test_acc:.1f} %" in h
    best = shrank.best_size(s)
    assert f"stored {best.ratio:.1f}× smaller" in h and best.fmt in h
    # the fastest variant the noise gate called faster, with its range and both latencies
    assert f"fastest: {shrank.COMPACT}, 2.0× (2.0–2.0× over the middle half of 3 timed runs; " \
           "0.500 ms per batch of 16 = 31.25 µs per example, 1 thread) faster" in h
    assert shrank.best_speedup(fast_compact)["variant"] == shrank.COMPACT
    # Within noise: no speed claimed.
    noisy = _with_latency(s, [1.0, 1.0, 1.0, 0.99, 1.0], spread=0.05)
    assert "not measurably faster in any form timed here" in shrank_view.headline(noisy)
    # A 5 % gain with tight runs is below the 10 % bar: not called faster either.
    assert "not measurably faster" in shrank_view.headline(_with_latency(s, [1.0, 1.0, 1.0, 0.95, 1.0]))
    # A gain smaller than the A/A difference (same model timed twice) is noise.
    aa = _with_latency(s, [1.0, 1.0, 1.0, 0.85, 1.2])     # 1.18× gain < 1.2× A/A gap
    assert shrank.noise_ratio(aa) == pytest.approx(1.2)
    assert "not measurably faster" in shrank_view.headline(aa)
    # A busy machine: the A/A pair is 40 % apart, so no speed is called at all.
    busy = shrank_view.headline(_with_latency(s, [1.0, 0.2, 1.0, 0.3, 1.4]))
    assert "speed not called" in busy and "1.4×" in busy and "faster" not in busy
    assert set(_with_latency(s, [1.0, 0.2, 1.0, 0.3, 1.4]).latency["verdict"]) == {
        "reference", shrank.NOT_CALLED}
    # The best of several faster variants is the one named, once.
    two = _with_latency(s, [1.0, 0.7, 0.4, 0.5, 1.0])
    assert "fastest: pruned, torch.sparse CSR, 2.5×" in shrank_view.headline(two)


def test_notes_and_figures_follow_the_tables():
    s = _with_latency(_shrinkage(), [1.0, 1.0, 2.0, 0.5, 1.02])
    text = " ".join(shrank_view.notes(s))
    assert "2.0× slower than dense" in text
    assert "timed twice came out 2 % apart" in text
    assert "Compaction removed" in text and "int8 dynamic quantization" in text
    assert ".0 multiply-adds" not in text and ".0 parameters" not in text   # counts print as ints
    fig = shrank_view.bytes_figure(s)
    table = shrank.storage_table(s)
    assert list(fig.data[0].x) == pytest.approx(list(table.iloc[:, 1]))
    best = shrank.best_size(s)
    assert [t for t in fig.data[1].text if "smallest" in t] == [f"{best.nbytes / 1024:,.1f} KB ← smallest"]
    lat = shrank_view.latency_figure(s)
    assert list(lat.data[0].y) == [1.0, 1.0, 2.0, 0.5, 1.0, 1.0]  # the A/A row stays in the table
    assert [t for t in lat.data[0].text if "fastest" in t] == ["0.500 ms<br>31.25 µs/ex<br><b>fastest</b>"]
    carry = " ".join(shrank_view.carry_over(s))
    assert "2.0× faster than dense" in carry and "does not change with size" in carry


def test_compacted_latency_shows_a_direction_only_beyond_the_noise():
    s = _shrinkage()
    faster = shrank_view.compacted_latency_change(_with_latency(s, [1.0, 1.0, 0.8, 0.5, 1.0]))
    assert faster.decided and faster.delta == "-50 %" and "within the noise" not in faster.help
    same = shrank_view.compacted_latency_change(_with_latency(s, [1.0, 1.0, 1.0, 0.99, 1.0],
                                                              spread=0.2))
    assert not same.decided and same.delta == "≈ dense" and "Noise gate: within noise" in same.help


def test_time_steadily_times_again_while_the_aa_pair_disagrees():
    from pruning.labs.measure import aa_gap, time_steadily
    model = _mlp()
    X = torch.randn(8, 12)
    models = {"a": model, "a again": copy.deepcopy(model)}
    kw = dict(repeats=3, warmup=1, min_run_s=0.001)
    once = time_steadily(models, X, ("a", "a again"), max_gap=1e9, **kw)
    assert once["attempts"].tolist() == [1, 1]
    never = time_steadily(models, X, ("a", "a again"), max_gap=0.5, attempts=3, **kw)
    assert never["attempts"].tolist() == [3, 3] and aa_gap(never, "a", "a again") >= 1.0


def test_a_brief_bytes_chart_keeps_the_named_rows_in_order():
    s = _shrinkage()
    fig = shrank_view.bytes_figure(s, formats=shrank_view.BRIEF_FORMATS)
    assert len(fig.data[0].y) == len(shrank_view.BRIEF_FORMATS)
    table = shrank.storage_table(s).set_index("format")
    assert list(fig.data[0].x) == pytest.approx(
        [table.loc[f].iloc[0] for f in shrank_view.BRIEF_FORMATS])
