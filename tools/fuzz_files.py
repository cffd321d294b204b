"""Fuzz the readers of outside files: model files (.npz, .safetensors) and MNIST's gzipped IDX.

    python tools/fuzz_files.py                      # 5,000 model files and 1,000 IDX files
    python tools/fuzz_files.py --models 300 --idx 100 --seed 1

Each case is a mutated copy of a valid file (byte flips, truncation, junk, spliced ranges, and
structural lies: configs, .npy headers, zip members, safetensors offsets and metadata, gzip
bombs), read in a forked child process with a time limit (``--timeout``) and an address-space
limit (RLIMIT_AS). The child reports how the read ended and its peak resident memory above
what it started with (VmHWM after resetting it through /proc/self/clear_refs). A case passes
if it loads a valid model (or array) or fails with the documented error (ModelFileError for
models, DataError for data files) within the time, and its memory stays within
2 x the model's parameter bytes + 64 MiB. The tally is printed; the exit code is 1 if any
case failed.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import select
import signal
import struct
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a predictable address space per child

import numpy as np  # noqa: E402

import nnscratch as ns  # noqa: E402
from nnscratch.datasets import DataError  # noqa: E402
from nnscratch.datasets.mnist import read_idx_file  # noqa: E402
from nnscratch.serialization import ModelFileError  # noqa: E402

SLACK_BYTES = 64 * 2**20
warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # duplicates are on purpose
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# ---- the seeds: valid files to mutate ---------------------------------------------------------

def seed_models(folder: Path) -> list[tuple[Path, int]]:
    """Valid model files of several kinds, with their parameter bytes."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 20)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    nets = [
        ns.MLP([20, 16, 3], seed=0),
        ns.MLP([20, 32, 16, 3], activation="tanh", dropout=0.2, seed=1),
        ns.MLP([20, 8, 3], activation="sigmoid", seed=2, dtype="float64"),
        ns.MLP([20, 256, 256, 3], seed=3),
    ]
    optimizers = [ns.Adam(), ns.SGD(momentum=0.9), ns.RMSProp(), ns.AdamW()]
    seeds = []
    for index, (net, optimizer) in enumerate(zip(nets, optimizers, strict=True)):
        net.fit(X, y, loss="cross_entropy", optimizer=optimizer, verbose=0, epochs=2,
                batch_size=16, seed=0)
        net.metadata = {"note": "seed", "numbers": [1, 2.5, None, True], "nested": {"a": "b"}}
        param_bytes = net.n_params * net.dtype.itemsize
        for suffix in (".npz", ".safetensors"):
            path = folder / f"seed{index}{suffix}"
            net.save(path)
            seeds.append((path, param_bytes))
    return seeds


def seed_idx(folder: Path, data_dir: Path) -> list[tuple[Path, str, int]]:
    """Gzipped IDX files with their SHA-256 and size: MNIST's test labels, and a small image
    file of our own (the full image files are too slow to read thousands of times)."""
    from nnscratch.datasets.mnist import DATA_SETS

    seeds = []
    labels = data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz"
    if labels.is_file():
        sha = DATA_SETS["mnist"].sha256["t10k-labels-idx1-ubyte"]
        seeds.append((labels, sha, DATA_SETS["mnist"].sizes["t10k-labels-idx1-ubyte"]))
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    raw = struct.pack(">HBBIII", 0, 0x08, 3, 50, 28, 28) + images.tobytes()
    path = folder / "small-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(raw))
    import hashlib

    seeds.append((path, hashlib.sha256(raw).hexdigest(), len(raw)))
    return seeds


# ---- mutations ----------------------------------------------------------------------------------

