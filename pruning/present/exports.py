"""What a decider can forward: one summary table (page, CSV and report show the same one), the
full data as a second, long table, and the report's opening sections (the trade-off curve, its
sentence and the recipe that reaches it, with code).

``summary_table``: one row per recipe — each point of the trade-off curve (when measured) and
each way of running this session's model (dense, masked, torch.sparse CSR, compacted, int8) —
with human column names and its settings. Numbers are the measured ones, rounded for reading:
accuracy in % (1 decimal), sizes in KB (1 decimal), latency in ms per batch and µs per example.
"Weights removed" is the share of the Linear / Conv weights that are zero or gone: for the
curve after dead units are removed, for this session's model the masks' share of the prunable
weights (its Pruning settings say which those are).

``full_data_table``: every measured number, long format (source, subject, quantity, value).
"""
from __future__ import annotations

import pandas as pd
from torch import nn

from pruning.config import PruneConfig
from pruning.labs import shrink
from pruning.labs.shrink import Shrinkage, with_verdicts
from pruning.labs.storage import DENSE32, FORMATS, smallest_lossless
from pruning.labs.tradeoff import DENSE_POINT, STRUCTURED, TIMING_DENSE, Tradeoff
from pruning.present import tradeoff as curve_view
from pruning.present.html_report import Code, Section
from pruning.present.torch_code import Snippet, schedule_snippet, structured_snippet

SUMMARY_COLUMNS = (
    "source", "recipe", "pruning settings", "fine-tuning budget", "seeds",
    "weights removed (%)", "test accuracy (%)", "worst seed (%)", "best seed (%)",
    "stored size (KB)", "stored as", "ms per batch", "µs per example", "speed-up vs dense",
    "noise gate", "batch size", "threads")


#: The columns the page shows (narrow enough for a projector); the CSV and report have all.
SUMMARY_PAGE_COLUMNS = ("recipe", "fine-tuning budget", "weights removed (%)",
                        "test accuracy (%)", "worst seed (%)", "stored size (KB)",
                        "µs per example", "speed-up vs dense", "noise gate")


def _curve_rows(t: Tradeoff) -> list[dict]:
    lat = with_verdicts(t.timing).set_index("variant")
    rows = []
    for _, p in t.points.iterrows():
        variant = TIMING_DENSE if p["recipe"] == DENSE_POINT else \
            f"{p['point']} | {p['fastest_form']}"
        v = lat.loc[variant]
        rows.append({
            "source": "trade-off curve", "recipe": p["point"],
            "pruning settings": curve_view.recipe_words(p, t),
            "fine-tuning budget": p["budget"], "seeds": int(p["seeds"]),
            "weights removed (%)": round(100 * p["weights_removed"], 1),
            "test accuracy (%)": round(100 * p["test_acc_mean"], 1),
            "worst seed (%)": round(100 * p["test_acc_min"], 1),
            "best seed (%)": round(100 * p["test_acc_max"], 1),
            "stored size (KB)": round(p["stored_bytes"] / 1024, 1), "stored as": p["stored_format"],
            "ms per batch": round(float(v["median_ms"]), 4),
            "µs per example": round(1000 * float(v["ms_per_example"]), 3),
            "speed-up vs dense": round(float(v["speedup_vs_dense"]), 2),
            "noise gate": v["verdict"],
            "batch size": int(v["batch_size"]), "threads": int(v["threads"])})
    return rows


def _stored(row: pd.Series) -> tuple[str, int]:
    sizes = {f: (None if pd.isna(row[f"enc:{f}"]) else int(row[f"enc:{f}"])) for f in FORMATS}
    return smallest_lossless(sizes)


