"""Saving and loading: bit-identical round trips, exact resumption, PyTorch interoperability,
hostile files refused without running anything, and atomic saves."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_weights
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rounding import assert_rounding_close, probability_bound

import nnscratch as ns
from nnscratch.datasets import load_digits
from nnscratch.serialization import ModelFileError

X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = load_digits(seed=0)


def trained(seed=0, dtype="float32", activation="relu", optimizer="adam", epochs=2):
    net = ns.MLP([64, 16, 10], activation=activation, dropout=0.1, seed=seed, dtype=dtype)
    net.fit(X_TRAIN, Y_TRAIN, loss="cross_entropy", optimizer=optimizer, epochs=epochs)
    return net


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz written member by member, so tests can put anything in it."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
            archive.writestr(f"{name}.npy", buffer.getvalue())


def read_npz_members(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a valid model file (test-side reader, on a file we wrote ourselves)."""
    with zipfile.ZipFile(path) as archive:
        return {name[:-4]: np.lib.format.read_array(io.BytesIO(archive.read(name)))
                for name in archive.namelist()}


def config_of(members):
    return json.loads(members["config"].tobytes())


def encode(config):
    return np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)


# ---- round trips ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_loaded_model_predicts_bit_identically(tmp_path, dtype, suffix):
    net = trained(dtype=dtype, activation="tanh")
    path = net.save(tmp_path / f"model{suffix}")
    loaded = ns.load(path)
    assert loaded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(loaded.predict_proba(X_TEST), net.predict_proba(X_TEST))
    assert [repr(layer) for layer in loaded.layers] == [repr(layer) for layer in net.layers]
    assert isinstance(loaded.loss, ns.CrossEntropy)


def test_optimizer_state_and_metadata_come_back(tmp_path):
    net = trained(optimizer=ns.SGD(lr=0.05, momentum=0.9, nesterov=True))
    ns.save(net, tmp_path / "model.npz", metadata={"history": {"loss": [1.0, 0.5]}})
    loaded = ns.load(tmp_path / "model.npz")
    assert loaded.metadata == {"history": {"loss": [1.0, 0.5]}}
    assert repr(loaded.optimizer) == repr(net.optimizer)
    assert loaded.optimizer.steps == net.optimizer.steps
    for index, slots in net.optimizer.state.items():
        np.testing.assert_array_equal(loaded.optimizer.state[index]["velocity"],
                                      slots["velocity"])


def test_resuming_from_a_save_equals_never_stopping(tmp_path):
    straight = trained(seed=3, epochs=4)
    first_half = trained(seed=3, epochs=2)
    first_half.save(tmp_path / "checkpoint.npz")
    resumed = ns.load(tmp_path / "checkpoint.npz")
    resumed.fit(X_TRAIN, Y_TRAIN, epochs=2)
    assert_same_weights(resumed, straight)


def test_saving_without_the_optimizer(tmp_path):
    net = trained()
    net.save(tmp_path / "model.npz", include_optimizer=False)
    assert ns.load(tmp_path / "model.npz").optimizer is None


def test_safetensors_carries_pytorch_names_and_shapes(tmp_path):
    numpy_reader = pytest.importorskip("safetensors.numpy")
    net = trained()
    tensors = numpy_reader.load_file(str(net.save(tmp_path / "model.safetensors")))
    assert {name: tensor.shape for name, tensor in tensors.items()} == {
        "0.weight": (16, 64), "0.bias": (16,), "3.weight": (10, 16), "3.bias": (10,)}
    np.testing.assert_array_equal(tensors["0.weight"], net.layers[0].params["W"].T)


def test_pytorch_loads_the_weights_and_predicts_the_same(tmp_path):
    torch = pytest.importorskip("torch")
    torch_reader = pytest.importorskip("safetensors.torch")
    net = trained()
    path = net.save(tmp_path / "model.safetensors")
    twin = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(16, 10)).eval()
    twin.load_state_dict(torch_reader.load_file(str(path)))
    with torch.no_grad():
        probabilities = torch.softmax(twin(torch.from_numpy(X_TEST)), dim=1).numpy()
    roundings, scale = probability_bound(net, X_TEST)  # the same weights, two libraries
    assert_rounding_close(probabilities, net.predict_proba(X_TEST), roundings=roundings,
                          scale=scale)