def mutate_bytes(data: bytes, rng: np.random.Generator, other: bytes) -> bytes:
    """One to three byte-level changes."""
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        n = len(data)
        kind = int(rng.integers(0, 9))
        at = int(rng.integers(0, max(n, 1)))
        if kind == 0 and n:  # flip bits
            data[at] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1 and n:  # random bytes
            length = int(rng.integers(1, 17))
            data[at:at + length] = rng.bytes(length)
        elif kind == 2:  # truncate
            del data[at:]
        elif kind == 3:  # insert junk
            data[at:at] = rng.bytes(int(rng.integers(1, 65)))
        elif kind == 4 and n:  # delete a range
            del data[at:at + int(rng.integers(1, 65))]
        elif kind == 5 and n:  # duplicate a range
            length = int(rng.integers(1, 257))
            data[at:at] = data[at:at + length]
        elif kind == 6 and n:  # a run of 0x00 or 0xFF
            length = int(rng.integers(1, 33))
            data[at:at + length] = bytes([0xFF * int(rng.integers(0, 2))]) * length
        elif kind == 7:  # splice in part of another file
            start = int(rng.integers(0, max(len(other), 1)))
            data[at:at + 64] = other[start:start + 64]
        elif kind == 8:  # trailing junk
            data += rng.bytes(int(rng.integers(1, 4097)))
    return bytes(data)


