"""The server's guard (pruning/app/guard.py): which addresses are redirected and where, the
upload counters, and the ASGI middleware itself driven with plain ASGI messages."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

from pruning.app.guard import Guard, UploadLimits, redirect_for
from pruning.app.url_state import parse_query_params


def test_pages_assets_and_streamlit_routes_pass():
    for path in ("/", "/prune", "/prune/", "/_stcore/health", "/static/js/main.js",
                 "/media/abc.png", "/_stcore/upload_file/s/f", "/component/x/y",
                 "/app/static/a.png", "/favicon.png"):
        assert redirect_for(path, "seed=3", "text/html") is None, path
    assert redirect_for("/a/static/js/main.js", "", "*/*") is None   # an asset, not a page
    assert redirect_for("/a/b", "", "*/*") is None                   # not a page request
    # the page at /prune looks for the server at /prune/_stcore/… first: Streamlit's 404
    assert redirect_for("/prune/_stcore/health", "", "text/html") is None


def test_multi_segment_path_goes_home_with_the_query_and_a_notice():
    target = redirect_for("/a/b", "seed=3&dataset=moons", "text/html")
    parts = urlsplit(target)
    assert parts.path == "/"
    assert parse_qsl(parts.query) == [("seed", "3"), ("dataset", "moons"), ("pp_notice", "path")]
    settings, notices = parse_query_params(dict(parse_qsl(parts.query)))
    assert settings.seed == 3 and any("not a page of this app" in n for n in notices)


def test_over_a_thousand_parameters_keep_the_settings_and_say_how_many_were_dropped():
    query = "&".join(f"x{i}=1" for i in range(1500)) + "&seed=7&seed=8&dataset=moons"
    parts = urlsplit(redirect_for("/prune", query, "text/html"))
    assert parts.path == "/prune"
    kept = dict(parse_qsl(parts.query))
    assert kept == {"seed": "8", "dataset": "moons", "pp_notice": "dropped-1503-2"}
    settings, notices = parse_query_params(kept)
    assert settings.seed == 8 and settings.dataset == "moons"
    assert any("1,503 parameters" in n and "1,501" in n for n in notices), notices
    assert redirect_for("/prune", "&".join(f"x{i}=1" for i in range(1000)), "") is None


def test_a_hand_made_notice_is_reported_not_shown():
    _, notices = parse_query_params({"pp_notice": "<b>you won</b>"})
    assert len(notices) == 1 and "not a message of this server" in notices[0]
    assert "`<b>you won</b>`" in notices[0]   # quoted in a code span, as every bad value
    for code in ("dropped-" + "9" * 5000 + "-1", "dropped-²-1", "dropped-5-9"):
        _, notices = parse_query_params({"pp_notice": code})   # never raises
        assert len(notices) == 1 and "not a message of this server" in notices[0], code


def test_a_redirect_never_leaves_the_site():
    query = "&".join(f"x{i}=1" for i in range(1001))
    for path in ("//evil.example", "//evil.example/", "///evil.example"):
        target = redirect_for(path, query, "text/html")
        assert target.startswith("/evil.example?"), target   # a path here, not a host
    assert redirect_for("//a/b", "", "text/html").startswith("/?")


def test_upload_limits_count_per_session_and_bytes_in_flight():
    now = [0.0]
    lim = UploadLimits(per_session=2, window=60, inflight_bytes=100, clock=lambda: now[0])
    assert lim.admit("a", 10) is None and lim.admit("a", 10) is None
    assert lim.admit("a", 10)[0] == 429            # a third one from the same session
    assert lim.admit("b", 90)[0] == 503            # 20 + 90 > 100 bytes being received
    lim.done("a", 10), lim.done("a", 10)
    assert lim.admit("b", 90) is None and lim.inflight == 90
    lim.done("b", 90, accepted=False)              # refused by the server: not counted
    assert lim.admit("b", 10) is None and lim.admit("b", 10) is None
    now[0] = 61                                    # the window moved on
    assert lim.admit("a", 10) is None


def _drive(guard, scope, body=b""):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    # A loop of its own in a thread of its own: the browser tests' Playwright (sync API) keeps
    # an event loop running in this worker's main thread when they share a pytest worker.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, guard(scope, receive, send)).result()
    return sent


def test_middleware_redirects_refuses_and_reports_closed_connections():
    calls, closed = [], []

    async def inner(scope, receive, send):
        calls.append(scope["path"])
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    guard = Guard(inner, limits=UploadLimits(per_session=1), on_close=lambda: closed.append(1))
    http = {"type": "http", "method": "GET", "query_string": b"",
            "headers": [(b"accept", b"text/html")]}
    sent = _drive(guard, http | {"path": "/a/b"})
    assert sent[0]["status"] == 302 and dict(sent[0]["headers"])[b"location"] == b"/?pp_notice=path"
    assert calls == []
    _drive(guard, http | {"path": "/prune"})
    assert calls == ["/prune"]
    put = {"type": "http", "method": "PUT", "query_string": b"", "path": "/_stcore/upload_file/s1/f1",
           "headers": [(b"content-length", b"5")]}
    assert _drive(guard, put)[0]["status"] == 204
    assert _drive(guard, put | {"path": "/_stcore/upload_file/s1/f2"})[0]["status"] == 429
    assert guard.limits.inflight == 0
    _drive(guard, {"type": "websocket", "path": "/_stcore/stream", "headers": []})
    assert closed == [1]
