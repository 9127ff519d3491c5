"""The trade-off curve: its points agree with a direct, hand-written run of two recipes; its
storage encodings round-trip; the Pareto front and the "at most 1 point" sentence follow the
numbers."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.masks import apply_masks
from pruning.core.models import build_model
from pruning.core.records import train_model
from pruning.core.selection import select_by_sparsity
from pruning.core.training import evaluate_all, train
from pruning.errors import PruningError
from pruning.labs import storage
from pruning.labs.tradeoff import (
    DENSE_POINT,
    ONESHOT,
    STRUCTURED,
    Tradeoff,
    TradeoffConfig,
    latency_too_noisy,
    measure_tradeoff,
    pareto,
)
from pruning.present import tradeoff as view
from pruning.structured.compact import compact, compact_model

SMALL = TradeoffConfig(sparsities=(0.5, 0.9), unit_fractions=(0.5,), finetune_epochs=2,
                       iterative_rounds=2, seeds=2, batch_size=32, repeats=3)


@pytest.fixture(scope="module")
def trained(digits_200):
    return train_model(DataConfig(name="digits", train_size=200, seed=0),
                       ModelConfig(hidden=(32, 16)), TrainConfig(epochs=8, seed=3),
                       data=digits_200)


@pytest.fixture(scope="module")
def curve(trained, digits_200):
    return measure_tradeoff(trained, digits_200, SMALL)


def _by_hand_oneshot(trained, data, sparsity, seed):
    """Global magnitude pruning + masked fine-tuning + dead-unit removal, written out."""
    model = trained.build(data)
    names = [n for n, _ in model.named_parameters() if n.endswith("weight")]
    params = dict(model.named_parameters())
    sel = select_by_sparsity({n: params[n].detach().abs() for n in names}, sparsity, "global")
    apply_masks(model, sel.masks)
    train(model, data, replace(trained.train_config, epochs=SMALL.finetune_epochs,
                               batch_size=SMALL.finetune_batch_size, seed=seed), masks=sel.masks)
    return compact_model(model).model


def _by_hand_structured(trained, data, fraction, seed):
    """Drop the units with the smallest L1 rows in every hidden layer, fine-tune, compact."""
    model = trained.build(data)
    keep, masks = {}, {}
    for name in ("layers.0", "layers.1"):
        w = dict(model.named_parameters())[f"{name}.weight"].detach()
        norms = w.abs().sum(1)
        n_drop = round(fraction * len(norms))
        k = torch.ones(len(norms), dtype=torch.bool)
        k[torch.argsort(norms, stable=True)[:n_drop]] = False
        keep[name] = k
    params = dict(model.named_parameters())
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in params.items()}
    for i, name in enumerate(("layers.0", "layers.1")):
        masks[f"{name}.weight"] &= keep[name][:, None]
        masks[f"{name}.bias"] &= keep[name]
        masks[f"layers.{i + 1}.weight"] &= keep[name][None, :]
    apply_masks(model, masks)
    train(model, data, replace(trained.train_config, epochs=SMALL.finetune_epochs,
                               batch_size=SMALL.finetune_batch_size, seed=seed), masks=masks)
    return compact(model, keep)


def test_curve_points_match_a_direct_measurement_of_two_recipes(curve, trained, digits_200):
    runs = curve.runs.set_index(["recipe", "level", "seed_index"])
    pts = curve.points.set_index("point")
    for recipe, level, make in ((ONESHOT, 0.9, _by_hand_oneshot),
                                (STRUCTURED, 0.5, _by_hand_structured)):
        accs = []
        for k in range(SMALL.seeds):
            model = make(trained, digits_200, level, trained.train_config.seed + k)
            acc = evaluate_all(model, digits_200)["test_acc"]
            accs.append(acc)
            assert runs.loc[(recipe, level, k), "test_acc"] == acc
            if k == 0:
                sizes = storage.encoded_sizes(model)
                fmt, nbytes = storage.smallest_lossless(sizes)
                p = pts.loc[f"{recipe} {level:g}"]
                assert (p["stored_format"], p["stored_bytes"]) == (fmt, nbytes)
                nz = sum(int((m.weight != 0).sum()) for m in model.modules()
                         if isinstance(m, torch.nn.Linear))
                total = sum(m.weight.numel() for m in trained.build(digits_200).modules()
                            if isinstance(m, torch.nn.Linear))
                assert p["weights_removed"] == pytest.approx(1 - nz / total)
        p = pts.loc[f"{recipe} {level:g}"]
        assert p["test_acc_mean"] == pytest.approx(np.mean(accs))
        assert (p["test_acc_min"], p["test_acc_max"]) == (min(accs), max(accs))


def test_curve_tables_are_complete_and_timed(curve):
    pts = curve.points
    assert pts["point"].iloc[0] == DENSE_POINT
    assert len(pts) == 1 + 2 * len(SMALL.sparsities) + len(SMALL.unit_fractions)
    assert (pts["latency_ms_per_batch"] > 0).all()
    assert pts["latency_us_per_example"].tolist() == pytest.approx(
        (1000 * pts["latency_ms_per_batch"] / SMALL.batch_size).tolist())
    assert set(pts["budget"].iloc[1:]) == {"2 epochs", "2 epochs (2 rounds × 1)"}
    assert pts["pareto_size"].any()
    # a latency front only when the A/A timing was steady (this machine may be busy)
    assert pts["pareto_latency"].any() == (not latency_too_noisy(curve))
    assert len(curve.runs) == (len(pts) - 1) * SMALL.seeds
    # Structured points are genuinely smaller dense models; dense float32 bytes are exact.
    dense = pts.iloc[0]
    assert dense["stored_bytes"] == dense["dense_float32_bytes"]


def test_bad_configs_are_refused_with_a_message():
    for bad in (replace(SMALL, sparsities=(1.0,)), replace(SMALL, seeds=0),
                replace(SMALL, finetune_epochs=3, iterative_rounds=2)):
        with pytest.raises(PruningError):
            bad.check()


# ----------------------------------------------------------------------------- storage
@pytest.mark.parametrize("density", [0.0, 0.003, 0.1, 0.6, 1.0])
def test_encodings_round_trip_and_count_what_they_store(density):
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(37, 300, generator=gen)
    w[torch.rand(w.shape, generator=gen) >= density] = 0
    w = w.numpy()
    nnz = int((w != 0).sum())
    csr = storage.encode_csr(w, np.uint16)
    assert len(csr) == 4 * nnz + 2 * nnz + 4 * 38
    assert np.array_equal(storage.decode_csr(csr, w.shape, nnz, np.uint16), w)
    assert np.array_equal(storage.decode_csr(storage.encode_csr(w, np.int32), w.shape, nnz,
                                             np.int32), w)
    n = storage.relative_entry_count(w)
    rel = storage.encode_relative(w)
    assert len(rel) == 4 * n + -(-5 * n // 8)
    assert np.array_equal(storage.decode_relative(rel, w.shape, n), w)
    q = storage.decode_relative(storage.encode_relative(w, int8=True), w.shape, n, int8=True)
    assert np.abs(q - w).max() <= np.abs(w).max() / 127 / 2 + 1e-6


def test_relative_indices_pad_long_gaps_as_deep_compression_does():
    w = np.zeros((1, 100), dtype=np.float32)
    w[0, 0], w[0, 99] = 1.0, 2.0          # gaps 1 and 99: 99 = 32 + 32 + 32 + 3 → 3 fillers
    assert storage.relative_entry_count(w) == 2 + 3
    assert np.array_equal(storage.decode_relative(storage.encode_relative(w), w.shape, 5), w)


def test_model_sizes_add_biases_and_smallest_lossless_picks_the_least():
    m = build_model(ModelConfig(hidden=(20,)), 10, 3, seed=0)
    sizes = storage.encoded_sizes(m)
    assert sizes[storage.DENSE32] == 4 * sum(p.numel() for p in m.parameters())
    assert storage.smallest_lossless(sizes) == (storage.DENSE32, sizes[storage.DENSE32])
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p[:, 1:] = 0
    fmt, nbytes = storage.smallest_lossless(storage.encoded_sizes(m))
    assert fmt != storage.DENSE32 and nbytes < sizes[storage.DENSE32] / 3


# ----------------------------------------------------------------------------- front & words
def test_pareto_marks_the_points_nobody_beats():
    cost = pd.Series([10, 5, 5, 1, 8])
    acc = pd.Series([0.9, 0.9, 0.8, 0.5, 0.95])
    assert pareto(cost, acc).tolist() == [False, True, False, True, True]


def _fake(accs_by_point: dict, dense=0.95, n_test=360, margin=1.0):
    rows, pts = [], [{"point": DENSE_POINT, "recipe": DENSE_POINT, "level": 0.0,
                      "weights_removed": 0.0, "test_acc_mean": dense, "test_acc_min": dense,
                      "test_acc_max": dense, "stored_bytes": 1000, "stored_format": "dense float32"}]
    for (point, removed), accs in accs_by_point.items():
        for k, a in enumerate(accs):
            rows.append({"point": point, "recipe": ONESHOT, "level": removed, "seed_index": k,
                         "test_acc": a})
        pts.append({"point": point, "recipe": ONESHOT, "level": removed,
                    "weights_removed": removed, "test_acc_mean": float(np.mean(accs)),
                    "test_acc_min": min(accs), "test_acc_max": max(accs), "stored_bytes": 100,
                    "stored_format": "CSR, 16-bit indices"})
    cfg = replace(SMALL, seeds=len(next(iter(accs_by_point.values()))), margin_points=margin)
    return Tradeoff(cfg, dense, n_test, pd.DataFrame(rows), pd.DataFrame(pts), pd.DataFrame(), 1.0)


def test_at_most_one_point_uses_the_shared_rule():
    t = _fake({("a", 0.5): [0.95, 0.948], ("b", 0.8): [0.935, 0.943],   # b: 1.5 / 0.7 below
               ("c", 0.9): [0.92, 0.925]})                              # c: clearly > 1 point
    assert view.qualifying(t).tolist() == [True, True, True, False]
    s = view.verdict_sentence(t)
    assert s.startswith("Up to 80 % of the weights can go for at most 1 point of test accuracy "
                        "(2 fine-tuning seeds)")
    assert "93.5 %–94.3 %" in s and "95.0 %" in s


def test_no_qualifying_point_and_one_seed_are_said_plainly():
    t = _fake({("a", 0.5): [0.90, 0.91]})
    assert view.verdict_sentence(t).startswith("None of the measured recipes stays within 1 point")
    one = _fake({("a", 0.5): [0.945]})
    assert "1 seed: one run, no spread measured" in view.verdict_sentence(one)
    assert "keeps 94.5 % against the dense 95.0 %" in view.verdict_sentence(one)
    assert SMALL.budget(ONESHOT) == "2 epochs" and replace(SMALL, finetune_epochs=1,
                                                           iterative_rounds=1).budget(ONESHOT) == "1 epoch"
    assert view.qualifying(_fake({("a", 0.5): [0.939]})).tolist() == [True, False]


def test_figures_show_every_point_and_the_front(curve):
    for axis in ("size", "latency"):
        fig = view.tradeoff_figure(curve, axis)
        names = [tr.name for tr in fig.data]
        assert any(n.startswith("one-shot") for n in names)
        assert "Pareto front (nothing beats these)" in names
        n_points = sum(len(tr.x) for tr in fig.data if tr.mode == "markers+lines"
                       or tr.name == "dense (trained)")
        assert n_points == len(curve.points)
    table = view.points_table(curve)
    assert len(table) == len(curve.points) and "µs per example" in table.columns


# ----------------------------------------------------------------------------- exports
def test_structured_snippet_reproduces_the_apps_unit_masks():
    import torch.nn.utils.prune as torch_prune

    from pruning.core.masks import apply_masks as _apply
    from pruning.present.torch_code import structured_snippet
    from pruning.structured.select import select_units, unit_masks
    from pruning.structured.units import unit_scores
    model = build_model(ModelConfig(hidden=(30, 20)), 12, 3, seed=0)
    ref = build_model(ModelConfig(hidden=(30, 20)), 12, 3, seed=0)
    keep = select_units(unit_scores(ref, None, "l1"), 0.5, "layer")
    _apply(ref, unit_masks(ref, keep))
    code = structured_snippet(model, 0.5, 3).code
    body = code.replace("import torch\nimport torch.nn.utils.prune as prune\n", "")
    exec(body, {"model": model, "torch": torch, "prune": torch_prune,   # noqa: S102 (our code)
                "fine_tune": lambda m: None})
    got, want = model.state_dict(), ref.state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_summary_full_data_and_report_opening_agree(curve, trained, digits_200):
    from pruning.present import exports
    table = exports.summary_table(None, curve, {"data set": "digits"})
    assert len(table) == len(curve.points)
    assert list(table.columns[:len(exports.SUMMARY_COLUMNS)]) == list(exports.SUMMARY_COLUMNS)
    assert (table["data set"] == "digits").all()
    pts = curve.points
    assert table["test accuracy (%)"].tolist() == (100 * pts["test_acc_mean"]).round(1).tolist()
    assert table["stored size (KB)"].tolist() == (pts["stored_bytes"] / 1024).round(1).tolist()
    assert table["µs per example"].tolist() == pts["latency_us_per_example"].round(3).tolist()
    full = exports.full_data_table(None, curve)
    assert list(full.columns) == ["source", "subject", "quantity", "value"]
    accs = full[(full["quantity"] == "test_acc") & (full["source"] == "trade-off curve, each seed")]
    assert accs["value"].tolist() == curve.runs["test_acc"].tolist()
    sections = exports.curve_sections(curve, trained.build(digits_200))
    assert sections[0].blocks[0] == view.verdict_sentence(curve)
    if view.largest_within(curve) is not None:
        assert sections[1].heading == "The recipe that gets there"
        assert "torch.nn.utils.prune" in sections[1].blocks[-1].text
