"""One session's work in progress: the trained model, its pruned and fine-tuned versions, and
the results pages keep for it. The app holds one ``Workspace`` per browser session
(``ui.workspace``); it is plain data, so tests build it too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pruning.core.records import FinetunedModel, PrunedModel, TrainedModel


@dataclass
class Workspace:
    """Everything one session has made. Replacing ``trained`` clears what was built on it."""

    trained: TrainedModel | None = None
    pruned: PrunedModel | None = None
    finetuned: FinetunedModel | None = None
    extras: dict = field(default_factory=dict)  # page-specific results (iterate, sweeps, …)

    def set_trained(self, trained: TrainedModel) -> None:
        self.trained = trained
        self.pruned = None
        self.finetuned = None
        self.extras.clear()
