"""Writing results for other programs: JSON that every parser accepts."""
from __future__ import annotations

import json
import math


def json_safe(obj):
    """NaN and ±inf are not valid JSON: write ``null`` instead (recursively in dicts and lists)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(json_safe(obj), f, indent=2)
