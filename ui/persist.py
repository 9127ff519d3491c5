"""This browser's work kept on disk (``pruning.app.store``): which browser is which, when the
workspace is loaded and saved, the "stopped by a restart" notice and the delete button.

The browser's key: a random token kept in a cookie (``COOKIE``) that this app's own page sets
(Streamlit reads cookies, ``st.context.cookies``, but has no public call that writes one, so
a one-line script in ``st.html(..., unsafe_allow_javascript=True)`` does it). A cookie, not
the address bar: a shared link never carries it, so a class opening the teacher's link gets
thirty private workspaces. The cookie goes with every connection to this site, so after a
server restart, a dropped connection, or a proxy sending the browser to another server
process sharing the same store file, the new session opens the same work.

When: a session's workspace is loaded once, when it is first used (``open_workspace``); it
is saved at the end of every run in which it changed (``save_if_changed``: a new model, a
pruned or fine-tuned one, a kept result, a longer history), so an unchanged rerun (a slider
move) writes nothing. A job marks itself running (``job``) so that, if the server stops
before its result is saved, the next visit says it was stopped instead of losing it silently.

In one server process, sessions of the same browser (a reload, a second tab, a reconnect)
share one live ``Workspace`` object (``_live``, weakly held): a reload holds no second copy
of the models, and the object goes when no session refers to it any more.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from contextlib import contextmanager

import streamlit as st

from pruning.app.store import (
    StoreError,
    WorkspaceStore,
    new_key,
    settings_from_env,
    valid_key,
)
from pruning.app.workspace import Workspace
from pruning.errors import PruningError
from ui import log

COOKIE = "pp_workspace"
_KEY = "_pp_key"             # session_state: this browser's key
_PRINT = "_pp_fingerprint"   # session_state: the workspace as last saved or loaded
_NOTICES = "_pp_notices"     # session_state: messages for the next run to show

_lock = threading.Lock()
_store: WorkspaceStore | None = None
_store_opened = False
_live: "weakref.WeakValueDictionary[str, Workspace]" = weakref.WeakValueDictionary()
_stamps: dict[str, float] = {}          # key -> saved_at of the live object's last load/save
_running: dict[str, str] = {}           # key -> label of a job running in this process
_job_threads: set[threading.Thread] = set()   # the script threads inside ``job``
_exiting = threading.Event()            # set at interpreter exit (after SIGTERM)
_MARKED = "_pp_job_marked"              # session_state: a job of this session marked itself
_browser_notices: dict[str, list] = {}  # key -> messages for the browser's next run


def the_store() -> WorkspaceStore | None:
    """The process's store, opened on first use from the environment (``None``: turned off,
    or the file could not be opened — then work lives in memory only, and the log says why)."""
    global _store, _store_opened
    with _lock:
        if not _store_opened:
            _store_opened = True
            try:
                _store = WorkspaceStore.from_settings(settings_from_env())
                if _store is not None:
                    log.info("workspace store: %s", _store.path)
            except (PruningError, OSError, Exception) as exc:  # never stop the app over it
                log.error("workspace store not available, work is kept in memory only: %s", exc)
                _store = None
        return _store


def browser_key() -> str:
    """This browser's private key: from its cookie, or a new one (then the cookie is set)."""
    key = st.session_state.get(_KEY)
    if key is None:
        try:
            cookie = st.context.cookies.get(COOKIE)
        except Exception:  # no browser connection (AppTest): a key for this session only
            cookie = None
        key = cookie if valid_key(cookie) else new_key()
        st.session_state[_KEY] = key
    return key


def write_cookie() -> None:
    """Tell the browser its key (every run of a session whose connection did not send it)."""
    key = browser_key()
    try:
        if st.context.cookies.get(COOKIE) == key:
            return
    except Exception:
        return
    store = the_store()
    max_age = int(store.ttl_seconds) if store is not None else 7 * 24 * 3600
    with st.sidebar:
        st.html(f"<script>document.cookie = '{COOKIE}={key}; path=/; max-age={max_age}; "
                f"SameSite=Lax';</script>", unsafe_allow_javascript=True)


def _fingerprint(ws: Workspace) -> tuple:
    """Changes when a field, a kept result, or the length of a history list changes (cheap:
    identities and lengths, no tensor is read)."""
    def part(value):
        if isinstance(value, dict):
            return tuple((k, id(v), len(v) if isinstance(v, (list, dict)) else -1)
                         for k, v in value.items())
        if isinstance(value, list):
            return (id(value), len(value), id(value[-1]) if value else 0)
        return id(value)
    return tuple((name, part(getattr(ws, name))) for name in ws.__dataclass_fields__)


def _notice(kind: str, text: str, key: str | None = None) -> None:
    """A message for this session's next run; with ``key``, for the next run of any session
    of that browser (a run cut short when the connection came back belongs to a session
    Streamlit has already replaced)."""
    if key is None:
        st.session_state.setdefault(_NOTICES, []).append((kind, text))
    else:
        with _lock:
            _browser_notices.setdefault(key, []).append((kind, text))


