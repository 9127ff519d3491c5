"""The trade-off curve in pictures and words (numbers from ``pruning.labs.tradeoff``).

* ``tradeoff_figure(t, "size")`` / ``(t, "latency")``: test accuracy (mean over the
  fine-tuning seeds, whiskers from the worst to the best seed) against the stored size in KB,
  or against microseconds per example; one colour per recipe, the dense model as a black
  star, the Pareto front as a dashed line through the points nobody beats, and a shaded band
  for "at most ``margin`` points below dense".
* ``verdict_sentence(t)``: "Up to X % of the weights can go for at most 1 point of test
  accuracy (N seeds)" — X from ``largest_within`` — with the recipe and its budget.

"At most 1 point lost" is a comparison, so it goes through the app's one rule,
``pruning.present.verdict.compare``: a point qualifies unless its per-seed accuracies are
*behind* the line "dense − 1 point" by that rule (every seed below the line, and the mean
distance larger than max(one test example, the seeds' spread)); a loss the rule calls "within
noise" of the line still qualifies, and the sentence gives the seeds' range. With one seed
the single loss must be at most 1 point, and the sentence says it is one seed.
* ``summary_table`` / ``points_table``: the same numbers with readable column names (page,
  CSV, report), so all three show the same values.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pruning.labs.tradeoff import (
    DENSE_POINT,
    ITERATIVE,
    ONESHOT,
    STRUCTURED,
    Tradeoff,
    latency_too_noisy,
    noise_ratio,
)
from pruning.present import style, verdict
from pruning.present.format import pct

RECIPE_COLOURS = {ONESHOT: "#0072B2", ITERATIVE: "#E69F00", STRUCTURED: "#009E73"}
RECIPE_WORDS = {
    ONESHOT: "one-shot global magnitude pruning",
    ITERATIVE: "iterative global magnitude pruning",
    STRUCTURED: "structured pruning (whole neurons, L1 norm) + compaction",
}
AXES = {"size": ("stored_bytes", "stored size, KB (smallest lossless format, measured bytes)"),
        "latency": ("latency_us_per_example", "µs per example (median; batch of {b}, {th} thread)")}


def _level_words(recipe: str, level: float) -> str:
    return (f"{pct(level, 0)} of each hidden layer's units" if recipe == STRUCTURED
            else f"target {pct(level, 0)} of the weights")


def recipe_words(row: pd.Series, t: Tradeoff) -> str:
    """``one-shot global magnitude pruning to 80 %, fine-tuned 3 epochs``."""
    if row["recipe"] == DENSE_POINT:
        return "the trained dense model"
    return (f"{RECIPE_WORDS[row['recipe']]}, {_level_words(row['recipe'], row['level'])}, "
            f"fine-tuned {t.config.budget(row['recipe'])}")


def _seeds(n: int) -> str:
    return "1 seed: one run, no spread measured" if n == 1 else f"{n} fine-tuning seeds"


def _acc_range(row: pd.Series) -> str:
    lo, hi = pct(row["test_acc_min"]), pct(row["test_acc_max"])
    return lo if lo == hi else f"{lo}–{hi}"


def verdict_sentence(t: Tradeoff) -> str:
    """The manager's answer, computed from the measured points (see the module docstring)."""
    margin, n = t.config.margin_points, t.config.seeds
    m = f"{margin:g} point{'' if margin == 1 else 's'}"
    best = largest_within(t)
    if best is None:
        pruned = t.points[t.points["recipe"] != DENSE_POINT]
        least = pruned.sort_values("weights_removed").iloc[0]
        return (f"None of the measured recipes stays within {m} of the dense test accuracy "
                f"({pct(t.dense_acc)}) in every seed, not even at {pct(least['weights_removed'], 0)} "
                f"of the weights ({_seeds(n)}).")
    return (f"Up to {pct(best['weights_removed'], 0)} of the weights can go for at most {m} of "
            f"test accuracy ({_seeds(n)}): {recipe_words(best, t)} keeps "
            f"{_acc_range(best)} against the dense "
            f"{pct(t.dense_acc)}, stored in {best['stored_bytes'] / 1024:,.0f} KB "
            f"({best['stored_format']}).")


# ----------------------------------------------------------------------------- the rule
def loss_verdict(accs: list[float], t: Tradeoff) -> verdict.Verdict:
    """The shared rule (``pruning.present.verdict``) applied to this point against the line
    "dense − margin": arm A = the point's per-seed accuracies, arm B = that line."""
    line = t.dense_acc - t.config.margin_points / 100
    return verdict.compare(list(accs), [line] * len(accs), n_test=t.n_test,
                           a_name="this recipe",
                           b_name=f"dense − {t.config.margin_points:g} point")


def within_margin(accs: list[float], t: Tradeoff) -> bool:
    """Did this point lose at most ``margin`` points of test accuracy (see module doc)? Not
    when the rule calls it *behind* the line; with one seed, when its one loss is larger."""
    v = loss_verdict(accs, t)
    if v.direction == verdict.ONE_SEED:
        return v.mean_diff >= -1e-9
    return v.direction != verdict.BEHIND


def qualifying(t: Tradeoff) -> pd.Series:
    """``within_margin`` for every row of ``t.points`` (the dense model trivially)."""
    accs = t.runs.groupby("point")["test_acc"].apply(list)
    return pd.Series([True if p == DENSE_POINT else within_margin(accs[p], t)
                      for p in t.points["point"]], index=t.points.index)


def largest_within(t: Tradeoff) -> pd.Series | None:
    """The point removing the largest weight share within the margin (None: none does)."""
    ok = t.points[qualifying(t) & (t.points["recipe"] != DENSE_POINT)]
    if ok.empty:
        return None
    return ok.sort_values(["weights_removed", "test_acc_mean"], ascending=False).iloc[0]


