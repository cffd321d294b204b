"""Saving and loading networks: ``.npz`` (nnscratch's own) and ``.safetensors`` (for PyTorch).

An ``.npz`` model is a zip of ``.npy`` arrays:

    config              the architecture and everything else, as UTF-8 JSON in a uint8 array
    params/<name>       each parameter, e.g. params/0.W (in, out) and params/0.b (out,)
    optimizer/<i>/<s>   the optimizer's state s (velocity, moments) for parameter i, if saved

A ``.safetensors`` model holds the same weights under PyTorch's names and shapes ("0.weight" is
(out, in), the transpose of W), so ``torch.nn.Sequential(...).load_state_dict`` takes them; the
nnscratch config rides along in the header's metadata. It carries no optimizer state.

Loading trusts nothing in the file. Pickle is never involved: each array's ``.npy`` header is
parsed and must promise exactly the dtype and shape the config implies before its bytes are
read, the config may name only the built-in layers, losses and optimizers, and the network is
built only after every check has passed. Saving writes a temporary file in the same folder and
renames it over the target, so an interrupted save leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any, TypeGuard

import numpy as np

from . import __version__
from ._files import atomic_write
from .activations import ACTIVATIONS
from .layers import Dense, Dropout, Layer
from .losses import LOSSES
from .network import DTYPES, Sequential
from .optim import SGD, Adam, AdamW, Optimizer, RMSProp

FORMAT_NAME = "nnscratch"
FORMAT_VERSION = 1
LAYER_TYPES: dict[str, type[Layer]] = {"Dense": Dense, "Dropout": Dropout,
                                        **{cls.__name__: cls for cls in ACTIVATIONS.values()}}
OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.__name__: cls
                                               for cls in (SGD, RMSProp, Adam, AdamW)}
MAX_CONFIG_BYTES = 16 * 2**20
MAX_LAYERS = 10_000
MAX_FEATURES = 2**24
MAX_PARAMETERS = 2**31
SAFETENSORS_DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: missing, truncated, corrupt or not nnscratch's."""


def save(network: Sequential, path: str | os.PathLike, include_optimizer: bool = True,
         metadata: dict[str, Any] | None = None) -> Path:
    """Write ``network`` to ``path``: ``.safetensors`` for PyTorch, anything else as ``.npz``.

    ``metadata`` (JSON-serialisable; default ``network.metadata``) is stored with the config,
    e.g. the training history, and comes back as ``metadata`` of the loaded network.
    ``include_optimizer`` keeps the optimizer's state in an ``.npz`` so training can resume.
    Returns the path written.
    """
    if not isinstance(network, Sequential):
        raise TypeError(f"network must be a Sequential (or MLP); got {type(network).__name__}.")
    path = Path(path)
    config = network_config(network, include_optimizer and path.suffix != ".safetensors",
                            metadata)
    if path.suffix == ".safetensors":
        atomic_write(path, lambda file: _write_safetensors(file, network, config))
    else:
        arrays = {"config": _encode_config(config)}
        arrays.update({f"params/{name}": param for name, param, _ in network.named_parameters()})
        if config["optimizer"] is not None and network.optimizer is not None:
            for index, slots in network.optimizer.state.items():
                arrays.update({f"optimizer/{index}/{slot}": value
                               for slot, value in slots.items()})
        atomic_write(path, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]
    return path


