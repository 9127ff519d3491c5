"""UI glue shared by the Prune, Fine-tune and Iterate pages (reading state, caching per
session). Every computation is a call into ``pruning``.

Per-session caches live in ``workspace().extras`` and remember which ``TrainedModel`` they
were computed for, so a new model (``Workspace.set_trained`` also clears ``extras``) can never
be shown with the old model's scores.
"""
from __future__ import annotations

import streamlit as st
import torch

from pages._shared import current_configs, default_trained_model, get_data, workspace
from pruning.core.data import DataBundle
from pruning.core.records import PrunedModel, TrainedModel, prune_trained
from pruning.labs.prune_step import compute_scores, prune_config_for, select

#: Prefix of the "what to notice" sentence beside a chart (plain text: no emoji font needed).
NOTICE = "**What to notice:** "


def delta_colour(change: float) -> str:
    """``st.metric`` delta colour: grey for a change that prints as 0.0 points (an arrow
    would claim a direction the shown number does not have)."""
    return "off" if abs(change) < 0.0005 else "normal"


def trained_data(trained: TrainedModel) -> DataBundle:
    """The data the model was trained on (not necessarily the sidebar's current choice)."""
    return get_data(trained.data_config)


def _session_cache(name: str, trained: TrainedModel) -> dict:
    extras = workspace().extras
    cache = extras.get(name)
    if cache is None or cache.get("_trained") is not trained:
        cache = extras[name] = {"_trained": trained}
    return cache


def cached_scores(trained: TrainedModel, data: DataBundle, scorer: str, include_output: bool,
                  seed: int) -> dict[str, torch.Tensor]:
    """Scores of the trained weights, computed once per (model, scorer, output layer, seed)
    and kept in this session, so moving a slider only re-selects."""
    cache = _session_cache("prune_scores", trained)
    key = (scorer, include_output, seed)
    if key not in cache:
        cache[key] = compute_scores(trained.build(data), data, scorer, include_output, seed,
                                    init_state=trained.init_state)
    return cache[key]


def cached(name: str, trained: TrainedModel, key, compute):
    """``compute()`` once per (trained model, key) in this session."""
    cache = _session_cache(name, trained)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def model_caption(trained: TrainedModel) -> None:
    """One line saying which model the page works on, and a hint if the sidebar changed."""
    d, m, t = trained.data_config, trained.model_config, trained.train_config
    arch = f"MLP {'-'.join(map(str, m.hidden))}" if m.kind == "mlp" else \
        f"CNN {'-'.join(map(str, m.channels))}"
    st.caption(f"Working on: **{arch}** trained {t.epochs} epochs on **{d.name}** (seed {t.seed}) "
               f"— dense test accuracy {100 * trained.metrics['test_acc']:.1f} %.")
    try:
        now = current_configs()
    except Exception:  # bad sidebar text: the sidebar itself shows the error
        return
    if (now[0], now[1]) != (d, m):
        st.caption("ℹ️ The sidebar settings changed since this model was trained; this page "
                   "keeps using the trained model (train again on the **Train** page to switch).")


def ensure_default_pruned(sparsity: float = 0.9) -> PrunedModel:
    """The one-click start for later pages: the session's trained model (or the shared default
    one) pruned to ``sparsity`` with global magnitude scores, stored as ``workspace().pruned``."""
    ws = workspace()
    if ws.trained is None:
        with st.spinner("Training the default model…"):
            ws.set_trained(default_trained_model(*current_configs()))
    trained = ws.trained
    data = trained_data(trained)
    seed = trained.train_config.seed
    scores = cached_scores(trained, data, "magnitude", True, seed)
    sel = select(scores, "sparsity", sparsity, "global")
    cfg = prune_config_for("magnitude", "sparsity", sparsity, "global", True, seed)
    ws.pruned = prune_trained(trained, data, cfg, sel.masks)
    ws.finetuned = None
    return ws.pruned
