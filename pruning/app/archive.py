"""Look inside an uploaded ``torch.save`` file *before* ``torch.load`` touches it.

A ``torch.save`` file is a zip archive: ``<name>/data.pkl`` (the pickled object, in which
each tensor is a reference to a storage), one entry per storage (``<name>/data/0``, …) and a
few small bookkeeping entries. Zip entries may be DEFLATE-compressed, so a 1 MB upload can
declare (and inflate to) gigabytes, and ``torch.load`` allocates what the archive declares.
``inspect_archive`` therefore checks, with ``zipfile`` and without allocating more than the
limits:

1. it is a zip archive with at most ``MAX_ENTRIES`` entries;
2. the declared uncompressed sizes add up to at most ``max_total`` bytes, and each entry
   really inflates to its declared size (read in chunks, stopping at the limit: a lying
   header cannot make us allocate more);
3. ``data.pkl`` is at most ``MAX_PICKLE_BYTES``, and unpickling it with a restricted
   unpickler that knows only plain containers, tensors and storage types gives the object
   with every tensor replaced by a ``TensorSpec`` (dtype, shape, storage size): no storage is
   read, no other class is reachable, nothing runs;
4. every tensor's view fits inside its storage, and every storage entry has exactly the bytes
   its dtype and element count need.

The caller then compares the specs with the model the checkpoint's settings describe
(``pruning.app.checkpoint``) and only then calls ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import collections
import io
import math
import pickle
import pickletools
import zipfile
from dataclasses import dataclass

import torch

from pruning.errors import PruningError

MAX_ENTRIES = 256
MAX_PICKLE_BYTES = 1 * 2**20
_CHUNK = 1 * 2**20

#: ``torch.<Name>Storage`` (how ``torch.save`` names a storage's dtype) -> dtype.
STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}
_MAX_DIMS = 8


@dataclass(frozen=True)
class TensorSpec:
    """A tensor as the archive describes it, before any of its data is read."""

    dtype: torch.dtype
    shape: tuple[int, ...]
    storage_key: str
    storage_numel: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class _StorageType:
    dtype: torch.dtype


@dataclass(frozen=True)
class _StorageRef:
    dtype: torch.dtype
    key: str
    numel: int


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**62


def _rebuild_spec(storage, offset, size, stride, requires_grad=False, hooks=None,
                  metadata=None) -> TensorSpec:
    """Stands in for ``torch._utils._rebuild_tensor_v2``: checks the view, returns a spec."""
    if not isinstance(storage, _StorageRef):
        raise PruningError("a tensor in the file does not refer to a stored block of data")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and len(size) <= _MAX_DIMS and all(map(_whole, size)) and all(map(_whole, stride))
            and _whole(offset)):
        raise PruningError("a tensor in the file has an invalid shape")
    shape = tuple(size)
    if math.prod(shape):   # the last element the view reaches must lie inside the storage
        last = offset + sum((n - 1) * s for n, s in zip(shape, stride))
        if last >= storage.numel:
            raise PruningError("a tensor in the file reaches past the end of its data")
    return TensorSpec(storage.dtype, shape, storage.key, storage.numel)


class _SpecUnpickler(pickle.Unpickler):
    """Plain data, ordered dicts and tensors (as ``TensorSpec``); everything else refused."""

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_spec
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"global {module[:40]}.{name[:40]} is not allowed")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and len(pid[2]) <= 20 and _whole(pid[4])):
            raise PruningError("the file refers to its data in a way this app does not read")
        return _StorageRef(pid[1].dtype, pid[2], pid[4])


@dataclass(frozen=True)
class Inspection:
    """What ``inspect_archive`` found: the object with ``TensorSpec`` leaves, and sizes."""

    obj: object
    entries: int
    uncompressed_bytes: int


_CODE_MESSAGE = ("this file contains Python objects besides tensors and plain data, which "
                 "could run code when opened, so it was not opened. Export checkpoints from "
                 "this app, or save only tensors, numbers, strings, lists and dicts.")


def _pickle_imports(raw: bytes) -> bool:
    """Does ``raw`` (not a zip: a bare pickle, e.g. torch's legacy format) name any Python
    global? Read opcode by opcode with ``pickletools`` (nothing is built or run)."""
    if len(raw) > MAX_PICKLE_BYTES:
        return False
    try:
        ops = [op.name for op, _, _ in pickletools.genops(raw)]   # raises unless a whole pickle
    except Exception:
        return False
    return any(name in ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ") for name in ops)


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> int:
    """Inflate ``info`` in chunks and count its bytes, refusing past ``cap`` or a size
    different from the declared one; returns the byte count (the data is dropped)."""
    n = 0
    with zf.open(info) as f:
        while chunk := f.read(_CHUNK):
            n += len(chunk)
            if n > cap:
                raise PruningError("the file's contents unpack to more than they declare")
    return n


def inspect_archive(raw: bytes, max_total: int) -> Inspection:
    """Check the archive (module docstring) and return its object with tensor specs.
    Raises ``PruningError`` with a message for the uploader."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        if _pickle_imports(raw):
            raise PruningError(_CODE_MESSAGE) from None
        raise PruningError("this is not a readable PyTorch checkpoint (not the zip archive "
                           "torch.save writes; it may be damaged or another kind of file)") from None
    with zf:
        if len(infos) > MAX_ENTRIES:
            raise PruningError(f"the file holds {len(infos):,} parts; a checkpoint has at "
                               f"most {MAX_ENTRIES}")
        declared = sum(i.file_size for i in infos)
        if declared > max_total:
            raise PruningError(f"the file unpacks to {declared / 2**20:,.0f} MB; checkpoints "
                               f"up to {max_total / 2**20:.0f} MB unpacked are accepted")
        pickles = [i for i in infos if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
        if len(pickles) != 1:
            raise PruningError("this is not a readable PyTorch checkpoint (no single data.pkl)")
        prefix = pickles[0].filename[:-len("data.pkl")]
        if pickles[0].file_size > MAX_PICKLE_BYTES:
            raise PruningError(f"the file's description part is {pickles[0].file_size / 2**20:.1f}"
                               f" MB; at most {MAX_PICKLE_BYTES // 2**20} MB is accepted")
        sizes = {}
        try:
            for info in infos:
                sizes[info.filename] = _read_capped(zf, info, info.file_size)
                if sizes[info.filename] != info.file_size:
                    raise PruningError("the file's contents unpack to a different size than "
                                       "they declare")
            pkl = zf.read(pickles[0])
        except PruningError:
            raise
        except Exception as exc:   # CRC errors, unsupported compression, truncated data …
            raise PruningError(f"this is not a readable PyTorch checkpoint (a damaged part: "
                               f"{type(exc).__name__})") from None
    try:
        obj = _SpecUnpickler(io.BytesIO(pkl)).load()
    except PruningError:
        raise
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():
            raise PruningError(_CODE_MESSAGE) from None
        raise PruningError("this is not a readable PyTorch checkpoint (its description part "
                           "is damaged)") from None
    except Exception as exc:
        raise PruningError(f"this is not a readable PyTorch checkpoint (its description part "
                           f"is damaged: {type(exc).__name__})") from None
    for spec in _specs(obj):
        entry = f"{prefix}data/{spec.storage_key}"
        need = spec.storage_numel * spec.dtype.itemsize
        if sizes.get(entry) != need:
            raise PruningError("a tensor's data in the file does not have the size its "
                               "description says")
    return Inspection(obj, len(infos), declared)


def _specs(obj, depth: int = 0):
    """Every ``TensorSpec`` in dicts and lists up to a small depth (a checkpoint nests 3)."""
    if isinstance(obj, TensorSpec):
        yield obj
    elif depth < 6 and isinstance(obj, dict):
        for v in obj.values():
            yield from _specs(v, depth + 1)
    elif depth < 6 and isinstance(obj, (list, tuple)):
        for v in obj[:10_000]:
            yield from _specs(v, depth + 1)
