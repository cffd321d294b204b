"""Saving and loading networks: ``.npz`` (nnscratch's own) and ``.safetensors`` (for PyTorch).

An ``.npz`` model is a zip of ``.npy`` arrays:

    config              the architecture and everything else, as UTF-8 JSON in a uint8 array
    params/<name>       each parameter, e.g. params/0.W (in, out) and params/0.b (out,)
    optimizer/<i>/<s>   the optimizer's state s (velocity, moments) for parameter i, if saved

A ``.safetensors`` model holds the same weights under PyTorch's names and shapes ("0.weight" is
(out, in), the transpose of W), so ``torch.nn.Sequential(...).load_state_dict`` takes them; the
nnscratch config rides along in the header's metadata. It carries no optimizer state.

Loading trusts nothing in the file. Pickle is never involved. The config is parsed first (no
duplicate keys, no NaN, bounded size and nesting) and may name only the built-in layers, losses
and optimizers. Before any array is allocated, the sizes the config implies are checked against
what the file can hold, so a small file cannot claim gigabytes; then each array's ``.npy``
header must promise exactly the dtype and shape the config implies, and its bytes are read in
chunks straight into the network's parameters, every chunk checked for NaN and infinity, to
the member's end, where zip's CRC-32 is verified. ``.safetensors`` files get the checks of the
reference implementation: tensors tile the data region exactly, with no overlap, gap or
trailing bytes, and the metadata maps strings to strings. Any failure is a ModelFileError that
names the file, what is wrong and what to do.

Saving refuses what loading would refuse (non-finite weights, parameters of the wrong dtype or
shape, metadata that is not plain JSON or too large), writes a temporary file beside the
target, loads that file back and compares every weight bit for bit, and only then renames it
over the target, so an interrupted or refused save leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeGuard

import numpy as np

from ._files import atomic_write
from ._validation import FLOAT_DTYPES, all_finite
from ._version import __version__
from .activations import ACTIVATIONS
from .layers import Dense, Dropout, Layer
from .losses import LOSSES
from .optim import OPTIMIZERS, Optimizer

FORMAT_NAME = "nnscratch"
FORMAT_VERSION = 1
LAYER_TYPES: dict[str, type[Layer]] = {"Dense": Dense, "Dropout": Dropout,
                                        **{cls.__name__: cls for cls in ACTIVATIONS.values()}}
# the built-in optimizers, from optim's registry: an optimizer added there is saved and loaded
OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.__name__: cls for cls in OPTIMIZERS.values()}
MAX_CONFIG_BYTES = 16 * 2**20
MAX_JSON_DEPTH = 64
MAX_LAYERS = 10_000
MAX_FEATURES = 2**24
MAX_PARAMETERS = 2**31
DEFLATE_MAX_RATIO = 1100  # deflate cannot expand more than 1032:1; a claim beyond is a lie
READ_CHUNK_BYTES = 8 * 2**20
SAFETENSORS_DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
Build = Callable[[dict[str, Any]], Any]  # config -> the network it describes, weights zero


class ModelFileError(ValueError):
    """A model file that cannot be loaded: missing, truncated, corrupt or not nnscratch's."""


def save(network: Any, path: str | os.PathLike, include_optimizer: bool = True,
         metadata: dict[str, Any] | None = None) -> Path:
    """Write ``network`` to ``path``: ``.safetensors`` for PyTorch, anything else as ``.npz``.

    ``metadata`` (a JSON object; default ``network.metadata``) is stored with the config, e.g.
    the training history, and comes back as ``metadata`` of the loaded network.
    ``include_optimizer`` keeps the optimizer's state in an ``.npz`` so training can resume.
    Returns the path written.

    Raises ValueError, before touching the file, for anything ``load`` would refuse: NaN or
    infinite weights, parameters whose dtype or shape disagree with the network, metadata that
    is not plain JSON or makes the config larger than 16 MiB. The written file is loaded back
    and compared bit for bit before it replaces ``path``.
    """
    if not all(hasattr(network, name) for name in ("layers", "named_parameters", "rng")):
        raise TypeError(f"network must be a Sequential (or MLP); got {type(network).__name__}.")
    path = Path(path)
    safetensors = path.suffix == ".safetensors"
    config = network_config(network, include_optimizer and not safetensors, metadata)
    config_bytes = _encode_config(config)
    _check_savable(network, config)
    arrays = {name: param for name, param, _ in network.named_parameters()}
    if safetensors:
        atomic_write(path, lambda file: _write_safetensors(file, network, config_bytes),
                     check=lambda written: _verify_written(written, arrays, _load_safetensors,
                                                           type(network).from_config))
        return path
    members = {"config": np.frombuffer(config_bytes, dtype=np.uint8)}
    members.update({f"params/{name}": param for name, param in arrays.items()})
    if config["optimizer"] is not None and network.optimizer is not None:
        for index, slots in network.optimizer.state.items():
            members.update({f"optimizer/{index}/{slot}": value for slot, value in slots.items()})
    atomic_write(path, lambda file: np.savez(file, **members),  # type: ignore[arg-type]
                 check=lambda written: _verify_written(written, arrays, _load_npz,
                                                       type(network).from_config))
    return path


