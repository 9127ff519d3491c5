"""This session's workspace (its models and results) and the per-session caches kept in it.

Per-session caches live in ``workspace().extras`` and remember which ``TrainedModel`` they
were computed for, so a new model (``Workspace.set_trained`` also clears ``extras``) can never
be shown with the old model's scores.
"""
from __future__ import annotations

import streamlit as st
import torch

from pruning.app.job_costs import scoring_seconds
from pruning.app.jobs import Estimate
from pruning.app.workspace import Workspace
from pruning.core.data import DataBundle
from pruning.core.records import FinetunedModel, TrainedModel
from pruning.labs.prune_step import compute_scores
from ui.jobs import run_job
from ui.persist import open_workspace


def workspace() -> Workspace:
    """This session's workspace: on first use, this browser's saved work (``ui.persist``) or
    an empty one."""
    if "workspace" not in st.session_state:
        st.session_state["workspace"] = open_workspace()
    return st.session_state["workspace"]


def _session_cache(name: str, trained: TrainedModel) -> dict:
    extras = workspace().extras
    cache = extras.get(name)
    if cache is None or cache.get("_trained") is not trained:
        cache = extras[name] = {"_trained": trained}
    return cache


def cached(name: str, trained: TrainedModel, key, compute):
    """``compute()`` once per (trained model, key) in this session."""
    cache = _session_cache(name, trained)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def cached_scores(trained: TrainedModel, data: DataBundle, scorer: str, include_output: bool,
                  seed: int) -> dict[str, torch.Tensor]:
    """Scores of the trained weights, computed once per (model, scorer, output layer, seed)
    and kept in this session, so moving a slider only re-selects."""
    return cached("prune_scores", trained, (scorer, include_output, seed),
                  lambda: _as_job_if_slow(trained, data, scorer, seed, lambda: compute_scores(
                      trained.build(data), data, scorer, include_output, seed,
                      init_state=trained.init_state)))


def _as_job_if_slow(trained: TrainedModel, data: DataBundle, scorer: str, seed: int, compute):
    """Scores whose own estimate (``Scorer.cost``) is a second or more (movement fine-tunes,
    ablation perturbs every weight) are computed as a job (``ui.jobs``: estimate, limits,
    Stop); quick ones directly."""
    seconds = scoring_seconds(trained, data, [scorer], seed)
    if seconds < 1.0:
        return compute()
    return run_job("scores", f"Computing {scorer} scores", Estimate(seconds, 0, f"{scorer} scores"),
                   lambda handle: compute())


def cached_scores_from(trained: TrainedModel, start: FinetunedModel, data: DataBundle,
                       scorer: str, include_output: bool, seed: int) -> dict[str, torch.Tensor]:
    """Scores of a fine-tuned model's weights (pruning again), kept like ``cached_scores``
    for as long as ``start`` is the model pruned from."""
    cache = _session_cache("prune_again_scores", trained)
    if cache.get("_start") is not start:
        cache.clear()
        cache.update({"_trained": trained, "_start": start})
    key = (scorer, include_output, seed)
    if key not in cache:
        cache[key] = _as_job_if_slow(trained, data, scorer, seed, lambda: compute_scores(
            trained.build(data, start.state), data, scorer, include_output, seed,
            init_state=trained.init_state, masks=start.masks))
    return cache[key]