def open_workspace() -> Workspace:
    """This session's workspace: the live one of this browser in this process, the saved
    one from the store if that is newer, or an empty one."""
    key = browser_key()
    store = the_store()
    with _lock:
        live = _live.get(key)
    ws = live
    if store is not None:
        try:
            saved_at = store.saved_at(key)
            if saved_at is not None and (live is None or saved_at > _stamps.get(key, 0.0)):
                loaded = store.load(key)
                if loaded is not None:
                    ws = loaded.workspace
                    with _lock:
                        _stamps[key] = loaded.saved_at
                    if loaded.job and key not in _running:
                        _notice("warning", f"⏹️ Your **{loaded.job}** job was stopped (the page was "
                                           f"reloaded or closed, the server restarted, or you "
                                           f"were moved to another server) "
                                           f"before it finished. Everything you had kept before "
                                           f"it is back; press its button again to rerun it.")
                        store.clear_job(key)
                    elif ws.trained is not None:
                        _notice("toast", "Your saved work is back.")
        except StoreError as exc:
            _notice("warning", f"⚠️ Your saved work could not be restored: {exc}. You start "
                               f"with an empty workspace; nothing else was changed.")
            ws = None
        except Exception as exc:  # the store file is unreadable: keep working in memory
            log.error("workspace store read failed: %s", exc)
            ws = live
    if ws is None:
        ws = Workspace()
    with _lock:
        _live[key] = ws
    st.session_state[_PRINT] = _fingerprint(ws)
    return ws


def _forget_job_marker(store: WorkspaceStore, key: str) -> None:
    try:
        store.clear_job(key)
    except Exception as exc:
        log.error("workspace store: could not clear job: %s", exc)


def _return_freed_memory() -> None:
    """Give memory freed by a replaced model back to the system (glibc ``malloc_trim``):
    each script thread allocates from its own malloc arena, and freed blocks stay in it,
    so a server's resident size otherwise keeps the high-water mark of every session."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: nothing to do
        pass


def save_if_changed() -> None:
    """Save the session's workspace if it changed since it was loaded or last saved (call
    once at the end of every run)."""
    ws = st.session_state.get("workspace")
    if ws is None:
        return
    fingerprint = _fingerprint(ws)
    store = the_store()
    if fingerprint == st.session_state.get(_PRINT):
        # unchanged: a job marked in this run did not finish; cut short by the student, it
        # is no longer running (clear the marker); by a shutdown, leave it to be reported
        if st.session_state.get(_MARKED) and store is not None and not _server_stopping():
            st.session_state.pop(_MARKED, None)
            _forget_job_marker(store, browser_key())
        return
    st.session_state[_PRINT] = fingerprint
    st.session_state.pop(_MARKED, None)      # the save below clears the marker
    _return_freed_memory()                   # a model this run replaced
    if store is None:
        return
    key = browser_key()
    with _lock:   # the live copy is the newest from now on, whether or not the save succeeds
        _stamps[key] = time.time()
    try:
        started = time.perf_counter()
        size, left_out = store.save(key, ws)
        with _lock:
            _stamps[key] = time.time()
        log.info("workspace saved: %.1f MB in %.2f s", size / 2**20, time.perf_counter() - started)
    except StoreError as exc:   # too large to keep: it lives in memory; the job did finish
        _notice("warning", f"⚠️ {exc}")
        _forget_job_marker(store, key)
    except Exception as exc:  # a full disk, a locked file: say so, keep the work in memory
        log.error("workspace store write failed: %s", exc)
        _notice("warning", "⚠️ Your latest step could not be saved on the server's disk; it is "
                           "kept in memory while the server runs.")


def _server_stopping() -> bool:
    """The server is shutting down (SIGTERM): a job cut short now was stopped, not finished."""
    if _exiting.is_set():
        return True
    try:
        from streamlit import runtime
        return runtime.exists() and runtime.get_instance().state.name in ("STOPPING", "STOPPED")
    except Exception:
        return False


@contextmanager
def job(label: str):
    """Mark a job (a training run, a sweep) as running for this browser while the block runs.

    The marker is in the store: the job's result, saved by ``save_if_changed`` at the end of
    the run, clears it. If the server stops first (the block is cut short while the server
    shuts down), the marker stays, and the next visit reports the job as stopped. Cut short
    by the student (another click), the marker is cleared at the end of that run."""
    key = browser_key()
    store = the_store()
    thread = threading.current_thread()
    with _lock:
        _running[key] = label
        _job_threads.add(thread)
    st.session_state[_MARKED] = label
    if store is not None:
        try:
            store.mark_job(key, label)
        except Exception as exc:
            log.error("workspace store: could not mark job: %s", exc)
    try:
        yield
    except PruningError:
        raise
    except BaseException:
        # cut short: by a shutdown (reported at the next visit), or by a rerun of this
        # session (another click, or the browser reconnecting after a dropped connection)
        if not _server_stopping():
            _notice("warning", f"⏹️ Your **{label}** job was stopped before it finished (the "
                               f"page was rerun, or the connection dropped and came back), so "
                               f"its result was not kept. Press its button again to rerun it.",
                    key)
        raise
    finally:
        with _lock:
            _running.pop(key, None)
            _job_threads.discard(thread)


def running_job() -> str | None:
    """The label of a job of this browser running in this server process, in another script
    run than this one (a connection dropped and came back while it trained: Streamlit lets
    the old run finish in the background), or None."""
    with _lock:
        return _running.get(st.session_state.get(_KEY) or "")


@st.fragment(run_every=1.0)
def _watch_job() -> None:
    label = running_job()
    if label is None:           # it ended: its result is in the workspace; show the page again
        st.rerun(scope="app")
    st.info(f"⏳ Your **{label}** job is still running on the server (the connection dropped "
            f"and came back, or another tab started it). This page shows its result when it "
            f"ends.")


def watch_running_job() -> None:
    """While a job of this browser runs in another script run, say so and rerun when it ends."""
    if running_job() is not None:
        _watch_job()


def show_notices() -> None:
    """Show (once) what loading or saving had to say."""
    with _lock:
        for_browser = _browser_notices.pop(st.session_state.get(_KEY) or "", [])
    for kind, text in st.session_state.pop(_NOTICES, []) + for_browser:
        if kind == "toast":
            st.toast(text, icon="💾")
        else:
            st.warning(text)


def render_saved_work_box() -> None:
    """Sidebar: where this browser's work is kept, and a button that deletes it."""
    store = the_store()
    with st.sidebar.expander("💾 Your saved work"):
        if store is None:
            st.caption("This server keeps your work in memory only: it is lost when the "
                       "server restarts.")
            return
        days = store.ttl_seconds / 86400
        span = f"{days:.0f} days" if days >= 1 else f"{store.ttl_seconds / 3600:.0f} hours"
        st.caption(f"Your models and results are saved on this server after each step, "
                   f"private to this browser (never part of a shared link), and deleted "
                   f"{span} after your last step.")
        if st.button("Delete my saved work", key="pp_delete_saved_work",
                     help="Removes your models and results from this server now."):
            key = browser_key()
            try:
                store.delete(key)
            except Exception as exc:
                log.error("workspace store delete failed: %s", exc)
                st.error("Your saved work could not be deleted just now; try again.")
                return
            fresh = Workspace()
            with _lock:
                _live[key] = fresh
                _stamps.pop(key, None)
            st.session_state["workspace"] = fresh
            st.session_state[_PRINT] = _fingerprint(fresh)
            st.success("Deleted: your models and results are gone from this server.")