# ---- refusing to save what cannot be loaded safely -----------------------------------------

class Doubler(ns.Layer):
    def forward(self, x, training=False):
        return 2 * x

    def backward(self, grad_output):
        return 2 * grad_output


def test_custom_layers_are_not_saved(tmp_path):
    net = ns.Sequential([ns.Dense(2, 2), Doubler()], seed=0)
    with pytest.raises(ValueError, match=r"layers\[1\] is a Doubler, which cannot be saved"):
        net.save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist. Create it first"):
        trained().save(tmp_path / "no" / "such" / "model.npz")


# ---- hostile and damaged files -------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = trained().save(tmp_path / "model.npz")
    return path, read_npz_members(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file at"):
        ns.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("content", [b"", b"junk" * 100, b"PK\x03\x04" + b"\x00" * 50])
def test_junk_bytes(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a loadable nnscratch model"):
        ns.load(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_files(saved, fraction):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(ModelFileError, match="not a loadable nnscratch model"):
        ns.load(path)


class Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    marker: Path

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("member", ["params/0.W", "config"])
def test_a_pickle_payload_is_never_executed(saved, tmp_path, member):
    path, members = saved
    Payload.marker = tmp_path / "pwned"
    members[member] = np.array([Payload()], dtype=object)
    write_npz(path, members)
    with pytest.raises(ModelFileError, match="dtype object"):
        ns.load(path)
    assert not Payload.marker.exists()


def test_wrong_dtype(saved):
    path, members = saved
    members["params/0.W"] = members["params/0.W"].astype(np.float64)
    write_npz(path, members)
    with pytest.raises(ModelFileError, match=r"params/0.W has dtype float64, expected float32"):
        ns.load(path)


def test_shape_disagreeing_with_the_config(saved):
    path, members = saved
    members["params/3.W"] = members["params/3.W"][:, :5]
    write_npz(path, members)
    with pytest.raises(ModelFileError, match=r"params/3.W has shape \(16, 5\), expected \(16, 10\)"):
        ns.load(path)


def test_missing_and_extra_arrays(saved):
    path, members = saved
    del members["params/0.b"]
    members["params/9.W"] = np.ones(3, dtype=np.float32)
    write_npz(path, members)
    with pytest.raises(ModelFileError, match=r"missing: \['params/0.b'\]; unexpected: \['params/9.W'\]"):
        ns.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(format_version=99), r"format version 99, newer than this nnscratch"),
    (lambda c: c.update(format="keras"), r"not an nnscratch model config"),
    (lambda c: c.update(dtype="int8"), r"dtype 'int8'"),
    (lambda c: c["layers"][0].update(type="os.system"), r"not one of the built-in layers"),
    (lambda c: c["layers"][0]["config"].update(in_features=-3), r"Dense\) has sizes \[-3, 16\]"),
    (lambda c: c["layers"][0]["config"].update(in_features=2**24, out_features=2**24),
     r"claims .* parameters, more than"),
    (lambda c: c["layers"][1].update(config={"evil": 1}), r"layer 1 \(ReLU\) has a bad config"),
    (lambda c: c.update(loss="__import__"), r"loss '__import__' is not one of"),
    (lambda c: c["optimizer"].update(name="Evil"), r"optimizer entry is not a built-in"),
    (lambda c: c["optimizer"]["config"].update(lr=-1), r"optimizer config is invalid: lr must be"),
    (lambda c: c.update(rng_state={"bit_generator": "MT19937"}), r"random-generator state"),
    (lambda c: c.pop("seed"), r"keys \['seed'\] missing or unexpected"),
])
def test_a_bad_config_is_refused_before_anything_is_built(saved, change, message):
    path, members = saved
    config = config_of(members)
    change(config)
    members["config"] = encode(config)
    write_npz(path, members)
    with pytest.raises(ModelFileError, match=message):
        ns.load(path)


