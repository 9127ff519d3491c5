"""The pruned model as a plain PyTorch checkpoint, and reading one back *safely*.

File format (``torch.save`` of one dict; every value is a type ``torch.load(weights_only=True)``
accepts — dicts, lists, str, int, float, bool, None and tensors — so no code is needed to read
it and none can run while reading it)::

    {
      "format": "pruning-playground/checkpoint", "version": 2,
      "stage": "finetuned" | "pruned",        # which weights "state_dict" holds
      "data_config":  {...}, "model_config": {...},      # the dataclasses in pruning.config,
      "train_config": {...}, "prune_config": {...},      # tuples written as lists
      "state_dict":       {name: float tensor},   # the pruned model: zeros where pruned
      "masks":            {name: bool tensor},    # True = kept, same shape as the parameter
      "dense_state_dict": {name: float tensor},   # the trained dense model it came from
      "dense_history":    {column: [numbers]},    # its training curves
      "metrics":          {"dense": {...}, "pruned": {...}},
    }

In your own project: ``ckpt = torch.load("pruned_model.pt", weights_only=True)`` and
``model.load_state_dict(ckpt["state_dict"])``.

Reading an uploaded file (``read_checkpoint``) trusts nothing: size limit first, then
``torch.load(..., weights_only=True)`` (a pickle that would import or call anything is
refused by torch's restricted unpickler before it can run), then every field is checked:
configs valid, tensor names and shapes equal to the model the configs describe, masks boolean
with their parameter's shape, pruned weights really zero. Any failure is one ``PruningError``
with a message for the person who uploaded the file.
"""
from __future__ import annotations

import io
import math
import pickle
import reprlib
import types
import typing
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Callable, Mapping

import pandas as pd
import torch

from pruning.app.archive import TensorSpec, inspect_archive
from pruning.config import (
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_WIDTH,
    DataConfig,
    ModelConfig,
    PruneConfig,
    TrainConfig,
)
from pruning.core.data import DataBundle, validate_data_config
from pruning.core.models import MLP, SmallCNN, build_model, prunable_names
from pruning.core.records import FinetunedModel, PrunedModel, TrainedModel
from pruning.core.training import evaluate_all, validate_train_config
from pruning.errors import PruningError
from pruning.loop.experiment import validate_prune_config

FORMAT = "pruning-playground/checkpoint"
#: 2: the CNN's head reads a 4×4 grid of pooled regions (``SmallCNN.HEAD_GRID``) instead of one
#: global average per channel. Version 1 MLPs are unchanged and still read; version 1 CNNs are
#: refused with a message (their head has the old shape).
VERSION = 2
#: Uploads above this are refused before anything is parsed (a 784-300-100 MLP checkpoint,
#: dense + pruned + masks, is about 2.5 MB).
MAX_CHECKPOINT_BYTES = 25 * 1024 * 1024
_MAX_HISTORY_ROWS = 20_000


@dataclass
class Checkpoint:
    """A validated checkpoint (what ``read_checkpoint`` returns)."""

    data_config: DataConfig
    model_config: ModelConfig
    train_config: TrainConfig
    prune_config: PruneConfig
    stage: str
    state: dict[str, torch.Tensor]
    masks: dict[str, torch.Tensor]
    dense_state: dict[str, torch.Tensor] | None
    dense_history: pd.DataFrame | None
    metrics: dict