def read(path: str | os.PathLike, build: Build) -> Any:
    """The network saved in ``path`` by ``save``, made by ``build(config)`` (which must return
    it with zero weights; network.load passes the builder) and filled from the file: the same
    weights, loss, optimizer state and random-generator state.

    Raises FileNotFoundError if there is no file at ``path`` and ModelFileError for anything
    else that keeps it from loading; no other exception escapes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}. Check the path; models are "
                                "written by net.save(path) or `nnscratch train --out DIR`.")
    try:
        if path.suffix == ".safetensors":
            return _load_safetensors(path, build)
        return _load_npz(path, build)
    except ModelFileError as error:
        raise ModelFileError(f"{path} is not a loadable nnscratch model: {error}") from None
    except PermissionError as error:
        raise ModelFileError(f"{path} cannot be read ({error.strerror}). Check its "
                             "permissions.") from None
    except (Exception, RecursionError) as error:  # a damaged file reaches many corners
        raise ModelFileError(f"{path} is not a loadable nnscratch model: the file is damaged or "
                             f"of another kind ({type(error).__name__}: {error}). Save it again "
                             "with net.save(path).") from None


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a saved model, reading only its config (not its weights)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    try:
        if path.suffix == ".safetensors":
            with path.open("rb") as file:
                header, _ = _read_safetensors_header(file, path.stat().st_size)
            text = header["__metadata__"]["nnscratch_config"].encode("utf-8")
            return parse_config(text)["metadata"]
        with zipfile.ZipFile(path) as archive:
            return _read_npz_config(archive, _check_members(archive, path.stat().st_size)
                                    )["metadata"]
    except ModelFileError as error:
        raise ModelFileError(f"{path} is not a loadable nnscratch model: {error}") from None
    except (Exception, RecursionError) as error:
        raise ModelFileError(f"{path} is not a loadable nnscratch model: the file is damaged "
                             f"({type(error).__name__}: {error})") from None


# ----------------------------------------------------------------------------------------------
# The config: what the file promises, checked before anything is built


def _layer_configs(network: Any) -> list[dict[str, Any]]:
    """Each layer's type and config; a layer outside the closed list cannot be saved."""
    layers = []
    for index, layer in enumerate(network.layers):
        if LAYER_TYPES.get(type(layer).__name__) is not type(layer):
            raise ValueError(f"layers[{index}] is a {type(layer).__name__}, which cannot be "
                             f"saved: a model file may hold only the built-in layers "
                             f"({', '.join(LAYER_TYPES)}), so that loading runs no foreign code.")
        layers.append({"type": type(layer).__name__, "config": layer.get_config()})
    return layers


def _optimizer_record(optimizer: Any) -> dict[str, Any] | None:
    """The optimizer's name, settings, step count and the names of its state's arrays (the
    arrays themselves go beside the weights); None without one, or for one not built in."""
    if optimizer is None:
        return None
    if type(optimizer) not in OPTIMIZER_TYPES.values():
        warnings.warn(f"The optimizer {optimizer!r} is not a built-in one, so its state is not "
                      "saved.", stacklevel=4)
        return None
    state = optimizer.state_dict()
    return {"name": state["name"], "config": state["config"], "steps": state["steps"],
            "state": {str(index): sorted(slots) for index, slots in state["state"].items()}}


