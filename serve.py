"""The server: Streamlit's own (``st.App``, the same Starlette/uvicorn server ``streamlit run
app.py`` starts) with the app's guard in front of its routes. ``make run``, the browser
tests and ``make class`` start ``streamlit run serve.py``; the app itself is still app.py.

The guard (``pruning.app.guard``) limits uploads per session and bytes being received,
sends addresses that are not pages to Home with a notice, keeps the app's settings of a
link with more than 1,000 parameters, and reports closed connections to the collector that
releases expired sessions' models (``pruning.app.memory.ExpiredSessionCollector``). Limits a
host can change (README, "Security and limits"):

    PRUNING_UPLOADS_PER_SESSION    files one session may upload per 10 minutes (default 10)
    PRUNING_UPLOADS_IN_FLIGHT_MB   megabytes being received at once, whole server (default
                                   100: four files at the 25 MB server.maxUploadSize)
"""
import os
import signal
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from pruning.app.guard import Guard, UploadLimits
from pruning.app.memory import ExpiredSessionCollector


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw[:40]!r}") from None
    if not value > 0:
        raise SystemExit(f"{name} must be positive, got {raw[:40]!r}")
    return value


def _max_file_bytes() -> int:
    return int(st.get_option("server.maxUploadSize")) * 2**20


collector = ExpiredSessionCollector(ttl=lambda: float(st.get_option(
    "server.disconnectedSessionTTL")))
limits = UploadLimits(
    per_session=int(_number("PRUNING_UPLOADS_PER_SESSION", 10)),
    inflight_bytes=int(_number("PRUNING_UPLOADS_IN_FLIGHT_MB", 4 * 25) * 2**20))


def _shut_down_cleanly_on_sigterm() -> None:
    """SIGTERM ends the server with status 0, like ``streamlit run app.py`` does.

    uvicorn (which serves an ``st.App``) shuts down gracefully on SIGTERM, then raises the
    signal again with the default handler restored, so the process dies by the signal
    (status -15) and the interpreter's exit hooks, which stop the jobs and flush the
    workspace store (``ui/persist.py``), never run. Here SIGTERM asks the same server to stop
    without recording the signal: the server stops, ``streamlit run`` returns, and the
    interpreter exits normally.

    Not a public API (none exists: uvicorn documents no way to stop a running server, and
    ``st.App`` gives no handle to it): the server is found as the owner of the SIGTERM
    handler uvicorn installs (its bound ``handle_exit``), and stopped by setting
    ``should_exit``, the flag that handler sets. If a uvicorn version installs its handler
    differently, nothing is changed here and SIGTERM ends the server as uvicorn does."""
    import uvicorn

    previous = signal.getsignal(signal.SIGTERM)
    server = getattr(previous, "__self__", None)
    if not isinstance(server, uvicorn.Server):
        return      # not under uvicorn's signal capture: leave it as it is

    def stop(signum, frame):
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)


@asynccontextmanager
async def lifespan(_app):
    _shut_down_cleanly_on_sigterm()
    yield


app = st.App("app.py", lifespan=lifespan, middleware=[Middleware(Guard, limits=limits,
                                              max_file_bytes=_max_file_bytes,
                                              on_close=collector.closed)])