# ----------------------------------------------------------------------------- writing
def _plain(value):
    """Tuples -> lists, recursively (a checkpoint holds only plain containers)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _floats(d: Mapping) -> dict[str, float]:
    return {str(k): float(v) for k, v in d.items() if isinstance(v, (int, float))}


def _tensors(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def checkpoint_dict(trained: TrainedModel, pruned: PrunedModel,
                    finetuned: FinetunedModel | None = None) -> dict:
    """The checkpoint of the most advanced pruned model (fine-tuned if there is one)."""
    final = finetuned if finetuned is not None else pruned
    history = trained.history
    return {
        "format": FORMAT, "version": VERSION,
        "stage": "finetuned" if finetuned is not None else "pruned",
        "data_config": _plain(asdict(trained.data_config)),
        "model_config": _plain(asdict(trained.model_config)),
        "train_config": _plain(asdict(trained.train_config)),
        "prune_config": _plain(asdict(pruned.prune_config)),
        "state_dict": _tensors(final.state),
        "masks": {k: v.detach().cpu().bool().clone() for k, v in final.masks.items()},
        "dense_state_dict": _tensors(trained.state),
        "dense_history": {str(c): [float(x) for x in history[c]] for c in history.columns}
                         if history is not None and len(history) else {},
        "metrics": {"dense": _floats(trained.metrics), "pruned": _floats(final.metrics)},
    }


def checkpoint_bytes(trained: TrainedModel, pruned: PrunedModel,
                     finetuned: FinetunedModel | None = None) -> bytes:
    """``checkpoint_dict`` saved with ``torch.save`` (the bytes of a ``.pt`` file)."""
    buf = io.BytesIO()
    torch.save(checkpoint_dict(trained, pruned, finetuned), buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------- reading
def check_upload_size(raw: bytes, max_bytes: int) -> None:
    size = len(raw)
    if size == 0:
        raise PruningError("the file is empty")
    if size > max_bytes:
        raise PruningError(f"the file is {size / 2**20:.1f} MB; checkpoints up to "
                           f"{max_bytes / 2**20:.0f} MB are accepted")


def max_unpacked(max_bytes: int) -> int:
    """What an accepted file may unpack to: ``torch.save`` stores its parts uncompressed, so
    a real checkpoint unpacks to about its own size (plus the zip's few headers)."""
    return max_bytes + 2**20


def load_untrusted(raw: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES):
    """``torch.load`` of bytes from a stranger: size-checked, ``weights_only=True``, on the CPU.

    Every failure becomes a ``PruningError``; nothing in the file is executed.
    """
    check_upload_size(raw, max_bytes)
    inspect_archive(raw, max_unpacked(max_bytes))   # before torch.load allocates anything
    try:
        with warnings.catch_warnings():  # torch's notes about sparse checks are not for users
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's restricted unpickler names the import it refused ("Unsupported global"); any
        # other refusal is a byte stream that is not a pickle of plain data at all.
        if "global" in str(exc).lower():
            raise PruningError(
                "this file contains Python objects besides tensors and plain data, which could "
                "run code when opened, so it was not opened. Export checkpoints from this app, "
                "or save only tensors, numbers, strings, lists and dicts.") from None
        raise PruningError("this is not a readable PyTorch checkpoint (it may be damaged or "
                           "another kind of file)") from None
    except Exception as exc:  # anything else from parsing random bytes: not a checkpoint
        raise PruningError(f"this is not a readable PyTorch checkpoint (it may be truncated "
                           f"or another kind of file; {type(exc).__name__})") from None


def _check_value(where: str, name: str, value, hint) -> None:
    """Type-check one config field against its annotation (int, float, str, bool, None,
    tuple[int, ...] — the only kinds the configs use)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    options = args if origin in (typing.Union, types.UnionType) else (hint,)
    for opt in options:
        if opt is type(None) and value is None:
            return
        if opt is bool and isinstance(value, bool):
            return
        if opt is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if opt is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(float(value)):
                return
        if opt is str and isinstance(value, str) and len(value) <= 100:
            return
        if typing.get_origin(opt) is tuple and isinstance(value, (list, tuple)) \
                and len(value) <= 16 and all(isinstance(v, int) and not isinstance(v, bool)
                                             for v in value):
            return
    raise PruningError(f"{where}: {name} has an invalid value {str(value)[:40]!r}")


def _config(cls, raw, where: str):
    if not isinstance(raw, dict):
        raise PruningError(f"the checkpoint's {where} is missing or not a dictionary")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(str(k)[:40] for k in raw if k not in names)
    if unknown:
        raise PruningError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for k, v in raw.items():
        _check_value(where, k, v, hints[k])
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**values)


def _state(raw, where: str, expected: Mapping[str, torch.Tensor], dtype_kind: str) -> dict:
    """Check a {name: tensor} dict against the expected names and shapes."""
    if not isinstance(raw, dict):
        raise PruningError(f"the checkpoint's {where} is missing or not a dictionary")
    missing = [k for k in expected if k not in raw]
    extra = [str(k)[:40] for k in raw if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:5]))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:5]))
        raise PruningError(f"{where} does not fit the configured model ({'; '.join(parts)})")
    out = {}
    for k, ref in expected.items():
        t = raw[k]
        if not torch.is_tensor(t) or t.layout != torch.strided:
            raise PruningError(f"{where}: {k} is not an ordinary (dense) tensor")
        if tuple(t.shape) != tuple(ref.shape):
            raise PruningError(f"{where}: {k} has shape {tuple(t.shape)}, the configured model "
                               f"needs {tuple(ref.shape)}")
        if dtype_kind == "bool":
            if t.dtype != torch.bool:
                raise PruningError(f"{where}: the mask of {k} must be boolean, got {t.dtype}")
        else:
            if not t.is_floating_point():
                raise PruningError(f"{where}: {k} must hold floating-point numbers, got {t.dtype}")
            if not torch.isfinite(t).all():
                raise PruningError(f"{where}: {k} contains NaN or infinite values")
            t = t.to(ref.dtype)
        out[k] = t.clone()
    return out


def _metrics(raw) -> dict:
    """``{"dense": {name: number}, "pruned": {…}}``, small and finite (the app measures the
    numbers again; these are only what the exporter saw)."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict) or len(raw) > 4 or \
            not all(isinstance(k, str) and isinstance(v, dict) and len(v) <= 32
                    for k, v in raw.items()):
        raise PruningError("the checkpoint's metrics must map 'dense' and 'pruned' to a few "
                           "named numbers")
    out = {}
    for k, d in raw.items():
        for name, v in d.items():
            if not isinstance(name, str) or len(name) > 40 or isinstance(v, bool) or \
                    not isinstance(v, (int, float)) or not math.isfinite(v):
                raise PruningError(f"the checkpoint's metrics for {k[:20]!r} must be finite "
                                   "numbers")
        out[k[:20]] = {n: float(v) for n, v in d.items()}
    return out