def npz_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zip_bytes(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members:
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


HOSTILE_VALUES = [None, -1, 0, 2**31, 2**63, 2**100, 1e308, -1e308, 1.5, "x", "", "Dense",
                  [], {}, [1, [2]], {"a": 1}, True, False, "\u0000", "\ud7ff" * 3]


def mutate_json(value: object, rng: np.random.Generator, depth: int = 0) -> object:
    """The JSON value with one random leaf (or key) replaced, removed or added."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = list(value)[int(rng.integers(0, len(value)))]
        choice = rng.random()
        copy = dict(value)
        if choice < 0.1:
            del copy[key]
        elif choice < 0.15:
            copy[f"extra{int(rng.integers(0, 9))}"] = HOSTILE_VALUES[
                int(rng.integers(0, len(HOSTILE_VALUES)))]
        else:
            copy[key] = mutate_json(value[key], rng, depth + 1)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = int(rng.integers(0, len(value)))
        copy_list = list(value)
        if rng.random() < 0.1:
            copy_list.append(copy_list[index])
        else:
            copy_list[index] = mutate_json(value[index], rng, depth + 1)
        return copy_list
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.5:
        return value + int(rng.choice([-1, 1, 2**20, 2**40]))
    return HOSTILE_VALUES[int(rng.integers(0, len(HOSTILE_VALUES)))]


def hostile_json_text(config: dict, rng: np.random.Generator) -> bytes:
    """Config text that is not what json.dumps writes: duplicates, NaN, deep nesting, bad UTF-8."""
    text = json.dumps(config)
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return text.replace('"dtype": ', '"dtype": "float64", "dtype": ', 1).encode()
    if kind == 1:
        return text.replace('"seed": ', '"seed": NaN, "x": ', 1).encode()
    if kind == 2:
        depth = int(rng.choice([100, 10_000, 200_000]))
        return text.replace('"metadata": {', '"metadata": {"deep": ' + "[" * depth + "]" * depth
                            + ", ", 1).encode()
    if kind == 3:
        return text.encode()[:-1] + b"\xff\xfe}"
    return text.replace('"layers": [', '"layers": [' + '{"type": "ReLU", "config": {}}, ' * 20000,
                        1).encode()


def mutate_npz(data: bytes, rng: np.random.Generator) -> bytes:
    """A structural lie inside a valid zip of valid-looking .npy members."""
    members = list(npz_members(data).items())
    names = [name for name, _ in members]
    config_index = names.index("config.npy")
    config = json.loads(np.lib.format.read_array(io.BytesIO(members[config_index][1])).tobytes())
    kind = int(rng.integers(0, 11))
    compression = zipfile.ZIP_STORED
    if kind == 0:  # a mutated config
        text = json.dumps(mutate_json(config, rng)).encode()
        members[config_index] = ("config.npy", npy_bytes(np.frombuffer(text, np.uint8)))
    elif kind == 1:  # a config written by something other than json.dumps
        text = hostile_json_text(config, rng)
        members[config_index] = ("config.npy", npy_bytes(np.frombuffer(text, np.uint8)))
    elif kind == 2:  # a parameter header that lies about its shape or dtype
        index = int(rng.integers(0, len(members)))
        name, content = members[index]
        header = content[:128].replace(b"'shape': (", b"'shape': (" + str(
            int(rng.choice([0, 1, 7, 2**20, 2**31, 2**62]))).encode() + b", ", 1)
        if rng.random() < 0.3:
            header = header.replace(b"<f", rng.choice([b"|O", b"<c", b">f", b"<i"]), 1)
        if rng.random() < 0.2:
            header = header.replace(b"False", b"True", 1)
        members[index] = (name, header + content[128:])
    elif kind == 3:  # NaN or infinity in a weight
        index = int(rng.integers(0, len(members)))
        name, content = members[index]
        if name != "config.npy":
            array = np.lib.format.read_array(io.BytesIO(content)).copy()
            array.flat[int(rng.integers(0, array.size))] = rng.choice([np.nan, np.inf, -np.inf])
            members[index] = (name, npy_bytes(array))
    elif kind == 4:  # a member dropped, duplicated, renamed or added
        choice = int(rng.integers(0, 4))
        index = int(rng.integers(0, len(members)))
        if choice == 0:
            del members[index]
        elif choice == 1:
            members.append(members[index])
        elif choice == 2:
            members[index] = ("params/99.W.npy", members[index][1])
        else:
            members.append(("notes.txt", b"hello"))
    elif kind == 5:  # a compression bomb: the config claims a huge layer, backed by zeros
        size = int(rng.choice([3000, 20000, 2**24]))
        n_in = config["layers"][0]["config"]["in_features"]
        config["layers"] = [{"type": "Dense", "config": {"in_features": n_in,
                                                         "out_features": size}},
                            {"type": "ReLU", "config": {}},
                            {"type": "Dense", "config": {"in_features": size, "out_features": 3}}]
        config["optimizer"] = None
        text = json.dumps(config).encode()
        members = [("config.npy", npy_bytes(np.frombuffer(text, np.uint8)))]
        dtype = np.dtype(config["dtype"])
        for name, shape in (("0.W", (n_in, size)), ("0.b", (size,)), ("2.W", (size, 3)),
                            ("2.b", (3,))):
            count = int(np.prod(shape)) * dtype.itemsize
            members.append((f"params/{name}.npy",
                            _npy_header(shape, dtype) + b"\0" * min(count, 2**26)))
        compression = zipfile.ZIP_DEFLATED
    elif kind == 6:  # everything deflated (valid: np.savez_compressed does this)
        compression = zipfile.ZIP_DEFLATED
    elif kind == 7:  # a flipped byte inside a weight (the CRC must catch it)
        return _flip_inside_member(data, rng)
    elif kind == 8:  # optimizer state with an unknown slot or index
        if config.get("optimizer"):
            state = config["optimizer"]["state"]
            state[str(int(rng.integers(0, 50)))] = [str(rng.choice(["velocity", "bogus"]))]
            text = json.dumps(config).encode()
            members[config_index] = ("config.npy", npy_bytes(np.frombuffer(text, np.uint8)))
    elif kind == 9:  # an encrypted-flag or unsupported compression method
        raw = bytearray(zip_bytes(members))
        position = raw.find(b"PK\x01\x02")  # a central directory entry, which zipfile reads
        if rng.random() < 0.5:
            raw[position + 8] |= 1
        else:
            raw[position + 10] = int(rng.choice([1, 6, 12, 14, 99]))
        return bytes(raw)
    else:  # a config that is not a uint8 array
        text_array = np.frombuffer(json.dumps(config).encode(), np.uint8)
        members[config_index] = ("config.npy",
                                 npy_bytes(text_array.astype(rng.choice(["<i4", "<f4"]))))
    return zip_bytes(members, compression)


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                  "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _flip_inside_member(data: bytes, rng: np.random.Generator) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = [i for i in archive.infolist() if i.filename.startswith("params/")][0]
    start = info.header_offset + 30 + len(info.filename) + 128
    raw = bytearray(data)
    raw[start + int(rng.integers(0, 16))] ^= 0x40
    return bytes(raw)


def mutate_safetensors(data: bytes, rng: np.random.Generator) -> bytes:
    """A structural lie in a safetensors header."""
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = [name for name in header if name != "__metadata__"]
    name = tensors[int(rng.integers(0, len(tensors)))]
    kind = int(rng.integers(0, 9))
    if kind == 0:  # overlapping or outside offsets
        begin, end = header[name]["data_offsets"]
        shift = int(rng.choice([-4, 4, -(2**40), 2**40, len(body)]))
        header[name]["data_offsets"] = [begin + shift, end + shift]
    elif kind == 1:
        header[name]["dtype"] = str(rng.choice(["F16", "I64", "BOOL", "F64", "X"]))
    elif kind == 2:
        header[name]["shape"] = mutate_json(header[name]["shape"], rng)
    elif kind == 3:
        header["__metadata__"][str(rng.choice(["format", "other"]))] = mutate_json(1, rng)
    elif kind == 4:
        config = json.loads(header["__metadata__"]["nnscratch_config"])
        header["__metadata__"]["nnscratch_config"] = json.dumps(mutate_json(config, rng))
    elif kind == 5:  # duplicate key, written by hand
        text = json.dumps(header).replace(f'"{name}": ', f'"{name}": {{}}, "{name}": ', 1)
        encoded = text.encode()
        return struct.pack("<Q", len(encoded)) + encoded + body
    elif kind == 6:  # trailing bytes after the data
        body += rng.bytes(int(rng.integers(1, 64)))
    elif kind == 7:  # a header length that lies
        encoded = json.dumps(header).encode()
        return struct.pack("<Q", len(encoded) + int(rng.choice([-5, 3, 2**33, 2**63]))) + \
            encoded + body
    else:
        del header[name]
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


def mutate_idx_gz(data: bytes, rng: np.random.Generator) -> bytes:
    raw = gzip.decompress(data)
    kind = int(rng.integers(0, 8))
    if kind == 0:  # a gzip bomb: far more zeros than the file can have
        return _BOMB
    if kind == 1:  # a lying IDX header
        header = bytearray(raw[:16])
        header[int(rng.integers(0, 16))] = int(rng.integers(0, 256))
        return gzip.compress(bytes(header) + raw[16:])
    if kind == 2:  # two gzip members
        return gzip.compress(raw[:len(raw) // 2]) + gzip.compress(raw[len(raw) // 2:])
    if kind == 3:  # junk after the gzip stream
        return data + rng.bytes(int(rng.integers(1, 100)))
    if kind == 4:  # not gzip at all
        return raw
    if kind == 5:
        return b""
    if kind == 6:  # the data with one byte changed, properly compressed (checksum must catch)
        changed = bytearray(raw)
        changed[int(rng.integers(0, len(changed)))] ^= 1
        return gzip.compress(bytes(changed))
    return gzip.compress(raw + b"\0" * int(rng.integers(1, 10)))


_BOMB = b""


# ---- running one case in a child ---------------------------------------------------------------

def run_case(read: Callable[[Path], object], path: Path, documented: tuple[type, ...],
             limit_bytes: int, timeout: float) -> dict:
    """Fork, read ``path`` under the limits, and report: outcome, detail, peak_bytes."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        outcome = {"outcome": "crash", "detail": "", "peak": 0}
        try:
            with open("/proc/self/clear_refs", "w") as file:
                file.write("5")  # reset the peak resident size
            baseline = _status("VmRSS")
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (_status("VmSize") + limit_bytes, hard))
            signal.alarm(int(timeout) + 1)
            try:
                outcome.update(outcome="loaded", loaded_bytes=read(path) or 0)
            except documented as error:
                outcome.update(outcome="refused", detail=type(error).__name__)
            except BaseException as error:  # noqa: BLE001 - this is what the fuzzer looks for
                outcome.update(outcome="undocumented",
                               detail=f"{type(error).__name__}: {str(error)[:200]}")
            outcome["peak"] = _status("VmHWM") - baseline
        finally:
            os.write(writer, json.dumps(outcome).encode())
            os._exit(0)
    os.close(writer)
    ready, _, _ = select.select([reader], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(reader)
        return {"outcome": "hang", "detail": f"no answer in {timeout} s", "peak": 0}
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"outcome": "crash", "detail": f"exit status {status}", "peak": 0}
    return json.loads(b"".join(chunks))