def _session_rows(s: Shrinkage, prune_words: str, stage: str) -> list[dict]:
    lat = s.latency.set_index("variant")
    rows = []
    for variant in (shrink.DENSE, shrink.MASKED, shrink.SPARSE, shrink.COMPACT,
                    shrink.DENSE_INT8, shrink.COMPACT_INT8):
        key = shrink.VARIANT_MODEL[variant]
        m = s.model(key)
        if key.endswith("int8"):
            fmt, nbytes = "torch.save file, int8 linear layers", int(m["dense_file_bytes"])
        elif key == "dense":
            fmt, nbytes = DENSE32, int(m[f"enc:{DENSE32}"])
        else:
            fmt, nbytes = _stored(m)
        pruned = key != "dense" and key != "dense_int8"
        settings = prune_words if pruned else "none"
        if key.endswith("int8"):
            settings += "; then int8 dynamic quantization of the linear layers (post-training)"
        v = lat.loc[variant]
        rows.append({
            "source": "this session's model", "recipe": variant,
            "pruning settings": settings, "fine-tuning budget": stage if pruned else "none",
            "seeds": 1, "weights removed (%)": round(100 * s.sparsity, 1) if pruned else 0.0,
            "test accuracy (%)": round(100 * m["test_acc"], 1),
            "worst seed (%)": round(100 * m["test_acc"], 1),
            "best seed (%)": round(100 * m["test_acc"], 1),
            "stored size (KB)": round(nbytes / 1024, 1), "stored as": fmt,
            "ms per batch": round(float(v["median_ms"]), 4),
            "µs per example": round(1000 * float(v["ms_per_example"]), 3),
            "speed-up vs dense": round(float(v["speedup_vs_dense"]), 2),
            "noise gate": v["verdict"], "batch size": int(v["batch_size"]),
            "threads": int(v["threads"])})
    return rows


def summary_table(s: Shrinkage | None, curve: Tradeoff | None, model_settings: dict,
                  prune_words: str = "", stage: str = "") -> pd.DataFrame:
    """One row per recipe (see the module docstring), the model's settings as the last
    columns (the same on every row, so a row can be forwarded alone)."""
    rows = (_curve_rows(curve) if curve is not None else []) + \
        (_session_rows(s, prune_words, stage) if s is not None else [])
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for name, value in model_settings.items():
        table[name] = str(value)
    return table


def full_data_table(s: Shrinkage | None, curve: Tradeoff | None) -> pd.DataFrame:
    """Every measured number in long format: source, subject, quantity, value."""
    parts = []
    if s is not None:
        parts.append(shrink.results_csv_table(s).assign(source="this session's model"))
    if curve is not None:
        points = curve.points.melt(id_vars=["point"], var_name="quantity", value_name="value")
        parts.append(points.rename(columns={"point": "subject"}).assign(source="trade-off curve"))
        runs = curve.runs.assign(subject=[f"{p}, seed {k}" for p, k in
                                          zip(curve.runs["point"], curve.runs["seed_index"])])
        runs = runs.drop(columns=["point"]).melt(id_vars=["subject"], var_name="quantity",
                                                 value_name="value")
        parts.append(runs.assign(source="trade-off curve, each seed"))
        timing = curve.timing.melt(id_vars=["variant"], var_name="quantity", value_name="value")
        parts.append(timing.rename(columns={"variant": "subject"})
                     .assign(source="trade-off curve timing"))
    if not parts:
        return pd.DataFrame(columns=["source", "subject", "quantity", "value"])
    return pd.concat(parts, ignore_index=True)[["source", "subject", "quantity", "value"]]


# ----------------------------------------------------------------------------- the report's opening
def recipe_snippet(curve: Tradeoff, dense_model: nn.Module) -> tuple[pd.Series, Snippet] | None:
    """The point the curve's sentence names and the torch code that reproduces its recipe."""
    best = curve_view.largest_within(curve)
    if best is None:
        return None
    cfg = curve.config
    if best["recipe"] == STRUCTURED:
        return best, structured_snippet(dense_model, float(best["level"]), cfg.finetune_epochs)
    iterative = best["recipe"] != "one-shot"
    rounds = cfg.iterative_rounds if iterative else 1
    prune = PruneConfig(scorer="magnitude", scope="global", sparsity=float(best["level"]),
                        schedule="iterative" if iterative else "oneshot", rounds=rounds,
                        finetune_epochs=cfg.finetune_epochs // rounds)
    return best, schedule_snippet(dense_model, prune)


def curve_sections(curve: Tradeoff, dense_model: nn.Module) -> list[Section]:
    """The report's opening: the curve with its sentence, then the recipe with its code."""
    sections = [Section("How far can you go?", [
        curve_view.verdict_sentence(curve), curve_view.tradeoff_figure(curve, "size"),
        curve_view.tradeoff_figure(curve, "latency"), curve_view.timing_caption(curve)])]
    found = recipe_snippet(curve, dense_model)
    if found is not None:
        best, snippet = found
        sections.append(Section("The recipe that gets there", [
            f"{curve_view.recipe_words(best, curve)}.", snippet.note, Code(snippet.code)]))
    return sections