def _history(raw) -> pd.DataFrame | None:
    if not raw:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise PruningError("the checkpoint's dense_history must map column names to lists")
    lengths = {len(v) for v in raw.values()}
    if len(lengths) != 1 or lengths.pop() > _MAX_HISTORY_ROWS:
        raise PruningError("the checkpoint's dense_history columns differ in length or are too long")
    for k, col in raw.items():
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in col):
            raise PruningError(f"dense_history column {str(k)[:40]!r} must hold numbers only")
    return pd.DataFrame({str(k): v for k, v in raw.items()})


#: What an uploaded checkpoint's data settings may ask for (the app itself makes 1,000
#: samples of a generated set, holds out 20 % + 20 %, and its sidebar keeps at most 100,000
#: training examples): checked before any data is built, so a file cannot make the server
#: generate a huge data set only to refuse it afterwards.
UPLOAD_MAX_SAMPLES = 20_000
UPLOAD_MAX_TRAIN_SIZE = 100_000
UPLOAD_MIN_HELD_OUT = 0.05

#: Inputs, classes and image shape of every data set, so a checkpoint's model can be checked
#: before its data is loaded (tests/unit/app/test_checkpoint.py compares with the real data).
DATASET_SHAPES = {
    "digits": (64, 10, (1, 8, 8)), "mnist": (784, 10, (1, 28, 28)),
    "fashion_mnist": (784, 10, (1, 28, 28)), "mnist1d": (40, 10, None),
    "moons": (2, 2, None), "circles": (2, 2, None), "spirals": (2, 2, None), "xor": (2, 2, None),
}