def load(path: str | os.PathLike) -> Sequential:
    """Read a network saved by ``save``: same architecture, weights, loss, optimizer state and
    random-generator state, so predictions are bit-identical and training can resume."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}. Check the path; models are "
                                "written by net.save(path) or `nnscratch train --out DIR`.")
    try:
        if path.suffix == ".safetensors":
            return _load_safetensors(path)
        return _load_npz(path)
    except ModelFileError as error:
        raise ModelFileError(f"{path} is not a loadable nnscratch model: {error}") from None
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, struct.error) as error:
        raise ModelFileError(f"{path} is not a loadable nnscratch model: the file is damaged or "
                             f"of another kind ({type(error).__name__}: {error}). Save it again "
                             "with net.save(path).") from None


# ----------------------------------------------------------------------------------------------
# The config: what the file promises, checked before anything is built


def network_config(network: Sequential, include_optimizer: bool,
                   metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON description of ``network`` that ``build_network`` turns back into it."""
    layers = []
    for index, layer in enumerate(network.layers):
        if LAYER_TYPES.get(type(layer).__name__) is not type(layer):
            raise ValueError(f"layers[{index}] is a {type(layer).__name__}, which cannot be "
                             f"saved: a model file may hold only the built-in layers "
                             f"({', '.join(LAYER_TYPES)}), so that loading runs no foreign code.")
        layers.append({"type": type(layer).__name__, "config": layer.get_config()})
    loss_name = next((name for name, cls in LOSSES.items() if type(network.loss) is cls), None)
    if network.loss is not None and loss_name is None:
        warnings.warn(f"The loss {network.loss!r} is not a built-in one, so it is not saved; "
                      "pass loss=... when you fit or evaluate the loaded network.", stacklevel=3)
    optimizer = None
    if include_optimizer and network.optimizer is not None:
        if type(network.optimizer) not in OPTIMIZER_TYPES.values():
            warnings.warn(f"The optimizer {network.optimizer!r} is not a built-in one, so its "
                          "state is not saved.", stacklevel=3)
        else:
            state = network.optimizer.state_dict()
            optimizer = {"name": state["name"], "config": state["config"],
                         "steps": state["steps"],
                         "state": {str(index): sorted(slots)
                                   for index, slots in state["state"].items()}}
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
        "metadata": metadata if metadata is not None else network.metadata,
    }


