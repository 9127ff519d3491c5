"""Workspaces on disk: each browser's models, masks and run history, kept across server
restarts and shared by every server process that points at the same file.

One SQLite file (standard library ``sqlite3``) in WAL mode, so several server processes
behind a proxy can read while one writes; a write waits up to ``BUSY_SECONDS`` for another
process's write to finish. One row per browser::

    workspaces(key_hash TEXT PRIMARY KEY,  -- sha256 of the browser's private key, never the key
               version  INTEGER,           -- RECORD_VERSION of the blob's layout
               saved_at REAL, expires_at REAL,  -- Unix seconds; expired rows are never read
               job      TEXT,              -- the job running when the row was last touched
               size     INTEGER, blob BLOB)     -- torch.save of the encoded workspace

The browser's key is a random token (``new_key``) the browser keeps in a cookie; it is never
part of a shared link. The table holds only its SHA-256, so a copy of the file does not hand
out the keys that open it.

**Encoding** (``encode_workspace`` / ``decode_workspace``): a ``Workspace`` is walked field by
field, generically, so a plain field added to it later is saved without touching this module.
Values become what ``torch.load(weights_only=True)`` reads without running code: ``None``,
bool, int, float, str, lists and tensors. Everything else is a tagged dict:
``{"__t": "dict", "items": [[k, v], …]}`` (keys of any encodable kind), ``"tuple"``,
``"dc"`` (a dataclass defined in ``pruning``: class path + fields; met again, it is a
``"ref"``, so what was one object is one object after loading), ``"df"`` (a pandas
DataFrame: columns, index, one tensor or list per column), ``"np"`` (a numpy array, as a
tensor). A value of any other kind inside ``Workspace.extras`` (a page's cache of, say, a
figure) is left out, and the page recomputes it; in a named field it makes the save fail
with ``StoreError``. Reading accepts only dataclasses from ``pruning`` whose current fields
match the saved ones; anything else (an old layout, a damaged blob) is refused with one
``StoreError`` and only that record is affected.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import logging
import os
import pickle
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pruning.app.workspace import Workspace
from pruning.errors import PruningError

log = logging.getLogger("pruning_playground")

FORMAT = "pruning-playground/workspace"
#: Layout of a record's blob; a record of another version is refused (and replaced by the
#: next save), never guessed at. 2: the Small CNN's head reads a 4×4 grid of regions, so a
#: version-1 record's CNN weights no longer fit the model they would be loaded into.
RECORD_VERSION = 2
#: A write waits this long for another process's write before giving up.
BUSY_SECONDS = 30.0

#: Where the store lives unless ``PRUNING_STORE_PATH`` says otherwise (gitignored).
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "state" / "workspaces.sqlite3"
DEFAULT_TTL_HOURS = 7 * 24
DEFAULT_MAX_RECORD_MB = 512


class StoreError(PruningError):
    """A record cannot be written or read; the message is for the student."""


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class StoreSettings:
    """Where and for how long workspaces are kept (read from the environment by the app).

    path:             the SQLite file (a deployment points it at a shared volume);
                      ``None`` = no store (work lives only in the server's memory).
    ttl_seconds:      a record is deleted this long after its last save.
    max_record_bytes: a workspace larger than this is not saved (the student is told).
    """

    path: Path | None = DEFAULT_PATH
    ttl_seconds: float = DEFAULT_TTL_HOURS * 3600.0
    max_record_bytes: int = DEFAULT_MAX_RECORD_MB * 2**20


def settings_from_env(env=None) -> StoreSettings:
    """``PRUNING_STORE_PATH`` (a file path, or ``off``), ``PRUNING_STORE_TTL_HOURS``,
    ``PRUNING_STORE_MAX_RECORD_MB``. A bad number raises ``PruningError`` naming the variable."""
    env = os.environ if env is None else env

    def number(name: str, default: float) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise PruningError(f"{name} must be a number, got {raw[:40]!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise PruningError(f"{name} must be a positive number, got {raw[:40]!r}")
        return value

    raw_path = env.get("PRUNING_STORE_PATH", "").strip()
    path = None if raw_path.lower() in ("off", "none", "0") else \
        (Path(raw_path).expanduser() if raw_path else DEFAULT_PATH)
    return StoreSettings(path, number("PRUNING_STORE_TTL_HOURS", DEFAULT_TTL_HOURS) * 3600.0,
                         int(number("PRUNING_STORE_MAX_RECORD_MB", DEFAULT_MAX_RECORD_MB) * 2**20))


def new_key() -> str:
    """A fresh private browser key (256 random bits, URL- and cookie-safe)."""
    return secrets.token_urlsafe(32)


def valid_key(key) -> bool:
    """Looks like a ``new_key`` (a cookie can hold anything)."""
    return isinstance(key, str) and 32 <= len(key) <= 64 and \
        all(c.isalnum() or c in "-_" for c in key)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# ----------------------------------------------------------------------------- encoding
class _Unencodable(Exception):
    """A value of a kind the store does not save."""


def _encode(value, memo: dict):
    """``memo`` (id -> number) keeps shared records shared: a dataclass met again (a page's
    cache that remembers which model it was computed for) is saved as a reference."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if torch.is_tensor(value):
        return value.detach().cpu()
    if isinstance(value, list):
        return [_encode(v, memo) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"__t": "tuple", "v": [_encode(v, memo) for v in value]}
    if isinstance(value, dict):
        return {"__t": "dict", "items": [[_encode(k, memo), _encode(v, memo)]
                                         for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("pruning."):
            raise _Unencodable(cls.__qualname__)
        if id(value) in memo:
            return {"__t": "ref", "n": memo[id(value)][0]}
        memo[id(value)] = (len(memo), value)   # (the value kept alive: ids stay unique)
        return {"__t": "dc", "n": memo[id(value)][0],
                "cls": f"{cls.__module__}:{cls.__qualname__}",
                "f": {f.name: _encode(getattr(value, f.name), memo)
                      for f in dataclasses.fields(value)}}
    if isinstance(value, pd.DataFrame):
        return {"__t": "df", "columns": [_encode(c, memo) for c in value.columns],
                "index": None if isinstance(value.index, pd.RangeIndex) and value.index.start == 0
                and value.index.step == 1 else _encode(value.index.tolist(), memo),
                "data": [_encode_column(value.iloc[:, i], memo) for i in range(value.shape[1])]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__t": "np", "v": torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    raise _Unencodable(type(value).__qualname__)


def _encode_column(column: pd.Series, memo: dict):
    if column.dtype.kind in "biuf":
        return {"__t": "np", "v": torch.from_numpy(column.to_numpy().copy())}
    return [_encode(v.item() if isinstance(v, np.generic) else v, memo) for v in column.tolist()]


def _dataclass(path: str):
    module, _, name = path.partition(":")
    if not module.startswith("pruning.") or not name.isidentifier():
        raise StoreError(f"the record names a class this app does not have ({path[:60]})")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise StoreError(f"the record names a class this app no longer has ({path[:60]})") \
            from None
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise StoreError(f"the record names something that is not a data record ({path[:60]})")
    return cls


def _build(cls, raw_fields: dict, refs: dict):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw_fields) - set(known))
    if unknown:
        raise StoreError(f"the record was saved by another version of the app "
                         f"({cls.__name__} has no field {unknown[0][:40]!r} now)")
    values = {k: _decode(v, refs) for k, v in raw_fields.items()}
    obj = cls(**{k: v for k, v in values.items() if known[k].init})
    for k, v in values.items():
        if not known[k].init:
            object.__setattr__(obj, k, v)
    return obj


def _decode(value, refs: dict):
    if value is None or isinstance(value, (bool, int, float, str)) or torch.is_tensor(value):
        return value
    if isinstance(value, list):
        return [_decode(v, refs) for v in value]
    if not isinstance(value, dict):
        raise StoreError(f"the record holds an unexpected {type(value).__name__}")
    tag = value.get("__t")
    if tag == "tuple":
        return tuple(_decode(v, refs) for v in value["v"])
    if tag == "dict":
        return {_decode(k, refs): _decode(v, refs) for k, v in value["items"]}
    if tag == "dc":
        obj = refs[value["n"]] = _build(_dataclass(str(value["cls"])), value["f"], refs)
        return obj
    if tag == "ref":
        if value.get("n") not in refs:
            raise StoreError("the saved workspace is damaged (a dangling reference)")
        return refs[value["n"]]
    if tag == "np":
        return value["v"].numpy()
    if tag == "df":
        columns = [_decode(c, refs) for c in value["columns"]]
        data = [_decode(c, refs) for c in value["data"]]
        index = None if value["index"] is None else _decode(value["index"], refs)
        frame = pd.DataFrame(dict(zip(range(len(columns)), data)), index=index)
        frame.columns = columns
        return frame
    raise StoreError(f"the record holds an unknown entry kind {str(tag)[:20]!r}")


def encode_workspace(ws: Workspace) -> tuple[dict, list[str]]:
    """``(payload, left_out)``: the workspace as plain data for ``torch.save``, and the
    ``extras`` keys whose values could not be encoded (left out; pages recompute them)."""
    fields, left_out, memo = {}, [], {}
    for f in dataclasses.fields(ws):
        value = getattr(ws, f.name)
        if f.name == "extras":
            items = []
            for k, v in value.items():
                before = dict(memo)
                try:
                    items.append([_encode(k, memo), _encode(v, memo)])
                except _Unencodable:   # forget its half-made references too
                    memo.clear()
                    memo.update(before)
                    left_out.append(str(k))
            fields[f.name] = {"__t": "dict", "items": items}
            continue
        try:
            fields[f.name] = _encode(value, memo)
        except _Unencodable as exc:
            raise StoreError(f"the workspace's {f.name} holds a {exc} the store cannot save") \
                from None
    return {"format": FORMAT, "version": RECORD_VERSION, "fields": fields}, left_out


def _tensor_bytes(value, seen: set | None = None) -> int:
    """Bytes of the tensors inside an encoded payload (each storage once, as torch.save)."""
    seen = set() if seen is None else seen
    if torch.is_tensor(value):
        storage = value.untyped_storage()
        if storage.data_ptr() in seen:
            return 0
        seen.add(storage.data_ptr())
        return storage.nbytes()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v, seen) for v in value.values())
    if isinstance(value, list):
        return sum(_tensor_bytes(v, seen) for v in value)
    return 0


