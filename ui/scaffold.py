"""How a page opens, and how it keeps what a button computed.

    trained, data, seed, ws = page_context()   # the session's model, its data and the
                                               # caption; without a model: the "use a trained
                                               # default model" offer, then the page stops
    kept = run_and_keep("lottery", settings, find_tickets, run=clicked, progress=True)
    if kept is None: …             # nothing computed yet in this session
    if kept.stale: …               # shown result was computed with other controls

Everything here only reads widgets and draws; the computations are calls into ``pruning``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

import streamlit as st

from pruning.app.jobs import UNKNOWN, Estimate
from pruning.app.workspace import Workspace
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import DataBundle
from pruning.core.models import prunable_names
from pruning.core.records import PrunedModel, TrainedModel, prune_trained
from pruning.errors import PruningError
from pruning.labs.prune_step import prune_config_for, select
from pruning.present.format import pct
from pruning.present.training import unfinished_note
from ui.cache import cached_default_model, default_trained_model, trained_data
from ui.jobs import progress_callback, run_job
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.persist import job
from ui.settings import current_configs
from ui.widgets import show_error
from ui.workspace import cached_scores, cached_scores_from, workspace

T = TypeVar("T")


# ----------------------------------------------------------------------------- the model
def require_trained_model() -> TrainedModel | None:
    """The session's trained model, or None after offering a one-click default."""
    ws = workspace()
    if ws.trained is not None:
        return ws.trained
    st.info("No trained model in this session yet. Train one on the **Train** page, "
            "or start from the default model for the current settings.")
    if st.button("Use a trained default model", type="primary", key="use_default_model",
                 help="Trains the model for the sidebar settings once on this server "
                      "(a few seconds) and gives you your own copy."):
        try:
            d, m, t = current_configs()
            model = cached_default_model(d, m, t)
            if model is None:
                with job("Default model"):   # a job: estimate, Stop, limits (ui.jobs)
                    model = default_trained_model(d, m, t)
            ws.set_trained(model)
        except PruningError as exc:
            st.error(str(exc))
            return None
        st.rerun()
    return None


def model_caption(trained: TrainedModel) -> None:
    """One line saying which model the page works on, and a hint if the sidebar changed."""
    d, m, t = trained.data_config, trained.model_config, trained.train_config
    arch = f"MLP {'-'.join(map(str, m.hidden))}" if m.kind == "mlp" else \
        f"CNN {'-'.join(map(str, m.channels))}"
    st.caption(f"Working on: **{arch}** trained {t.epochs} epochs on **{d.name}** (seed {t.seed}) "
               f"— dense test accuracy {pct(trained.metrics['test_acc'])}.")
    try:
        now = current_configs()
    except Exception:  # bad sidebar text: the sidebar itself shows the error
        return
    if (now[0], now[1]) != (d, m):
        st.caption("ℹ️ The sidebar settings changed since this model was trained; this page "
                   "keeps using the trained model (train again on the **Train** page to switch).")


@dataclass(frozen=True)
class PageContext:
    """What a page working on the session's trained model needs."""

    trained: TrainedModel
    data: DataBundle          # the data the model was trained on
    workspace: Workspace      # this session's models and kept results

    @property
    def seed(self) -> int:
        return self.trained.train_config.seed

    def __iter__(self):
        """``trained, data, seed, ws = page_context()``: the page's opening line."""
        return iter((self.trained, self.data, self.seed, self.workspace))


def page_context(*, caption: bool = True,
                 if_missing: Callable[[], None] | None = None) -> PageContext:
    """The page's opening: the session's trained model and its data, with the model caption
    (``caption=False``: the page draws ``model_caption`` itself, later).

    Without a trained model the page shows the "use a trained default model" offer, then
    ``if_missing()`` (e.g. an upload box) and stops there.
    """
    trained = require_trained_model()
    if trained is None:
        if if_missing is not None:
            if_missing()
        next_step_link()
        stop_page()
    if caption:
        model_caption(trained)
    if note := unfinished_note(trained.history):  # said before any pruning conclusion
        st.warning(note)
    return PageContext(trained, trained_data(trained), workspace())


