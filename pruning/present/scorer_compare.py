"""Compare scorers, shown: the reference table of the scorers, the figures of a
``ScorerComparison`` (``pruning.labs.scorer_compare``) and what to notice in it.

Bars are means over seeds with ± 1 sample standard deviation; every sentence that ranks
scorers goes through the shared rule (``pruning.present.verdict``), paired by seed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pruning.labs.scorer_compare import ScorerComparison
from pruning.present.format import pct
from pruning.present.style import layout
from pruning.present.verdict import AHEAD, BEHIND, compare
from pruning.scoring import SCORERS


def scorer_reference() -> pd.DataFrame:
    """One row per scorer, from its record: formula, what it measures, source, and where the
    app's version differs from that source."""
    return pd.DataFrame([{"scorer": s.name, "formula": s.formula, "measures": s.measures,
                          "source": s.source or "control",
                          "differs from the paper": s.differs or "—"}
                         for s in SCORERS.values()])


def method_note(scorer: str) -> str:
    """One line for a page that prunes with ``scorer``: the paper, and where the app differs."""
    s = SCORERS[scorer]
    if s.source is None:
        return f"**{s.name}**: {s.description}."
    return (f"**{s.name}** follows {s.source}: {s.formula}."
            + (f" Where the app differs: {s.differs}." if s.differs else ""))


def accuracy_bars(cmp: ScorerComparison, height: int = 420) -> go.Figure:
    """Test accuracy per scorer, mean over seeds with ± 1 sd error bars: right after pruning
    (light) and after fine-tuning (dark); dashed lines: dense, and the random scorer after
    fine-tuning (the floor)."""
    t = cmp.table
    n = int(t["n_seeds"].max()) if "n_seeds" in t else 1

    def err(col):
        return (dict(type="data", array=100 * t[f"{col}_sd"], visible=True, thickness=2)
                if f"{col}_sd" in t and n > 1 else None)

    fig = go.Figure([
        go.Bar(x=t["scorer"], y=100 * t["test_acc_pruned"], name="right after pruning",
               marker_color="#9ecae1", error_y=err("test_acc_pruned"),
               hovertemplate="%{x}: %{y:.1f} %<extra>after pruning</extra>"),
        go.Bar(x=t["scorer"], y=100 * t["test_acc"], name="after fine-tuning",
               marker_color="#08519c", error_y=err("test_acc"),
               hovertemplate="%{x}: %{y:.1f} %<extra>after fine-tuning</extra>"),
    ])
    fig.add_hline(y=100 * cmp.dense["test_acc"], line=dict(color="#2ca02c", dash="dash"),
                  annotation_text="dense", annotation_position="top right")
    rnd = t[t["scorer"] == "random"]
    if not rnd.empty:
        fig.add_hline(y=100 * float(rnd["test_acc"].iloc[0]), line=dict(color="#7f7f7f", dash="dot"),
                      annotation_text="random floor", annotation_position="bottom right")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="test accuracy (%)", range=[0, 101])
    fig.update_xaxes(title="scorer")
    what = f"mean of {n} seeds ± 1 sd" if n > 1 else "one seed"
    return layout(fig, f"Test accuracy at {pct(cmp.sparsity, 0)} sparsity ({what})", height)


