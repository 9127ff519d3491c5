"""Streamlit glue for the job runner (``pruning.app.jobs``): every training button calls
``run_job``, which shows the cost estimate, a Stop button and a progress bar, waits for the
job's turn, runs it, and turns a refusal or a stop into one clear message.

    value = run_job("lottery", "Finding lottery tickets", estimate, lambda h: compute(h.progress))

How Stop, leaving the page and closing the tab end a job: the job runs in this session's
script thread and its tick redraws the progress bar at least every ``TICK_SECONDS`` while it
trains (``pruning.core.stop`` calls it after every mini-batch). Redrawing is where Streamlit
honours a request to end the current script run, so the job ends at its next tick:

* **Stop** (ours, or Streamlit's own in the top-right menu), another button, a page change:
  a rerun or stop request, raised at the tick;
* **the tab closed** (the websocket dropped): Streamlit's session manager asks the
  disconnected session's script run to stop (``request_script_stop`` in
  ``WebsocketSessionManager.disconnect_session``), raised at the tick the same way. This is
  Streamlit's public behaviour; no private API is called, and no heartbeat is needed because
  the running script *is* the job. (Work that never ticked is what used to outlive a tab:
  the default model trained inside ``st.cache_resource``, Compare scorers' fine-tuning.)

Either way ``JobRunner.run`` records the job as stopped at its last epoch; the next run of
the page says so (``show_stopped_jobs``, called by app.py) instead of leaving a frozen bar.
"""
from __future__ import annotations

import uuid
from typing import Callable, TypeVar

import streamlit as st

from pruning.app.jobs import (  # noqa: F401  (stop_all: the shutdown hook, ui/persist.py)
    Estimate,
    Job,
    JobHandle,
    JobStopped,
    format_seconds,
    runner,
    stop_all,
)
from pruning.errors import PruningError

T = TypeVar("T")

SESSION_KEY = "jobs.session"
LAST_KEY = "jobs.last"   # {page's job key: (Job, notice wanted)} of this session


class JobNotFinished(PruningError):
    """The job was refused or stopped; the message is its one-sentence summary."""


def session_id() -> str:
    """A random id for this browser session (jobs are counted and stopped per session)."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = uuid.uuid4().hex
    return st.session_state[SESSION_KEY]


def _progress_text(job: Job) -> str:
    r = runner()
    if job.state == "queued":
        running, _ = r.counts()
        return (f"Waiting for a free place: number {r.place(job)} in the queue "
                f"({running} job(s) running on this server, at most {r.limits.max_jobs} at "
                "once). Stop cancels.")
    est = job.estimate.seconds
    about = f" of about {format_seconds(est)}" if est >= 1 else ""
    return f"{job.name}: {job.where()} · {format_seconds(job.elapsed())}{about}"


def run_job(key: str, name: str, estimate: Estimate, compute: Callable[[JobHandle], T], *,
            notice: bool = True) -> T:
    """Run ``compute(handle)`` as this session's job ``key`` (one per button) and return its
    value. ``handle.progress(fraction, text)`` moves the bar.

    Raises ``JobNotFinished`` (a ``PruningError``: pages already show those as a message and
    keep what they had) when the job is refused or stopped by the server; ``PruningError``
    from the computation passes through. An interrupted run (Stop, page left, tab closed)
    propagates Streamlit's own exception; with ``notice`` the next run of any page says where
    it stopped (``show_stopped_jobs``).
    """
    r = runner()
    job = r.submit(session_id(), name, estimate)
    last = st.session_state.setdefault(LAST_KEY, {})
    last[key] = (job, notice)
    if job.state == "refused":
        last.pop(key, None)
        raise JobNotFinished(job.summary())
    try:
        box = st.empty()
        with box.container(border=True):
            if estimate.seconds >= 1 or estimate.bytes >= 2**20:
                st.caption(f"Estimated cost on this server: {estimate.describe()}"
                           + (f" ({estimate.what})" if estimate.what else "") + ".")
            c1, c2 = st.columns([1, 5], vertical_alignment="center")
            c1.button("■ Stop", key=f"jobs_stop_{key}",
                      help="Ends this job within about a second; nothing is changed.")
            bar = c2.progress(0.0, text="Starting…")
    except BaseException:   # interrupted before it ran: it must not hold its place
        r.cancel(job)
        raise

    def tick(j: Job) -> None:
        fraction = j.fraction
        if not fraction and j.epochs:   # no progress reported: the epochs say how far
            fraction = min(j.epoch / j.epochs, 1.0)
        bar.progress(fraction, text=_progress_text(j))

    try:
        value = r.run(job, compute, tick)
    except JobStopped:
        box.empty()
        last.pop(key, None)
        raise JobNotFinished(job.summary()) from None
    except PruningError:
        box.empty()
        last.pop(key, None)
        raise
    # (a BaseException, Streamlit's rerun/stop, passes untouched: no element calls now)
    box.empty()
    last.pop(key, None)
    return value


def show_stopped_jobs() -> None:
    """Say once which of this session's jobs were stopped by Stop, a page change or a closed
    tab, and where they got to (called by app.py before the page)."""
    last = st.session_state.get(LAST_KEY)
    if not last:
        return
    for key, (job, notice) in list(last.items()):
        if job.finished:
            del last[key]
            if notice and job.state == "stopped":
                st.warning(f"⏹ {job.summary()} Nothing was changed: what you had before is "
                           "kept.")


def progress_callback(handle: JobHandle) -> Callable[[float, str], None]:
    """The labs' ``progress(fraction, message)`` callback, as the handle's ``progress``."""
    return lambda fraction, message: handle.progress(fraction, message)