def network_config(network: Any, include_optimizer: bool,
                   metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON description of ``network`` that ``Sequential.from_config`` turns back into it."""
    layers = _layer_configs(network)
    loss_name = next((name for name, cls in LOSSES.items() if type(network.loss) is cls), None)
    if network.loss is not None and loss_name is None:
        warnings.warn(f"The loss {network.loss!r} is not a built-in one, so it is not saved; "
                      "pass loss=... when you fit or evaluate the loaded network.", stacklevel=3)
    optimizer = _optimizer_record(network.optimizer) if include_optimizer else None
    if metadata is None:
        metadata = network.metadata
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict (a JSON object); got {type(metadata).__name__}.")
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "nnscratch_version": __version__,
        "class": type(network).__name__,
        "dtype": network.dtype.name,
        "seed": network.seed,
        "rng_state": network.rng.bit_generator.state,
        "layers": layers,
        "loss": loss_name,
        "optimizer": optimizer,
        "metadata": metadata,
    }


def parameter_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter the (checked) config implies, named as in the network."""
    shapes: dict[str, tuple[int, ...]] = {}
    for index, spec in enumerate(config["layers"]):
        if spec["type"] == "Dense":
            fan_in, fan_out = spec["config"]["in_features"], spec["config"]["out_features"]
            shapes[f"{index}.W"] = (fan_in, fan_out)
            shapes[f"{index}.b"] = (fan_out,)
    return shapes


def parse_config(text: bytes) -> dict[str, Any]:
    """Decode and check a config: strict JSON, then every field, before anything is built."""
    return _check_config(_strict_json(text, "its config"))


def _check_config(config: Any) -> dict[str, Any]:
    """Every field of the config, in the order a reader meets them."""
    _check_format(config)
    _check_scalars(config)
    _check_layers(config["layers"])
    _check_optimizer(config["optimizer"])
    if not isinstance(config["metadata"], dict):
        raise ModelFileError("its metadata is not a JSON object")
    return config


CONFIG_KEYS = {"format", "format_version", "nnscratch_version", "class", "dtype", "seed",
               "rng_state", "layers", "loss", "optimizer", "metadata"}


def _check_format(config: Any) -> None:
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ModelFileError("its config is not an nnscratch model config")
    version = config.get("format_version")
    if not _is_whole(version):
        raise ModelFileError(f"its format_version is {version!r}, not a whole number")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"it uses format version {version}, newer than this nnscratch "
                             f"({__version__}) reads (up to {FORMAT_VERSION}). Upgrade nnscratch.")
    if version < 1:
        raise ModelFileError(f"format version {version} does not exist")
    if set(config) != CONFIG_KEYS:
        raise ModelFileError(f"its config has keys {sorted(set(config) ^ CONFIG_KEYS)} "
                             "missing or unexpected")


def _check_scalars(config: dict[str, Any]) -> None:
    if not _is_name_in(config["dtype"], FLOAT_DTYPES):
        raise ModelFileError(f"dtype {config['dtype']!r} is not one of {FLOAT_DTYPES}")
    if not _is_whole(config["seed"]) or not 0 <= config["seed"] < 2**128:
        raise ModelFileError(f"seed {config['seed']!r} is not a whole number in [0, 2**128)")
    if config["loss"] is not None and not _is_name_in(config["loss"], LOSSES):
        raise ModelFileError(f"loss {config['loss']!r} is not one of {sorted(LOSSES)}")
    if not isinstance(config["rng_state"], dict):
        raise ModelFileError("its random-generator state is not a JSON object")


def _check_layers(layers: Any) -> None:
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFileError(f"its layer list must hold 1 to {MAX_LAYERS} layers")
    n_parameters = 0
    for index, spec in enumerate(layers):
        if (not isinstance(spec, dict) or set(spec) != {"type", "config"}
                or not _is_name_in(spec["type"], LAYER_TYPES)
                or not isinstance(spec["config"], dict)):
            raise ModelFileError(f"layer {index} is not one of the built-in layers "
                                 f"({', '.join(LAYER_TYPES)}) with a config")
        if spec["type"] == "Dense":
            fan_in, fan_out = spec["config"].get("in_features"), spec["config"].get("out_features")
            if not (_is_size(fan_in) and _is_size(fan_out)):
                raise ModelFileError(f"layer {index} (Dense) has sizes {[fan_in, fan_out]}; each "
                                     f"must be a whole number from 1 to {MAX_FEATURES}")
            n_parameters += (fan_in + 1) * fan_out
    if n_parameters > MAX_PARAMETERS:
        raise ModelFileError(f"it claims {n_parameters:,} parameters, more than the "
                             f"{MAX_PARAMETERS:,} a model file may hold")


