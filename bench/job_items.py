"""The job runner as a student feels it: how long Stop takes to end a training job, and how
close the cost estimate shown before a job is to the time it really took.

``stop``: a training job of MLP 2048-2048-2048 on digits (about 8.5 M parameters, a batch is
tens of milliseconds) runs in a thread through ``pruning.app.jobs.JobRunner``; after two
epochs Stop is requested from another thread and the time until the runner reports the job
stopped is measured (the training loop checks after every mini-batch). Target ≤ 1 s.
Also printed: estimated ÷ measured seconds for the first two epochs of that job and for
the default model's 30 epochs (the estimate comes from ``calibrate()``, measured once).
"""
from __future__ import annotations

import threading
import time

from pruning.app.job_costs import training_estimate
from pruning.app.jobs import JobRunner, JobStopped, Limits, calibrate
from pruning.config import ModelConfig, TrainConfig
from pruning.core.models import build_model
from pruning.core.training import train

from .fixtures import default_data
from .harness import Result, Stats, Target


def _stop_once(data, seed: int) -> tuple[float, float, float]:
    """(seconds from Stop to 'stopped', estimated s for 2 epochs, measured s for 2 epochs)."""
    cfg = ModelConfig(hidden=(2048, 2048, 2048))
    tc = TrainConfig(epochs=50, seed=seed)
    runner = JobRunner(Limits(max_jobs=1, max_seconds=10**6, max_bytes=2**40))
    job = runner.submit("bench", "Training", training_estimate(cfg, data, tc))
    model = build_model(cfg, data.n_features, data.n_classes, seed=seed)
    reached = threading.Event()
    marks: dict[str, float] = {}

    def tick(j):
        if j.epoch is not None and j.epoch >= 2 and not reached.is_set():
            marks["two_epochs"] = time.perf_counter()
            reached.set()

    def run():
        marks["start"] = time.perf_counter()
        try:
            runner.run(job, lambda h: train(model, data, tc), tick=tick)
        except JobStopped:
            marks["stopped"] = time.perf_counter()

    t = threading.Thread(target=run)
    t.start()
    reached.wait(600)
    asked = time.perf_counter()
    runner.stop(job, "bench")
    t.join(60)
    two_epochs_est = job.estimate.seconds * 2 / tc.epochs
    return marks["stopped"] - asked, two_epochs_est, marks["two_epochs"] - marks["start"]


def stop_and_estimate(repeats: int) -> Result:
    data = default_data()
    cal = calibrate()
    stops, ratios = [], []
    for r in range(repeats):
        s, est, real = _stop_once(data, r)
        stops.append(s)
        ratios.append(est / real)
    tc = TrainConfig()
    est = training_estimate(ModelConfig(), data, tc)
    model = build_model(ModelConfig(), data.n_features, data.n_classes, seed=0)
    t0 = time.perf_counter()
    train(model, data, tc)
    real_default = time.perf_counter() - t0
    res = Result("stop", "Stop → job stopped (training MLP 2048×3 on digits, in-process)",
                 Target("<=", 1.0, " s"), Stats.of(stops), headline_unit=" s")
    res.detail("estimate ÷ measured, first two epochs of that job", Stats.of(ratios), 1, "×")
    res.detail("estimate ÷ measured, default model (MLP 300-100, 30 epochs)",
               f"{est.seconds:.1f} s ÷ {real_default:.1f} s = {est.seconds / real_default:.2f}×")
    res.notes.append(f"calibration: {cal.per_mac * 1e12:.1f} ps per multiply-add, "
                     f"{cal.per_step * 1e3:.2f} ms per optimizer step (measured once per process)")
    return res