def jaccard_heatmap(cmp: ScorerComparison, height: int = 440) -> go.Figure:
    """Jaccard overlap of the kept weights, scorer × scorer, with the values written in."""
    order = list(cmp.table["scorer"])
    m = cmp.jaccard.pivot(index="scorer_a", columns="scorer_b", values="jaccard").loc[order, order]
    z = m.to_numpy(dtype=np.float32)
    fig = go.Figure(go.Heatmap(z=z, x=order, y=order, zmin=0, zmax=1, colorscale="Viridis",
                               texttemplate="%{z:.2f}", textfont=dict(size=14),
                               colorbar=dict(title="Jaccard"),
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return layout(fig, f"Overlap of kept weights (two random masks: ≈ {cmp.random_jaccard:.2f})",
                   height)


def layer_sparsity_heatmap(cmp: ScorerComparison, height: int = 380) -> go.Figure:
    """Which layers each scorer prunes (reached sparsity per layer, in %)."""
    order = list(cmp.table["scorer"])
    p = cmp.per_layer.pivot(index="scorer", columns="layer", values="sparsity").loc[order]
    p = p[list(dict.fromkeys(cmp.per_layer["layer"]))]
    z = 100 * p.to_numpy(dtype=np.float32)
    fig = go.Figure(go.Heatmap(z=z, x=list(p.columns), y=order, zmin=0, zmax=100,
                               colorscale="Oranges", texttemplate="%{z:.0f}",
                               textfont=dict(size=14),
                               colorbar=dict(title="% pruned"),
                               hovertemplate="%{y} prunes %{z:.1f} % of %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", title="layer")
    return layout(fig, "Where each scorer prunes (per layer)", height)


def agreement_bars(cmp: ScorerComparison, height: int = 380) -> go.Figure:
    """Per layer: share of weights every (non-random) scorer prunes / keeps / disputes."""
    a = cmp.agreement
    fig = go.Figure()
    for col, label, colour in (("all_prune", "all prune", "#f5a623"),
                               ("contested", "they disagree", "#d62728"),
                               ("all_keep", "all keep", "#2ca02c")):
        fig.add_trace(go.Bar(x=a["layer"], y=100 * a[col], name=label, marker_color=colour,
                             hovertemplate="%{x}: %{y:.1f} %<extra>" + label + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="weights (%)", range=[0, 100])
    fig.update_xaxes(title="layer", type="category")
    return layout(fig, "Agreement between scorers, per layer", height)


def comparison_notes(cmp: ScorerComparison) -> dict[str, str]:
    """What to notice, computed from the numbers: keys ``accuracy``, ``floor`` (when random
    ran), ``overlap`` (two or more non-random scorers), ``disagree`` (two or more masks)."""
    t = cmp.table.set_index("scorer")
    notes = {}
    runs = cmp.runs if len(cmp.runs) else cmp.table.assign(seed=0)
    n_test = cmp.n_test or 100

    def per_seed(scorer: str, col: str = "test_acc") -> pd.Series:
        r = runs[runs["scorer"] == scorer]
        return r.set_index("seed")[col].sort_index()

    def verdict(a: str, b: str):
        return compare(per_seed(a), per_seed(b), n_test=n_test, a_name=a, b_name=b,
                       more_seeds="set Seeds to 3 or more and compare again")

    n = int(t["n_seeds"].max()) if "n_seeds" in t else 1
    best = t["test_acc"].idxmax()
    best_pruned = t["test_acc_pruned"].idxmax()
    sd = (f" ± {100 * t.loc[best, 'test_acc_sd']:.1f}" if "test_acc_sd" in t and n > 1 else "")
    text = (f"Right after pruning {pct(cmp.sparsity, 0)} of the weights, {best_pruned} has the "
            f"highest mean test accuracy ({pct(t.loc[best_pruned, 'test_acc_pruned'])}); after "
            f"fine-tuning, {best} has the highest mean ({pct(t.loc[best, 'test_acc'])}{sd}, "
            f"{'mean of ' + str(n) + ' seeds' if n > 1 else 'one seed'}; dense "
            f"{pct(cmp.dense['test_acc'])}).")
    others = [s for s in t.index if s != best]
    if others:
        vs = {s: verdict(best, s) for s in others}
        level = [s for s, v in vs.items() if v.direction != AHEAD]
        if n == 1:
            runner = max(others, key=lambda s: t.loc[s, "test_acc"])
            text += " " + vs[runner].sentence
        elif level:
            text += (f" It is not clearly ahead of {', '.join(level)}: "
                     + " ".join(vs[s].sentence for s in level))
        else:
            text += (" It is ahead of every other scorer under the rule (every seed agrees and "
                     "the mean difference beats the margin), e.g. "
                     + vs[max(others, key=lambda s: t.loc[s, 'test_acc'])].sentence)
    notes["accuracy"] = text
    if "random" in t.index and len(t) > 1:
        floor = t.loc["random", "test_acc"]
        vs = {s: verdict(s, "random") for s in t.index if s != "random"}
        above = [s for s, v in vs.items() if v.direction == AHEAD]
        below = [s for s, v in vs.items() if v.direction == BEHIND]
        level = [s for s in vs if s not in above and s not in below]
        parts = [f"Random pruning ends at {pct(floor)} after fine-tuning."]
        if n == 1:
            parts.append("With one seed no scorer can be called above or below that floor; "
                         "set Seeds to 3 or more.")
        else:
            if above:
                parts.append(f"Above that floor in every seed and by more than the margin: "
                             f"{', '.join(above)}.")
            if level:
                parts.append(f"Within noise of it: {', '.join(level)}.")
            if below:
                parts.append(f"Below it: {', '.join(below)}.")
        notes["floor"] = " ".join(parts)
    pairs = cmp.jaccard[(cmp.jaccard["scorer_a"] < cmp.jaccard["scorer_b"])
                        & (cmp.jaccard["scorer_a"] != "random") & (cmp.jaccard["scorer_b"] != "random")]
    if len(pairs):
        hi = pairs.loc[pairs["jaccard"].idxmax()]
        lo = pairs.loc[pairs["jaccard"].idxmin()]
        notes["overlap"] = (
            f"Most similar masks: {hi['scorer_a']} and {hi['scorer_b']} (Jaccard "
            f"{hi['jaccard']:.2f}); least similar: {lo['scorer_a']} and {lo['scorer_b']} "
            f"({lo['jaccard']:.2f}). Two random masks would overlap ≈ {cmp.random_jaccard:.2f}.")
    if len(cmp.masks) >= 2:
        a = cmp.agreement.set_index("layer")
        most = a["contested"].idxmax()
        notes["disagree"] = (f"The scorers disagree most in {most}: "
                             f"{pct(a.loc[most, 'contested'])} of its weights are pruned "
                             f"by some of them and kept by others.")
    return notes


def compared_caption(cmp: ScorerComparison) -> str:
    """Which scorers the agreement chart compares, and why random is left out of it."""
    left_out = "random" in cmp.masks and "random" not in cmp.agreement_scorers
    return (f"Compared: {', '.join(cmp.agreement_scorers)}."
            + (" Random is left out: it would make almost every weight disputed." if left_out else ""))
