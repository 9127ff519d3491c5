"""One job runner for all training work: cost estimate, limits, a queue with places, Stop.

Every button that trains (the default model, Train, Fine-tune, Iterate, the Generalization
sweeps, Compare scorers, Lottery, Structured, sensitivity) goes through one ``JobRunner`` per
server process::

    job = runner().submit(session, "Train", estimate)   # refused at once if over the limits
    result = runner().run(job, lambda handle: train(...), tick=draw)   # waits its turn, runs

What it guarantees:

* **Cost before work.** ``estimate_training`` prices a job from the model's size, the data and
  the epochs (time and memory); ``submit`` refuses a job above the owner's ``Limits`` with a
  message that says what to shrink, before anything is allocated.
* **At most K heavy jobs at once.** Jobs start in submission order when one of ``K`` slots is
  free; the others wait and know their place (``runner.place(job)``). A job runs in the
  *caller's* thread (for the app: the session's script thread), so a waiting or running job
  needs no thread of its own and dies with its caller.
* **Stop within a batch.** Training loops call ``pruning.core.stop.stop_point()`` after every
  mini-batch; while a job runs, that calls ``JobHandle.check``, which raises ``JobStopped``
  once ``job.request_stop()`` was called (Stop, ``stop_all`` at shutdown, the time limit), and
  calls ``tick(job)`` at most every ``TICK_SECONDS``: the app's tick redraws the progress bar,
  which is also where Streamlit interrupts a script run whose session pressed a button, left
  the page or disconnected (see ``ui/jobs.py``).
* **A clear end state.** ``done``, ``stopped`` (with the last epoch reached), ``failed`` or
  ``refused``; ``Job.summary()`` says it in one sentence.

Limits are the server owner's: environment variables read by ``Limits.from_env`` (README,
"Security and limits")::

    PRUNING_MAX_JOBS          heavy jobs running at once (default: one less than the number of
                              CPU cores, at least 1: a core is left for the students who
                              move sliders while others train)
    PRUNING_JOB_MAX_SECONDS   refuse a job estimated above this (default 600); a running job
                              is stopped at twice this
    PRUNING_JOB_MAX_MB        refuse a job estimated to need more memory (default: the job's
                              share of the memory budget, ``job_memory_share``)
    PRUNING_MAX_QUEUE         jobs waiting at once, over the whole server (default 64)

The time estimate is *measured*: ``calibrate()`` times a few training steps of two small MLPs
the first time an estimate is needed (about 0.2 s, once per process) and fits
``seconds = a · multiply-adds + b · optimizer steps``; finished jobs then correct it for the
server's load as it is now (``Slowdown``: actual ÷ estimated time of the latest jobs). Memory is counted from the tensors a run
holds (parameters, gradients, optimizer moments, masks, kept copies, activations).
"""
from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Mapping, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from pruning.app.memory import memory_budget_bytes
from pruning.config import ModelConfig
from pruning.core.models import SmallCNN
from pruning.core.stop import stop_hook
from pruning.errors import PruningError

T = TypeVar("T")

#: A running job calls its tick at most this often (seconds): the progress bar's refresh, and
#: so how quickly Streamlit can interrupt it.
TICK_SECONDS = 0.2
#: Evaluation in ``pruning.core.training.evaluate`` runs in chunks of this many examples.
EVAL_BATCH = 4096

#: The app's server log ("pruning_playground", set up by ``ui``) gets one line per finished job.
log = logging.getLogger("pruning_playground.jobs")

STATES = ("queued", "running", "done", "stopped", "failed", "refused")


