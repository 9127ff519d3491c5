"""A simulated student: one Streamlit session spoken to over its websocket, as a browser does.

    s = StudentSession("http://127.0.0.1:8501")
    first = s.open("prune")                       # GET the page, open /_stcore/stream, first run
    s.click("Use a trained default model")        # a button press (trigger value)
    step = s.set_slider("Target sparsity (% of prunable weights removed)", 85.0)
    step.seconds, step.bytes, step.fragment       # action -> final message, bytes received, …
    s.close()

The messages are Streamlit's own public protobufs (``streamlit.proto``): the client sends a
``BackMsg`` whose ``rerun_script`` is a ``ClientState`` (page, query string, the changed widget
values, the ids of the fragment the widget lives in, and the hashes of the large messages it
already holds); the server answers with ``ForwardMsg``s (``new_session``, one ``delta`` per
element, ``script_finished``…). What a browser does and this client copies:

  * an HTTP GET of the page first (a reverse proxy sets its affinity cookie there; the
    websocket then carries the cookies, so it reaches the same server process);
  * a widget inside an ``st.fragment`` reruns only that fragment (``ClientState.fragment_id``);
  * large element messages (``metadata.cacheable``) are remembered by hash and their hashes
    sent with every rerun, so the server may answer an unchanged element with a reference
    (``ref_hash``) instead of the element itself, as it does for a browser.

An action is finished when a ``script_finished`` that is not "finished early for a rerun"
arrives (a button that calls ``st.rerun()`` ends one run early and starts the next; the
action ends with the last). ``Step.bytes`` counts the websocket payload bytes received
(protobuf frames, the same bytes a browser receives before compression).

No browser, no JavaScript: the session runs the real server code path (the same handler,
script runner, widgets and caches a browser's session uses); it does not draw anything.
"""
from __future__ import annotations

import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

import websocket  # websocket-client: synchronous, cooperative under Locust's gevent
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: The class proxy's affinity cookie and the header naming the process that answered
#: (deploy/haproxy.cfg.in); absent when talking to one server directly.
AFFINITY_COOKIE = "PPSERVER"
SERVED_BY = "X-Served-By"

FINISHED = ForwardMsg.ScriptFinishedStatus
DONE = {FINISHED.FINISHED_SUCCESSFULLY, FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        FINISHED.FINISHED_WITH_COMPILE_ERROR}


class ProtocolError(RuntimeError):
    """The server did not answer as a Streamlit server does (or not in time)."""


@dataclass
class Widget:
    """A widget as the last run drew it: enough to send it a new value."""

    id: str
    kind: str            # "slider", "button", "selectbox", …
    label: str
    fragment_id: str     # "" outside any fragment


@dataclass
class Step:
    """One action, from the moment its message was sent to the final message of its run."""

    seconds: float
    bytes: int = 0                # websocket payload received
    messages: int = 0
    deltas: int = 0
    references: int = 0           # elements answered by a ref_hash (already held)
    exceptions: list[str] = field(default_factory=list)  # st.exception elements drawn
    fragment: bool = False        # the run was a fragment run
    by_element: dict[str, int] = field(default_factory=dict)  # bytes per element type
    wire_bytes: int = 0           # read from the socket (only with compression=True)