def checkpoint_data_config(obj) -> DataConfig:
    """The (validated) data config of a loaded checkpoint: which data set to load before the
    tensors can be checked against the model. Also bounded to what an upload may ask for
    (``UPLOAD_MAX_SAMPLES`` …, non-empty held-out splits), before anything is built."""
    _check_header(obj)
    dc = validate_data_config(_config(DataConfig, obj.get("data_config"), "data_config"))
    if dc.n_samples > UPLOAD_MAX_SAMPLES:
        raise PruningError(f"the checkpoint asks for a data set of {dc.n_samples:,} samples; "
                           f"uploads may use at most {UPLOAD_MAX_SAMPLES:,} (this app makes "
                           f"{DataConfig().n_samples:,})")
    if dc.train_size is not None and dc.train_size > UPLOAD_MAX_TRAIN_SIZE:
        raise PruningError(f"the checkpoint's training-set size must be at most "
                           f"{UPLOAD_MAX_TRAIN_SIZE:,}")
    for what, frac in (("validation", dc.val_fraction), ("test", dc.test_fraction)):
        if frac < UPLOAD_MIN_HELD_OUT:
            raise PruningError(f"the checkpoint's {what} split would be empty or nearly "
                               f"(fraction {float(frac):.3g}; at least {UPLOAD_MIN_HELD_OUT:g} "
                               "is needed to measure anything)")
    return dc


def _expected_shapes(mc: ModelConfig, dc: DataConfig) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of the model ``mc`` describes for ``dc``'s data, built on the meta
    device (shapes only: nothing is allocated, whatever sizes the file claims)."""
    n_features, n_classes, image = DATASET_SHAPES[dc.name]
    if mc.kind == "mlp":
        if not 1 <= len(mc.hidden) <= MAX_HIDDEN_LAYERS or \
                any(not 1 <= h <= MAX_HIDDEN_WIDTH for h in mc.hidden):
            raise PruningError(f"model_config: hidden sizes must be 1 to {MAX_HIDDEN_LAYERS} "
                               f"numbers from 1 to {MAX_HIDDEN_WIDTH}")
        with torch.device("meta"):
            model = MLP(n_features, n_classes, tuple(mc.hidden))
    elif mc.kind == "cnn":
        if image is None:
            raise PruningError("the checkpoint's CNN needs image data")
        if not 1 <= len(mc.channels) <= 4 or any(not 1 <= c <= 256 for c in mc.channels):
            raise PruningError("model_config: CNN channels must be 1 to 4 numbers from 1 to 256")
        with torch.device("meta"):
            model = SmallCNN(image, n_classes, tuple(mc.channels))
    else:
        raise PruningError("model_config: kind must be 'mlp' or 'cnn'")
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _check_spec_dict(raw, where: str, expected: Mapping[str, tuple], kind: str,
                     subset: bool = False) -> None:
    if not isinstance(raw, dict):
        raise PruningError(f"the checkpoint's {where} is missing or not a dictionary")
    if len(raw) > 64:
        raise PruningError(f"the checkpoint's {where} has {len(raw)} entries; the model has "
                           f"{len(expected)}")
    missing = [] if subset else [k for k in expected if k not in raw]
    extra = [str(k)[:40] for k in raw if k not in expected]
    if missing or extra:
        parts = (["missing " + ", ".join(missing[:5])] if missing else []) + \
                (["unexpected " + ", ".join(extra[:5])] if extra else [])
        if kind == "bool" and extra and not missing:
            raise PruningError(f"masks name parameters the model cannot prune: "
                               f"{', '.join(extra[:5])}")
        raise PruningError(f"{where} does not fit the configured model ({'; '.join(parts)})")
    for k, spec in raw.items():
        if not isinstance(spec, TensorSpec):
            raise PruningError(f"{where}: {str(k)[:40]} is not an ordinary (dense) tensor")
        if spec.shape != expected[k]:
            raise PruningError(f"{where}: {k} has shape {spec.shape}, the configured model "
                               f"needs {expected[k]}")
        if kind == "bool" and spec.dtype != torch.bool:
            raise PruningError(f"{where}: the mask of {k} must be boolean, got {spec.dtype}")
        if kind == "float" and not spec.dtype.is_floating_point:
            raise PruningError(f"{where}: {k} must hold floating-point numbers, got {spec.dtype}")


def check_tensor_specs(specs, dc: DataConfig) -> None:
    """Before ``torch.load``: the archive's tensors (``TensorSpec``, from
    ``pruning.app.archive``) have exactly the names, shapes and dtypes of the model the
    checkpoint's settings describe, so loading allocates only what that model needs."""
    mc = _config(ModelConfig, specs.get("model_config"), "model_config")
    expected = _expected_shapes(mc, dc)
    _check_spec_dict(specs.get("state_dict"), "state_dict", expected, "float")
    if specs.get("dense_state_dict") is not None:
        _check_spec_dict(specs["dense_state_dict"], "dense_state_dict", expected, "float")
    masks = specs.get("masks")
    if not isinstance(masks, dict) or not masks:
        raise PruningError("the checkpoint has no masks")
    _check_spec_dict(masks, "masks", expected, "bool", subset=True)