def flush() -> None:
    """Fold the store's write-ahead log into its file (every save is already committed)."""
    store = _store
    if store is not None:
        try:
            store.checkpoint()
        except Exception as exc:
            log.error("workspace store flush failed: %s", exc)


#: Seconds a shutdown waits for running jobs to reach their next stop point.
SHUTDOWN_WAIT = 5.0


def _busy_threads() -> list[threading.Thread]:
    """Jobs, and any other script run (a session's rerun computing scores), still going."""
    with _lock:
        jobs = set(_job_threads)
    scripts = {t for t in threading.enumerate()
               if t.daemon and t.name.startswith("ScriptRunner")}
    return [t for t in jobs | scripts if t.is_alive() and t is not threading.current_thread()]


def _at_exit() -> None:
    """Clean shutdown (SIGTERM -> Streamlit stops its server and sessions -> the interpreter
    exits -> this): running jobs are stopped, the store is flushed, the exit status is 0.

    Streamlit's script threads are daemon threads; one still inside torch while the
    interpreter finalises made the process abort (C++ ``terminate``, status -6). Jobs get
    ``SHUTDOWN_WAIT`` seconds to stop at their next progress report (where Streamlit stops a
    script whose session shut down); one still running after that is ended with the process
    (``os._exit(0)``, after the flush), its marker left in the store so the student's next
    visit says it was stopped."""
    _exiting.set()
    deadline = time.monotonic() + SHUTDOWN_WAIT
    try:   # the job runner asks every job to stop at its next mini-batch, and waits
        from pruning.app.jobs import stop_all
        stop_all(timeout=SHUTDOWN_WAIT)
    except Exception as exc:
        log.error("shutdown: stopping jobs failed: %s", exc)
    while _busy_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    flush()
    alive = _busy_threads()
    if alive:
        log.warning("shutdown: %d script run(s) still going were stopped", len(alive))
        logging.shutdown()
        os._exit(0)
    log.info("shutdown: store flushed")


# Only in a server (``streamlit run`` loads its bootstrap module); never in a test process
# that imports the app (AppTest), whose own exit status must stand.
if "streamlit.web.bootstrap" in sys.modules:
    atexit.register(_at_exit)
