"""How numbers read on every page: one percentage rule, one points rule.

``pct`` never rounds a share that is not exactly 0 or 1 to "0.0 %" or "100.0 %" (99.97 % reads
"> 99.9 %"), so "all" and "none" are only said when true.
"""
from __future__ import annotations

import math


def pct(x: float | None, digits: int = 1) -> str:
    """``0.9 → "90.0 %"``, ``0.99997 → "> 99.9 %"``, ``None``/NaN → ``"n/a"``."""
    if x is None or not math.isfinite(x):
        return "n/a"
    text = f"{100 * x:.{digits}f}"
    unit = 10.0 ** -digits
    if 0 < x < 1 and float(text) >= 100:
        return f"> {100 - unit:.{digits}f} %"
    if 0 < x < 1 and float(text) <= 0:
        return f"< {unit:.{digits}f} %"
    return f"{text} %"


def points(d: float, digits: int = 1) -> str:
    """A difference of two fractions in percentage points, signed: ``0.012 → "+1.2 points"``."""
    return f"{100 * d:+.{digits}f} points"
