"""What the server does for one student, measured over Streamlit's own websocket protocol.

A real ``streamlit run app.py`` (tests/browser/kit.py) and simulated students
(tests/load/st_protocol.py) that speak to it as a browser does, on loopback, one at a time:

  * ``move``:       Prune page, default model, target-sparsity slider moved to a new value;
                    seconds from sending the move to the run's final message (the slider
                    lives in an ``st.fragment``, so this is one fragment run);
  * ``move_bytes``: the bytes that crossed the websocket for that move, permessage-deflate
                    offered as browsers do (compressed only if the server has it on), and the
                    protobuf payload;
                    large unchanged elements come as references, as the browser holds them);
  * ``first_page``: a new student's first page (the Prune page, no model yet): GET of the
                    page + websocket + first run, on a server that has served one student
                    before, while the teacher's session stays connected (as in a class).
                    Also reported: the same with no other session connected, when Streamlit
                    has cleared its compiled scripts and compiles app.py and the page again.

Besides the wall time, the server process's CPU time (all its threads, ``/proc/<pid>/stat``)
is read around each repeat's moves and each first page: on a shared machine the wall time
grows with other people's load, the CPU time much less.

With one student and nothing else running this is the server's own time plus a loopback
round trip (well under a millisecond). Each value is a new slider position (a value already
sent returns almost everything as references, which a student moving on does not get).
"""
from __future__ import annotations

import os
import time

from tests.browser.kit import start_server
from tests.load.st_protocol import StudentSession

from .harness import Result, Stats, Target

SLIDER = "Target sparsity (% of prunable weights removed)"
MOVES_PER_REPEAT = 10


def _positions(n: int) -> list[float]:
    """n distinct slider positions (0.5 % steps) between 50 % and 99 %, none the default."""
    return [50.0 + ((i * 37) % 98) / 2 for i in range(1, n + 1)]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(repeats: int) -> dict[str, list[float]]:
    server = start_server("bench-protocol")
    try:
        teacher = StudentSession(server.url)   # the first visit of a new server opens Home
        teacher.open("")                        # (ui/__init__.py: leaving legacy pages mode)
        warm = StudentSession(server.url)
        warm.open("prune")
        warm.click("Use a trained default model")          # trains the shared model once
        warm.set_slider(SLIDER, 80.0)
        warm.close()
        moves, sizes, wire, firsts, refs, move_cpu, first_cpu = [], [], [], [], [], [], []
        shared, shared_cpu, offers, offer_cpu = [], [], [], []
        positions = _positions(MOVES_PER_REPEAT * repeats)
        for r in range(repeats):
            s = StudentSession(server.url, compression=True)   # as a browser: deflate offered
            cpu = _cpu_seconds(server.pid)
            first = s.open("prune")
            first_cpu.append(_cpu_seconds(server.pid) - cpu)
            firsts.append(first.seconds)
            cpu = _cpu_seconds(server.pid)
            offers.append(s.click("Use a trained default model").seconds)
            offer_cpu.append(_cpu_seconds(server.pid) - cpu)
            cpu = _cpu_seconds(server.pid)
            for v in positions[r * MOVES_PER_REPEAT:(r + 1) * MOVES_PER_REPEAT]:
                step = s.set_slider(SLIDER, v)
                if step.exceptions or not step.fragment:
                    raise RuntimeError(f"slider move to {v}: exceptions {step.exceptions}, "
                                       f"fragment run {step.fragment}")
                moves.append(step.seconds)
                sizes.append(step.bytes)
                wire.append(step.wire_bytes)
                refs.append(step.references)
            move_cpu.append((_cpu_seconds(server.pid) - cpu) / MOVES_PER_REPEAT)
            s.close()
            # A classmate moves to the positions this student computed (a class shares them).
            mate = StudentSession(server.url, compression=True)
            mate.open("prune")
            mate.click("Use a trained default model")
            cpu = _cpu_seconds(server.pid)
            for v in positions[r * MOVES_PER_REPEAT:(r + 1) * MOVES_PER_REPEAT]:
                step = mate.set_slider(SLIDER, v)
                if step.exceptions or not step.fragment:
                    raise RuntimeError(f"shared move to {v}: exceptions {step.exceptions}")
                shared.append(step.seconds)
            shared_cpu.append((_cpu_seconds(server.pid) - cpu) / MOVES_PER_REPEAT)
            mate.close()
        teacher.close()   # no session left: Streamlit clears its compiled scripts
        alone = []
        for _ in range(repeats):
            time.sleep(0.5)
            s = StudentSession(server.url, compression=True)
            alone.append(s.open("prune").seconds)
            s.close()
        return {"moves": moves, "bytes": sizes, "wire": wire, "first": firsts, "refs": refs,
                "move_cpu": move_cpu, "first_cpu": first_cpu, "first_alone": alone,
                "shared": shared, "shared_cpu": shared_cpu, "offer": offers,
                "offer_cpu": offer_cpu}
    finally:
        server.stop()