def test_a_header_claiming_billions_of_elements_is_refused_without_allocating(saved):
    path, members = saved
    config = config_of(members)
    config["layers"][0]["config"]["in_features"] = 2**24 - 1  # 2.7e8 parameters claimed
    config["optimizer"] = None
    members = {"config": encode(config), **{k: v for k, v in members.items()
                                           if k.startswith("params/")}}
    write_npz(path, members)
    with pytest.raises(ModelFileError, match=r"params/0.W has shape \(64, 16\), expected"):
        ns.load(path)


def test_safetensors_without_nnscratch_metadata(tmp_path):
    path = tmp_path / "foreign.safetensors"
    header = json.dumps({"0.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\x00" * 4)
    with pytest.raises(ModelFileError, match="no nnscratch config in its metadata"):
        ns.load(path)


def test_safetensors_with_an_absurd_header_length(tmp_path):
    path = tmp_path / "absurd.safetensors"
    path.write_bytes(struct.pack("<Q", 2**60) + b"{}")
    with pytest.raises(ModelFileError, match="header claims"):
        ns.load(path)


def test_safetensors_with_offsets_outside_the_file(tmp_path):
    path = trained().save(tmp_path / "model.safetensors")
    data = path.read_bytes()
    header_length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_length])
    header["0.bias"]["data_offsets"] = [0, 10**9]
    new_header = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new_header)) + new_header + data[8 + header_length:])
    with pytest.raises(ModelFileError, match="tensor 0.bias has data offsets"):
        ns.load(path)


# ---- atomic saves --------------------------------------------------------------------------

def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    original = trained(seed=0)
    original.save(path)
    before = path.read_bytes()

    def failing_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        trained(seed=1).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    monkeypatch.undo()
    assert_same_weights(ns.load(path), original)


# ---- promise: save() never writes what load() refuses ------------------------------------------

JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                        st.binary(max_size=4), st.tuples(st.integers()), st.sets(st.integers()))
METADATA = st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.none()),
                           st.recursive(JSON_LEAVES, lambda inner: st.one_of(
                               st.lists(inner, max_size=3),
                               st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                               max_leaves=12), max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "identity"]),
       dropout=st.sampled_from([0.0, 0.3]), dtype=st.sampled_from(["float32", "float64"]),
       optimizer=st.sampled_from([None, "sgd", "momentum", "rmsprop", "adam", "adamw"]),
       metadata=METADATA, suffix=st.sampled_from([".npz", ".safetensors"]),
       poison=st.sampled_from([None, "nan", "inf", "dtype", "shape", "state"]))
def test_promise_load_of_save_predicts_bit_identically_or_save_refuses_clearly(
        tmp_path, sizes, activation, dropout, dtype, optimizer, metadata, suffix, poison):
    net = ns.MLP(sizes, activation=activation, dropout=dropout, seed=0, dtype=dtype,
                 loss="cross_entropy" if sizes[-1] > 1 else "mse")
    X = np.random.default_rng(0).random((6, sizes[0]))
    if optimizer is not None:
        y = np.arange(6) % sizes[-1] if sizes[-1] > 1 else np.ones(6)
        net.fit(X, y, optimizer=optimizer, epochs=1, batch_size=3, seed=0)
    net.metadata = metadata
    weight = net.layers[0].params["W"]
    if poison == "nan":
        weight[0, 0] = np.nan
    elif poison == "inf":
        weight[-1, -1] = -np.inf
    elif poison == "dtype":
        net.layers[0].params["W"] = weight.astype(np.float16)
    elif poison == "shape":
        net.layers[0].params["W"] = weight[:, :1] if weight.shape[1] > 1 else weight.T.copy()
    elif poison == "state" and net.optimizer is not None and net.optimizer.state:
        next(iter(net.optimizer.state[0].values()))[...] = np.inf
    path = tmp_path / f"model{suffix}"
    path.unlink(missing_ok=True)
    try:
        net.save(path)
    except (ValueError, TypeError) as error:
        assert "cannot be saved" in str(error) or "metadata must be" in str(error)
        assert not path.exists()
        return
    loaded = ns.load(path)
    expected = net.forward(X.astype(dtype))
    assert loaded.forward(X.astype(dtype)).tobytes() == expected.tobytes()


