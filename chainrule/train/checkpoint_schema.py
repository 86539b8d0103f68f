"""Reading a checkpoint that nobody vouches for: headers first, metadata field by field, then arrays.

Order of the checks (each failure is one :class:`~chainrule.errors.ChainruleError`):

1. the path is a regular file within ``CHAINRULE_MAX_CHECKPOINT_BYTES``;
2. every zip member is a ``.npy`` whose header (read with ``numpy.lib.format.read_magic`` and
   ``read_array_header_1_0``/``2_0``, no data) declares a plain dtype, and whose declared size fits
   both the member and, summed, the cap;
3. the ``meta`` member is a JSON object that matches the schema below: only known keys, each of
   its type and range (every number finite, except the recorded losses: a run stopped by the NaN
   check keeps its last good checkpoint, whose history may hold an infinite loss); the model spec
   parses, and the activation, output activation and loss are registry names that fit together;
4. the arrays' names, shapes and dtypes are exactly what the spec and the optimiser imply
   (``param/layerK.weight``/``.bias``, one optimiser slot per parameter, an optional ``order``);
5. only then are the arrays loaded, and weights and optimiser state must be finite.
"""

from __future__ import annotations

import json
import math
import tokenize
import zipfile
import zlib
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy

from chainrule.derive.spec import ModelSpec, parse_spec
from chainrule.errors import ChainruleError
from chainrule.train.data.limits import CHECKPOINT_BYTES, check_regular_file

FORMAT = "chainrule-checkpoint/1"
MAX_META_CHARS = 16 * 2**20
MODEL_KEYS = {"spec", "activation", "output_activation", "loss", "dropout", "dtype"}
TOP_KEYS = {"model", "seed", "data", "format", "chainrule_version", "epoch", "position",
            "optimizer", "rng", "partial", "history"}
OPTIONAL_TOP_KEYS = {"options"}
DATA_KEYS = {"name", "task", "n_classes"}
OPTIONAL_DATA_KEYS = {"input_shape", "input_norm", "classes", "fingerprint"}
PARTIAL_KEYS = {"loss_sum", "correct", "seen", "seconds"}
DTYPES = ("float32", "float64")
Header = tuple[tuple[int, ...], np.dtype]


class Damaged(ChainruleError):
    """A checkpoint whose content contradicts the format."""