_CACHE: dict[int, dict[str, list[float]]] = {}


def _numbers(repeats: int) -> dict[str, list[float]]:
    """One server run serves all three items of the same ``python -m bench`` call."""
    if repeats not in _CACHE:
        _CACHE[repeats] = _measure(repeats)
    return _CACHE[repeats]


def slider_move(repeats: int) -> Result:
    n = _numbers(repeats)
    res = Result("move", "server time per Prune slider move (default model, websocket)",
                 Target("<=", 30.0, " ms"), Stats.of(n["moves"]), headline_scale=1e3,
                 headline_unit="ms", headline_digits=1)
    res.detail("server CPU time per move (all threads; mean over each repeat's moves)",
               Stats.of(n["move_cpu"]), 1e3, "ms", 1)
    res.detail("a classmate's move to a position another student computed already (the "
               "outcome is shared, the page still drawn): server time", Stats.of(n["shared"]),
               1e3, "ms", 1)
    res.detail("— server CPU time of such a move", Stats.of(n["shared_cpu"]), 1e3, "ms", 1)
    res.notes.append(f"{len(n['moves'])} moves ({MOVES_PER_REPEAT} per repeat, each to a value "
                     "no student has computed), one student at a time, fragment runs; send → "
                     "final message on loopback. Then a second student moves to the same "
                     "values (computed once per server for every session showing the model).")
    return res


def move_bytes(repeats: int) -> Result:
    n = _numbers(repeats)
    res = Result("move_bytes", "bytes sent per Prune slider move (websocket, as on the wire)",
                 Target("<=", 100.0, " kB"), Stats.of(n["wire"]), headline_scale=1e-3,
                 headline_unit="kB", headline_digits=1)
    res.detail("payload before websocket compression (protobuf frames)", Stats.of(n["bytes"]),
               1e-3, "kB", 1)
    res.detail("elements answered by reference (already held) per move", Stats.of(n["refs"]),
               1, "", 0)
    res.notes.append("bytes read from the client's socket; the client offers permessage-deflate "
                     "as Chromium does, so this is compressed only when the server has "
                     "server.enableWebsocketCompression on (on in .streamlit/config.toml).")
    return res


def first_page(repeats: int) -> Result:
    n = _numbers(repeats)
    res = Result("first_page", "a new student's first page (Prune, no model yet)",
                 Target("<=", 60.0, " ms"), Stats.of(n["first"]), headline_scale=1e3,
                 headline_unit="ms", headline_digits=1)
    res.detail("server CPU time per first page (all threads; 10 ms ticks)",
               Stats.of(n["first_cpu"]), 1e3, "ms", 0)
    res.detail("the same with no other session connected (scripts compiled again)",
               Stats.of(n["first_alone"]), 1e3, "ms", 1)
    res.detail("then \"Use a trained default model\" (model in the server's cache) → the "
               "full Prune page", Stats.of(n["offer"]), 1e3, "ms", 1)
    res.detail("— server CPU time of that click", Stats.of(n["offer_cpu"]), 1e3, "ms", 0)
    res.notes.append("HTTP GET of the page + websocket + first full run, on a warm server "
                     "with the teacher's session connected.")
    return res
