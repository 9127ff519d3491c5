"""One session's work in progress: the trained model, its pruned and fine-tuned versions, the
timeline of steps that made them, the run history, and the results pages keep for it. The app
holds one ``Workspace`` per browser session (``ui.workspace``); it is plain data (dataclasses,
tensors, DataFrames, dicts), so tests build it too and a store can save it.

The timeline is the loop as the user walked it, one ``Step`` per train / prune / fine-tune:

    train → prune 90 % → fine-tune → prune 95 % (from the fine-tuned model) → fine-tune …

Each step remembers the workspace's models *after* it, so ``undo()`` puts back the models of
the step before. Models are shared references to immutable records (nothing is copied), but a
long timeline would still hold many sets of weights: only the last ``UNDO_DEPTH`` steps keep
their models; older steps keep their numbers (for the saw-tooth figure) and cannot be undone to.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pruning.app import runs as run_records
from pruning.app.runs import RunRecord
from pruning.core.masks import sparsity as mask_sparsity
from pruning.core.records import FinetunedModel, PrunedModel, TrainedModel
from pruning.labs.prune_step import describe_prune_config

STEP_KINDS = ("train", "prune", "fine-tune")
UNDO_DEPTH = 6        # steps whose models are kept for undo (memory: ~3 MB each, default model)
MAX_RUNS = 50         # run records kept (the oldest go first); a record is a few hundred bytes


@dataclass
class Step:
    """One step of the timeline: what was done, the accuracies and sparsity it left, and (for
    the last ``UNDO_DEPTH`` steps) the workspace's models after it."""

    kind: str                      # one of STEP_KINDS
    label: str                     # e.g. "prune to 90.0 % (from the fine-tuned model)"
    sparsity: float                # share of the prunable weights that are zero after it
    train_acc: float
    test_acc: float
    trained: TrainedModel | None = None
    pruned: PrunedModel | None = None
    finetuned: FinetunedModel | None = None
    has_models: bool = True        # False once the models were dropped (too old to undo to)