def read_checked(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of the checkpoint at ``path``, every check passed."""
    source = str(path)
    info = check_regular_file(path, "checkpoint")
    CHECKPOINT_BYTES.check(info.st_size, f"checkpoint {source!r}")
    try:
        with zipfile.ZipFile(path) as archive:
            headers = _headers(archive, source)
            meta = _meta(archive, headers, source)
            _match(headers, expected_arrays(meta), source)
            arrays = {key: _array(archive, key) for key in headers if key != "meta"}
    except ChainruleError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
            NotImplementedError, RuntimeError, OverflowError, MemoryError, SyntaxError,
            tokenize.TokenError) as exc:  # the last two: NumPy parsing a mangled .npy header
        raise ChainruleError(f"{source!r} is not a chainrule checkpoint (.npz): "
                             f"{type(exc).__name__}: {exc}") from None
    _check_finite(arrays, source)
    return meta, arrays


def _headers(archive: zipfile.ZipFile, source: str) -> dict[str, Header]:
    """Each member's declared shape and dtype, read from its .npy header alone."""
    headers: dict[str, Header] = {}
    total = 0
    for member in archive.infolist():
        if not member.filename.endswith(".npy"):
            raise Damaged(f"checkpoint {source!r} holds {member.filename!r}, which is not a .npy "
                          "array")
        with archive.open(member) as handle:
            shape, dtype = _read_header(handle, member.filename)
            size = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around
            if size > member.file_size:
                raise Damaged(f"checkpoint {source!r}: {member.filename!r} declares shape "
                              f"{shape} ({size:,} bytes) but holds {member.file_size:,} bytes")
        total += size
        CHECKPOINT_BYTES.check(total, f"checkpoint {source!r} (declared array sizes)")
        headers[member.filename.removesuffix(".npy")] = (shape, dtype)
    return headers


def _read_header(handle: IO[bytes], name: str) -> Header:
    version = npy.read_magic(handle)
    readers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
    if version not in readers:
        raise Damaged(f"{name!r} is .npy version {version}: expected 1.0 or 2.0")
    shape, _, dtype = readers[version](handle)
    if dtype.hasobject or dtype.fields is not None:
        raise Damaged(f"{name!r} has dtype {dtype}, which is not a plain number or text array")
    return tuple(int(d) for d in shape), dtype


def _meta(archive: zipfile.ZipFile, headers: dict[str, Header], source: str) -> dict[str, Any]:
    if "meta" not in headers:
        raise Damaged(f"{source!r} is not a chainrule checkpoint: it has no metadata record")
    shape, dtype = headers["meta"]
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * MAX_META_CHARS:
        raise Damaged(f"checkpoint {source!r}: the metadata record is {dtype} {shape}, expected "
                      "one JSON string")
    try:
        meta = json.loads(str(_array(archive, "meta")))
    except (ValueError, RecursionError) as exc:
        raise Damaged(f"checkpoint {source!r}: the metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise Damaged(f"{source!r} is not a chainrule checkpoint: expected format {FORMAT}")
    try:
        check_meta(meta)
    except ChainruleError as exc:
        raise Damaged(f"checkpoint {source!r} has damaged metadata: {exc}") from None
    return meta


def _array(archive: zipfile.ZipFile, key: str) -> np.ndarray:
    with archive.open(f"{key}.npy") as handle:
        return np.asarray(npy.read_array(handle, allow_pickle=False))


# --- the metadata schema ---------------------------------------------------------------------------

def check_meta(meta: dict[str, Any]) -> None:
    """Check every field of a checkpoint's metadata (raises with the field's name)."""
    _keys(meta, TOP_KEYS, OPTIONAL_TOP_KEYS, "metadata")
    _text(meta["chainrule_version"], "chainrule_version")
    spec = _check_model(meta["model"])
    _whole(meta["seed"], "seed", low=0)
    _whole(meta["epoch"], "epoch", low=0)
    _whole(meta["position"], "position", low=0)
    if "options" in meta:
        _check_options(meta["options"])
    _check_data(meta["data"], spec)
    _check_optimizer(meta["optimizer"])
    _check_rng(meta["rng"])
    _check_partial(meta["partial"])
    history = meta["history"]
    if not isinstance(history, list):
        raise ChainruleError(f"history must be a list, got {_kind(history)}")
    for index, record in enumerate(history):
        _check_epoch(record, f"history[{index}]")


def _check_model(model: Any) -> ModelSpec:
    _keys(model, MODEL_KEYS, set(), "model")
    try:
        spec = parse_spec(_text(model["spec"], "model.spec"))
    except ChainruleError as exc:
        raise ChainruleError(f"model.spec: {exc}") from None
    if _text(model["dtype"], "model.dtype") not in DTYPES:
        raise ChainruleError(f"model.dtype must be float32 or float64, got {model['dtype']!r}")
    _number(model["dropout"], "model.dropout", low=0.0, below=1.0)
    names = tuple(_text(model[key], f"model.{key}")
                  for key in ("activation", "output_activation", "loss"))
    if names[2] == "perceptron":
        if names[:2] != ("hardlim", "hardlim") or spec.family != "perceptron":
            raise ChainruleError("model: the perceptron rule goes with a perceptron:N spec and "
                                 f"hardlim, got {spec.text!r} with {names[0]!r}/{names[1]!r}")
        return spec
    from chainrule.train.network import resolve_choices

    try:
        resolved = resolve_choices(spec, names[0], names[2], names[1])
    except ChainruleError as exc:
        raise ChainruleError(f"model: {exc}") from None
    if resolved != names:
        raise ChainruleError(f"model: activation, output activation and loss {names} are not "
                             f"in their registries' spelling {resolved}")
    return spec


def _check_options(options: Any) -> None:
    """The training options: TrainOptions' fields only (one left out takes its default)."""
    from chainrule.train.session import TrainOptions

    allowed = {f.name: str(f.type) for f in fields(TrainOptions)}
    _keys(options, set(), set(allowed), "options")
    for name, value in options.items():
        where, annotation = f"options.{name}", allowed[name]
        if value is None and "None" in annotation:
            continue
        kind = annotation.split("|")[0].strip()
        if kind.startswith(("tuple", "list")):
            if not isinstance(value, list):
                raise ChainruleError(f"{where} must be a list, got {_kind(value)}")
            for index, item in enumerate(value):
                _whole(item, f"{where}[{index}]", low=0)
        elif kind == "int":
            _whole(value, where, low=OPTION_LOWS.get(name, 0))
        elif kind == "float":
            _number(value, where, low=0.0, below=1.0 if name == "dropout" else None,
                    positive=name == "lr")
        else:
            _text(value, where)
    if options.get("device", "cpu") not in ("cpu", "cuda"):
        raise ChainruleError(f"options.device must be cpu or cuda, got {options['device']!r}")
    if options.get("dtype", "float32") not in DTYPES:
        raise ChainruleError(f"options.dtype must be float32 or float64, got {options['dtype']!r}")

OPTION_LOWS = {"epochs": 1, "batch": 1, "limit": 1, "seed": 0}


def _check_data(data: Any, spec: ModelSpec) -> None:
    _keys(data, DATA_KEYS, OPTIONAL_DATA_KEYS, "data")
    _text(data["name"], "data.name")
    task = data["task"]
    if task not in ("classification", "regression"):
        raise ChainruleError(f"data.task must be classification or regression, got {task!r}")
    if task == "regression":
        if data["n_classes"] is not None:
            raise ChainruleError(f"data.n_classes must be null for regression, got "
                                 f"{data['n_classes']!r}")
    else:
        _whole(data["n_classes"], "data.n_classes", low=2)
    shape = data.get("input_shape")
    if shape is not None:
        if not isinstance(shape, list) or not shape:
            raise ChainruleError(f"data.input_shape must be a list of sizes, got {_kind(shape)}")
        for index, size in enumerate(shape):
            _whole(size, f"data.input_shape[{index}]", low=1)
        if math.prod(shape) != math.prod(spec.input_shape):
            raise ChainruleError(f"data.input_shape {shape} does not fit model {spec.text!r} "
                                 f"(input {list(spec.input_shape)})")
    norm = data.get("input_norm")
    if norm is not None:
        if not isinstance(norm, list) or len(norm) != 2:
            raise ChainruleError(f"data.input_norm must be [mean, std], got {norm!r}")
        _number(norm[0], "data.input_norm mean")
        _number(norm[1], "data.input_norm std", positive=True)
    _check_classes(data.get("classes"), data["n_classes"])
    if data.get("fingerprint") is not None:
        _text(data["fingerprint"], "data.fingerprint")


def _check_classes(classes: Any, n_classes: Any) -> None:
    """``data.classes``: absent/null (older checkpoints), or one short name per class."""
    if classes is None:
        return
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ChainruleError(f"data.classes must be a list of names, got {_kind(classes)}")
    from chainrule.train.data.dataset import check_class_names

    check_class_names(classes, n_classes, source="data.classes")


def _check_optimizer(record: Any) -> None:
    from chainrule.train.optim import OPTIMIZERS

    _keys(record, {"name", "hyperparameters", "state"}, set(), "optimizer")
    name = _text(record["name"], "optimizer.name")
    if name not in OPTIMIZERS:
        raise ChainruleError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    blank = OPTIMIZERS[name](lr=1.0)
    hyper = record["hyperparameters"]
    _keys(hyper, set(blank.hyperparameters()), set(), "optimizer.hyperparameters")
    for key, value in hyper.items():
        _number(value, f"optimizer.hyperparameters.{key}", low=0.0, positive=key == "lr",
                below=1.0 if key.startswith("beta") else None)
    state = record["state"]
    _keys(state, set(blank.state_meta()), set(), "optimizer.state")
    for key, value in state.items():
        _whole(value, f"optimizer.state.{key}", low=0)


def _check_rng(state: Any) -> None:
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise ChainruleError("rng must be a PCG64 state record")
    try:
        np.random.PCG64().state = state  # type: ignore[assignment]  # checked here, at run time
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ChainruleError(f"rng is not a PCG64 state ({exc})") from None


def _check_partial(partial: Any) -> None:
    _keys(partial, PARTIAL_KEYS, set(), "partial")
    _number(partial["loss_sum"], "partial.loss_sum", finite=False)
    _number(partial["seconds"], "partial.seconds", low=0.0)
    seen = _whole(partial["seen"], "partial.seen", low=0)
    if _whole(partial["correct"], "partial.correct", low=0) > seen:
        raise ChainruleError(f"partial.correct ({partial['correct']}) exceeds partial.seen ({seen})")


def _check_epoch(record: Any, where: str) -> None:
    from chainrule.train.loop import EpochStats

    optional = {"test_loss"}  # absent in checkpoints written before it was recorded
    _keys(record, {f.name for f in fields(EpochStats)} - optional, optional, where)
    _whole(record["epoch"], f"{where}.epoch", low=1)
    _number(record["loss"], f"{where}.loss", finite=False)
    for key in ("train_acc", "test_acc"):
        if record[key] is not None:
            _number(record[key], f"{where}.{key}", low=0.0, high=1.0)
    for key in ("seconds", "samples_per_s"):
        _number(record[key], f"{where}.{key}", low=0.0)
    if record.get("test_loss") is not None:
        _number(record["test_loss"], f"{where}.test_loss")


def _keys(record: Any, required: set[str], optional: set[str], where: str) -> None:
    if not isinstance(record, dict):
        raise ChainruleError(f"{where} must be an object, got {_kind(record)}")
    missing = sorted(required - set(record))
    extra = sorted(set(record) - required - optional)
    if missing:
        raise ChainruleError(f"{where} lacks {', '.join(missing)}")
    if extra:
        raise ChainruleError(f"{where} has unknown field(s) {', '.join(map(repr, extra))}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), type(value).__name__)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ChainruleError(f"{where} must be text, got {_kind(value)}")
    return value


def _whole(value: Any, where: str, *, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ChainruleError(f"{where} must be a whole number, got {_kind(value)} {value!r}")
    if value < low:
        raise ChainruleError(f"{where} must be ≥ {low}, got {value}")
    return value


def _number(value: Any, where: str, *, low: float | None = None, high: float | None = None,
            below: float | None = None, positive: bool = False, finite: bool = True) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ChainruleError(f"{where} must be a number, got {_kind(value)} {value!r}")
    number = float(value)
    if not finite and not math.isfinite(number):
        return number
    if (not math.isfinite(number) or (low is not None and number < low)
            or (high is not None and number > high) or (below is not None and number >= below)
            or (positive and number <= 0)):
        bounds = [f"≥ {low:g}" if low is not None else "", f"≤ {high:g}" if high is not None else "",
                  f"< {below:g}" if below is not None else "", "> 0" if positive else ""]
        wanted = " and ".join(b for b in bounds if b) or "finite"
        raise ChainruleError(f"{where} must be {wanted}, got {value!r}")
    return number


# --- the arrays the metadata implies ---------------------------------------------------------------

def expected_arrays(meta: dict[str, Any]) -> dict[str, Header]:
    """Name → (shape, dtype) of every parameter and optimiser slot (``order`` is checked apart)."""
    from chainrule.train.optim import OPTIMIZERS

    spec = parse_spec(meta["model"]["spec"])
    dtype = np.dtype(meta["model"]["dtype"])
    params: dict[str, tuple[int, ...]] = {}
    for index, layer in enumerate(spec.layers):
        params |= {f"layer{index}.{name}": shape for name, shape in layer.param_shapes.items()}
    optimizer = OPTIMIZERS[meta["optimizer"]["name"]]
    slots = [f.name for f in fields(optimizer) if f.default_factory is dict]
    expected = {f"param/{k}": (shape, dtype) for k, shape in params.items()}
    expected |= {f"optim/{slot}/{k}": (shape, dtype) for slot in slots
                 for k, shape in params.items()}
    return expected


def _match(headers: dict[str, Header], expected: dict[str, Header], source: str) -> None:
    names = set(headers) - {"meta", "order"}
    if names != set(expected):
        missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
        raise Damaged(f"checkpoint {source!r} does not match its model: "
                      + (f"missing {', '.join(missing)}" if missing else "")
                      + ("; " if missing and extra else "")
                      + (f"unexpected {', '.join(extra)}" if extra else ""))
    for name, (shape, dtype) in expected.items():
        got_shape, got_dtype = headers[name]
        if got_shape != shape or got_dtype.newbyteorder("=") != dtype:
            raise Damaged(f"checkpoint {source!r}: {name} is {got_dtype} {got_shape}, but its "
                          f"model needs {dtype} {shape}")
    if "order" in headers:
        shape, dtype = headers["order"]
        if len(shape) != 1 or dtype.kind not in "iu":
            raise Damaged(f"checkpoint {source!r}: order is {dtype} {shape}, expected a 1-D "
                          "integer permutation")


def _check_finite(arrays: dict[str, np.ndarray], source: str) -> None:
    for name, array in arrays.items():
        if name == "order":
            if not np.array_equal(np.sort(array), np.arange(array.shape[0])):
                raise Damaged(f"checkpoint {source!r}: order is not a permutation of 0..n−1")
        elif not np.isfinite(array).all():
            raise Damaged(f"checkpoint {source!r}: {name} holds NaN or infinite values")
