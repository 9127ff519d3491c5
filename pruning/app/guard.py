"""The server's guard: an ASGI middleware in front of Streamlit's own routes (``serve.py``
mounts it with ``st.App``). It enforces what a page cannot, because a visitor can send
requests past the page:

* **Uploads per session.** Streamlit limits each file (``server.maxUploadSize``) but not
  how many a session sends, and keeps every upload in memory until the session ends. Here a
  session may have at most ``per_session`` files accepted per ``window`` seconds (HTTP 429
  after that; a refused one, e.g. too large, does not count), and the files being received
  at once, over the whole server, may total at most ``inflight_bytes`` (HTTP 503 with
  ``Retry-After``; a request without a ``Content-Length`` counts as a file of the full
  per-file limit).
* **Addresses that are not pages.** ``/a/b`` (more than one path segment, outside
  Streamlit's own ``/_stcore/``, ``/static/``, ``/media/``… routes) used to give a blank
  white page: Streamlit served its page there, whose relative asset addresses then pointed
  at ``/a/static/…``. Such an address is redirected to Home, with the link's query kept and
  ``pp_notice=path`` added; the app says why (``pruning.app.url_state``).
* **Links with more than 1,000 parameters.** Streamlit drops such a query string whole
  (``CLIENT_STATE_QUERY_STRING_MAX_FIELDS``), so the app would open with its defaults and no
  word. Here the page request is redirected to the same page with only the app's own
  settings (the last value of each) and ``pp_notice=dropped-<total>-<kept>``.
* **Sessions that went away.** Every closed websocket is reported to ``on_close`` (the
  memory collector of ``pruning.app.memory``, which releases expired sessions' models).

Pure ASGI (no Streamlit, no Starlette import): the decisions are plain functions
(``redirect_for``, ``UploadLimits``) that unit tests call directly.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable
from urllib.parse import parse_qsl, quote, urlencode

from pruning.app.url_state import NOTICE_PARAM, PARAM_NAMES

#: Streamlit drops a query string with more fields than this (all of it).
STREAMLIT_MAX_FIELDS = 1000
#: First path segments that belong to Streamlit's own routes (never redirected).
RESERVED = frozenset({"_stcore", "static", "media", "component", "app", "auth",
                      "oauth2callback"})


def redirect_for(path: str, query: str, accept: str = "") -> str | None:
    """Where a GET of ``path?query`` should go instead (a relative ``Location``), or None to
    let Streamlit serve it. ``accept`` is the request's Accept header: only a request for an
    HTML page is redirected."""
    segments = [s for s in path.split("/") if s]
    if RESERVED.intersection(segments):
        # Streamlit's routes, also under a page's name: the page at /prune first looks for
        # the server at /prune/_stcore/… (its base address unknown) and must get Streamlit's
        # own 404 there, not a page, or it would never connect
        return None
    if "text/html" not in accept:
        return None     # only a page the browser opens (a document) is redirected, never an
                        # asset or a script's request
    fields = parse_qsl(query, keep_blank_values=True) if query else []
    notices = []
    # rebuilt from its segments: a path such as //other.host would otherwise become a
    # protocol-relative Location and send the visitor to another site
    target = "/" + "/".join(segments)
    if len(fields) > STREAMLIT_MAX_FIELDS:
        kept = {}
        for name, value in fields:
            if name in PARAM_NAMES:
                kept[name] = value          # the last value counts, as in st.query_params
        notices.append(f"dropped-{len(fields)}-{len(kept)}")
        fields = list(kept.items())
    if len(segments) > 1:
        notices.append("path")
        target = "/"
    if not notices:
        return None
    fields = [(n, v) for n, v in fields if n != NOTICE_PARAM]
    fields += [(NOTICE_PARAM, n) for n in notices]
    return quote(target) + "?" + urlencode(fields)


class UploadLimits:
    """Counts uploads per session (a sliding window) and bytes being received (thread-safe:
    the counters are shared by the server's event loop and its tests)."""

    def __init__(self, per_session: int = 10, window: float = 600.0,
                 inflight_bytes: int = 100 * 2**20, clock: Callable[[], float] = time.monotonic):
        self.per_session = int(per_session)
        self.window = float(window)
        self.inflight_bytes = int(inflight_bytes)
        self.clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, deque] = {}
        self._inflight = 0

    def admit(self, session: str, size: int) -> tuple[int, str] | None:
        """Take an upload of ``size`` bytes for ``session``: None if admitted (then call
        ``done(session, size, accepted)`` when the server answered), else (HTTP status,
        reason)."""
        now = self.clock()
        with self._lock:
            for sid in [s for s, q in self._times.items() if not q or q[-1] <= now - self.window]:
                del self._times[sid]        # forget sessions idle for a whole window
            times = self._times.setdefault(session, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.per_session:
                return 429, (f"At most {self.per_session} uploads per session in "
                             f"{self.window / 60:.0f} minutes; try again later.")
            if self._inflight + size > self.inflight_bytes:
                return 503, "The server is receiving other uploads; try again in a minute."
            times.append(now)
            self._inflight += size
            return None

    def done(self, session: str, size: int, accepted: bool = True) -> None:
        """The upload admitted for ``session`` is over; a refused one gives its place back."""
        with self._lock:
            self._inflight = max(self._inflight - size, 0)
            times = self._times.get(session)
            if not accepted and times:
                times.pop()

    @property
    def inflight(self) -> int:
        with self._lock:
            return self._inflight


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _plain(send, status: int, text: str, headers=()) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """The ASGI middleware (module docstring). ``max_file_bytes`` is a callable (Streamlit's
    ``server.maxUploadSize`` is read when the first upload comes, after the config loaded)."""

    def __init__(self, app, *, limits: UploadLimits | None = None,
                 max_file_bytes: Callable[[], int] = lambda: 25 * 2**20,
                 on_close: Callable[[], None] | None = None):
        self.app = app
        self.limits = limits or UploadLimits()
        self.max_file_bytes = max_file_bytes
        self.on_close = on_close

    async def __call__(self, scope, receive, send):
        kind = scope.get("type")
        if kind == "websocket" and scope.get("path", "").endswith("/_stcore/stream"):
            try:
                await self.app(scope, receive, send)
            finally:
                if self.on_close is not None:
                    self.on_close()
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if method == "PUT" and path.startswith("/_stcore/upload_file/"):
            await self._upload(scope, receive, send, path)
            return
        if method in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            target = redirect_for(path, query, _header(scope, b"accept"))
            if target is not None:
                await _plain(send, 302, "This address is not a page of this app.",
                             [(b"location", target.encode("latin-1"))])
                return
        await self.app(scope, receive, send)

    async def _upload(self, scope, receive, send, path):
        parts = path.split("/")        # '', '_stcore', 'upload_file', session, file
        session = parts[3] if len(parts) > 3 else ""
        try:
            size = int(_header(scope, b"content-length") or -1)
        except ValueError:
            size = -1
        if size < 0:
            size = self.max_file_bytes()
        refused = self.limits.admit(session, size)
        if refused is not None:
            status, why = refused
            await _plain(send, status, why, [(b"retry-after", b"60")] if status == 503 else ())
            return
        status = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.limits.done(session, size, accepted=bool(status) and status[0] < 300)