# ----------------------------------------------------------------------------- limits
def _env_number(environ: Mapping[str, str], name: str, default: float, lo: float,
                hi: float) -> float:
    """A number from the environment, or the default when unset; a bad value is an error
    at start-up (the owner should know), not a silent default."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = float(raw)
    except ValueError:
        raise PruningError(f"{name} must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise PruningError(f"{name} must be from {lo:g} to {hi:g}, got {v:g}")
    return v


#: Share of the memory budget that running jobs may hold together (``job_memory_share``).
JOBS_SHARE = 0.5


def job_memory_share(budget: int, max_jobs: int) -> int:
    """The default per-job memory limit: ``JOBS_SHARE · budget / max_jobs``.

    The budget (``pruning.app.memory``) must hold, at the same time, the ``max_jobs`` jobs
    that may run at once, the shared caches (at most ``DEFAULT_MODEL_ENTRIES`` = 4 default
    models of at most 1/32 of the budget each, so 1/8) and every connected session's own
    models (a class of 30-40 students, each holding a trained and a pruned model). Giving
    the running jobs half leaves 3/8 for the sessions: with all ``max_jobs`` slots at their
    limit the server is still within its budget. (A fixed limit would be too small on a big
    server and too large in a small container.)
    """
    return max(int(JOBS_SHARE * budget / max(int(max_jobs), 1)), 2**20)


@dataclass(frozen=True)
class Limits:
    """What the server's owner allows (module docstring for the environment variables).
    ``max_bytes=None`` means the job's share of the memory budget (``job_memory_share``)."""

    max_jobs: int = max(1, (os.cpu_count() or 1) - 1)
    max_seconds: float = 600.0
    max_bytes: int | None = None
    max_queue: int = 64

    def __post_init__(self):
        if self.max_bytes is None:
            object.__setattr__(self, "max_bytes",
                               job_memory_share(memory_budget_bytes(), self.max_jobs))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Limits":
        env = os.environ if environ is None else environ
        d = cls(max_bytes=0)
        max_jobs = int(_env_number(env, "PRUNING_MAX_JOBS", d.max_jobs, 1, 256))
        share = job_memory_share(memory_budget_bytes(env), max_jobs)
        return cls(
            max_jobs=max_jobs,
            max_seconds=_env_number(env, "PRUNING_JOB_MAX_SECONDS", d.max_seconds, 1, 7 * 86400),
            max_bytes=int(_env_number(env, "PRUNING_JOB_MAX_MB", share / 2**20, 1,
                                      2**20) * 2**20),
            max_queue=int(_env_number(env, "PRUNING_MAX_QUEUE", d.max_queue, 0, 10_000)),
        )


# ----------------------------------------------------------------------------- estimates
@dataclass(frozen=True)
class Estimate:
    """What a job is expected to cost on this server: wall-clock seconds with the machine as
    fast as at calibration, and the memory it holds at its peak (bytes). ``what`` names the
    work in words ("30 epochs of MLP 300-100 on 1,078 examples") for the messages."""

    seconds: float
    bytes: int
    what: str = ""

    def describe(self) -> str:
        return f"about {format_seconds(self.seconds)} and {format_bytes(self.bytes)}"

    def __add__(self, other: "Estimate") -> "Estimate":
        return Estimate(self.seconds + other.seconds, max(self.bytes, other.bytes),
                        "; ".join(w for w in (self.what, other.what) if w))


UNKNOWN = Estimate(0.0, 0, "")


def format_seconds(s: float) -> str:
    if s < 1:
        return "under a second"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def format_bytes(n: int) -> str:
    if n < 2**20:
        return f"{max(n, 0) / 2**10:.0f} KB"
    if n < 2**30:
        return f"{n / 2**20:.0f} MB"
    return f"{n / 2**30:.1f} GB"


@dataclass(frozen=True)
class Calibration:
    """``seconds ≈ per_mac · multiply-adds + per_step · optimizer steps`` on this machine."""

    per_mac: float
    per_step: float


_calibration: Calibration | None = None
_calibration_lock = threading.Lock()


