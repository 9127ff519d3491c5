"""How many bytes a pruned model needs when its zeros are not stored: real encodings, counted.

``pruning.labs.measure.storage_sizes`` measures torch's own files, whose sparse tensors carry
int64 indices (8 bytes per kept weight, 16 for COO) — more than the 4-byte value they point
to. Deployments use narrower indices. This module *encodes* every Linear / Conv2d weight
(conv filters as the (out, in·kh·kw) matrix) into actual bytes and reports ``len()`` of them;
``decode`` turns them back into the matrix, and the tests check the round trip, so no number
here is an estimate. Biases and every other tensor are stored as plain float32 in every format.
No container or file header is included (torch's zip adds about 1–2 KB per file), so compare
these formats with each other, and torch's files with each other.

Formats (``FORMATS``), for a weight matrix W (rows × cols) with nnz non-zeros:

* ``dense float32``          4 · rows · cols bytes: zeros cost as much as any weight.
* ``CSR, 32-bit indices``    values 4·nnz + column indices 4·nnz + row pointers 4·(rows + 1).
* ``CSR, 16-bit indices``    column indices 2·nnz (needs cols ≤ 65,536; else not available).
* ``relative 5-bit indices`` Han et al., *Deep Compression* (ICLR 2016), §3: walk W row-major,
  store each non-zero with the *gap* to the previous one in 5 bits (their width for fully
  connected layers). A gap larger than 2⁵ = 32 is bridged with filler entries (value 0, gap
  32) — their "zero padding" — each costing a value and an index too. Bits are packed, the
  total rounded up to whole bytes per tensor.
* ``… + int8 values``        the same relative layout with each value one signed byte,
  w ≈ scale · q, q = round(w / scale), scale = max|w| / 127 per tensor (4 bytes). Zeros stay
  exactly zero. Where this differs from Deep Compression: they cluster the weights into 2⁵
  shared values (k-means, retrained) and Huffman-code values and indices; we quantize
  linearly to 8 bits and do not Huffman-code, so their sizes are smaller than ours.

The accuracy cost of int8 values is measured separately, with torch's own dynamic quantization
(``pruning.labs.shrink``); this module only counts bytes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

DENSE32, CSR32, CSR16, REL5, REL5_INT8 = ("dense float32", "CSR, 32-bit indices",
                                          "CSR, 16-bit indices", "relative 5-bit indices",
                                          "relative 5-bit indices + int8 values")
FORMATS = (DENSE32, CSR32, CSR16, REL5, REL5_INT8)
#: Formats with float32 values (same numbers as the model): the trade-off curve's size axis.
LOSSLESS = (DENSE32, CSR32, CSR16, REL5)
GAP_BITS = 5


def _weight_matrices(model: nn.Module) -> dict[str, np.ndarray]:
    """{state_dict key: float32 matrix (out, in·kh·kw)} of every Linear / Conv2d weight."""
    out = {}
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            w = mod.weight.detach().reshape(mod.weight.shape[0], -1)
            out[f"{name}.weight" if name else "weight"] = w.to(torch.float32).numpy()
    return out


# ----------------------------------------------------------------------------- encoders
def encode_csr(w: np.ndarray, index_dtype) -> bytes:
    """values (float32) ‖ column indices (``index_dtype``) ‖ row pointers (int32)."""
    rows, cols = np.nonzero(w)
    ptr = np.zeros(w.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=w.shape[0]), out=ptr[1:])
    return (w[rows, cols].astype(np.float32).tobytes() + cols.astype(index_dtype).tobytes()
            + ptr.tobytes())


def _relative_entries(w: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, gaps) of the relative layout, filler entries included (module docstring)."""
    flat = w.reshape(-1)
    pos = np.flatnonzero(flat)
    gaps = np.diff(np.concatenate(([-1], pos)))           # ≥ 1: distance to the previous entry
    limit = 2 ** bits
    fillers = (gaps - 1) // limit                         # entries needed to bridge a long gap
    n = len(pos) + int(fillers.sum())
    values = np.zeros(n, dtype=np.float32)
    codes = np.full(n, limit - 1, dtype=np.int64)         # fillers: gap 32, stored as 31
    at = np.arange(len(pos)) + np.cumsum(fillers)         # where each real entry lands
    values[at] = flat[pos]
    codes[at] = gaps - fillers * limit - 1                 # gap 1 … 32 stored as 0 … 31
    return values, codes