class StudentSession:
    """One browser tab's worth of Streamlit session, without the browser."""

    def __init__(self, base_url: str, timeout: float = 120.0, compression: bool = False):
        """``compression``: offer permessage-deflate as browsers do (through the ``websockets``
        library; ``wire_bytes`` then counts what crossed the socket, compressed when the
        server agreed). Without it, ``websocket-client`` (cooperative under Locust)."""
        self.base_url = base_url.rstrip("/")
        self.compression = compression
        self.wire_bytes = 0                       # bytes read from the socket (compression)
        self.timeout = timeout
        self.cookies = CookieJar()
        self.widgets: dict[str, Widget] = {}      # by label (the page's visible name)
        self.cached_hashes: set[str] = set()
        self.page_script_hash = ""
        self.page_name = ""
        self.query_string = ""
        self.server_cookie: str | None = None     # the proxy's affinity cookie, if any
        self.served_by_http: list[str | None] = []  # X-Served-By of each HTTP answer (proxy)
        self.served_by_ws: str | None = None      # … of the websocket's handshake
        self.ws: websocket.WebSocket | None = None

    # ------------------------------------------------------------------ connection
    def _http_get(self, path: str) -> bytes:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        with opener.open(self.base_url + path, timeout=self.timeout) as resp:
            self.served_by_http.append(resp.headers.get(SERVED_BY))
            return resp.read()

    def health(self) -> str | None:
        """GET /_stcore/health with this session's cookies; the process that answered (behind
        the class proxy), else None."""
        self._http_get("/_stcore/health")
        return self.served_by_http[-1]

    def _cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)

    def open(self, page_name: str = "", query_string: str = "") -> Step:
        """Load the page over HTTP, open the websocket, run the page once; the Step of that
        first run (from the GET to the final message)."""
        t0 = time.perf_counter()
        self._http_get("/" + page_name + (("?" + query_string) if query_string else ""))
        for c in self.cookies:
            if c.name == AFFINITY_COOKIE:
                self.server_cookie = c.value
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        cookie = self._cookie_header()
        if self.compression:
            self.ws = _DeflateSocket(self, ws_url, cookie)
        else:
            self.ws = websocket.create_connection(
                ws_url, timeout=self.timeout, subprotocols=["streamlit"],
                header=[f"Cookie: {cookie}"] if cookie else None)
        self.served_by_ws = self.ws.served_by() if self.compression else \
            (self.ws.getheaders() or {}).get(SERVED_BY.lower())
        self.page_name, self.query_string = page_name, query_string
        step = self._rerun(widget_states=[], fragment_id="", t0=t0)
        return step

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            finally:
                self.ws = None

    # ------------------------------------------------------------------ actions
    def widget(self, label: str) -> Widget:
        try:
            return self.widgets[label]
        except KeyError:
            raise ProtocolError(f"no widget labelled {label!r} on the page "
                                f"(have: {sorted(self.widgets)[:20]})") from None

    def goto(self, page_name: str) -> Step:
        """Open another page of the app in the same session (a click in the navigation)."""
        self.page_name, self.page_script_hash = page_name, ""
        return self._rerun([], "")

    def click(self, label: str) -> Step:
        """Press a button: a trigger value, sent once."""
        w = self.widget(label)
        state = WidgetState(id=w.id, trigger_value=True)
        return self._rerun([state], w.fragment_id)

    def set_slider(self, label: str, value: float) -> Step:
        """Move a one-value slider to ``value`` (as released by the mouse)."""
        w = self.widget(label)
        state = WidgetState(id=w.id)
        state.double_array_value.data.append(float(value))
        return self._rerun([state], w.fragment_id)

    # ------------------------------------------------------------------ the exchange
    def _rerun(self, widget_states, fragment_id: str, t0: float | None = None) -> Step:
        if self.ws is None:
            raise ProtocolError("not connected: call open() first")
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_script_hash
        cs.page_name = "" if self.page_script_hash else self.page_name
        cs.fragment_id = fragment_id
        cs.widget_states.widgets.extend(widget_states)
        cs.cached_message_hashes.extend(sorted(self.cached_hashes))
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        start = time.perf_counter() if t0 is None else t0
        self.ws.send_binary(back.SerializeToString())
        return self._read_until_done(start, fragment=bool(fragment_id))

    def _read_until_done(self, start: float, fragment: bool) -> Step:
        step = Step(seconds=0.0, fragment=fragment)
        wire_before = self.wire_bytes
        deadline = time.monotonic() + self.timeout
        while True:
            if time.monotonic() > deadline:
                raise ProtocolError(f"no final message within {self.timeout:.0f} s")
            opcode, data = self.ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                raise ProtocolError("the server closed the websocket")
            if opcode != websocket.ABNF.OPCODE_BINARY:
                continue
            step.bytes += len(data)
            step.messages += 1
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if msg.metadata.cacheable and msg.hash:
                self.cached_hashes.add(msg.hash)
            if kind == "new_session":  # a new run: forget the last run's widgets
                self.widgets = {}
            elif kind == "navigation" and msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash  # the page shown
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "ref_hash":
                step.references += 1
            elif kind == "delta":
                step.deltas += 1
                self._note_delta(msg, step)
                el = msg.delta.new_element.WhichOneof("type") if msg.delta.HasField(
                    "new_element") else msg.delta.WhichOneof("type")
                step.by_element[el] = step.by_element.get(el, 0) + len(data)
            elif kind == "script_finished" and msg.script_finished in DONE:
                step.seconds = time.perf_counter() - start
                step.wire_bytes = self.wire_bytes - wire_before
                return step

    def _note_delta(self, msg: ForwardMsg, step: Step) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            step.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:300])
            return
        sub = getattr(el, kind, None) if kind else None
        wid, label = getattr(sub, "id", ""), getattr(sub, "label", "")
        if wid and label and isinstance(wid, str):
            self.widgets[label] = Widget(wid, kind, label, delta.fragment_id)


class _DeflateSocket:
    """The two calls ``StudentSession`` makes of a websocket, over the ``websockets`` library
    with permessage-deflate offered (as a browser does), counting the socket's bytes."""

    def __init__(self, session: StudentSession, url: str, cookie: str):
        import socket

        from websockets.sync.client import connect

        host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port

        class Counting(socket.socket):
            def recv(self, n, *args):
                data = super().recv(n, *args)
                session.wire_bytes += len(data)
                return data

        sock = Counting(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(session.timeout)
        sock.connect((host, port))
        self.conn = connect(url, sock=sock, subprotocols=["streamlit"], compression="deflate",
                            additional_headers={"Cookie": cookie} if cookie else None,
                            max_size=None, open_timeout=session.timeout, proxy=None)
        self.timeout = session.timeout

    def served_by(self) -> str | None:
        return self.conn.response.headers.get(SERVED_BY)

    def send_binary(self, data: bytes) -> None:
        self.conn.send(data)

    def recv_data(self):
        data = self.conn.recv(timeout=self.timeout)
        if isinstance(data, str):
            return websocket.ABNF.OPCODE_TEXT, data.encode()
        return websocket.ABNF.OPCODE_BINARY, data

    def close(self) -> None:
        self.conn.close()


def server_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def quote_query(params: dict[str, str]) -> str:
    return urllib.parse.urlencode(params)