def build_network(config: dict[str, Any]) -> Sequential:
    """Build the network that ``config`` (already checked by _check_config) describes."""
    layers = []
    for index, spec in enumerate(config["layers"]):
        try:
            layers.append(LAYER_TYPES[spec["type"]](**spec["config"]))
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"layer {index} ({spec['type']}) has a bad config: {error}") \
                from None
    try:
        return Sequential(layers, seed=config["seed"], dtype=config["dtype"], loss=config["loss"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"the layers do not form a network: {error}") from None


def parameter_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter the (checked) config implies, named as in the network."""
    shapes: dict[str, tuple[int, ...]] = {}
    for index, spec in enumerate(config["layers"]):
        if spec["type"] == "Dense":
            fan_in, fan_out = spec["config"]["in_features"], spec["config"]["out_features"]
            shapes[f"{index}.W"] = (fan_in, fan_out)
            shapes[f"{index}.b"] = (fan_out,)
    return shapes


def _check_config(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ModelFileError("its config is not an nnscratch model config")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"its format_version is {version!r}, not a whole number")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"it uses format version {version}, newer than this nnscratch "
                             f"({__version__}) reads (up to {FORMAT_VERSION}). Upgrade nnscratch.")
    if version < 1:
        raise ModelFileError(f"format version {version} does not exist")
    expected_keys = {"format", "format_version", "nnscratch_version", "class", "dtype", "seed",
                     "rng_state", "layers", "loss", "optimizer", "metadata"}
    if set(config) != expected_keys:
        raise ModelFileError(f"its config has keys {sorted(set(config) ^ expected_keys)} "
                             "missing or unexpected")
    if not _is_name_in(config["dtype"], DTYPES):
        raise ModelFileError(f"dtype {config['dtype']!r} is not one of {DTYPES}")
    if not _is_whole(config["seed"]) or config["seed"] < 0:
        raise ModelFileError(f"seed {config['seed']!r} is not a whole number >= 0")
    if config["loss"] is not None and not _is_name_in(config["loss"], LOSSES):
        raise ModelFileError(f"loss {config['loss']!r} is not one of {sorted(LOSSES)}")
    layers = config["layers"]
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
    optimizer = config["optimizer"]
    if optimizer is not None and (
            not isinstance(optimizer, dict)
            or set(optimizer) != {"name", "config", "steps", "state"}
            or not _is_name_in(optimizer["name"], OPTIMIZER_TYPES)
            or not isinstance(optimizer["config"], dict)
            or not _is_whole(optimizer["steps"]) or optimizer["steps"] < 0
            or not isinstance(optimizer["state"], dict)):
        raise ModelFileError("its optimizer entry is not a built-in optimizer's saved state")
    if not isinstance(config["metadata"], dict):
        raise ModelFileError("its metadata is not a JSON object")
    return config


def _restore_state(network: Sequential, config: dict[str, Any],
                   optimizer_state: dict[int, dict[str, np.ndarray]]) -> None:
    network.metadata = config["metadata"]
    try:
        network.rng.bit_generator.state = config["rng_state"]
    except (TypeError, ValueError, KeyError) as error:
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
    slots = {}
    for index_text, names in spec["state"].items():
        if not index_text.isdigit() or int(index_text) >= len(shape_list) \
                or not isinstance(names, list) \
                or not all(name in ("velocity", "mean_square", "first_moment", "second_moment")
                           for name in names):
            raise ModelFileError(f"its optimizer state names an unknown slot ({index_text}: "
                                 f"{names!r})")
        for name in names:
            slots[f"optimizer/{index_text}/{name}"] = (int(index_text),
                                                       shape_list[int(index_text)], name)
    return slots


# ----------------------------------------------------------------------------------------------
# .npz


def _load_npz(path: Path) -> Sequential:
    with zipfile.ZipFile(path) as archive:
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
        if len(members) != len(archive.namelist()):
            raise ModelFileError("it holds files other than .npy arrays")
        if "config" not in members:
            raise ModelFileError("it has no config array (was it written by net.save?)")
        config_bytes = _read_member(archive, members["config"], np.dtype("u1"), None)
        try:
            config = _check_config(json.loads(config_bytes.tobytes().decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelFileError(f"its config is not valid JSON ({error})") from None
        dtype = np.dtype(config["dtype"])
        shapes = parameter_shapes(config)
        slots = _optimizer_slots(config, shapes)
        expected = {f"params/{name}" for name in shapes} | set(slots) | {"config"}
        if set(members) != expected:
            missing, extra = sorted(expected - set(members)), sorted(set(members) - expected)
            raise ModelFileError(f"its arrays do not match its config (missing: {missing}; "
                                 f"unexpected: {extra})")
        weights = [_read_member(archive, members[f"params/{name}"], dtype, shape)
                   for name, shape in shapes.items()]
        optimizer_state: dict[int, dict[str, np.ndarray]] = {}
        for member, (index, shape, slot) in slots.items():
            optimizer_state.setdefault(index, {})[slot] = _read_member(
                archive, members[member], dtype, shape)
    network = build_network(config)
    network.set_weights(weights)
    _restore_state(network, config, optimizer_state)
    return network


def _read_member(archive: zipfile.ZipFile, member: str, dtype: np.dtype,
                 shape: tuple[int, ...] | None) -> np.ndarray:
    """Read one .npy member, refusing any dtype or shape but the expected ones.

    ``shape`` None accepts any 1-D length up to MAX_CONFIG_BYTES (for the config).
    """
    with archive.open(member) as file:
        try:
            version = np.lib.format.read_magic(file)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            found_shape, fortran_order, found_dtype = read_header(file)
        except ValueError as error:
            raise ModelFileError(f"{member} is not a valid .npy array ({error})") from None
        name = member[:-4]
        if found_dtype != dtype.newbyteorder("<") and found_dtype != dtype:
            raise ModelFileError(f"{name} has dtype {found_dtype}, expected {dtype}")
        if shape is None:
            if len(found_shape) != 1 or found_shape[0] > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{name} has shape {found_shape}, expected at most "
                                     f"({MAX_CONFIG_BYTES},)")
            shape = found_shape
        if tuple(found_shape) != tuple(shape) or (fortran_order and len(shape) > 1):
            raise ModelFileError(f"{name} has shape {found_shape}, expected {shape}")
        n_bytes = math.prod(shape) * found_dtype.itemsize
        data = _read_exactly(file, n_bytes, name)
    array = np.frombuffer(data, dtype=found_dtype).reshape(shape).astype(dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ModelFileError(f"{name} holds NaN or infinite values")
    return array


def _read_exactly(file: IO[bytes], n_bytes: int, name: str) -> bytes:
    data = file.read(n_bytes)
    if len(data) != n_bytes:
        raise ModelFileError(f"{name} is truncated: {len(data)} of {n_bytes} bytes")
    return data


def _encode_config(config: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)


# ----------------------------------------------------------------------------------------------
# .safetensors: an 8-byte little-endian header length, a JSON header, then the raw bytes


def _torch_tensors(network: Sequential) -> dict[str, np.ndarray]:
    """PyTorch's state_dict names and shapes: "<index>.weight" (out, in), "<index>.bias"."""
    tensors = {}
    for index, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            tensors[f"{index}.weight"] = np.ascontiguousarray(layer.params["W"].T)
            tensors[f"{index}.bias"] = layer.params["b"]
    return tensors


def _write_safetensors(file: IO[bytes], network: Sequential, config: dict[str, Any]) -> None:
    tensors = _torch_tensors(network)
    dtype_name = {value: key for key, value in SAFETENSORS_DTYPES.items()}[
        network.dtype.newbyteorder("<")]
    header: dict[str, Any] = {"__metadata__": {"format": "pt",
                                               "nnscratch_config": json.dumps(config)}}
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


def _load_safetensors(path: Path) -> Sequential:
    size = path.stat().st_size
    with path.open("rb") as file:
        header_length = struct.unpack("<Q", _read_exactly(file, 8, "the header length"))[0]
        if header_length > min(size - 8, MAX_CONFIG_BYTES):
            raise ModelFileError(f"its header claims {header_length:,} bytes in a file of "
                                 f"{size:,}")
        try:
            header = json.loads(_read_exactly(file, header_length, "the header").decode("utf-8"))
        except json.JSONDecodeError as error:
            raise ModelFileError(f"its header is not valid JSON ({error})") from None
        if not isinstance(header, dict):
            raise ModelFileError("its header is not a JSON object")
        metadata = header.pop("__metadata__", None)
        if not isinstance(metadata, dict) or not isinstance(metadata.get("nnscratch_config"),
                                                            str):
            raise ModelFileError("it has no nnscratch config in its metadata, so the layers "
                                 "between the weights are unknown. Save it with net.save().")
        try:
            config = _check_config(json.loads(metadata["nnscratch_config"]))
        except json.JSONDecodeError as error:
            raise ModelFileError(f"its config is not valid JSON ({error})") from None
        expected = {}
        for name, shape in parameter_shapes(config).items():
            layer_index, key = name.split(".")
            torch_name = f"{layer_index}.weight" if key == "W" else f"{layer_index}.bias"
            expected[torch_name] = shape[::-1]
        if set(header) != set(expected):
            raise ModelFileError(f"its tensors {sorted(header)} do not match its config "
                                 f"{sorted(expected)}")
        data_start = 8 + header_length
        data = _read_exactly(file, size - data_start, "the tensor data")
    tensors = {}
    for name, shape in expected.items():
        entry = header[name]
        if (not isinstance(entry, dict) or entry.get("dtype") not in SAFETENSORS_DTYPES
                or entry.get("shape") != list(shape)):
            raise ModelFileError(f"tensor {name} is not {list(shape)} of F32 or F64")
        dtype = SAFETENSORS_DTYPES[entry["dtype"]]
        begin, end = entry.get("data_offsets", [None, None])
        if not (_is_whole(begin) and _is_whole(end)
                and 0 <= begin <= end <= len(data)
                and end - begin == math.prod(shape) * dtype.itemsize):
            raise ModelFileError(f"tensor {name} has data offsets {entry.get('data_offsets')} "
                                 f"that do not fit its shape or the file")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        if not np.isfinite(tensors[name]).all():
            raise ModelFileError(f"tensor {name} holds NaN or infinite values")
    network = build_network(config)
    weights = []
    for index, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            weights += [tensors[f"{index}.weight"].T, tensors[f"{index}.bias"]]
    network.set_weights([weight.astype(network.dtype) for weight in weights])
    config["optimizer"] = None
    _restore_state(network, config, {})
    return network


# ----------------------------------------------------------------------------------------------
# Helpers


def _is_name_in(value: Any, names: Any) -> bool:
    """Whether ``value`` is a string among ``names`` (a hostile list or dict is simply not)."""
    return isinstance(value, str) and value in names


def _is_whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_size(value: Any) -> TypeGuard[int]:
    return _is_whole(value) and 1 <= value <= MAX_FEATURES