def tradeoff_figure(t: Tradeoff, axis: str = "size", height: int = 440) -> go.Figure:
    """Accuracy against size or latency (see the module docstring)."""
    col, title = AXES[axis]
    pts = t.points
    first = pts.iloc[0]
    x_of = (lambda s: s / 1024) if axis == "size" else (lambda s: s)
    title = title.format(b=int(first["batch_size"]), th=int(first["threads"]))
    margin = t.config.margin_points / 100
    data = []
    xs = x_of(pts[col])
    lo, hi = float(xs.min()), float(xs.max())
    data.append(dict(type="scatter", x=[lo, hi, hi, lo], y=[100 * t.dense_acc, 100 * t.dense_acc,
                                                            100 * (t.dense_acc - margin),
                                                            100 * (t.dense_acc - margin)],
                     fill="toself", fillcolor="rgba(85,168,104,0.15)", line=dict(width=0),
                     mode="lines", hoverinfo="skip",
                     name=f"within {t.config.margin_points:g} point of dense"))
    for recipe, colour in RECIPE_COLOURS.items():
        r = pts[pts["recipe"] == recipe]
        if r.empty:
            continue
        data.append(dict(
            type="scatter", mode="markers+lines", name=f"{recipe} ({t.config.budget(recipe)})",
            x=list(x_of(r[col])), y=list(100 * r["test_acc_mean"]),
            line=dict(color=colour, width=1, dash="dot"),
            marker=dict(color=colour, size=11, symbol="circle"),
            error_y=dict(type="data", symmetric=False,
                         array=list(100 * (r["test_acc_max"] - r["test_acc_mean"])),
                         arrayminus=list(100 * (r["test_acc_mean"] - r["test_acc_min"]))),
            text=[f"{recipe}: {pct(w, 0)} of weights removed" for w in r["weights_removed"]],
            hovertemplate="%{text}<br>%{x:,.1f}<br>test accuracy %{y:.1f} % (mean; bar: range "
                          "over seeds)<extra></extra>"))
    d = pts[pts["recipe"] == DENSE_POINT]
    data.append(dict(type="scatter", mode="markers", name="dense (trained)",
                     x=list(x_of(d[col])), y=list(100 * d["test_acc_mean"]),
                     marker=dict(color="black", size=16, symbol="star"),
                     hovertemplate="dense: %{x:,.1f}, %{y:.1f} %<extra></extra>"))
    front = pts[pts[f"pareto_{axis}"]].sort_values(col)
    data.append(dict(type="scatter", mode="lines", name="Pareto front (nothing beats these)",
                     x=list(x_of(front[col])), y=list(100 * front["test_acc_mean"]),
                     line=dict(color="#444", width=2, dash="dash"), hoverinfo="skip"))
    spec = dict(xaxis=dict(title=title, type="log" if axis == "size" else "linear",
                           **({"dtick": "D2"} if axis == "size" else {})),
                yaxis=dict(title="test accuracy (%)"),
                legend=dict(orientation="h", y=-0.3))
    name = "Accuracy vs stored size" if axis == "size" else "Accuracy vs latency"
    if axis == "latency" and latency_too_noisy(t):
        name += f" — too noisy to rank (same model timed twice: {noise_ratio(t):.1f}× apart)"
    return style.figure(data, spec, name, height)


# ----------------------------------------------------------------------------- tables
POINT_COLUMNS = {
    "recipe": "recipe", "level": "level (target weights; structured: units)",
    "budget": "fine-tuning budget", "weights_removed": "weights removed (%)",
    "test_acc_mean": "test accuracy, mean (%)", "test_acc_min": "worst seed (%)",
    "test_acc_max": "best seed (%)", "seeds": "seeds",
    "stored_bytes": "stored size (KB)", "stored_format": "stored as",
    "latency_us_per_example": "µs per example", "latency_ms_per_batch": "ms per batch",
    "fastest_form": "timed as", "pareto_size": "on size front", "pareto_latency": "on latency front",
}


def points_table(t: Tradeoff) -> pd.DataFrame:
    """One row per measured point (dense first), rounded for reading."""
    p = t.points[list(POINT_COLUMNS)].copy()
    for c in ("weights_removed", "test_acc_mean", "test_acc_min", "test_acc_max", "level"):
        p[c] = (100 * p[c]).round(1)
    p["stored_bytes"] = (p["stored_bytes"] / 1024).round(1)
    p["latency_us_per_example"] = p["latency_us_per_example"].round(2)
    p["latency_ms_per_batch"] = p["latency_ms_per_batch"].round(3)
    return p.rename(columns=POINT_COLUMNS)


def timing_caption(t: Tradeoff) -> str:
    first = t.points.iloc[0]
    attempts = int(t.timing["attempts"].iloc[0]) if "attempts" in t.timing else 1
    return (f"Every point is measured: accuracy on the test split for each fine-tuning seed "
            f"(dots: mean; bars: worst to best seed); "
            f"size = bytes of the smallest lossless encoding of the first seed's model; latency "
            f"= median of {t.config.repeats} timed runs on a batch of {int(first['batch_size'])} "
            f"test examples, {int(first['threads'])} thread, all points interleaved with the "
            f"dense model (its two timings came out {pct(noise_ratio(t) - 1, 0)} apart"
            f"{'' if attempts == 1 else f' in the steadiest of {attempts} attempts'}: "
            f"latency differences smaller than that are noise"
            f"{'; too noisy, so no latency front is drawn' if latency_too_noisy(t) else ''}). "
            f"Computed in {t.seconds:.0f} s.")
