"""The job runner: limits and refusals, the queue and its places, Stop inside real training,
``stop_all``, and cost estimates counted from configs (no tensors allocated)."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from pruning import DataConfig, ModelConfig, TrainConfig, build_model, load_dataset
from pruning.app.job_costs import training_estimate
from pruning.app.jobs import (
    Calibration,
    Estimate,
    JobRunner,
    JobStopped,
    Limits,
    estimate_training,
    job_memory_share,
    model_shape,
    refusal,
)
from pruning.app.memory import memory_budget_bytes
from pruning.core.counts import count_parameters, multiply_adds
from pruning.core.training import train
from pruning.errors import PruningError

CAL = Calibration(per_mac=1e-10, per_step=1e-4)


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits"))


def test_limits_from_env_reads_and_checks():
    lim = Limits.from_env({"PRUNING_MAX_JOBS": "3", "PRUNING_JOB_MAX_SECONDS": "20",
                           "PRUNING_JOB_MAX_MB": "100", "PRUNING_MAX_QUEUE": "5"})
    assert (lim.max_jobs, lim.max_seconds, lim.max_bytes, lim.max_queue) == (3, 20, 100 * 2**20, 5)
    assert Limits.from_env({}) == Limits()
    with pytest.raises(PruningError, match="PRUNING_MAX_JOBS"):
        Limits.from_env({"PRUNING_MAX_JOBS": "lots"})
    with pytest.raises(PruningError, match="PRUNING_JOB_MAX_SECONDS"):
        Limits.from_env({"PRUNING_JOB_MAX_SECONDS": "inf"})


@pytest.mark.parametrize("kind,hidden,channels,image", [
    ("mlp", (300, 100), (8, 16), None), ("mlp", (7,), (8,), None),
    ("cnn", (1,), (8, 16), (1, 8, 8)), ("cnn", (1,), (4, 6, 5), (1, 28, 28))])
def test_model_shape_matches_a_built_model(kind, hidden, channels, image):
    cfg = ModelConfig(kind=kind, hidden=hidden, channels=channels)
    n_features = 64 if image is None else image[1] * image[2]
    shape = model_shape(cfg, n_features, 10, image)
    model = build_model(cfg, n_features, 10, image_shape=image)
    assert shape.params == count_parameters(model)
    assert shape.macs == multiply_adds(model, n_features)["dense"]


def test_job_memory_limit_is_a_share_of_the_budget():
    """Half the budget, split over the jobs that may run at once; the host can still set it."""
    lim = Limits.from_env({"PRUNING_MEMORY_BUDGET_MB": "8192", "PRUNING_MAX_JOBS": "2"})
    assert lim.max_bytes == 2048 * 2**20 == job_memory_share(8192 * 2**20, 2)
    lim = Limits.from_env({"PRUNING_MEMORY_BUDGET_MB": "8192", "PRUNING_MAX_JOBS": "4"})
    assert lim.max_bytes == 1024 * 2**20
    lim = Limits.from_env({"PRUNING_MEMORY_BUDGET_MB": "8192", "PRUNING_JOB_MAX_MB": "300"})
    assert lim.max_bytes == 300 * 2**20
    # all jobs at their limit at once still leave half the budget to sessions and caches
    # by default (no variables): every job slot at its limit holds half the machine's budget
    d = Limits()
    assert d.max_jobs * d.max_bytes <= 0.5 * memory_budget_bytes() < d.max_jobs * d.max_bytes + d.max_jobs


def test_sixteen_wide_layers_are_priced_without_allocating():
    shape = model_shape(ModelConfig(hidden=(4096,) * 6), 784, 10)   # nothing allocated
    est = estimate_training(shape, 60_000, 70_000, 500, 64, calibration=CAL)
    # a 4 GB budget served by 2 jobs at once: 1 GB each
    limits = Limits.from_env({"PRUNING_MEMORY_BUDGET_MB": "4096", "PRUNING_MAX_JOBS": "2"})
    why = refusal(est, limits)
    assert why is not None and "fewer epochs" in why and "memory" in why and "1.0 GB" in why


def test_estimate_grows_with_epochs_runs_and_width(digits):
    base = training_estimate(ModelConfig(), digits, TrainConfig(epochs=5))
    assert training_estimate(ModelConfig(), digits, TrainConfig(epochs=10)).seconds > base.seconds
    assert training_estimate(ModelConfig(), digits, TrainConfig(epochs=5), runs=3).seconds > base.seconds
    wide = training_estimate(ModelConfig(hidden=(2048, 2048)), digits, TrainConfig(epochs=5))
    assert wide.seconds > base.seconds and wide.bytes > base.bytes
    assert base.seconds > 0 and base.bytes > 0


def test_refused_job_is_never_queued():
    r = JobRunner(Limits(max_jobs=1, max_seconds=10, max_bytes=2**20))
    job = r.submit("s", "Train", Estimate(11, 10))
    assert job.state == "refused" and "11 s" in job.summary() and r.counts() == (0, 0)
    job = r.submit("s", "Train", Estimate(1, 2 * 2**20))
    assert job.state == "refused" and "2 MB" in job.message
    with pytest.raises(PruningError):
        r.run(job, lambda h: 1)


def test_queue_gives_places_and_runs_in_order():
    r = JobRunner(Limits(max_jobs=1))
    release = threading.Event()
    first = r.submit("a", "first")
    second = r.submit("b", "second")
    third = r.submit("c", "third")
    assert [r.place(j) for j in (first, second, third)] == [1, 2, 3]
    order, places = [], []

    def blocking(h):
        order.append("first")
        release.wait(5)

    t1 = threading.Thread(target=r.run, args=(first, blocking))
    t1.start()
    while first.state != "running":
        time.sleep(0.01)
    t2 = threading.Thread(target=r.run, args=(second, lambda h: order.append("second")),
                          kwargs={"tick": lambda j: places.append(r.place(j)), "poll": 0.01})
    t2.start()
    time.sleep(0.1)
    assert second.state == "queued" and r.place(second) == 1 and r.place(third) == 2
    assert places and set(places) == {1}
    r.stop(third, "test")                   # a waiting job can be cancelled too
    release.set()
    t1.join(5), t2.join(5)
    assert order == ["first", "second"] and first.state == second.state == "done"
    with pytest.raises(JobStopped):
        r.run(third, lambda h: 1)
    assert third.state == "stopped" and "waiting" in third.summary()


def test_stop_ends_real_training_within_a_batch(digits):
    """Stop requested from another thread during ``train``: the hook raises at the next
    mini-batch, and the job says at which epoch it stopped."""
    r = JobRunner(Limits(max_jobs=1))
    job = r.submit("s", "Training")
    model = build_model(ModelConfig(), digits.n_features, digits.n_classes, seed=0)
    batches = []

    def tick(j):
        batches.append(j.epoch)
        if j.epoch is not None and j.epoch >= 2 and not j.stop_requested:
            r.stop(j, "Stop was pressed")

    with pytest.raises(JobStopped):
        r.run(job, lambda h: train(model, digits, TrainConfig(epochs=50, batch_size=8)),
              tick=tick)
    assert job.state == "stopped" and job.epoch is not None and 2 <= job.epoch < 50
    assert f"epoch {job.epoch} of 50" in job.summary() and "Stop was pressed" in job.summary()
    assert r.counts() == (0, 0)


def test_an_interrupted_caller_marks_the_job_stopped():
    class Interrupt(BaseException):   # what Streamlit raises in a script run it ends
        pass

    r = JobRunner()
    job = r.submit("s", "Fine-tune")

    def fn(h):
        h.epoch(3, 10)
        raise Interrupt

    with pytest.raises(Interrupt):
        r.run(job, fn)
    assert job.state == "stopped" and "epoch 3 of 10" in job.summary()


def test_failure_is_recorded_and_passed_on():
    r = JobRunner()
    job = r.submit("s", "Train")
    with pytest.raises(PruningError, match="bad"):
        r.run(job, lambda h: (_ for _ in ()).throw(PruningError("bad")))
    assert job.state == "failed" and "bad" in job.summary()


def test_stop_all_ends_running_jobs(digits):
    r = JobRunner(Limits(max_jobs=2))
    jobs = [r.submit(f"s{i}", "Train") for i in range(2)]
    models = [build_model(ModelConfig(), digits.n_features, digits.n_classes, seed=i)
              for i in range(2)]
    threads = [threading.Thread(target=lambda j=j, m=m: _swallow(
        lambda: r.run(j, lambda h: train(m, digits, TrainConfig(epochs=1000)))))
        for j, m in zip(jobs, models)]
    for t in threads:
        t.start()
    while r.counts()[0] < 2:
        time.sleep(0.01)
    assert r.stop_all("shutting down", timeout=10) == 0
    for t in threads:
        t.join(5)
    assert all(j.state == "stopped" and j.stop_reason == "shutting down" for j in jobs)


def test_full_queue_refuses():
    r = JobRunner(Limits(max_jobs=1, max_queue=1))
    assert r.submit("a", "x").state == "queued"
    assert r.submit("b", "y").state == "refused"


def test_time_limit_stops_a_runaway_job():
    r = JobRunner(Limits(max_seconds=0.05))
    job = r.submit("s", "loop", Estimate(0.01, 1))

    def spin(h):
        while True:
            h.check()
            time.sleep(0.01)

    with pytest.raises(JobStopped):
        r.run(job, spin)
    assert "time limit" in job.summary()


def _swallow(fn):
    try:
        fn()
    except JobStopped:
        pass


def test_calibration_is_measured_and_positive():
    from pruning.app.jobs import calibrate
    cal = calibrate()
    assert cal.per_mac > 0 and cal.per_step > 0
    assert torch.get_num_threads() >= 1


def test_finished_jobs_correct_the_estimates_for_the_servers_load(monkeypatch):
    from pruning.app import jobs

    sd = jobs.Slowdown()
    sd.observe(2.0, 6.0)                       # the first job took 3x its estimate
    assert sd.factor == pytest.approx(3.0)
    sd.observe(0.2, 100.0)                     # too short to tell: ignored
    sd.observe(3.0 * 2.0, 2.0)                 # estimated with the factor, ran as calibrated
    assert sd.factor == pytest.approx(0.7 * 3.0 + 0.3 * 1.0)
    sd.observe(2.0, 1e6)                       # an outlier is clipped
    assert sd.factor <= jobs.Slowdown.HIGH

    monkeypatch.setattr(jobs, "slowdown", sd)
    monkeypatch.setattr(jobs, "_calibration", CAL)
    shape = model_shape(ModelConfig(), 64, 10)
    measured = estimate_training(shape, 1000, 500, 5)            # the server's own calibration
    fixed = estimate_training(shape, 1000, 500, 5, calibration=CAL)
    assert measured.seconds == pytest.approx(fixed.seconds * sd.factor)

    r = JobRunner(Limits(max_jobs=1))
    job = r.submit("s", "Train", Estimate(2.0, 10))
    r.run(job, lambda h: time.sleep(0.05))
    assert sd.samples == 4 and sd.factor < jobs.Slowdown.HIGH   # done jobs are observed