@dataclass
class Workspace:
    """Everything one session has made. Replacing ``trained`` clears what was built on it."""

    trained: TrainedModel | None = None
    pruned: PrunedModel | None = None
    finetuned: FinetunedModel | None = None
    extras: dict = field(default_factory=dict)  # page-specific results (iterate, sweeps, …)
    timeline: list[Step] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    run_counter: int = 0                         # ids of runs so far (never reused)

    # ------------------------------------------------------------------------- steps
    def set_trained(self, trained: TrainedModel, *, record: bool = True) -> None:
        """A new dense model: what was built on the old one is cleared. ``record=False``
        for a model that was not trained here (a loaded checkpoint): no train run is added."""
        self.trained = trained
        self.pruned = None
        self.finetuned = None
        self.extras.clear()
        self._step("train", "train", 0.0, trained.metrics)
        if record:
            self.add_run("train", run_records.model_settings(trained),
                         run_records.train_points(trained))

    def keep_pruned(self, pruned: PrunedModel, *, record: bool = True) -> None:
        """The pruned model the next fine-tune starts from (a fine-tuned model belongs to the
        pruned model it started from, so it is cleared)."""
        self.pruned = pruned
        self.finetuned = None
        s = mask_sparsity(pruned.masks)
        again = " from the fine-tuned model" if pruned.started_from == "fine-tuned" else ""
        self._step("prune", f"prune to {100 * s:.1f} %{again}", s, pruned.metrics)
        if record and self.trained is not None:
            self.add_run("prune", {**run_records.model_settings(self.trained),
                                   **run_records.prune_settings(pruned.prune_config,
                                                                pruned.started_from)},
                         run_records.prune_points(self.trained, pruned))

    def keep_finetuned(self, finetuned: FinetunedModel, *, record: bool = True) -> None:
        """The kept pruned model after fine-tuning."""
        self.finetuned = finetuned
        s = mask_sparsity(finetuned.masks)
        self._step("fine-tune", f"fine-tune at {100 * s:.1f} %", s, finetuned.metrics)
        if record and self.trained is not None and self.pruned is not None:
            cfg = self.pruned.prune_config
            settings = {**run_records.model_settings(self.trained),
                        **run_records.prune_settings(cfg, self.pruned.started_from),
                        **run_records.finetune_settings(finetuned.train_config)}
            self.add_run("fine-tune", settings,
                         run_records.finetune_points(self.trained, self.pruned, finetuned))

    def _step(self, kind: str, label: str, sparsity: float, metrics: dict) -> None:
        self.timeline.append(Step(kind, label, float(sparsity), float(metrics["train_acc"]),
                                  float(metrics["test_acc"]), self.trained, self.pruned,
                                  self.finetuned))
        for old in self.timeline[:-UNDO_DEPTH]:
            if old.has_models:
                old.trained = old.pruned = old.finetuned = None
                old.has_models = False

    def can_undo(self) -> bool:
        """Is there a last step, and are the models before it still kept?"""
        if not self.timeline:
            return False
        return len(self.timeline) == 1 or self.timeline[-2].has_models

    def undo(self) -> Step | None:
        """Take back the last step: the models return to what they were before it. Returns the
        step taken back (None when there is nothing to undo). Runs stay in the run history."""
        if not self.can_undo():
            return None
        last = self.timeline.pop()
        before = self.timeline[-1] if self.timeline else Step("train", "", 0.0, 0.0, 0.0)
        if before.trained is not self.trained:
            self.extras.clear()  # per-model caches and results belong to the other model
        self.trained, self.pruned, self.finetuned = before.trained, before.pruned, before.finetuned
        return last

    def reset(self) -> None:
        """Forget everything: models, timeline, kept results and the run history."""
        self.trained = self.pruned = self.finetuned = None
        self.extras.clear()
        self.timeline.clear()
        self.runs.clear()
        self.run_counter = 0

    def latest_finetuned(self) -> FinetunedModel | None:
        """The model "prune again" starts from: the newest fine-tuned model of the current dense
        model (the current one, or the one the kept pruned model was pruned from)."""
        if self.finetuned is not None:
            return self.finetuned
        for step in reversed(self.timeline):
            if step.trained is not self.trained or step.kind == "train":
                return None
            if step.kind == "fine-tune" and step.finetuned is not None:
                return step.finetuned
        return None

    def last_finetune(self) -> tuple[PrunedModel, FinetunedModel] | None:
        """The newest fine-tuned model of the current dense model with the pruned model it
        was fine-tuned from (also after a later prune step replaced ``pruned``)."""
        ft = self.latest_finetuned()
        if ft is None:
            return None
        if ft is self.finetuned and self.pruned is not None:
            return self.pruned, ft
        step = next((s for s in reversed(self.timeline)
                     if s.kind == "fine-tune" and s.finetuned is ft and s.pruned is not None), None)
        return None if step is None else (step.pruned, ft)

    def timeline_frame(self) -> pd.DataFrame:
        """The timeline as a tidy table: step (1, 2, …), kind, label, sparsity, train_acc,
        test_acc, model (1 for the first dense model, 2 after training again, …)."""
        rows, model = [], 0
        for i, s in enumerate(self.timeline, start=1):
            model += s.kind == "train"
            rows.append({"step": i, "kind": s.kind, "label": s.label, "sparsity": s.sparsity,
                         "train_acc": s.train_acc, "test_acc": s.test_acc, "model": max(model, 1)})
        return pd.DataFrame(rows, columns=["step", "kind", "label", "sparsity", "train_acc",
                                           "test_acc", "model"])

    # ------------------------------------------------------------------------- run history
    def add_run(self, kind: str, settings: dict[str, str], points: pd.DataFrame,
                name: str | None = None) -> RunRecord:
        """Keep a finished run (the oldest beyond ``MAX_RUNS`` are dropped)."""
        self.run_counter += 1
        record = RunRecord(self.run_counter,
                           name or run_records.default_name(kind, settings, self.run_counter),
                           kind, dict(settings), points.reset_index(drop=True))
        self.runs.append(record)
        del self.runs[:-MAX_RUNS]
        return record

    def run(self, run_id: int) -> RunRecord | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def rename_run(self, run_id: int, name: str) -> bool:
        """Give a run a new name (blank names are refused). True if it was renamed."""
        record = self.run(run_id)
        name = " ".join(str(name).split())[:80]
        if record is None or not name:
            return False
        record.name = name
        return True

    def remove_run(self, run_id: int) -> bool:
        record = self.run(run_id)
        if record is None:
            return False
        self.runs.remove(record)
        return True


def describe_pruned(pruned: PrunedModel) -> str:
    """``describe_prune_config`` plus where it started, for captions."""
    text = describe_prune_config(pruned.prune_config)
    return text + (", pruned again from the fine-tuned model"
                   if pruned.started_from == "fine-tuned" else "")