def _short_repr(value) -> str:
    """At most a few dozen characters of ``value``, however large or deep it is."""
    short = reprlib.Repr()   # (keyword arguments only from Python 3.12)
    short.maxlevel, short.maxlist, short.maxdict = 2, 4, 4
    short.maxstring = short.maxother = short.maxlong = 20
    return short.repr(value)


def _check_header(obj) -> None:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise PruningError("this file is a PyTorch file but not a Pruning Playground checkpoint "
                           "(export one from the 'What shrank?' page)")
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION:
        # Never str() an untrusted value: a deeply nested list takes seconds to print and holds
        # the interpreter for every session meanwhile; reprlib stops at a small depth and size.
        raise PruningError(f"unsupported checkpoint version {_short_repr(version)} "
                           f"(this app reads version {VERSION})")
    model_config = obj.get("model_config")
    if version < 2 and isinstance(model_config, dict) and model_config.get("kind") == "cnn":
        raise PruningError("this checkpoint holds the Small CNN of an earlier version of the app "
                           "(one global average per channel before its last layer); today's CNN "
                           "reads a 4×4 grid of regions, so the weights do not fit. Train the CNN "
                           "again here and export a new checkpoint")


def parse_checkpoint(obj, data: DataBundle) -> Checkpoint:
    """Validate a loaded checkpoint dict against the model its configs describe, with the
    input and output sizes of ``data`` (the bundle of the checkpoint's data set)."""
    dc = checkpoint_data_config(obj)
    stage = obj.get("stage")
    if stage not in ("pruned", "finetuned"):
        raise PruningError("the checkpoint's stage must be 'pruned' or 'finetuned'")
    mc = _config(ModelConfig, obj.get("model_config"), "model_config")
    tc = validate_train_config(_config(TrainConfig, obj.get("train_config"), "train_config"))
    pc = validate_prune_config(_config(PruneConfig, obj.get("prune_config"), "prune_config"))
    if data.name != dc.name:
        raise PruningError(f"the checkpoint was trained on {dc.name!r}, not {data.name!r}")
    model = build_model(mc, data.n_features, data.n_classes, data.image_shape, seed=tc.seed)
    expected = {k: v for k, v in model.state_dict().items()}
    state = _state(obj.get("state_dict"), "state_dict", expected, "float")
    params = dict(model.named_parameters())
    raw_masks = obj.get("masks")
    if not isinstance(raw_masks, dict) or not raw_masks:
        raise PruningError("the checkpoint has no masks")
    allowed = set(prunable_names(model, include_output=True, include_bias=True))
    bad = [str(k)[:40] for k in raw_masks if k not in allowed]
    if bad:
        raise PruningError(f"masks name parameters the model cannot prune: {', '.join(bad[:5])}")
    masks = _state(raw_masks, "masks", {k: params[k] for k in raw_masks}, "bool")
    for k, m in masks.items():
        if (state[k][~m] != 0).any():
            raise PruningError(f"state_dict and masks disagree: {k} has non-zero pruned weights")
    dense = obj.get("dense_state_dict")
    dense_state = None if dense is None else _state(dense, "dense_state_dict", expected, "float")
    metrics = _metrics(obj.get("metrics"))
    return Checkpoint(dc, mc, tc, pc, stage, state, masks, dense_state,
                      _history(obj.get("dense_history")), metrics)