def sidebar_configs() -> tuple[DataConfig, ModelConfig, TrainConfig]:
    """The sidebar's settings as configs, for a page that trains its own networks; on a bad
    setting the page shows why and stops."""
    try:
        return current_configs()
    except PruningError as exc:
        show_error(exc)
        stop_page()


def ensure_default_pruned(sparsity: float = 0.9) -> PrunedModel:
    """The one-click start for later pages: the session's trained model (or the shared default
    one) pruned to ``sparsity`` with global magnitude scores, stored as ``workspace().pruned``."""
    ws = workspace()
    if ws.trained is None:
        ws.set_trained(default_trained_model(*current_configs()))  # a job (ui.jobs)
    trained = ws.trained
    data = trained_data(trained)
    seed = trained.train_config.seed
    scores = cached_scores(trained, data, "magnitude", True, seed)
    sel = select(scores, "sparsity", sparsity, "global")
    cfg = prune_config_for("magnitude", "sparsity", sparsity, "global", True, seed)
    ws.keep_pruned(prune_trained(trained, data, cfg, sel.masks))
    return ws.pruned


def prune_again(sparsity: float, scorer: str = "magnitude", scope: str = "global") -> PrunedModel:
    """The repeat step: prune the session's latest fine-tuned model further, to ``sparsity`` of
    the original weights (cumulative: every weight pruned before stays pruned), and keep it as
    ``workspace().pruned``. Raises ``PruningError`` when there is no fine-tuned model."""
    ws = workspace()
    start = ws.latest_finetuned()
    if ws.trained is None or start is None:
        raise PruningError("there is no fine-tuned model to prune again; fine-tune first")
    trained = ws.trained
    data = trained_data(trained)
    seed = trained.train_config.seed
    # Score the same layers the first cut did (with or without the output layer).
    include_output = set(start.masks) == set(prunable_names(trained.build(data), True))
    scores = cached_scores_from(trained, start, data, scorer, include_output, seed)
    sel = select(scores, "sparsity", sparsity, scope, previous=start.masks)
    cfg = prune_config_for(scorer, "sparsity", sparsity, scope, include_output, seed)
    ws.keep_pruned(prune_trained(trained, data, cfg, sel.masks, start=start))
    return ws.pruned


# ----------------------------------------------------------------------------- kept results
@dataclass(frozen=True)
class Kept(Generic[T]):
    """A result kept in this session, as a page shows it."""

    value: T
    settings: object   # the controls it was computed with
    stale: bool        # the controls have changed since: say so, offer to run again


def run_and_keep(key: str, settings, compute: Callable[..., T], *, run: bool,
                 progress: bool = False, spinner: str | None = None,
                 estimate: Estimate = UNKNOWN, name: str | None = None) -> Kept[T] | None:
    """Compute when the page's button was pressed (``run``), keep the result in this session
    under ``key`` with the ``settings`` it was computed for, and return what to show: the
    kept result (this run's or an earlier one's), or None when there is none yet.

    The computation runs as a job (``ui.jobs.run_job``): ``estimate`` is shown first and
    checked against the server's limits, a Stop button ends it, and it waits its turn when
    the server is busy. ``compute(progress)`` gets a ``progress(fraction, message)``
    callback that moves the job's bar when ``progress=True``; otherwise ``compute()`` is
    called and the bar says ``spinner`` (if given) and the epoch reached. A ``PruningError``
    (also a refused or stopped job) is shown as a message and keeps the earlier result.
    ``name`` names the job in its messages ("Finding lottery tickets stopped at …").
    Stored as ``workspace().extras[key] = (settings, result)``.
    """
    extras = workspace().extras
    if run:
        def work(handle):
            return compute(progress_callback(handle)) if progress else compute()

        label = name or (spinner or "The computation").rstrip("….")
        try:
            with job(key):
                extras[key] = (settings, run_job(key, label, estimate, work))
        except PruningError as exc:
            show_error(exc)
    stored = extras.get(key)
    if stored is None:
        return None
    shown, value = stored
    return Kept(value=value, settings=shown, stale=shown != settings)
