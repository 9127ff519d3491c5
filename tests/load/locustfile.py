"""Simulated students for Locust: each one a Streamlit session over the websocket protocol.

    locust -f tests/load/locustfile.py --host http://127.0.0.1:8501      (Locust's own UI/CLI)
    python -m tests.load.capacity --students 40 --duration 60            (make capacity)

A student (``Student``) opens the shared link (the Prune page), presses "Use a trained default
model", then, after a random think time (``THINK_S``, 5 s on average), moves the target-sparsity
slider to a new value; now and then (``TRAIN_SHARE`` of the actions) they keep the pruned model,
open Fine-tune, fine-tune it, and come back. Every action is reported to Locust as a request
(type "WS") from sending it to the run's final message, with the bytes received:

    first page        GET of the page + websocket + first run
    default model     the button press until the page shows the model
    slider move       one move of the Prune slider (a fragment run)
    fine-tune         keep → Fine-tune page → Fine-tune pressed → back on Prune

An exception drawn by the app, a missing widget or a dropped connection is a failed request.
"""
from __future__ import annotations

import os
import random
import time

from locust import User, between, events, task
from locust.exception import StopUser

from tests.load.st_protocol import ProtocolError, StudentSession

SLIDER = "Target sparsity (% of prunable weights removed)"
#: Seconds between two actions of a student: uniform, mean 5 s.
THINK_S = (float(os.environ.get("THINK_MIN_S", 2.5)), float(os.environ.get("THINK_MAX_S", 7.5)))
#: Share of a student's actions that fine-tune instead of moving the slider.
TRAIN_SHARE = float(os.environ.get("TRAIN_SHARE", 0.05))
#: Every student's session of this process (the capacity report checks their affinity).
SESSIONS: list[StudentSession] = []


class Student(User):
    """One student's browser tab, without the browser."""

    wait_time = between(*THINK_S)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.value = 90.0
        self.session = StudentSession(self.host, timeout=float(os.environ.get("ACTION_TIMEOUT_S", 120)))
        SESSIONS.append(self.session)
        if not self._report("first page", lambda: self.session.open("prune")):
            raise StopUser()
        if not self._report("default model",
                            lambda: self.session.click("Use a trained default model")):
            raise StopUser()

    def on_stop(self) -> None:
        self.session.close()

    @task
    def act(self) -> None:
        if self.rng.random() < TRAIN_SHARE:  # read at call time: the capacity run sets it
            self._report("fine-tune", self._fine_tune)
        else:
            self._report("slider move", self._move)

    # ------------------------------------------------------------------ actions
    def _move(self):
        value = self.value
        while value == self.value:  # a new position, in the slider's 0.5 % steps
            value = self.rng.randrange(100, 199) / 2
        self.value = value
        return self.session.set_slider(SLIDER, value)

    def _fine_tune(self):
        s = self.session
        steps = [s.click("Keep this pruned model"), s.goto("finetune"), s.click("Fine-tune"),
                 s.goto("prune")]
        total = steps[0]
        for st in steps[1:]:
            total.bytes += st.bytes
            total.exceptions += st.exceptions
        return total

    def _report(self, name: str, action) -> bool:
        """Run ``action`` and report it to Locust; False when it failed."""
        t0 = time.perf_counter()
        exc, length = None, 0
        try:
            step = action()
            length = step.bytes
            if step.exceptions:
                exc = ProtocolError("the app drew an exception: " + "; ".join(step.exceptions))
        except Exception as e:  # noqa: BLE001 - any failure is the request's failure
            exc = e
        events.request.fire(request_type="WS", name=name,
                            response_time=(time.perf_counter() - t0) * 1000,
                            response_length=length, exception=exc,
                            context={"server": self.session.server_cookie})
        return exc is None
