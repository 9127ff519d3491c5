"""One exception type for every bad input, so callers (pages, CLI) can show its message.

Messages are written for the person who typed the value: what was wrong and what is allowed.
"""


class PruningError(ValueError):
    """A bad argument or an impossible request; the message says what to do instead."""


class DatasetUnavailable(PruningError):
    """A data set that must be downloaded could not be (no network, no files on disk)."""


def check_fraction(name: str, value: float, *, allow_one: bool = True) -> float:
    """Return ``value`` as float if it is a number in [0, 1] (or [0, 1) when not allow_one)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PruningError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if v != v:  # NaN
        raise PruningError(f"{name} must be a number between 0 and 1, got NaN")
    hi_ok = v <= 1.0 if allow_one else v < 1.0
    if v < 0.0 or not hi_ok:
        upper = "1" if allow_one else "1 (exclusive)"
        raise PruningError(f"{name} must be between 0 and {upper}, got {v:g}")
    return v


def check_choice(name: str, value: str, choices) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list the valid ones."""
    if value not in choices:
        valid = ", ".join(sorted(choices))
        raise PruningError(f"unknown {name} {value!r}; choose one of: {valid}")
    return value


#: Seeds are whole numbers 0 … 2³¹ − 1: every generator (torch, numpy) takes them, also after
#: the small per-purpose offsets the code adds (``seed + 7919`` for label noise, …).
LARGEST_SEED = 2**31 - 1


def check_seed(value, name: str = "seed") -> int:
    """A seed as an ``int`` in 0 … ``LARGEST_SEED``, or a ``PruningError`` that says so."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= LARGEST_SEED:
        shown = value if isinstance(value, (int, float)) and abs(value) < 1e30 else type(value).__name__
        raise PruningError(f"{name} must be a whole number from 0 to {LARGEST_SEED}, got {shown!r}")
    return value


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise PruningError(f"{name} must be a whole number, got {value!r}") from None
    if v != value and not (isinstance(value, float) and value.is_integer()):
        raise PruningError(f"{name} must be a whole number, got {value!r}")
    if v < minimum:
        raise PruningError(f"{name} must be at least {minimum}, got {v}")
    return v