def test_promise_save_refuses_nan_weights_and_keeps_the_previous_file(tmp_path):
    net = trained()
    path = net.save(tmp_path / "model.npz")
    before = path.read_bytes()
    net.layers[0].params["W"][3, 4] = np.nan
    with pytest.raises(ValueError, match=r"0\.W holds NaN or infinite values, which load\(\) "
                                         r"refuses"):
        net.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def nested(depth):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("metadata, message", [
    ({"x": float("nan")}, "not plain JSON"),
    ({"x": object()}, "not plain JSON"),
    ({"x": "y" * (17 * 2**20)}, "more than the"),
    ({"x": nested(70)}, "nests deeper"),
])
def test_promise_save_refuses_metadata_that_load_would_refuse(tmp_path, metadata, message):
    with pytest.raises(ValueError, match=message):
        trained().save(tmp_path / "model.npz", metadata=metadata)
    assert not list(tmp_path.iterdir())


def test_promise_a_save_is_verified_by_loading_it_back(tmp_path, monkeypatch):
    from nnscratch import serialization

    real_savez = np.savez

    def corrupting_savez(file, **arrays):  # a writer that silently damages one weight
        arrays["params/0.W"] = arrays["params/0.W"] + 1
        real_savez(file, **arrays)

    monkeypatch.setattr(serialization.np, "savez", corrupting_savez)
    with pytest.raises(ValueError, match="does not read back bit for bit"):
        trained().save(tmp_path / "model.npz")
    assert not list(tmp_path.iterdir())


# ---- promise: integrity, as the reference implementations check it ------------------------------

@pytest.fixture
def model_file(tmp_path):
    return trained().save(tmp_path / "model.npz")


def test_promise_a_flipped_weight_byte_fails_the_zip_crc(model_file):
    saved = model_file
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("params/0.W.npy")
    data = bytearray(saved.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0x01  # inside W's data
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="CRC"):
        ns.load(saved)


def rewrite_safetensors(path, change_header=None, tail=b"", raw_header=None):
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    if change_header is not None:
        change_header(header)
    encoded = raw_header(header) if raw_header else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:] + tail)


def overlap(header):
    header["0.bias"]["data_offsets"] = header["0.weight"]["data_offsets"][:1] + [
        header["0.weight"]["data_offsets"][0] + 64]


@pytest.mark.parametrize("change, tail, raw, message, reference_refuses", [
    (overlap, b"", None, "overlap or leave a gap", True),
    (None, b"junk", None, "trailing bytes", True),
    (None, b"", lambda h: json.dumps(h).replace('"0.bias": ', '"0.bias": {}, "0.bias": ', 1)
     .encode(), "repeats the keys", None),
    (lambda h: h["__metadata__"].update(format=1), b"", None, "map of strings to strings", True),
    (lambda h: h["0.bias"].update(dtype="F16"), b"", None, "dtype", False),  # not our dtype
    (lambda h: h["0.bias"].update(extra=1), b"", None, "dtype", None),
])
def test_promise_malformed_safetensors_are_refused_as_the_reference_refuses_them(
        tmp_path, change, tail, raw, message, reference_refuses):
    path = trained().save(tmp_path / "model.safetensors")
    rewrite_safetensors(path, change, tail, raw)
    with pytest.raises(ModelFileError, match=message):
        ns.load(path)
    if reference_refuses:
        safetensors_numpy = pytest.importorskip("safetensors.numpy")
        with pytest.raises(Exception):  # noqa: B017 - the reference refuses it, in its own way
            safetensors_numpy.load_file(path)


# ---- promise: bounded resources, documented errors only -----------------------------------------

def test_promise_a_small_file_cannot_make_load_allocate_gigabytes(tmp_path):
    import tracemalloc

    config = {**config_of(read_npz_members(trained().save(tmp_path / "m.npz"))),
              "optimizer": None}
    config["layers"] = [{"type": "Dense", "config": {"in_features": 2**14,
                                                     "out_features": 2**14}}]
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.npy", npy(encode(config)))
        header = npy(np.zeros(0, np.float32))[:0] + npy_header((2**14, 2**14), np.float32)
        archive.writestr("params/0.W.npy", header + b"\0" * 2**20)  # 1 MiB of the 1 GiB claimed
        archive.writestr("params/0.b.npy", npy(np.zeros(2**14, np.float32)))
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    with pytest.raises(ModelFileError, match="params/0.W"):
        ns.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20


