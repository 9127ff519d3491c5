# Make ``import pruning`` work when running ``pytest tests`` from the repo root
# (pytest.ini's ``pythonpath = .`` does the same; this keeps other runners working too).
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