def _time_steps(in_f: int, hidden: int, batch: int, steps: int) -> tuple[float, float]:
    """(seconds, multiply-adds) of ``steps`` Adam steps of MLP in_f-hidden-hidden-10."""
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(in_f, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                          nn.ReLU(), nn.Linear(hidden, 10))
    X = torch.randn(batch, in_f, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    macs = 3 * batch * (in_f * hidden + hidden * hidden + hidden * 10)  # forward + backward

    def step():
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()

    step()  # warm-up (first-call costs are not the job's)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps, macs


def calibrate(force: bool = False) -> Calibration:
    """Measure this machine once per process (about 0.2 s): a tiny MLP, whose steps cost
    mostly per-step overhead, and a 784-512-512-10 one, whose steps cost mostly arithmetic;
    the two timings fix the two unknowns. Measured on the machine as loaded at that moment;
    the load changes later, and finished jobs correct for it (``Slowdown``)."""
    global _calibration
    with _calibration_lock:
        if _calibration is None or force:
            t_small, m_small = _time_steps(16, 16, 16, 40)
            t_big, m_big = _time_steps(784, 512, 128, 6)
            per_mac = max((t_big - t_small) / max(m_big - m_small, 1), 1e-13)
            per_step = max(t_small - per_mac * m_small, 1e-6)
            _calibration = Calibration(per_mac, per_step)
        return _calibration


class Slowdown:
    """How much longer finished jobs took than estimated: the calibration is measured once,
    at first use, and the server's load changes after that (on the busy 2-core machine
    estimates leaned short). Every job that ran to the end and was estimated at
    ``MIN_SECONDS`` or more updates ``factor`` = an exponentially weighted mean (weight
    ``WEIGHT`` for the newest) of actual ÷ estimated running time, clipped to
    [``LOW``, ``HIGH``]; estimates made from the measured calibration are multiplied by it.
    So the shown estimate follows the server as it is now (a busy class: longer estimates,
    and the time limit refuses sooner), from the jobs' own measured times."""

    MIN_SECONDS = 1.0
    WEIGHT = 0.3
    LOW, HIGH = 0.5, 8.0

    def __init__(self):
        self._lock = threading.Lock()
        self.factor = 1.0
        self.samples = 0

    def observe(self, estimated: float, actual: float) -> None:
        if not (estimated >= self.MIN_SECONDS and math.isfinite(actual) and actual > 0):
            return
        ratio = min(max(actual / (estimated / self.factor), self.LOW), self.HIGH)
        with self._lock:
            w = 1.0 if self.samples == 0 else self.WEIGHT
            self.factor = (1 - w) * self.factor + w * ratio
            self.samples += 1


#: The process's correction of its calibration, from finished jobs (``Slowdown``).
slowdown = Slowdown()


@dataclass(frozen=True)
class ModelShape:
    """A model's size, counted from its config alone (no tensors allocated)."""

    params: int
    macs: int           # multiply-adds per example (forward)
    activations: int    # floats of every layer's output per example

    def describe(self, cfg: ModelConfig) -> str:
        arch = (f"MLP {'-'.join(map(str, cfg.hidden))}" if cfg.kind == "mlp"
                else f"CNN {'-'.join(map(str, cfg.channels))}")
        return f"{arch} ({self.params:,} parameters)"


def model_shape(cfg: ModelConfig, n_features: int, n_classes: int,
                image_shape: tuple[int, int, int] | None = None) -> ModelShape:
    """Parameters, multiply-adds and activations per example of ``build_model(cfg, …)``,
    by arithmetic on the shapes (``pruning.core.models``): Linear a→b has a·b + b parameters
    and a·b multiply-adds; a 3×3 convolution c→o on an H×W image 9·c·o·H·W multiply-adds,
    followed by 2×2 max-pooling when the image is at least 16 pixels high; the head reads
    ``SmallCNN.HEAD_GRID``² pooled regions per channel of the last conv."""
    if cfg.kind == "mlp":
        sizes = [int(n_features), *map(int, cfg.hidden), int(n_classes)]
        params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return ModelShape(params, macs, sum(sizes[1:]))
    if image_shape is None:
        raise PruningError("the CNN needs image data; use the MLP for this data set")
    c, h, w = map(int, image_shape)
    pool = h >= 16
    params = macs = acts = 0
    for out in map(int, cfg.channels):
        params += 9 * c * out + out
        macs += 9 * c * out * h * w
        acts += out * h * w
        if pool:
            h, w = h // 2, w // 2
        c = out
    head_in = c * SmallCNN.HEAD_GRID ** 2       # the head reads a G×G grid of regions per channel
    params += head_in * n_classes + n_classes
    macs += head_in * n_classes
    return ModelShape(params, macs, acts + n_classes)


def estimate_training(shape: ModelShape, n_train: int, n_eval: int, epochs: float,
                      batch_size: int = 64, *, runs: float = 1, copies: int = 2,
                      extra_eval: float = 0, what: str = "",
                      calibration: Calibration | None = None) -> Estimate:
    """Cost of ``runs`` trainings of ``epochs`` epochs each, as ``pruning.core.training.train``
    does them: per epoch, ⌈n_train / batch⌉ optimizer steps of ≈ 3 · batch · M multiply-adds
    (forward, backward for inputs and weights) and an evaluation of all ``n_eval`` examples
    (M each); plus ``extra_eval`` more forward passes (scoring, sensitivity scans).

    Memory: parameters, gradients and two Adam moments (4 floats each), a bool mask, and
    ``copies`` more float copies (kept states, snapshots); activations of a training batch
    (output and gradient of every layer, 3 floats) and of an evaluation chunk.
    """
    cal = calibration or calibrate()
    load = 1.0 if calibration is not None else slowdown.factor   # (tests pass their own)
    n_train = max(int(n_train), 0)
    batch = max(1, min(int(batch_size), max(n_train, 1)))
    steps = runs * epochs * math.ceil(n_train / batch)
    macs = runs * (epochs * (3 * n_train + n_eval) + n_eval) * shape.macs + extra_eval * shape.macs
    seconds = (cal.per_mac * macs + cal.per_step * steps) * load
    memory = (shape.params * (4 * (4 + copies) + 1)
              + 4 * 3 * batch * shape.activations
              + 4 * 2 * min(max(n_eval, 1), EVAL_BATCH) * shape.activations)
    return Estimate(seconds, int(memory), what)


def refusal(estimate: Estimate, limits: Limits) -> str | None:
    """Why ``estimate`` is over the limits (saying what to shrink), or None if it fits."""
    over = []
    if estimate.seconds > limits.max_seconds:
        over.append(f"it would take {format_seconds(estimate.seconds)} "
                    f"(this server allows {format_seconds(limits.max_seconds)} per job)")
    if estimate.bytes > limits.max_bytes:
        over.append(f"it would need {format_bytes(estimate.bytes)} of memory "
                    f"(this server allows {format_bytes(limits.max_bytes)} per job)")
    if not over:
        return None
    what = f" ({estimate.what})" if estimate.what else ""
    return ("This job was not started: " + " and ".join(over) + what + ". Use fewer epochs, "
            "fewer or smaller hidden layers, fewer seeds or rounds, or a smaller data set.")


# ----------------------------------------------------------------------------- jobs
class JobStopped(Exception):
    """Raised inside a job when its stop was requested; ``run`` marks the job stopped."""


@dataclass(eq=False)
class Job:
    """One unit of training work and everything a page shows about it."""

    id: int
    session: str
    name: str
    estimate: Estimate
    state: str = "queued"
    message: str = ""             # why refused / failed / stopped
    fraction: float = 0.0         # progress, 0 … 1
    step: str = ""                # last progress text ("Round 2 of 5 · fine-tuning")
    epoch: int | None = None      # innermost training's last finished epoch …
    epochs: int | None = None     # … of this many
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None
    stop_reason: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, reason: str = "Stop was pressed") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    @property
    def finished(self) -> bool:
        return self.state in ("done", "stopped", "failed", "refused")

    def elapsed(self, now: float | None = None) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now or time.monotonic()) - self.started

    def where(self) -> str:
        """How far it got: "epoch 3 of 30" (of the innermost training), else the last step."""
        parts = []
        if self.step:
            parts.append(self.step)
        said = f"epoch {self.epoch} of {self.epochs}"
        if self.epoch is not None and self.epochs and said not in self.step.lower():
            parts.append(said)
        return " · ".join(parts) if parts else "the start"

    def summary(self) -> str:
        """One sentence for the page."""
        if self.state == "refused":
            return self.message
        if self.state == "stopped":
            why = f" ({self.stop_reason})" if self.stop_reason else ""
            if self.started is None:
                return f"{self.name} was cancelled while waiting for its turn{why}."
            return (f"{self.name} stopped at {self.where()} after "
                    f"{format_seconds(self.elapsed())}{why}.")
        if self.state == "failed":
            return f"{self.name} failed: {self.message}"
        if self.state == "done":
            return f"{self.name} finished in {format_seconds(self.elapsed())}."
        if self.state == "running":
            return f"{self.name}: {self.where()}"
        return f"{self.name} is waiting for its turn."