def workspace_bytes(ws: Workspace) -> tuple[bytes, list[str]]:
    payload, left_out = encode_workspace(ws)
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue(), left_out


def decode_workspace(raw: bytes) -> Workspace:
    """A record's blob -> ``Workspace``; ``StoreError`` when it is damaged or of another
    version. ``torch.load(weights_only=True)``: a blob cannot run code while it is read."""
    try:
        obj = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError):
        raise StoreError("the saved workspace is damaged and could not be read") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise StoreError("the saved record is not a workspace")
    if obj.get("version") != RECORD_VERSION:
        raise StoreError("the saved workspace comes from another version of the app")
    fields = obj.get("fields")
    if not isinstance(fields, dict):
        raise StoreError("the saved workspace is damaged (no fields)")
    try:
        return _build(Workspace, fields, {})
    except StoreError:
        raise
    except Exception as exc:  # a field of the wrong shape deep inside: the record is bad
        raise StoreError(f"the saved workspace is damaged ({type(exc).__name__})") from None


# ----------------------------------------------------------------------------- the store
@dataclass(frozen=True)
class Loaded:
    """What ``WorkspaceStore.load`` found for a key."""

    workspace: Workspace
    saved_at: float
    job: str | None        # a job that was running when the server stopped


class WorkspaceStore:
    """The repository: save, load, delete one browser's workspace; expire old ones.

    Thread- and process-safe: every call opens its own short connection (SQLite serialises
    writers; WAL lets readers go on meanwhile).
    """

    def __init__(self, path: Path | str, ttl_seconds: float = DEFAULT_TTL_HOURS * 3600.0,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_MB * 2**20):
        self.path = Path(path)
        self.ttl_seconds = float(ttl_seconds)
        self.max_record_bytes = int(max_record_bytes)
        self._lock = threading.Lock()   # one writer per process at a time (less busy-waiting)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("""CREATE TABLE IF NOT EXISTS workspaces (
                              key_hash TEXT PRIMARY KEY, version INTEGER NOT NULL,
                              saved_at REAL NOT NULL, expires_at REAL NOT NULL,
                              job TEXT, size INTEGER NOT NULL DEFAULT 0, blob BLOB)""")
            db.execute("CREATE INDEX IF NOT EXISTS workspaces_expiry ON workspaces(expires_at)")
        self.purge_expired()

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> "WorkspaceStore | None":
        if settings.path is None:
            return None
        return cls(settings.path, settings.ttl_seconds, settings.max_record_bytes)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable at each checkpoint
        return db

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            db = self._connect()
            try:
                db.execute(sql, args)
            finally:
                db.close()

    # --- records
    def save(self, key: str, ws: Workspace, now: float | None = None) -> tuple[int, list[str]]:
        """Write ``ws`` under ``key`` (replacing what was there; clears the running job).
        Returns (bytes written, extras keys left out). ``StoreError`` if it is too large."""
        payload, left_out = encode_workspace(ws)
        if _tensor_bytes(payload) > self.max_record_bytes:   # before serialising it at all
            raise self._too_large(_tensor_bytes(payload))
        buf = io.BytesIO()
        torch.save(payload, buf)
        blob = buf.getvalue()
        if len(blob) > self.max_record_bytes:
            raise self._too_large(len(blob))
        now = time.time() if now is None else now
        self._write("INSERT OR REPLACE INTO workspaces VALUES (?, ?, ?, ?, NULL, ?, ?)",
                    (_key_hash(key), RECORD_VERSION, now, now + self.ttl_seconds, len(blob),
                     sqlite3.Binary(blob)))
        return len(blob), left_out

    def _too_large(self, size: int) -> StoreError:
        return StoreError(f"your work is {size / 2**20:.0f} MB, more than the "
                          f"{self.max_record_bytes / 2**20:.0f} MB this server keeps per "
                          f"student, so it is not saved across restarts (a smaller model is)")

    def load(self, key: str, now: float | None = None) -> Loaded | None:
        """The saved workspace for ``key``; None if there is none (or it expired).
        ``StoreError`` (with the job, if any, in ``.job``) for a record that cannot be read."""
        now = time.time() if now is None else now
        db = self._connect()
        try:
            row = db.execute("SELECT version, saved_at, expires_at, job, blob FROM workspaces "
                             "WHERE key_hash = ?", (_key_hash(key),)).fetchone()
        finally:
            db.close()
        if row is None:
            return None
        version, saved_at, expires_at, job, blob = row
        if expires_at < now:
            self.delete(key)
            return None
        if blob is None:       # only a job marker: the job never finished a first save
            return Loaded(Workspace(), saved_at, job)
        if version != RECORD_VERSION:
            raise StoreError("your saved work comes from another version of the app")
        return Loaded(decode_workspace(bytes(blob)), saved_at, job)

    def saved_at(self, key: str) -> float | None:
        """When ``key``'s record was last written (None: no record)."""
        db = self._connect()
        try:
            row = db.execute("SELECT saved_at FROM workspaces WHERE key_hash = ?",
                             (_key_hash(key),)).fetchone()
        finally:
            db.close()
        return None if row is None else row[0]

    def delete(self, key: str) -> None:
        self._write("DELETE FROM workspaces WHERE key_hash = ?", (_key_hash(key),))

    # --- jobs
    def mark_job(self, key: str, label: str, now: float | None = None) -> None:
        """Note that a job (``label``, e.g. "Train") is running for ``key``. If the server
        stops before the job's result is saved, the next load reports it as stopped."""
        now = time.time() if now is None else now
        with self._lock:
            db = self._connect()
            try:
                updated = db.execute("UPDATE workspaces SET job = ? WHERE key_hash = ?",
                                     (label[:80], _key_hash(key))).rowcount
                if not updated:
                    db.execute("INSERT OR IGNORE INTO workspaces VALUES (?, ?, ?, ?, ?, 0, NULL)",
                               (_key_hash(key), RECORD_VERSION, now, now + self.ttl_seconds,
                                label[:80]))
            finally:
                db.close()

    def clear_job(self, key: str) -> None:
        self._write("UPDATE workspaces SET job = NULL WHERE key_hash = ?", (_key_hash(key),))

    # --- housekeeping
    def purge_expired(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._write("DELETE FROM workspaces WHERE expires_at < ?", (now,))

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the main file (at shutdown: the file alone is
        complete, e.g. for a backup)."""
        with self._lock:
            db = self._connect()
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()

    def count(self) -> int:
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM workspaces").fetchone()[0]
        finally:
            db.close()