def test_promise_load_draws_no_random_weights_and_reads_into_the_parameters(tmp_path):
    import tracemalloc

    net = ns.MLP([512, 512, 256, 10], seed=0)
    path = net.save(tmp_path / "model.npz", include_optimizer=False)
    param_bytes = net.n_params * 4
    state = net.rng.bit_generator.state
    tracemalloc.start()
    loaded = ns.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert loaded.rng.bit_generator.state == state  # the generator was not advanced
    # parameters + their (zeroed) gradients + read buffers; a draw-then-copy needs more
    assert peak < 2 * param_bytes + 12 * 2**20


@pytest.mark.parametrize("damage", ["deep json", "encrypted", "method", "directory", "duplicate"])
def test_promise_only_model_file_error_escapes(model_file, damage):
    saved = model_file
    members = {name: data for name, data in raw_members(saved).items()}
    if damage == "deep json":
        text = b'{"format": "nnscratch", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        members["config.npy"] = npy(np.frombuffer(text, np.uint8))
        write_raw(saved, members)
    elif damage == "duplicate":
        write_raw(saved, members, duplicate="params/0.b.npy")
    elif damage == "directory":
        members["params/"] = b""
        write_raw(saved, members)
    else:
        data = bytearray(saved.read_bytes())
        central = data.find(b"PK\x01\x02")  # the central directory's first entry
        if damage == "encrypted":
            data[central + 8] |= 1
        else:
            data[central + 10] = 99
        saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=str(saved)):
        ns.load(saved)


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape, dtype):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(
        np.dtype(dtype)), "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def raw_members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_raw(path, members, duplicate=None):
    import warnings

    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, data in members.items():
            archive.writestr(name, data)
        if duplicate:
            archive.writestr(duplicate, members[duplicate])


def json_depth_by_recursion(value):
    if isinstance(value, dict):
        return 1 + max((json_depth_by_recursion(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth_by_recursion(item) for item in value), default=0)
    return 0


JSON_TREES = st.recursive(st.text(alphabet='ab[]{}"\\ ', max_size=6),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(alphabet='k[]"\\', max_size=3), inner,
                                            max_size=3), max_leaves=20)


@given(tree=JSON_TREES, chunk=st.sampled_from([1, 3, 7, 2**20]))
def test_the_nesting_depth_ignores_brackets_inside_strings(tree, chunk):
    from nnscratch.serialization import _json_depth

    assert _json_depth(json.dumps(tree).encode(), chunk) == json_depth_by_recursion(tree)


def test_promise_metadata_with_numpy_scalars_and_bracketed_strings_saves(tmp_path):
    net = trained()
    net.metadata = {"note": "[" * 200, "accuracy": np.float32(0.5), "epochs": np.int64(3),
                    "best": np.bool_(True)}
    loaded = ns.load(net.save(tmp_path / "model.npz"))
    assert loaded.metadata == {"note": "[" * 200, "accuracy": 0.5, "epochs": 3, "best": True}


@pytest.mark.parametrize("name", sorted(ns.optim.OPTIMIZERS))
def test_every_registered_optimizer_saves_and_loads_its_state(name, tmp_path):
    """The file format takes its optimizers from optim's registry and their state's names
    from each class's ``slots``: nothing to edit by hand when an optimizer is added."""
    from nnscratch.serialization import OPTIMIZER_TYPES

    assert set(OPTIMIZER_TYPES.values()) == set(ns.optim.OPTIMIZERS.values())
    net = ns.MLP([64, 8, 10], seed=0)
    net.fit(X_TRAIN[:64], Y_TRAIN[:64], loss="cross_entropy", optimizer=name, epochs=1,
            verbose=0)
    kept = {slot for slots in net.optimizer.state.values() for slot in slots}
    assert kept == set(type(net.optimizer).slots) or (name == "sgd" and not kept)
    loaded = ns.load(net.save(tmp_path / "model.npz"))
    assert type(loaded.optimizer) is type(net.optimizer)
    for index, slots in net.optimizer.state.items():
        for slot, array in slots.items():
            np.testing.assert_array_equal(loaded.optimizer.state[index][slot], array)