def read_checkpoint(raw: bytes, load_data: Callable[[DataConfig], DataBundle],
                    max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[Checkpoint, DataBundle]:
    """Bytes of an uploaded file -> (validated ``Checkpoint``, its data bundle), or one
    ``PruningError``. ``load_data`` maps the checkpoint's DataConfig to data (the app passes
    its cached loader; it may raise ``DatasetUnavailable``)."""
    check_upload_size(raw, max_bytes)
    specs = inspect_archive(raw, max_unpacked(max_bytes)).obj   # no tensor data read yet
    dc = checkpoint_data_config(specs)          # header and data settings, nothing built
    check_tensor_specs(specs, dc)               # names, shapes, dtypes against the model
    obj = load_untrusted(raw, max_bytes)
    data = load_data(dc)
    empty = [s for s, n in data.sizes().items() if n == 0]
    if empty:
        raise PruningError(f"the checkpoint's data settings leave the {' and '.join(empty)} "
                           "split(s) empty")
    return parse_checkpoint(obj, data), data


def checkpoint_models(ckpt: Checkpoint, data: DataBundle):
    """Rebuild the workspace's models from a checkpoint, re-evaluated on ``data`` (numbers are
    measured here, not copied from the file). Returns (trained, pruned, finetuned or None).

    Without dense weights in the file, the pruned weights stand in for the dense model.
    """
    init = build_model(ckpt.model_config, data.n_features, data.n_classes, data.image_shape,
                       seed=ckpt.train_config.seed)
    init_state = {k: v.detach().clone() for k, v in init.state_dict().items()}
    dense_state = ckpt.dense_state if ckpt.dense_state is not None else ckpt.state
    history = ckpt.dense_history if ckpt.dense_history is not None else pd.DataFrame({"epoch": []})

    def measured(state):
        model = build_model(ckpt.model_config, data.n_features, data.n_classes,
                            data.image_shape, seed=ckpt.train_config.seed)
        model.load_state_dict(state)
        return evaluate_all(model, data)

    trained = TrainedModel(ckpt.data_config, ckpt.model_config, ckpt.train_config, init_state,
                           {k: v.clone() for k, v in dense_state.items()}, history,
                           measured(dense_state))
    masks = {k: v.clone() for k, v in ckpt.masks.items()}
    pruned_metrics = measured(ckpt.state)
    pruned = PrunedModel(ckpt.prune_config, masks, {k: v.clone() for k, v in ckpt.state.items()},
                         pruned_metrics)
    finetuned = None
    if ckpt.stage == "finetuned":
        finetuned = FinetunedModel({k: v.clone() for k, v in masks.items()},
                                   {k: v.clone() for k, v in ckpt.state.items()},
                                   pd.DataFrame({"epoch": []}), pruned_metrics)
    return trained, pruned, finetuned
