"""MNIST and Fashion-MNIST from their original IDX files.

Both have 60,000 training and 10,000 test images of 28x28 grey pixels in 10 classes. The
loaders look for the four ``.gz`` files in ``<root>/<name>/`` (or in ``<root>`` itself), where
root is ``data_dir``, $NNSCRATCH_DATA or the user cache; absent files are downloaded once. Every
file is checked against the SHA-256 of its decompressed bytes before use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import DataError, Progress, data_root, fetch, read_checked
from .idx import IDXError, parse_idx

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# 60,000 and 10,000 images of 28x28 bytes and their labels, each after a 16- or 8-byte header
SIZES = dict(zip(FILES, (16 + 60_000 * 784, 8 + 60_000, 16 + 10_000 * 784, 8 + 10_000),
                 strict=True))


@dataclass(frozen=True)
class IDXDataSet:
    """Where a data set's four files come from, and what their decompressed bytes hash to."""

    hashes: tuple[str, ...]  # SHA-256 of each decompressed IDX file, in the order of FILES
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]

    @property
    def sha256(self) -> dict[str, str]:
        """file (without .gz) -> SHA-256 of its decompressed bytes."""
        return dict(zip(FILES, self.hashes, strict=True))

    @property
    def sizes(self) -> dict[str, int]:
        """file (without .gz) -> the decompressed file's size in bytes."""
        return SIZES


MNIST_SHA256 = ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
FASHION_MNIST_SHA256 = ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")
DATA_SETS = {
    "mnist": IDXDataSet(MNIST_SHA256, mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        classes=tuple(str(digit) for digit in range(10))),
    "fashion-mnist": IDXDataSet(FASHION_MNIST_SHA256, mirrors=(
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot")),
}


def load_mnist(data_dir: str | os.PathLike | None = None, download: bool = True,
               flatten: bool = True, mirrors: Sequence[str] | None = None,
               progress: Progress | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST handwritten digits: (X_train, y_train, X_test, y_test).

    X is float32 in [0, 1] (pixel / 255), shaped (n, 784), or (n, 28, 28) with
    ``flatten=False``; y is int64 in 0..9. ``download=False`` never touches the network;
    ``mirrors`` replaces the list of download sites; ``progress(file, done, total)`` is called
    while downloading.
    """
    return load_idx_dataset("mnist", data_dir, download, flatten, mirrors, progress)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, download: bool = True,
                       flatten: bool = True, mirrors: Sequence[str] | None = None,
                       progress: Progress | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST clothing images, as load_mnist; the class names are in
    ``DATA_SETS["fashion-mnist"].classes``."""
    return load_idx_dataset("fashion-mnist", data_dir, download, flatten, mirrors, progress)


def download_dataset(name: str, data_dir: str | os.PathLike | None = None,
                     mirrors: Sequence[str] | None = None,
                     progress: Progress | None = None) -> list[Path]:
    """Make sure the four files of ``name`` are present and checked; return their paths."""
    spec = DATA_SETS[name]
    root = data_root(data_dir)
    paths = []
    for file in FILES:
        path = _find(root, name, f"{file}.gz")
        if path is None:
            path = fetch(f"{file}.gz", spec.sha256[file], root / name,
                         mirrors if mirrors is not None else spec.mirrors, progress,
                         max_bytes=spec.sizes[file])
        paths.append(path)
    return paths


def load_idx_dataset(name: str, data_dir: str | os.PathLike | None, download: bool,
                     flatten: bool, mirrors: Sequence[str] | None, progress: Progress | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    spec = DATA_SETS[name]
    root = data_root(data_dir)
    if download:
        paths = download_dataset(name, data_dir, mirrors, progress)
    else:
        found = [_find(root, name, f"{file}.gz") for file in FILES]
        missing = [f"{file}.gz" for file, path in zip(FILES, found, strict=True) if path is None]
        if missing:
            raise DataError(f"{name}: {', '.join(missing)} not found in {root / name} or {root}. "
                            f"Run `nnscratch download {name}`, pass download=True, or point "
                            "data_dir (or NNSCRATCH_DATA) at the folder that holds them.")
        paths = [path for path in found if path is not None]
    arrays = [read_idx_file(path, spec.sha256[file], spec.sizes[file])
              for file, path in zip(FILES, paths, strict=True)]
    train_images, train_labels, test_images, test_labels = arrays
    return (_images(train_images, flatten), train_labels.astype(np.int64),
            _images(test_images, flatten), test_labels.astype(np.int64))


def read_idx_file(path: Path, sha256: str, max_bytes: int) -> np.ndarray:
    """The array in the gzipped IDX file ``path``, whose decompressed bytes (at most
    ``max_bytes``) must hash to ``sha256``; any fault is a DataError naming the file."""
    try:
        return parse_idx(read_checked(path, sha256, max_bytes), str(path))
    except IDXError as error:
        raise DataError(f"{error}. Delete it and load the data set again.") from None


def _find(root: Path, name: str, file_name: str) -> Path | None:
    for folder in (root / name, root):
        if (folder / file_name).is_file():
            return folder / file_name
    return None


def _images(images: np.ndarray, flatten: bool) -> np.ndarray:
    scaled = images.astype(np.float32) / np.float32(255)
    return scaled.reshape(len(images), -1) if flatten else scaled
