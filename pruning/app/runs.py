"""The session's run history: every finished train, prune, fine-tune, Iterate and scorer
comparison, kept with its settings so that runs can be laid over each other and downloaded.

A ``RunRecord`` is plain data: a name the user may change, what kind of run it was, its
settings as ``{human name: text}``, and its *points*: a tidy table with one row per measured
model, in the columns of ``POINT_COLUMNS``:

    series     a line within the run ("magnitude", "random baseline", or the run itself: "")
    stage      "dense", "after pruning" or "after fine-tuning"
    step       order of the point within its series (0 = dense)
    sparsity   fraction of the prunable weights that are zero (0 for the dense model)
    train_acc, test_acc   fractions

so every kind of run lands on the same accuracy-vs-sparsity axes: a train run is one point
at 0 %, a prune run two (dense, after pruning), an Iterate run one point per round.
The builders here turn each page's result into a record; they never keep tensors, so a run
costs a few hundred bytes and the history survives a new model (``Workspace.set_trained``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from pruning.config import PruneConfig, TrainConfig
from pruning.core.masks import sparsity as mask_sparsity
from pruning.core.records import FinetunedModel, PrunedModel, TrainedModel
from pruning.labs.prune_step import describe_prune_config

RUN_KINDS = ("train", "prune", "fine-tune", "iterate", "scorers")
POINT_COLUMNS = ("series", "stage", "step", "sparsity", "train_acc", "test_acc")
STAGES = ("dense", "after pruning", "after fine-tuning")


@dataclass
class RunRecord:
    """One finished run: ``id`` is unique within the session (never reused)."""

    id: int
    name: str
    kind: str
    settings: dict[str, str] = field(default_factory=dict)
    points: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=POINT_COLUMNS))


def _point(series: str, stage: str, step: int, sparsity: float, metrics: Mapping) -> dict:
    return {"series": series, "stage": stage, "step": step, "sparsity": float(sparsity),
            "train_acc": float(metrics["train_acc"]), "test_acc": float(metrics["test_acc"])}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))


def model_settings(trained: TrainedModel) -> dict[str, str]:
    """The settings that made the dense model, as ``{human name: text}``."""
    d, m, t = trained.data_config, trained.model_config, trained.train_config
    arch = (f"MLP {'-'.join(map(str, m.hidden))}" if m.kind == "mlp"
            else f"CNN {'-'.join(map(str, m.channels))}")
    out = {"data set": d.name, "model": arch, "epochs": str(t.epochs), "seed": str(t.seed),
           "optimizer": t.optimizer, "learning rate": f"{t.lr:g}",
           "batch size": str(t.batch_size), "weight decay": f"{t.weight_decay:g}"}
    if d.train_size:
        out["training examples"] = str(d.train_size)
    if d.label_noise:
        out["label noise"] = f"{d.label_noise:g}"
    return out


def finetune_settings(cfg: TrainConfig | None) -> dict[str, str]:
    if cfg is None:
        return {}
    return {"fine-tune epochs": str(cfg.epochs), "fine-tune learning rate": f"{cfg.lr:g}",
            "fine-tune optimizer": cfg.optimizer, "fine-tune batch size": str(cfg.batch_size)}


def train_points(trained: TrainedModel) -> pd.DataFrame:
    return _frame([_point("", "dense", 0, 0.0, trained.metrics)])


def prune_points(trained: TrainedModel, pruned: PrunedModel) -> pd.DataFrame:
    return _frame([_point("", "dense", 0, 0.0, trained.metrics),
                   _point("", "after pruning", 1, mask_sparsity(pruned.masks), pruned.metrics)])


def finetune_points(trained: TrainedModel, pruned: PrunedModel,
                    finetuned: FinetunedModel) -> pd.DataFrame:
    s = mask_sparsity(pruned.masks)
    return _frame([_point("", "dense", 0, 0.0, trained.metrics),
                   _point("", "after pruning", 1, s, pruned.metrics),
                   _point("", "after fine-tuning", 2, s, finetuned.metrics)])


def rounds_points(rounds: pd.DataFrame, dense: Mapping, series: str = "") -> pd.DataFrame:
    """A rounds table (``loop.run_prune_rounds``: ``sparsity``, ``*_acc_pruned``, ``*_acc``)
    as points: the dense model, then each round after pruning and after fine-tuning."""
    rows = [_point(series, "dense", 0, 0.0, dense)]
    for i, r in enumerate(rounds.to_dict("records"), start=1):
        rows.append(_point(series, "after pruning", 2 * i - 1, r["sparsity"],
                           {"train_acc": r["train_acc_pruned"], "test_acc": r["test_acc_pruned"]}))
        rows.append(_point(series, "after fine-tuning", 2 * i, r["sparsity"], r))
    return _frame(rows)


def prune_settings(cfg: PruneConfig, started_from: str = "dense") -> dict[str, str]:
    out = {"pruning": describe_prune_config(cfg)}
    if started_from != "dense":
        out["started from"] = f"the {started_from} model"
    return out


def iterate_settings(cfg: PruneConfig, finetune: TrainConfig, baseline: bool) -> dict[str, str]:
    rounds = 1 if cfg.schedule == "oneshot" else cfg.rounds
    out = {"scorer": cfg.scorer, "scope": cfg.scope, "schedule": cfg.schedule,
           "rounds": str(rounds), "final sparsity": f"{cfg.sparsity:g}" if cfg.sparsity is not None
           else f"threshold {cfg.threshold:g}",
           "fine-tune epochs per round": str(cfg.finetune_epochs),
           "rewind": "yes" if cfg.rewind else "no", "random baseline": "yes" if baseline else "no"}
    out.update({k: v for k, v in finetune_settings(finetune).items()
                if k in ("fine-tune learning rate", "fine-tune optimizer")})
    return out


def scorer_points(table: pd.DataFrame, dense: Mapping) -> pd.DataFrame:
    """A scorer comparison's table (one row per scorer: ``scorer``, ``sparsity``,
    ``*_acc_pruned``, ``*_acc``) as one series per scorer. Rows without the columns (a
    scorer that did not run) are left out."""
    frames = []
    for r in table.to_dict("records"):
        if not {"scorer", "sparsity", "train_acc", "test_acc"} <= set(r):
            continue
        rounds = pd.DataFrame([r])
        if "test_acc_pruned" not in rounds:
            rounds["test_acc_pruned"] = rounds["test_acc"]
            rounds["train_acc_pruned"] = rounds["train_acc"]
        frames.append(rounds_points(rounds, dense, series=str(r["scorer"])))
    return pd.concat(frames, ignore_index=True) if frames else _frame([])


def default_name(kind: str, settings: Mapping[str, str], number: int) -> str:
    """``"#3 prune: 90.0 % target, global, magnitude scores"``: short, and unique by number."""
    what = {"train": settings.get("model", ""), "prune": settings.get("pruning", ""),
            "fine-tune": settings.get("pruning", ""),
            "iterate": f"{settings.get('scorer', '')}, {settings.get('schedule', '')} "
                       f"{settings.get('rounds', '')} rounds",
            "scorers": settings.get("scorers", "")}.get(kind, "")
    return f"#{number} {kind}" + (f": {what}" if what else "")


# ----------------------------------------------------------------------------- the download
#: Human column names of the download, accuracy first.
CSV_COLUMNS = {"test_acc": "test accuracy (%)", "train_acc": "train accuracy (%)",
               "sparsity": "weights pruned (%)", "stage": "stage", "run": "run",
               "series": "line", "kind": "kind of run", "step": "step in run"}


def _setting_column(name: str) -> str:
    """A setting's column name, never one of the measured columns' (a scorer comparison's
    setting "weights pruned (%)" made two columns of that name, which no table can show)."""
    return f"{name} (setting)" if name in CSV_COLUMNS or name in CSV_COLUMNS.values() else name


def runs_table(runs: list[RunRecord]) -> pd.DataFrame:
    """One tidy table of ``runs``' points: a row per measured model, accuracy first, then
    what was measured, then which run (its name and kind), then every setting of any run
    (empty where a run has no such setting). Percentages, rounded to 0.01."""
    rows = []
    for run in runs:
        for p in run.points.to_dict("records"):
            row = {"test_acc": round(100 * p["test_acc"], 2),
                   "train_acc": round(100 * p["train_acc"], 2),
                   "sparsity": round(100 * p["sparsity"], 2), "stage": p["stage"],
                   "run": run.name, "series": p["series"], "kind": run.kind,
                   "step": int(p["step"])}
            row.update({_setting_column(k): v for k, v in run.settings.items()})
            rows.append(row)
    settings = list(dict.fromkeys(_setting_column(k) for run in runs for k in run.settings))
    table = pd.DataFrame(rows, columns=list(CSV_COLUMNS) + settings)
    return table.rename(columns=CSV_COLUMNS)


def iterate_points(rounds: pd.DataFrame, dense: Mapping, scorer: str,
                   baseline: pd.DataFrame | None = None,
                   oneshot: pd.DataFrame | None = None) -> pd.DataFrame:
    """An Iterate run: the scorer's rounds, and the random baseline's and the one-shot arm's
    (same budget) when they ran."""
    frames = [rounds_points(rounds, dense, series=scorer)]
    if baseline is not None and len(baseline):
        frames.append(rounds_points(baseline, dense, series="random baseline"))
    if oneshot is not None and len(oneshot):
        frames.append(rounds_points(oneshot, dense, series="one-shot, same budget"))
    return pd.concat(frames, ignore_index=True)


def overlay_points(runs: list[RunRecord]) -> pd.DataFrame:
    """The points of ``runs`` in one table with a ``run`` column (the run's name; two runs
    with the same name get their number added, so their lines stay apart)."""
    names = [r.name for r in runs]
    frames = []
    for r in runs:
        label = r.name if names.count(r.name) == 1 else f"{r.name} (#{r.id})"
        frames.append(r.points.assign(run=label))
    if not frames:
        return pd.DataFrame(columns=list(POINT_COLUMNS) + ["run"])
    return pd.concat(frames, ignore_index=True)