def _status(field: str) -> int:
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


# ---- the campaign -------------------------------------------------------------------------------

def fuzz(n_models: int, n_idx: int, seed: int, data_dir: Path, timeout: float,
         report: Callable[[str], None] = print) -> Counter:
    global _BOMB
    rng = np.random.default_rng(seed)
    tally: Counter = Counter()
    failures: list[str] = []
    worst_ratio = 0.0
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        models = seed_models(folder)
        originals = [path.read_bytes() for path, _ in models]
        case_path = {suffix: folder / f"case{suffix}" for suffix in (".npz", ".safetensors")}
        for case in range(n_models):
            index = int(rng.integers(0, len(models)))
            (path, param_bytes), data = models[index], originals[index]
            other = originals[int(rng.integers(0, len(originals)))]
            structural = rng.random() < 0.5
            if path.suffix == ".npz":
                mutated = mutate_npz(data, rng) if structural else mutate_bytes(data, rng, other)
            else:
                mutated = (mutate_safetensors(data, rng) if structural
                           else mutate_bytes(data, rng, other))
            target = case_path[path.suffix]
            target.write_bytes(mutated)
            limit = 2 * param_bytes + SLACK_BYTES
            result = run_case(_load_and_predict, target, (ModelFileError,), 2**31, timeout)
            limit = max(limit, 2 * result.get("loaded_bytes", 0) + SLACK_BYTES)
            kind = f"model {result['outcome']}"
            tally[kind] += 1
            worst_ratio = max(worst_ratio, result["peak"] / limit)
            if result["outcome"] in ("undocumented", "hang", "crash") or result["peak"] > limit:
                failures.append(f"model case {case} ({path.name}, "
                                f"{'structural' if structural else 'bytes'}): {result}")
                (folder.parent / f"nnscratch-fuzz-failure-{case}{path.suffix}").write_bytes(
                    mutated)
        _BOMB = gzip.compress(b"\0" * (256 * 2**20), compresslevel=9)
        idx_seeds = seed_idx(folder, data_dir)
        for case in range(n_idx):
            path, sha, size = idx_seeds[int(rng.integers(0, len(idx_seeds)))]
            data = path.read_bytes()
            mutated = mutate_idx_gz(data, rng) if rng.random() < 0.5 else \
                mutate_bytes(data, rng, data)
            target = folder / "case.gz"
            target.write_bytes(mutated)
            limit = 2 * size + SLACK_BYTES
            result = run_case(lambda p, sha=sha, size=size: read_idx_file(p, sha, size).nbytes,
                              target, (DataError,), 2**31, timeout)
            tally[f"idx {result['outcome']}"] += 1
            worst_ratio = max(worst_ratio, result["peak"] / limit)
            if result["outcome"] in ("undocumented", "hang", "crash") or result["peak"] > limit:
                failures.append(f"idx case {case} ({path.name}): {result}")
    for line in failures[:30]:
        report(f"FAIL {line}")
    tally["failures"] = len(failures)
    tally["worst peak / limit (percent)"] = round(100 * worst_ratio)
    return tally


def _load_and_predict(path: Path) -> int:
    """What a user does with a file: load it and predict (a loaded model must work); returns
    the loaded model's parameter bytes."""
    net = ns.load(path)
    outputs = net.predict_proba(np.zeros((2, net.n_inputs), dtype=net.dtype)) \
        if net.loss is not None else net.predict(np.zeros((2, net.n_inputs), dtype=net.dtype))
    if not np.isfinite(outputs).all():
        raise AssertionError("a loaded model predicts NaN")
    return int(net.n_params * net.dtype.itemsize)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=5000, help="mutated model files")
    parser.add_argument("--idx", type=int, default=1000, help="mutated IDX .gz files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    arguments = parser.parse_args(argv)
    start = time.perf_counter()
    tally = fuzz(arguments.models, arguments.idx, arguments.seed, arguments.data_dir,
                 arguments.timeout)
    print(f"{arguments.models} model files and {arguments.idx} IDX files in "
          f"{time.perf_counter() - start:.0f} s (seed {arguments.seed}):")
    for kind, count in sorted(tally.items()):
        print(f"  {kind:<32} {count}")
    return 1 if tally["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