def _check_optimizer(optimizer: Any) -> None:
    if optimizer is None:
        return
    if (not isinstance(optimizer, dict)
            or set(optimizer) != {"name", "config", "steps", "state"}
            or not _is_name_in(optimizer["name"], OPTIMIZER_TYPES)
            or not isinstance(optimizer["config"], dict)
            or not _is_whole(optimizer["steps"]) or not 0 <= optimizer["steps"] < 2**63
            or not isinstance(optimizer["state"], dict)):
        raise ModelFileError("its optimizer entry is not a built-in optimizer's saved state")


def _strict_json(text: bytes, what: str) -> Any:
    """JSON that refuses duplicate keys, NaN and infinities, and deep nesting."""
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            duplicated = sorted({key for key in keys if keys.count(key) > 1})
            raise ModelFileError(f"{what} repeats the keys {duplicated[:5]}")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise ModelFileError(f"{what} holds {name}, which is not JSON")

    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ModelFileError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates,
                          parse_constant=no_constants)
    except UnicodeDecodeError as error:
        raise ModelFileError(f"{what} is not UTF-8 text ({error})") from None
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{what} is not valid JSON ({error})") from None


def _json_depth(text: bytes, chunk: int = 2**20) -> int:
    """The nesting depth of JSON ``text``, without recursion, in linear time and in 1 MiB
    chunks: brackets inside strings do not count. A quote opens or closes a string unless an
    odd run of backslashes comes just before it."""
    deepest = depth = 0
    backslash_run = 0  # length of the run of backslashes that ended the previous chunk
    inside = False  # whether the previous chunk ended inside a string
    for start in range(0, len(text), chunk):
        chars = np.frombuffer(text, dtype=np.uint8, count=min(chunk, len(text) - start),
                              offset=start)
        backslash = chars == ord("\\")
        counted = np.cumsum(backslash, dtype=np.int64) + backslash_run
        run = counted - np.maximum.accumulate(np.where(backslash, 0, counted))
        previous_run = np.concatenate(([backslash_run], run[:-1]))
        quotes = (chars == ord('"')) & (previous_run % 2 == 0)
        outside = (np.cumsum(quotes) + inside) % 2 == 0
        steps = (np.isin(chars, (ord("["), ord("{"))).astype(np.int64)
                 - np.isin(chars, (ord("]"), ord("}")))) * outside
        levels = depth + np.cumsum(steps)
        deepest = max(deepest, int(levels.max(initial=depth)))
        depth, backslash_run = int(levels[-1]), int(run[-1])
        inside = bool((inside + np.count_nonzero(quotes)) % 2)
    return deepest


def _encode_config(config: dict[str, Any]) -> bytes:
    """The config as UTF-8 JSON, refusing what a reader would refuse."""
    try:
        text = json.dumps(config, allow_nan=False, default=_numpy_scalar).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"The model cannot be saved: its metadata (or config) is not plain JSON "
                         f"({type(error).__name__}: {error}). Keep metadata to dicts, lists, "
                         "strings, finite numbers, booleans and None.") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ValueError(f"The model cannot be saved: its config with metadata takes "
                         f"{len(text):,} bytes, more than the {MAX_CONFIG_BYTES:,} a model file "
                         "may hold. Keep large data out of the metadata.")
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"The model cannot be saved: its metadata nests deeper than "
                         f"{MAX_JSON_DEPTH} levels, which load() refuses. Flatten it.")
    try:
        _check_config(json.loads(text))
    except ModelFileError as error:
        raise ValueError(f"The model cannot be saved: load() would refuse it, because {error}. "
                         "Check the network's layers and the metadata.") from None
    return text


