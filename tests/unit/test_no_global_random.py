"""Every random draw in ``pruning/`` comes from a generator made from a seed, never from the
global generators (``torch.manual_seed``, ``np.random.seed``, the ``random`` module).

Why: every Streamlit session runs in a thread of one server process and the global generators
are process-wide, so two students pressing Train at the same moment would draw from each
other's stream and the same link would stop giving the same numbers.
"""
from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
import torch

from pruning import DataConfig, ModelConfig, build_model, load_dataset

PKG = Path(__file__).resolve().parents[2] / "pruning"

#: torch functions that draw random numbers; they must be given ``generator=``.
TORCH_DRAWS = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like",
               "randint_like", "bernoulli", "multinomial", "normal", "poisson"}
#: in-place tensor methods and ``nn.init`` functions that draw; they need ``generator=``.
INPLACE_DRAWS = {"uniform_", "normal_", "random_", "bernoulli_", "exponential_", "cauchy_",
                 "geometric_", "log_normal_", "kaiming_uniform_", "kaiming_normal_",
                 "xavier_uniform_", "xavier_normal_", "trunc_normal_", "orthogonal_", "sparse_"}
#: touching the global generators: seeding them or drawing from them.
GLOBAL_SEEDS = {("torch", "manual_seed"), ("torch", "seed"), ("torch", "set_rng_state")}
NUMPY_ALLOWED = {"default_rng", "Generator", "PCG64", "SeedSequence", "get_state", "set_state"}
RANDOM_ALLOWED = {"getstate", "setstate", "Random"}
GLOBAL_LAYERS = {"Dropout", "dropout", "Dropout1d", "Dropout2d", "AlphaDropout"}


def _dotted(node) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def global_random_uses(source: str, filename: str = "<string>") -> list[str]:
    """Lines of ``source`` that seed or draw from a global generator."""
    hits = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if not name:
            continue
        has_generator = any(k.arg == "generator" for k in node.keywords)
        where = f"{filename}:{node.lineno} {'.'.join(name)}"
        if len(name) >= 2 and name[0] in ("np", "numpy") and name[1] == "random" \
                and len(name) == 3 and name[2] not in NUMPY_ALLOWED:
            hits.append(where)
        elif name[0] == "random" and len(name) == 2 and name[1] not in RANDOM_ALLOWED:
            hits.append(where)
        elif tuple(name[-2:]) in GLOBAL_SEEDS and (len(name) == 2 or name[-3:-1] == ["torch", "random"]):
            hits.append(where)
        elif name[:2] == ["torch", "random"] and name[-1] == "manual_seed":
            hits.append(where)
        elif name[0] == "torch" and len(name) == 2 and name[1] in TORCH_DRAWS and not has_generator:
            hits.append(where)
        elif name[-1] in INPLACE_DRAWS and not has_generator:
            hits.append(where)
        elif name[-1] in GLOBAL_LAYERS:
            hits.append(where)
    return hits


@pytest.mark.parametrize("snippet", [
    "import torch\ntorch.manual_seed(0)",
    "import torch\ntorch.random.manual_seed(0)",
    "import numpy as np\nnp.random.seed(0)",
    "import numpy as np\nx = np.random.rand(3)",
    "import random\nrandom.shuffle(xs)",
    "import torch\nx = torch.randn(3)",
    "import torch\nx = torch.randperm(5)",
    "w.uniform_(-1, 1)",
    "from torch import nn\nnn.init.kaiming_uniform_(w)",
    "from torch import nn\nlayer = nn.Dropout(0.5)",
])
def test_detector_finds_global_random_state(snippet):
    assert global_random_uses(snippet)


def test_detector_accepts_seeded_generators():
    ok = ("g = torch.Generator().manual_seed(3)\nx = torch.rand(3, generator=g)\n"
          "rng = np.random.default_rng(0)\nrng.permutation(5)\nw.uniform_(0, 1, generator=g)\n"
          "s = np.random.get_state()\nnp.random.set_state(s)\n")
    assert global_random_uses(ok) == []


def test_pruning_uses_no_global_random_state():
    files = sorted(PKG.rglob("*.py"))
    hits = [h for f in files for h in global_random_uses(f.read_text(encoding="utf-8"), str(f))]
    assert hits == []


def test_building_a_model_leaves_the_global_generator_alone():
    before = torch.get_rng_state()
    build_model(ModelConfig(hidden=(32, 16)), 64, 10, seed=5)
    assert torch.equal(torch.get_rng_state(), before)


def test_models_built_in_parallel_threads_equal_models_built_alone():
    """The server's situation: many sessions build models at once, each with its own seed."""
    cfg = ModelConfig(hidden=(1024, 1024, 1024))   # large draws: torch lets other threads run
    alone = {s: build_model(cfg, 64, 10, seed=s).state_dict() for s in range(4)}
    together, barrier = {}, threading.Barrier(4)

    def build(seed):
        barrier.wait()
        together[seed] = build_model(cfg, 64, 10, seed=seed).state_dict()

    threads = [threading.Thread(target=build, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(4):
        assert all(torch.equal(alone[s][k], together[s][k]) for k in alone[s]), s


def test_mnist1d_generated_in_parallel_threads_equals_alone():
    cfgs = [DataConfig(name="mnist1d", n_samples=400, seed=s) for s in (1, 2, 3)]
    alone = [load_dataset(c).X_train for c in cfgs]
    together, barrier = {}, threading.Barrier(3)

    def make(i):
        barrier.wait()
        together[i] = load_dataset(cfgs[i]).X_train

    threads = [threading.Thread(target=make, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(torch.equal(alone[i], together[i]) for i in range(3))