def _pack_bits(codes: np.ndarray, bits: int) -> bytes:
    as_bits = ((codes[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8)
    return np.packbits(as_bits.reshape(-1)).tobytes()


def encode_relative(w: np.ndarray, bits: int = GAP_BITS, int8: bool = False) -> bytes:
    """Deep Compression's relative layout: values ‖ packed ``bits``-bit gaps (see module doc);
    with ``int8`` the values are one byte each, preceded by the float32 scale."""
    values, codes = _relative_entries(w, bits)
    if int8:
        scale = float(np.abs(values).max()) / 127 if len(values) else 1.0
        q = np.round(values / (scale or 1.0)).astype(np.int8)
        head = np.float32(scale).tobytes() + q.tobytes()
    else:
        head = values.tobytes()
    return head + _pack_bits(codes, bits)


def decode_relative(data: bytes, shape: tuple[int, int], n_entries: int,
                    bits: int = GAP_BITS, int8: bool = False) -> np.ndarray:
    """The matrix back from ``encode_relative``'s bytes (``n_entries``: stored entries)."""
    if int8:
        scale = float(np.frombuffer(data[:4], dtype=np.float32)[0])
        values = np.frombuffer(data[4:4 + n_entries], dtype=np.int8).astype(np.float32) * scale
        rest = data[4 + n_entries:]
    else:
        values = np.frombuffer(data[:4 * n_entries], dtype=np.float32)
        rest = data[4 * n_entries:]
    bit_array = np.unpackbits(np.frombuffer(rest, dtype=np.uint8))[:n_entries * bits]
    codes = bit_array.reshape(n_entries, bits) @ (1 << np.arange(bits - 1, -1, -1))
    positions = np.cumsum(codes + 1) - 1
    flat = np.zeros(shape[0] * shape[1], dtype=np.float32)
    keep = values != 0
    flat[positions[keep]] = values[keep]
    return flat.reshape(shape)


def relative_entry_count(w: np.ndarray, bits: int = GAP_BITS) -> int:
    """Entries (real + filler) the relative layout stores for ``w``."""
    return len(_relative_entries(w, bits)[0])


def decode_csr(data: bytes, shape: tuple[int, int], nnz: int, index_dtype) -> np.ndarray:
    """The matrix back from ``encode_csr``'s bytes."""
    isz = np.dtype(index_dtype).itemsize
    values = np.frombuffer(data[:4 * nnz], dtype=np.float32)
    cols = np.frombuffer(data[4 * nnz:4 * nnz + isz * nnz], dtype=index_dtype).astype(np.int64)
    ptr = np.frombuffer(data[(4 + isz) * nnz:], dtype=np.int32)
    rows = np.repeat(np.arange(shape[0]), np.diff(ptr))
    out = np.zeros(shape, dtype=np.float32)
    out[rows, cols] = values
    return out


# ----------------------------------------------------------------------------- per model
def encoded_weight_bytes(w: np.ndarray, fmt: str) -> int | None:
    """Bytes of one weight matrix in ``fmt`` (None: the format cannot hold it)."""
    if fmt == DENSE32:
        return len(w.astype(np.float32).tobytes())
    if fmt == CSR32:
        return len(encode_csr(w, np.int32))
    if fmt == CSR16:
        return len(encode_csr(w, np.uint16)) if w.shape[1] <= 2 ** 16 else None
    if fmt == REL5:
        return len(encode_relative(w))
    if fmt == REL5_INT8:
        return len(encode_relative(w, int8=True))
    raise ValueError(f"unknown storage format {fmt!r}")


def encoded_sizes(model: nn.Module) -> dict[str, int | None]:
    """{format: bytes of the whole model} (weights encoded, everything else float32)."""
    weights = _weight_matrices(model)
    other = sum(v.numel() * 4 for k, v in model.state_dict().items()
                if k not in weights and v.is_floating_point())
    sizes = {}
    for fmt in FORMATS:
        parts = [encoded_weight_bytes(w, fmt) for w in weights.values()]
        sizes[fmt] = None if any(p is None for p in parts) else other + sum(parts)
    return sizes


def smallest_lossless(sizes: dict[str, int | None]) -> tuple[str, int]:
    """(format, bytes) of the smallest format that keeps the float32 values exactly."""
    options = [(sizes[f], f) for f in LOSSLESS if sizes.get(f) is not None]
    nbytes, fmt = min(options)
    return fmt, nbytes