def _numpy_scalar(value: Any) -> Any:
    """NumPy's scalars (np.float32(0.5), np.int64(3), np.bool_) as the Python numbers they
    hold, so metadata such as logged metrics saves as written; anything else is refused."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _check_savable(network: Any, config: dict[str, Any]) -> None:
    """Refuse weights and optimizer state that load() would refuse, naming the culprit."""
    shapes = parameter_shapes(config)
    named = {name: param for name, param, _ in network.named_parameters()}
    if list(named) != list(shapes):
        raise ValueError(f"The model cannot be saved: its parameters {list(named)} are not those "
                         f"its layers imply ({list(shapes)}).")
    for name, param in named.items():
        _check_array(param, name, shapes[name], network.dtype)
    if config["optimizer"] is not None and network.optimizer is not None:
        shape_list = list(shapes.values())
        known = type(network.optimizer).slots
        for index, slots in network.optimizer.state.items():
            for slot, value in slots.items():
                if not 0 <= index < len(shape_list) or slot not in known:
                    raise ValueError(f"The model cannot be saved: its optimizer holds state "
                                     f"{slot!r} for parameter {index}, which it does not have.")
                _check_array(value, f"optimizer state {index}/{slot}", shape_list[index],
                             network.dtype)


def _check_array(array: Any, name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if not isinstance(array, np.ndarray) or array.dtype != dtype or array.shape != shape:
        found = (f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray)
                 else type(array).__name__)
        raise ValueError(f"The model cannot be saved: {name} is {found}, expected {dtype} "
                         f"{shape}. Assign parameters in the network's dtype and shape, or use "
                         "net.astype(dtype).")
    if not all_finite(array):
        raise ValueError(f"The model cannot be saved: {name} holds NaN or infinite values, "
                         "which load() refuses. Restore finite weights (e.g. from a checkpoint) "
                         "and lower the learning rate.")


def _verify_written(path: Path, arrays: dict[str, np.ndarray],
                    loader: Callable[[Path, Build], Any], build: Build) -> None:
    """Load the file just written and compare every parameter bit for bit."""
    try:
        loaded = loader(path, build)
    except ModelFileError as error:
        raise ValueError(f"The model cannot be saved: the file written does not load back "
                         f"({error}).") from None
    for name, param, _ in loaded.named_parameters():
        if param.tobytes() != arrays[name].tobytes():
            raise ValueError(f"The model cannot be saved: {name} does not read back bit for bit.")


def _restore_state(network: Any, config: dict[str, Any],
                   optimizer_state: dict[int, dict[str, np.ndarray]]) -> None:
    network.metadata = config["metadata"]
    try:
        network.rng.bit_generator.state = config["rng_state"]
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ModelFileError(f"its random-generator state is invalid ({error})") from None
    spec = config["optimizer"]
    if spec is None:
        return
    try:
        optimizer = OPTIMIZER_TYPES[spec["name"]](**spec["config"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"its optimizer config is invalid: {error}") from None
    optimizer.load_state_dict({"name": spec["name"], "config": spec["config"],
                               "steps": spec["steps"], "state": optimizer_state})
    network.optimizer = optimizer


def _optimizer_slots(config: dict[str, Any], shapes: dict[str, tuple[int, ...]]
                     ) -> dict[str, tuple[int, tuple[int, ...], str]]:
    """member name -> (parameter index, shape, slot name) for the saved optimizer state."""
    spec = config["optimizer"]
    if spec is None:
        return {}
    shape_list = list(shapes.values())
    known = OPTIMIZER_TYPES[spec["name"]].slots
    slots = {}
    for index_text, names in spec["state"].items():
        if not (index_text.isdigit() and index_text.isascii()) \
                or int(index_text) >= len(shape_list) or not isinstance(names, list) \
                or len(set(map(str, names))) != len(names) \
                or not all(_is_name_in(name, known) for name in names):
            raise ModelFileError(f"its optimizer state names an unknown slot ({index_text}: "
                                 f"{names!r})")
        for name in names:
            slots[f"optimizer/{int(index_text)}/{name}"] = (int(index_text),
                                                            shape_list[int(index_text)], name)
    return slots


# ----------------------------------------------------------------------------------------------
# .npz


def _load_npz(path: Path, build: Build) -> Any:
    archive_size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        infos = _check_members(archive, archive_size)
        config = _read_npz_config(archive, infos)
        shapes = parameter_shapes(config)
        slots = _optimizer_slots(config, shapes)
        expected = {f"params/{name}" for name in shapes} | set(slots) | {"config"}
        if set(infos) != expected:
            missing, extra = sorted(expected - set(infos)), sorted(set(infos) - expected)
            raise ModelFileError(f"its arrays do not match its config (missing: {missing}; "
                                 f"unexpected: {extra})")
        dtype = np.dtype(config["dtype"])
        claims = {f"params/{name}": shape for name, shape in shapes.items()}
        claims.update({member: shape for member, (_, shape, _) in slots.items()})
        for member, shape in claims.items():  # before allocating anything the config claims
            with archive.open(infos[member]) as file:
                _check_npy_header(file, member, dtype, shape)
            _check_claim(infos[member], math.prod(shape) * dtype.itemsize)
        network = build(config)
        for name, param, _ in network.named_parameters():
            _read_member(archive, infos[f"params/{name}"], param)
        optimizer_state: dict[int, dict[str, np.ndarray]] = {}
        for member, (index, shape, slot) in slots.items():
            state = np.empty(shape, dtype=network.dtype)
            _read_member(archive, infos[member], state)
            optimizer_state.setdefault(index, {})[slot] = state
    _restore_state(network, config, optimizer_state)
    return network


def _read_npz_config(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]
                     ) -> dict[str, Any]:
    if "config" not in infos:
        raise ModelFileError("it has no config array (was it written by net.save?)")
    if infos["config"].file_size > MAX_CONFIG_BYTES + 4096:
        raise ModelFileError(f"its config takes {infos['config'].file_size:,} bytes, more "
                             f"than the {MAX_CONFIG_BYTES:,} allowed")
    config_array = np.empty(infos["config"].file_size, dtype=np.uint8)
    length = _read_member(archive, infos["config"], config_array, exact_shape=False)
    return parse_config(config_array[:length].tobytes())


def _check_members(archive: zipfile.ZipFile, archive_size: int) -> dict[str, zipfile.ZipInfo]:
    """name (without .npy) -> ZipInfo, refusing what np.savez never writes."""
    infos = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ModelFileError(f"it holds {info.filename!r}, not a .npy array")
        name = info.filename[:-4]
        if name in infos:
            raise ModelFileError(f"it holds two members named {info.filename!r}")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{info.filename} uses compression method "
                                 f"{info.compress_type}; only stored and deflated are read")
        if info.header_offset + info.compress_size > archive_size:
            raise ModelFileError(f"{info.filename} claims {info.compress_size:,} bytes beyond "
                                 f"the end of the file ({archive_size:,} bytes)")
        ratio_limit = 1 if info.compress_type == zipfile.ZIP_STORED else DEFLATE_MAX_RATIO
        if info.file_size > max(info.compress_size, 1) * ratio_limit:
            raise ModelFileError(f"{info.filename} claims {info.file_size:,} bytes from "
                                 f"{info.compress_size:,} stored, more than its compression "
                                 "can produce")
        infos[name] = info
    return infos


def _check_claim(info: zipfile.ZipInfo, data_bytes: int) -> None:
    """The member must be large enough to hold the array the config promises, header aside."""
    if not data_bytes <= info.file_size <= data_bytes + 65536 + 10:
        raise ModelFileError(f"{info.filename} holds {info.file_size:,} bytes, but the config "
                             f"implies {data_bytes:,} bytes of data")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: np.ndarray,
                 exact_shape: bool = True) -> int:
    """Read one .npy member into ``out``, refusing any dtype or shape but ``out``'s.

    With ``exact_shape`` False (the config), any 1-D length up to len(out) is taken. Returns
    the number of elements read. The member is read to its end, so zip checks its CRC-32.
    """
    name = info.filename[:-4]
    with archive.open(info) as file:
        found_shape, found_dtype = _check_npy_header(file, name, out.dtype,
                                                     out.shape if exact_shape else None)
        if not exact_shape and found_shape[0] > len(out):
            raise ModelFileError(f"{name} has shape {found_shape}, expected at most "
                                 f"({len(out)},)")
        target = out.reshape(-1)[:math.prod(found_shape)]
        _read_into(file, target, name, swap=found_dtype != out.dtype and out.itemsize > 1)
        if file.read(1):
            raise ModelFileError(f"{name} has bytes after its data")
    return target.size


def _check_npy_header(file: IO[bytes], name: str, dtype: np.dtype,
                      shape: tuple[int, ...] | None) -> tuple[tuple[int, ...], np.dtype]:
    """Read a .npy header and refuse any dtype but ``dtype`` (either byte order) and any shape
    but ``shape`` (None: any 1-D shape); return the shape and dtype found."""
    found_shape, found_dtype = _read_npy_header(file, name)
    if found_dtype not in (dtype.newbyteorder("<"), dtype.newbyteorder(">")):
        raise ModelFileError(f"{name} has dtype {found_dtype}, expected {dtype}")
    if found_shape != shape and (shape is not None or len(found_shape) != 1):
        raise ModelFileError(f"{name} has shape {found_shape}, expected "
                             f"{shape if shape is not None else 'one dimension'}")
    return found_shape, found_dtype


def _read_npy_header(file: IO[bytes], name: str) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(file)
        elif version in ((2, 0), (3, 0)):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(file)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError, OverflowError, EOFError) as error:
        raise ModelFileError(f"{name} is not a valid .npy array ({error})") from None
    if fortran_order and len(shape) > 1:
        raise ModelFileError(f"{name} is stored in Fortran order, which net.save never writes")
    return tuple(shape), dtype


def _read_into(file: IO[bytes], target: np.ndarray, name: str, swap: bool = False) -> None:
    """Fill ``target`` from ``file`` in chunks, checking each for NaN and infinity.

    ``swap``: the file holds the other byte order, so each chunk is byte-swapped once read.
    """
    buffer = memoryview(target.view(np.uint8).reshape(-1))  # type: ignore[arg-type]
    itemsize = target.itemsize
    chunk = max(itemsize, READ_CHUNK_BYTES // itemsize * itemsize)
    done = 0
    while done < len(buffer):
        wanted = min(chunk, len(buffer) - done)
        data = file.read(wanted)
        if len(data) != wanted:
            raise ModelFileError(f"{name} is truncated: {done + len(data):,} of "
                                 f"{len(buffer):,} bytes")
        buffer[done:done + wanted] = data
        values = target[done // itemsize:(done + wanted) // itemsize]
        if swap:
            values.byteswap(inplace=True)
        if not all_finite(values):
            raise ModelFileError(f"{name} holds NaN or infinite values")
        done += wanted


# ----------------------------------------------------------------------------------------------
# .safetensors: an 8-byte little-endian header length, a JSON header, then the raw bytes


def _torch_tensors(network: Any) -> dict[str, np.ndarray]:
    """PyTorch's state_dict names and shapes: "<index>.weight" (out, in), "<index>.bias"."""
    tensors = {}
    for index, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            tensors[f"{index}.weight"] = np.ascontiguousarray(layer.params["W"].T)
            tensors[f"{index}.bias"] = layer.params["b"]
    return tensors