class JobHandle:
    """What a job's function gets: report progress, and the stop check (also installed as
    the ``pruning.core.stop`` hook, so nested training loops call it every mini-batch)."""

    def __init__(self, runner: "JobRunner", job: Job, tick: Callable[[Job], None] | None):
        self.runner, self.job, self._tick = runner, job, tick
        self._last_tick = 0.0

    def progress(self, fraction: float | None = None, text: str | None = None) -> None:
        """Record progress (``fraction`` in 0 … 1, ``text`` says where), then ``check``."""
        if fraction is not None and math.isfinite(fraction):
            self.job.fraction = min(max(float(fraction), 0.0), 1.0)
        if text is not None:
            self.job.step = str(text)[:200]
            self.job.epoch = None  # the text now says where; a new training reports again
        self.check(force_tick=True)

    def epoch(self, epoch: int, epochs: int) -> None:
        """The innermost training finished ``epoch`` of ``epochs`` (``pruning.core.stop``)."""
        self.job.epoch, self.job.epochs = int(epoch), int(epochs)

    def check(self, force_tick: bool = False) -> None:
        """Raise ``JobStopped`` if a stop was requested (or the job ran past twice the time
        limit); otherwise call the tick if it is due."""
        job = self.job
        now = time.monotonic()
        if job.started is not None and now - job.started > 2 * self.runner.limits.max_seconds:
            job.request_stop("it ran past twice this server's time limit per job")
        if job.stop_requested:
            raise JobStopped(job.stop_reason or "stopped")
        if self._tick is not None and (force_tick or now - self._last_tick >= TICK_SECONDS):
            self._last_tick = now
            self._tick(job)


