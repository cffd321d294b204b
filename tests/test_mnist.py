"""MNIST and Fashion-MNIST: the IDX reader, checksums, the cache, and downloads, which are
served from 127.0.0.1 (never the internet)."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from nnscratch.datasets import DataError, data_root, load_fashion_mnist, load_mnist
from nnscratch.datasets.idx import IDXError, parse_idx
from nnscratch.datasets.mnist import FILES

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---- loading ---------------------------------------------------------------------------------

def test_mnist_matches_its_published_facts(shared_data):
    X_train, y_train, X_test, y_test = load_mnist(shared_data, download=False)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS


def test_fashion_mnist_has_6000_and_1000_of_each_class(shared_data):
    X_train, y_train, X_test, y_test = load_fashion_mnist(shared_data / "fashion-mnist",
                                                          download=False, flatten=False)
    assert X_train.shape == (60000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_nnscratch_data_environment_variable_is_the_default_root(shared_data, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(shared_data))
    assert data_root() == shared_data
    assert load_mnist(download=False)[3].shape == (10000,)


def test_the_user_cache_is_the_last_resort(monkeypatch, tmp_path):
    monkeypatch.delenv("NNSCRATCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_root() == tmp_path / "nnscratch"
    assert data_root(tmp_path / "mine") == tmp_path / "mine"


def test_missing_files_without_download_say_how_to_get_them(tmp_path):
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz, .* not found .*`nnscratch download mnist`"):
        load_mnist(tmp_path, download=False)


@pytest.fixture
def mnist_copy(shared_data, tmp_path) -> Path:
    folder = tmp_path / "data" / "mnist"
    shutil.copytree(shared_data / "mnist", folder)
    return folder


def test_a_tampered_file_fails_its_checksum_and_is_never_used(mnist_copy):
    labels = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(labels.read_bytes()))
    data[100] = (data[100] + 1) % 10  # one label changed: still a valid IDX file
    labels.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz failed its checksum.*delete it"):
        load_mnist(mnist_copy.parent, download=False)


def test_a_truncated_gzip_file_is_refused(mnist_copy):
    images = mnist_copy / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz is not a readable gzip file"):
        load_mnist(mnist_copy.parent, download=False)


# ---- the IDX reader --------------------------------------------------------------------------

def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    header = struct.pack(">HBB", 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype, code", [("u1", 0x08), ("i1", 0x09), ("i2", 0x0B), ("i4", 0x0C),
                                         ("f4", 0x0D), ("f8", 0x0E)])
def test_idx_reader_round_trips_every_type(dtype, code):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    parsed = parse_idx(idx_bytes(array, code))
    np.testing.assert_array_equal(parsed, array)
    assert parsed.dtype.isnative


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + b"\x00" * 8, "does not start with an IDX magic number"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "does not start with an IDX magic number"),
    (b"\x00\x00\x08\x09" + b"\x00" * 40, "claims 9 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02", "ends inside its header"),
    (idx_bytes(np.zeros((3, 4), "u1"), 0x08)[:-1], "should hold 12 bytes .* holds 11"),
    (idx_bytes(np.zeros((3, 4), "u1"), 0x08) + b"\x00", "should hold 12 bytes .* holds 13"),
    (struct.pack(">HBBI", 0, 8, 1, 2**32 - 1), r"should hold 4,294,967,295 bytes"),
])
def test_idx_reader_refuses_damaged_data(data, message):
    with pytest.raises(IDXError, match=message):
        parse_idx(data, "test.idx")


# ---- downloads, from a server on 127.0.0.1 ---------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class BreaksHalfway(QuietHandler):
    """Announces the whole file, then sends half of it and closes the connection."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.close_connection = True


@pytest.fixture
def serve():
    """serve(folder, handler) -> the URL of an HTTP server on 127.0.0.1 serving ``folder``."""
    servers = []

    def start(folder: Path, handler=QuietHandler) -> str:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_once_checksum_and_cache(shared_data, serve, tmp_path):
    url = serve(shared_data / "mnist")
    reports = []
    X_train, y_train, _, y_test = load_mnist(tmp_path, mirrors=[url],
                                             progress=lambda *report: reports.append(report))
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    cached = sorted(path.name for path in (tmp_path / "mnist").iterdir())
    assert cached == sorted(f"{file}.gz" for file in FILES)
    last_report = {name: (done, total) for name, done, total in reports}
    assert all(done == total > 0 for done, total in last_report.values())
    # Second time: the cache serves, so a dead mirror does not matter.
    assert load_mnist(tmp_path, mirrors=["http://127.0.0.1:9/"])[3].shape == (10000,)


def corrupted_copy(shared_data: Path, folder: Path) -> Path:
    folder.mkdir()
    for source in (shared_data / "mnist" / f"{file}.gz" for file in FILES):
        data = bytearray(gzip.decompress(source.read_bytes()))
        data[-1] ^= 0xFF
        (folder / source.name).write_bytes(gzip.compress(bytes(data), compresslevel=1))
    return folder