def _write_safetensors(file: IO[bytes], network: Any, config_bytes: bytes) -> None:
    tensors = _torch_tensors(network)
    dtype_name = {value: key for key, value in SAFETENSORS_DTYPES.items()}[
        network.dtype.newbyteorder("<")]
    header: dict[str, Any] = {"__metadata__": {"format": "pt",
                                               "nnscratch_config": config_bytes.decode("utf-8")}}
    offset = 0
    for name, tensor in tensors.items():
        header[name] = {"dtype": dtype_name, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + tensor.nbytes]}
        offset += tensor.nbytes
    header_bytes = json.dumps(header).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    file.write(struct.pack("<Q", len(header_bytes)))
    file.write(header_bytes)
    for tensor in tensors.values():
        file.write(tensor.astype(tensor.dtype.newbyteorder("<"), copy=False).tobytes())


def _load_safetensors(path: Path, build: Build) -> Any:
    size = path.stat().st_size
    with path.open("rb") as file:
        header, data_start = _read_safetensors_header(file, size)
        config = parse_config(header.pop("__metadata__")["nnscratch_config"].encode("utf-8"))
        expected = {}
        for name, shape in parameter_shapes(config).items():
            layer_index, key = name.split(".")
            expected[f"{layer_index}.{'weight' if key == 'W' else 'bias'}"] = shape[::-1]
        if set(header) != set(expected):
            raise ModelFileError(f"its tensors {sorted(header)[:10]} do not match its config "
                                 f"{sorted(expected)[:10]}")
        for name, shape in expected.items():
            entry = header[name]
            if entry["shape"] != list(shape):
                raise ModelFileError(f"tensor {name} has shape {entry['shape']}, expected "
                                     f"{list(shape)}")
        network = build(config)
        for index, layer in enumerate(network.layers):
            if isinstance(layer, Dense):
                for key, torch_key in (("W", "weight"), ("b", "bias")):
                    entry = header[f"{index}.{torch_key}"]
                    tensor = np.empty(entry["shape"], dtype=SAFETENSORS_DTYPES[entry["dtype"]])
                    file.seek(data_start + entry["data_offsets"][0])
                    _read_into(file, tensor, f"tensor {index}.{torch_key}")
                    layer.params[key][...] = tensor.T if key == "W" else tensor
    config["optimizer"] = None
    _restore_state(network, config, {})
    return network