class JobRunner:
    """The server's queue of training jobs (module docstring). Thread-safe."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()     # waiting, in submission order
        self._running: list[Job] = []
        self._ids = itertools.count(1)

    # -- submitting
    def submit(self, session: str, name: str, estimate: Estimate = UNKNOWN) -> Job:
        """A new job: ``refused`` (with the reason) when over the limits or the queue is
        full, else ``queued``. Nothing is computed here."""
        job = Job(next(self._ids), str(session)[:64], str(name)[:80], estimate)
        why = refusal(estimate, self.limits)
        with self._cond:
            if why is None and len(self._queue) >= self.limits.max_queue:
                why = (f"This job was not started: {len(self._queue)} jobs are already waiting "
                       "on this server. Try again in a minute.")
            if why is not None:
                job.state, job.message, job.ended = "refused", why, time.monotonic()
                return job
            self._queue.append(job)
        return job

    def place(self, job: Job) -> int:
        """0 while running (or finished), else 1, 2, … = place in the queue."""
        with self._cond:
            try:
                return self._queue.index(job) + 1
            except ValueError:
                return 0

    def counts(self) -> tuple[int, int]:
        """(running, waiting) jobs on this server."""
        with self._cond:
            return len(self._running), len(self._queue)

    def jobs(self) -> list[Job]:
        with self._cond:
            return [*self._running, *self._queue]

    # -- running
    def _try_start(self, job: Job) -> bool:
        with self._cond:
            if self._queue and self._queue[0] is job and len(self._running) < self.limits.max_jobs:
                self._queue.popleft()
                self._running.append(job)
                job.state, job.started = "running", time.monotonic()
                return True
            return False

    def run(self, job: Job, fn: Callable[[JobHandle], T],
            tick: Callable[[Job], None] | None = None, poll: float = TICK_SECONDS) -> T:
        """Wait for ``job``'s turn (calling ``tick`` every ``poll`` s), then return
        ``fn(handle)`` computed in this thread with the stop hook installed.

        Raises ``JobStopped`` if stopped (``job.state == "stopped"``), ``PruningError`` for a
        refused job (its message) or a bad request found while running (``failed``), and
        lets anything else through after recording it. A ``BaseException`` that is not an
        ``Exception`` (the app's script being interrupted) marks the job stopped.
        """
        if job.state == "refused":
            raise PruningError(job.message)
        if job.state != "queued":
            raise PruningError(f"job {job.id} was already run")
        handle = JobHandle(self, job, tick)
        try:
            while job.stop_requested or not self._try_start(job):
                if job.stop_requested:
                    raise JobStopped(job.stop_reason or "stopped")
                if tick is not None:
                    tick(job)
                with self._cond:
                    self._cond.wait(poll)
            if tick is not None:
                tick(job)
            with stop_hook(handle.check, handle.epoch):
                result = fn(handle)
            self._finish(job, "done")
            return result
        except JobStopped:
            self._finish(job, "stopped")
            raise
        except PruningError as exc:
            self._finish(job, "failed", str(exc)[:300])
            raise
        except Exception as exc:
            self._finish(job, "failed", type(exc).__name__)
            raise
        except BaseException:  # the caller's thread is being interrupted (e.g. a page rerun)
            if job.stop_reason is None:
                job.stop_reason = "Stop was pressed, or the page was left or closed"
            self._finish(job, "stopped")
            raise

    def _finish(self, job: Job, state: str, message: str = "") -> None:
        with self._cond:
            if job in self._running:
                self._running.remove(job)
            try:
                self._queue.remove(job)
            except ValueError:
                pass
            job.state, job.ended = state, time.monotonic()
            if message:
                job.message = message
            self._cond.notify_all()
        if state == "done" and job.started is not None:
            slowdown.observe(job.estimate.seconds, job.ended - job.started)
        log.info("job %d %s", job.id, job.summary())

    # -- stopping
    def stop(self, job: Job, reason: str = "Stop was pressed") -> None:
        with self._cond:
            job.request_stop(reason)
            self._cond.notify_all()

    def cancel(self, job: Job, reason: str = "the page was left before it started") -> None:
        """Take a job that was submitted but will never be ``run`` out of the queue."""
        job.request_stop(reason)
        if job.state == "queued":
            self._finish(job, "stopped")

    def stop_session(self, session: str, reason: str = "the page was closed") -> int:
        """Stop every job of ``session``; returns how many were asked."""
        with self._cond:
            hits = [j for j in (*self._running, *self._queue) if j.session == session]
            for j in hits:
                j.request_stop(reason)
            self._cond.notify_all()
        return len(hits)

    def stop_all(self, reason: str = "the server is shutting down",
                 timeout: float = 5.0) -> int:
        """Ask every job to stop, wait up to ``timeout`` s for the running ones to end (each
        stops at its next mini-batch), and return how many were still running at the end."""
        with self._cond:
            for j in (*self._running, *self._queue):
                j.request_stop(reason)
            self._cond.notify_all()
            deadline = time.monotonic() + timeout
            while self._running and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return len(self._running)


_runner: JobRunner | None = None
_runner_lock = threading.Lock()


def runner() -> JobRunner:
    """The process's one runner, with ``Limits.from_env()`` read at first use."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = JobRunner(Limits.from_env())
        return _runner


def stop_all(reason: str = "the server is shutting down", timeout: float = 5.0) -> int:
    """Shut-down hook: stop every job of this process (see ``JobRunner.stop_all``)."""
    with _runner_lock:
        r = _runner
    return 0 if r is None else r.stop_all(reason, timeout)
