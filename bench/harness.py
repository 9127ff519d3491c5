"""Plumbing shared by every benchmark: timers, summaries, results, the machine description.

Why ratios: the machines are shared, so an absolute time says as much about the neighbours as
about the code. Each repeat measures the item and its baseline back to back, in the same
process, and the ratio is taken per repeat; min / median / max are over the repeats. An item is
judged on its *median*, and ``max`` shows how bad a noisy repeat got.

Times are wall clock (``time.perf_counter``), what a student waits for. The CPU time of the
measuring thread (``time.thread_time``) is recorded beside it for the single-threaded items:
when wall ≫ CPU, the machine was busy and the wall figure is inflated by waiting for a core.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stats:
    """min / median / max of a list of numbers (``values`` kept for the JSON record)."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stats":
        if not values:
            raise ValueError("no values to summarise")
        return cls(tuple(float(v) for v in values))

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def fmt(self, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
        """``min / median / max`` scaled (e.g. 1e3 for seconds → ms)."""
        u = f" {unit}" if unit else ""
        return " / ".join(f"{v * scale:.{digits}f}" for v in (self.min, self.median, self.max)) + u


@dataclass(frozen=True)
class Target:
    """``value <op> bound``, e.g. ``Target("<=", 3.0, "× the FLOP limit")``."""

    op: str
    bound: float
    unit: str

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {self.bound:g}{self.unit}"


@dataclass
class Result:
    """One benchmark's outcome.

    headline:  the judged quantity per repeat (a ratio, or an absolute value for items
               without a baseline), in ``headline_unit`` after ``headline_scale``.
    details:   further rows (label → Stats with its scale/unit, or a plain string).
    pending:   the item cannot run yet (what it needs does not exist); ``notes`` say why.
    """

    name: str
    title: str
    target: Target | None
    headline: Stats | None = None
    headline_scale: float = 1.0
    headline_unit: str = ""
    headline_digits: int = 2
    details: list[tuple[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pending: bool = False

    def detail(self, label: str, stats_or_text, scale: float = 1.0, unit: str = "",
               digits: int = 2) -> None:
        if isinstance(stats_or_text, Stats):
            self.details.append((label, stats_or_text.fmt(scale, digits, unit)))
        else:
            self.details.append((label, str(stats_or_text)))

    @property
    def verdict(self) -> str:
        if self.pending or self.headline is None:
            return "pending"
        if self.target is None:
            return "—"
        med = self.headline.median * self.headline_scale
        if self.target.met(med):
            worst = self.headline.max if self.target.op == "<=" else self.headline.min
            return "met" if self.target.met(worst * self.headline_scale) else "met (median)"
        return "MISSED"

    def headline_text(self) -> str:
        if self.headline is None:
            return "—"
        return self.headline.fmt(self.headline_scale, self.headline_digits, self.headline_unit)

    def to_json(self) -> dict:
        return {
            "name": self.name, "title": self.title,
            "target": None if self.target is None else str(self.target),
            "headline": None if self.headline is None else
            [v * self.headline_scale for v in self.headline.values],
            "headline_unit": self.headline_unit, "verdict": self.verdict,
            "details": [list(d) for d in self.details], "notes": self.notes,
        }


class Clock:
    """Wall and thread-CPU seconds of a ``with`` block."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> "Clock":
        self._w, self._c = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.thread_time() - self._c


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """``(wall s, thread-CPU s, return value)`` of one call."""
    with Clock() as c:
        out = fn()
    return c.wall, c.cpu, out


# ----------------------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "n/a"
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def machine_info() -> dict[str, str]:
    import torch

    return {
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "torch threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "commit": git_commit(),
        "load average (1/5/15 min) at start": load_average(),
    }


# ----------------------------------------------------------------------------- report
def markdown_report(info: dict[str, str], results: list[Result], command: str) -> str:
    lines = [f"Command: `{command}`", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "| item | target | measured (min / median / max) | verdict |",
              "| --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r.title} | {r.target or '—'} | {r.headline_text()} | {r.verdict} |")
    for r in results:
        lines += ["", f"### {r.title} (`{r.name}`)", ""]
        if r.details:
            lines += ["| quantity | min / median / max or value |", "| --- | --- |"]
            lines += [f"| {label} | {text} |" for label, text in r.details]
        if r.notes:
            lines += [""] + [f"- {n}" for n in r.notes]
    return "\n".join(lines) + "\n"