def _read_safetensors_header(file: IO[bytes], size: int) -> tuple[dict[str, Any], int]:
    """The header, checked as the reference implementation checks it; and where data starts.

    The tensors must tile the data region exactly: sorted by offset, the first starts at 0,
    each starts where the one before ended, and the last ends at the end of the file.
    """
    header, header_length = _header_json(file, size)
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or "nnscratch_config" not in metadata:
        raise ModelFileError("it has no nnscratch config in its metadata, so the layers "
                             "between the weights are unknown. Save it with net.save().")
    if not all(
            isinstance(key, str) and isinstance(value, str) for key, value in metadata.items()):
        raise ModelFileError("its __metadata__ is not a map of strings to strings")
    _check_tiling(header, size - 8 - header_length)
    return header, 8 + header_length


def _header_json(file: IO[bytes], size: int) -> tuple[dict[str, Any], int]:
    """The header's JSON object and its length in bytes, bounded by the file and the limit."""
    length_bytes = file.read(8)
    if len(length_bytes) != 8:
        raise ModelFileError(f"it is {size} bytes long, too short for a header")
    header_length = struct.unpack("<Q", length_bytes)[0]
    if header_length > min(size - 8, MAX_CONFIG_BYTES + 2**20):
        raise ModelFileError(f"its header claims {header_length:,} bytes in a file of {size:,}")
    text = file.read(header_length)
    if len(text) != header_length or not text.startswith(b"{"):
        raise ModelFileError("its header is not a JSON object")
    header = _strict_json(text, "its header")
    if not isinstance(header, dict):
        raise ModelFileError("its header is not a JSON object")
    return header, header_length