def test_a_corrupted_mirror_is_refused_and_the_next_one_used(shared_data, serve, tmp_path):
    bad = serve(corrupted_copy(shared_data, tmp_path / "bad"))
    good = serve(shared_data / "mnist")
    cache = tmp_path / "cache"
    assert load_mnist(cache, mirrors=[bad, good])[3].shape == (10000,)


def test_only_corrupted_mirrors_leave_nothing_in_the_cache(shared_data, serve, tmp_path):
    bad = serve(corrupted_copy(shared_data, tmp_path / "bad"))
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"(?s)Could not download train-images-idx3-ubyte.gz .*failed its checksum"):
        load_mnist(cache, mirrors=[bad])
    assert list((cache / "mnist").iterdir()) == []


def test_a_download_that_fails_halfway_leaves_no_partial_file(shared_data, serve, tmp_path):
    url = serve(shared_data / "mnist", BreaksHalfway)
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"(?s)Could not download .*the connection closed after"):
        load_mnist(cache, mirrors=[url])
    assert list((cache / "mnist").iterdir()) == []


def test_an_unreachable_mirror_is_reported(tmp_path):
    with pytest.raises(DataError, match=r"(?s)Could not download .*127.0.0.1:9.*Check the connection"):
        load_mnist(tmp_path, mirrors=["http://127.0.0.1:9/"])


def test_an_unwritable_cache_folder_says_what_to_do(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"Cannot write to the data folder .* NNSCRATCH_DATA"):
        load_mnist(blocker / "cache", mirrors=["http://127.0.0.1:9/"])


# ---- promises: bounded reads and downloads, documented errors only -----------------------------

def test_promise_a_flipped_byte_in_a_gz_file_is_a_data_error_not_a_zlib_error(mnist_copy):
    images = mnist_copy / "t10k-images-idx3-ubyte.gz"
    data = bytearray(images.read_bytes())
    for offset in (40, len(data) // 2, len(data) - 6):  # deflate data, then the gzip trailer
        damaged = bytearray(data)
        damaged[offset] ^= 0x55
        images.write_bytes(bytes(damaged))
        with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz (is not a readable gzip "
                                            r"file|failed its checksum).*[Dd]elete it"):
            load_mnist(mnist_copy.parent, download=False)


def test_promise_a_gzip_bomb_is_refused_within_the_files_known_size(mnist_copy):
    import tracemalloc

    labels = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(b"\0" * (64 * 2**20), compresslevel=9))  # 64 KiB on disk
    tracemalloc.start()
    with pytest.raises(DataError, match=r"decompresses to more than the 10,008 bytes"):
        load_mnist(mnist_copy.parent, download=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100 * 2**20  # the 47 MB training images are read before the labels


class Endless(QuietHandler):
    """Sends zeros for ever, with no Content-Length."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"\0" * 65536)
        except OSError:
            pass


class Stalls(QuietHandler):
    """Sends the headers and a few bytes, then nothing."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b")
        self.wfile.flush()
        threading.Event().wait(2)


def test_promise_a_download_larger_than_the_file_can_be_is_stopped(serve, tmp_path):
    from nnscratch.datasets.download import fetch

    url = serve(tmp_path, Endless)
    with pytest.raises(DataError, match=r"(?s)more than the 10,008 bytes the file can have"):
        fetch("t10k-labels-idx1-ubyte.gz", "0" * 64, tmp_path / "cache", [url], max_bytes=10_008)
    assert list((tmp_path / "cache").iterdir()) == []


def test_promise_a_stalled_download_times_out(serve, tmp_path):
    from nnscratch.datasets.download import fetch

    url = serve(tmp_path, Stalls)
    with pytest.raises(DataError, match=r"(?s)Could not download .*timed out"):
        fetch("x.gz", "0" * 64, tmp_path / "cache", [url], timeout=0.5)
    assert list((tmp_path / "cache").iterdir()) == []


class Trickles(QuietHandler):
    """Sends one byte every 50 ms: never stalled, never finished."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"\0")
                self.wfile.flush()
                threading.Event().wait(0.05)
        except OSError:
            pass


def test_promise_a_download_has_an_overall_deadline(serve, tmp_path):
    from nnscratch.datasets.download import fetch

    url = serve(tmp_path, Trickles)
    with pytest.raises(DataError, match=r"(?s)Could not download .*took too long"):
        fetch("x.gz", "0" * 64, tmp_path / "cache", [url], timeout=1.0, deadline=0.5)
    assert list((tmp_path / "cache").iterdir()) == []


def test_promise_part_files_of_killed_downloads_are_removed(shared_data, serve, tmp_path):
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    stale = cache / f".t10k-labels-idx1-ubyte.gz.{process.pid}.0badf00d.part"
    stale.write_bytes(b"\0" * 100_000)
    load_mnist(tmp_path / "cache", mirrors=[serve(shared_data / "mnist")])
    assert not stale.exists()
    assert sorted(path.name for path in cache.iterdir()) == sorted(f"{f}.gz" for f in FILES)


def test_promise_every_default_mirror_is_https():
    from nnscratch.datasets.mnist import DATA_SETS

    mirrors = [mirror for spec in DATA_SETS.values() for mirror in spec.mirrors]
    assert mirrors and all(mirror.startswith("https://") for mirror in mirrors)