def _check_tiling(header: dict[str, Any], data_length: int) -> None:
    """The tensors, sorted by offset, cover the data region with no gap and no overlap."""
    end = 0
    for name, entry in sorted(_tensor_entries(header), key=lambda item: item[1]["data_offsets"]):
        begin, stop = entry["data_offsets"]
        if begin != end:
            raise ModelFileError(f"tensor {name} has data offsets {[begin, stop]} that overlap "
                                 f"or leave a gap: it should start at byte {end}, where the "
                                 "tensor before it ends")
        if stop - begin != math.prod(entry["shape"]) * SAFETENSORS_DTYPES[entry["dtype"]].itemsize:
            raise ModelFileError(f"tensor {name} has data offsets {[begin, stop]} that do not "
                                 f"fit its shape {entry['shape']}")
        end = stop
    if end != data_length:
        raise ModelFileError(f"its tensors cover {end:,} bytes of data, but the file holds "
                             f"{data_length:,} (truncated, or trailing bytes)")


def _tensor_entries(header: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not _is_tensor_entry(entry):
            raise ModelFileError(f"tensor {name!r} is not described by a dtype (F32 or F64), a "
                                 "shape and two data offsets")
        yield name, entry


def _is_tensor_entry(entry: Any) -> bool:
    """A dtype nnscratch reads, a shape of bounded sizes and two non-negative offsets."""
    return (isinstance(entry, dict) and set(entry) == {"dtype", "shape", "data_offsets"}
            and _is_name_in(entry["dtype"], SAFETENSORS_DTYPES)
            and isinstance(entry["shape"], list)
            and all(_is_whole(n) and 0 <= n <= MAX_FEATURES for n in entry["shape"])
            and isinstance(entry["data_offsets"], list) and len(entry["data_offsets"]) == 2
            and all(_is_whole(n) and n >= 0 for n in entry["data_offsets"]))


# ----------------------------------------------------------------------------------------------
# Helpers


def _is_name_in(value: Any, names: Any) -> bool:
    """Whether ``value`` is a string among ``names`` (a hostile list or dict is simply not)."""
    return isinstance(value, str) and value in names


def _is_whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_size(value: Any) -> TypeGuard[int]:
    return _is_whole(value) and 1 <= value <= MAX_FEATURES
