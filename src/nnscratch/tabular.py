"""Your own data: a table of features and a target, read from .csv, .npz or .npy, checked,
split, and scaled.

    table = read_table("iris.csv", target="species")     # or an index; default: last column
    prepared = prepare(table, task=None, scale="standard", test_split=0.2, seed=0)
    prepared.X_train, prepared.y_train, prepared.class_names, prepared.scaling

The scaling is learned on the training rows only and kept with the model (``Scaling.to_dict``),
so the same transformation is applied to new rows at prediction time (a regression target is
standardised too, and the network's outputs mapped back with ``unscale_targets``):

    standard   x' = (x - mean) / std          (a constant column keeps std 1)
    minmax     x' = (x - min) / (max - min)   (a constant column keeps range 1)
    none       x' = x

Every problem with the data (a cell that is not a number, a missing value, a ragged row, a
target column that does not exist, one class only, a file too large) raises DataError naming
the file, the row and the column.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import DataError

SUFFIXES = (".csv", ".npz", ".npy")
TASKS = ("classification", "regression")
SCALINGS = ("standard", "minmax", "none")
MAX_BYTES = 1 << 30  # a table larger than 1 GiB (as text, or as arrays) is refused
MAX_CLASSES_INFERRED = 50  # more distinct integer targets than this: inferred as regression
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}


@dataclass
class Table:
    """Features X (n, d), float64, and the target y (n,): numbers, or strings (labels)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    source: str


@dataclass
class Scaling:
    """x' = (x - shift) / scale, per feature, learned on the training rows."""

    method: str
    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, method: str = "standard") -> Scaling:
        if method not in SCALINGS:
            raise DataError(f"scale must be one of {', '.join(SCALINGS)}; got {method!r}.")
        if method == "standard":
            shift, scale = X.mean(axis=0), X.std(axis=0)
        elif method == "minmax":
            shift, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        else:
            shift, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        scale = np.where(scale > 0, scale, 1.0)  # a constant column is shifted, not divided
        return cls(method, shift.astype(np.float64), scale.astype(np.float64))

    def apply(self, X: np.ndarray) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != len(self.shift):
            raise DataError(f"the rows have {X.shape[-1]} features; the model was trained on "
                            f"{len(self.shift)}.")
        return (X - self.shift) / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "shift": self.shift.tolist(),
                "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, record: Any, n_features: int) -> Scaling:
        """The scaling saved with a model, checked (a model file is untrusted input)."""
        try:
            method = record["method"]
            shift = np.asarray(record["shift"], dtype=np.float64)
            scale = np.asarray(record["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise DataError("the model's saved scaling is not a {method, shift, scale} "
                            "record.") from None
        if (method not in SCALINGS or shift.shape != (n_features,) or scale.shape != shift.shape
                or not np.isfinite(shift).all() or not (np.isfinite(scale) & (scale > 0)).all()):
            raise DataError(f"the model's saved scaling does not fit its {n_features} inputs "
                            "(wrong length, or values that are not finite and positive).")
        return cls(method, shift, scale)


@dataclass
class Prepared:
    """A table split into training and test rows, scaled, targets encoded."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    class_names: list[str] | None  # classification: the label of each class index
    scaling: Scaling
    feature_names: list[str]
    target_name: str
    target_scaling: Scaling | None = None  # regression: y_train is standardised by it

    def unscale_targets(self, predicted: np.ndarray) -> np.ndarray:
        """Network outputs back in the target's own units (regression)."""
        return unscale_targets(self.target_scaling, predicted)


# ----------------------------------------------------------------------------------------------
# Reading


def read_table(path: str | os.PathLike, target: str | int | None = None, x_key: str = "X",
               y_key: str = "y", max_bytes: int = MAX_BYTES) -> Table:
    """The features and target in ``path``: a .csv (header or not, delimiter sniffed; the
    target is a column: its name, its index, or the last), a .npz (arrays ``x_key`` and
    ``y_key``), or a .npy (a 2-D array whose column ``target`` is the target, or the features
    with ``target`` naming a second .npy of labels)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: expected a .csv, .npz or .npy file.")
    if not path.is_file():
        raise FileNotFoundError(f"No data file at {path}.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{path} is {size:,} bytes, above the limit of {max_bytes:,} bytes. "
                        "Use a sample of the rows.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, target)
    if suffix == ".npz":
        return _read_npz(path, x_key, y_key, max_bytes)
    return _read_npy(path, target, max_bytes)


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV file, each with its line number, cells stripped; the
    delimiter (comma, semicolon, tab or bar) is sniffed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text (byte {error.start}). Save it as UTF-8 "
                        "CSV.") from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing to tell from: commas
    lines: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                lines.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as error:
        raise DataError(f"{path}, line {reader.line_num}: {error}.") from None
    if not lines:
        raise DataError(f"{path} holds no rows.")
    return lines


def _read_csv(path: Path, target: str | int | None) -> Table:
    header, names, rows = _columns_and_rows(path)
    if len(names) < 2:
        raise DataError(f"{path} has one column; it needs at least one feature and the target.")
    column = _target_column(path, names, target, header)
    features = [index for index in range(len(names)) if index != column]
    X = _numbers(path, rows, names, features)
    labels = [row[column] for _, row in rows]
    for (line, _), label in zip(rows, labels, strict=True):
        if label.lower() in MISSING:
            raise DataError(f"{path}, line {line}: the target ({names[column]}) is missing. "
                            "Remove the row or fill it in.")
    return Table(X, _as_numbers_if_possible(labels), [names[index] for index in features],
                 names[column], str(path))


def _columns_and_rows(path: Path) -> tuple[bool, list[str], list[tuple[int, list[str]]]]:
    """(whether there is a header, the column names, the data rows with their line numbers),
    every row checked to have one cell per column."""
    lines = _csv_lines(path)
    header = _header(lines)
    names = lines[0][1] if header else [f"column {index}" for index in range(len(lines[0][1]))]
    rows = lines[1:] if header else lines
    if not rows:
        raise DataError(f"{path} has a header and no data rows.")
    for line, row in rows:
        if len(row) != len(names):
            raise DataError(f"{path}, line {line}: {len(row)} cells where the "
                            f"{'header' if header else 'first row'} has {len(names)}. Every "
                            "row needs one cell per column.")
    return header, names, rows


def _numbers(path: Path, rows: list[tuple[int, list[str]]], names: list[str],
             columns: list[int]) -> np.ndarray:
    """The cells of ``columns`` as a (rows, columns) float64 array, each one checked."""
    X = np.empty((len(rows), len(columns)))
    for position, (line, row) in enumerate(rows):
        for feature, index in enumerate(columns):
            X[position, feature] = _number(path, line, names[index], row[index])
    return X


def _header(lines: list[tuple[int, list[str]]]) -> bool:
    """A first row with more cells that are not numbers than the next row is a header."""
    def words(row: list[str]) -> int:
        return sum(not _is_number(cell) for cell in row)
    return len(lines) > 1 and words(lines[0][1]) > words(lines[1][1]) or \
        len(lines) == 1 and words(lines[0][1]) == len(lines[0][1])


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.lower() not in MISSING


def _number(path: Path, line: int, column: str, cell: str) -> float:
    if cell.lower() in MISSING:
        raise DataError(f"{path}, line {line}, column {column!r}: missing value. Fill it in "
                        "or remove the row.")
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{path}, line {line}, column {column!r}: {cell[:40]!r} is not a "
                        "number. Features must be numbers; encode categories as numbers "
                        "first.") from None
    if not np.isfinite(value):
        raise DataError(f"{path}, line {line}, column {column!r}: {cell!r} is not finite.")
    return value


def _target_column(path: Path, names: list[str], target: str | int | None, header: bool) -> int:
    if target is None:
        return len(names) - 1
    if isinstance(target, int) or (isinstance(target, str) and target.lstrip("-").isdigit()
                                   and target not in names):
        index = int(target)
        if not -len(names) <= index < len(names):
            raise DataError(f"{path}: target column {index} does not exist; the file has "
                            f"{len(names)} columns (0 to {len(names) - 1}, or -1 for the last).")
        return index % len(names)
    if target in names:
        return names.index(target)
    close = difflib.get_close_matches(target, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    available = ", ".join(repr(name) for name in names) if header else \
        f"no header: give the column's index, 0 to {len(names) - 1}"
    raise DataError(f"{path}: no target column {target!r} ({available}).{hint}")


def _as_numbers_if_possible(labels: list[str]) -> np.ndarray:
    try:
        return np.array([float(label) for label in labels])
    except ValueError:
        return np.array(labels)


def _check_array_header(path: Path, handle: Any, name: str, max_bytes: int) -> None:
    """Refuse an array whose header claims more than ``max_bytes`` (before reading it)."""
    try:
        version = np.lib.format.read_magic(handle)
        shape, _, dtype = (np.lib.format.read_array_header_1_0(handle) if version == (1, 0)
                           else np.lib.format.read_array_header_2_0(handle))
    except (ValueError, OSError) as error:
        raise DataError(f"{path}: {name} is not a NumPy array ({error}).") from None
    n_bytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if n_bytes > max_bytes:
        raise DataError(f"{path}: {name} would take {n_bytes:,} bytes, above the limit of "
                        f"{max_bytes:,}.")


def _read_npz(path: Path, x_key: str, y_key: str, max_bytes: int) -> Table:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(name).stem: name for name in archive.namelist()}
            for key in (x_key, y_key):
                if key not in members:
                    raise DataError(f"{path} has no array {key!r} (it has "
                                    f"{', '.join(sorted(members)) or 'none'}). Name them with "
                                    "--x-key and --y-key.")
                with archive.open(members[key]) as handle:
                    _check_array_header(path, handle, key, max_bytes)
        with np.load(path, allow_pickle=False) as arrays:
            X, y = arrays[x_key], arrays[y_key]
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path} is not a readable .npz of arrays ({error}).") from None
    return _table_from_arrays(path, X, y, [f"feature {index}" for index in range(
        X.shape[1] if X.ndim == 2 else 0)], y_key)


def _read_npy(path: Path, target: str | int | None, max_bytes: int) -> Table:
    array = _load_npy(path, max_bytes)
    if isinstance(target, str) and target.lower().endswith(".npy"):
        labels = _load_npy(Path(target), max_bytes)
        return _table_from_arrays(path, array, labels, [f"feature {index}" for index in range(
            array.shape[1] if array.ndim == 2 else 0)], Path(target).name)
    if array.ndim != 2 or array.shape[1] < 2:
        raise DataError(f"{path}: expected a 2-D array of features and the target column "
                        f"(or give the labels' .npy with --target); got shape {array.shape}.")
    column = -1 if target is None else int(target)
    if not -array.shape[1] <= column < array.shape[1]:
        raise DataError(f"{path}: target column {column} does not exist; the array has "
                        f"{array.shape[1]} columns.")
    column %= array.shape[1]
    features = [index for index in range(array.shape[1]) if index != column]
    return _table_from_arrays(path, array[:, features], array[:, column],
                              [f"column {index}" for index in features], f"column {column}")


def _load_npy(path: Path, max_bytes: int) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"No data file at {path}.")
    try:
        with path.open("rb") as handle:
            _check_array_header(path, handle, "the array", max_bytes)
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{path} is not a readable .npy array ({error}).") from None


def _table_from_arrays(path: Path, X: np.ndarray, y: np.ndarray, feature_names: list[str],
                       target_name: str) -> Table:
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    _check_shapes_and_types(path, X, y)
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        row, column = bad[0]
        raise DataError(f"{path}: row {row}, {feature_names[column]}: {X[row, column]} is not "
                        f"finite ({len(bad)} such values). Fill or remove them.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataError(f"{path}: row {row}: the target is {y[row]}, not finite.")
    return Table(X, y.astype(str) if y.dtype.kind == "S" else y, feature_names, target_name,
                 str(path))


def _check_shapes_and_types(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """Features (rows, features) of numbers, and one target per row, numbers or strings."""
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{path}: the features must be a 2-D array (rows, features) with at "
                        f"least one of each; got shape {X.shape}.")
    if X.dtype.kind not in "iufb":
        raise DataError(f"{path}: the features must be numbers; got dtype {X.dtype}.")
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(f"{path}: the target must be one value per row ({len(X)}); got shape "
                        f"{y.shape}.")
    if y.dtype.kind not in "iufbUS":
        raise DataError(f"{path}: the target must be numbers or strings; got dtype {y.dtype}.")


# ----------------------------------------------------------------------------------------------
# Preparing: the task, the split, the classes, the scaling


def infer_task(y: np.ndarray) -> str:
    """classification for labels (strings, or few distinct whole numbers); else regression."""
    if y.dtype.kind in "USb":
        return "classification"
    whole = np.all(np.mod(y, 1) == 0)
    return "classification" if whole and len(np.unique(y)) <= MAX_CLASSES_INFERRED \
        else "regression"


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each label's class index (0..k-1, in sorted order) and the class names."""
    classes, indices = np.unique(y, return_inverse=True)
    names = [label_name(value) for value in classes]
    return indices.astype(np.int64), names


def label_name(value: Any) -> str:
    """A label as a class name: 3.0 -> "3", "cat" -> "cat"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def split_rows(n_rows: int, test_split: float, seed: int,
               labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): a shuffled split, by class when ``labels`` are given, so
    that each class keeps its share in both parts."""
    rng = np.random.default_rng(seed)
    if test_split <= 0:
        return rng.permutation(n_rows), np.array([], dtype=np.int64)
    groups = [np.arange(n_rows)] if labels is None else \
        [np.flatnonzero(labels == value) for value in np.unique(labels)]
    train, test = [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_test = int(round(len(group) * test_split))
        test.append(shuffled[:n_test])
        train.append(shuffled[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def prepare(table: Table, task: str | None = None, scale: str = "standard",
            test_split: float = 0.2, seed: int = 0) -> Prepared:
    """Split the table's rows (by class for classification), encode the labels, and scale
    the features with statistics of the training rows only."""
    task = task or infer_task(table.y)
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}; got {task!r}.")
    if not 0 <= test_split < 1:
        raise DataError(f"test_split must be in [0, 1); got {test_split}.")
    class_names: list[str] | None = None
    if task == "classification":
        y, class_names = encode_labels(table.y)
        if len(class_names) < 2:
            raise DataError(f"{table.source}: the target {table.target_name!r} has only one "
                            f"class ({class_names[0]!r}); classification needs at least two. "
                            "Check --target.")
    else:
        if table.y.dtype.kind in "US":
            raise DataError(f"{table.source}: regression needs a numeric target; "
                            f"{table.target_name!r} holds text such as {table.y[0]!r}. Use "
                            "--task classification, or another --target.")
        y = table.y.astype(np.float64)
    train, test = split_rows(len(y), test_split, seed,
                             y if task == "classification" else None)
    if len(train) == 0 or (test_split > 0 and len(test) == 0):
        raise DataError(f"{table.source}: {len(y)} rows are too few to split "
                        f"{1 - test_split:.0%}/{test_split:.0%} into training and test rows.")
    scaling = Scaling.fit(table.X[train], scale)
    y_train, target_scaling = y[train], None
    if task == "regression":  # the network learns y' = (y - mean) / std: errors of order 1
        target_scaling = Scaling.fit(y_train[:, None], "standard")
        y_train = target_scaling.apply(y_train[:, None])[:, 0]
    return Prepared(scaling.apply(table.X[train]), y_train, scaling.apply(table.X[test]),
                    y[test], task, class_names, scaling, table.feature_names, table.target_name,
                    target_scaling)


def unscale_targets(target_scaling: Scaling | None, predicted: np.ndarray) -> np.ndarray:
    """y = y' * std + mean: the network's outputs in the target's units."""
    if target_scaling is None:
        return predicted
    return predicted * target_scaling.scale[0] + target_scaling.shift[0]


def read_feature_rows(path: str | os.PathLike, feature_names: list[str]) -> np.ndarray:
    """Rows to predict from a .csv: the columns named ``feature_names`` if the file has a
    header with those names (other columns, such as the target, are ignored), else every
    column, which must then be as many as the features."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        raise DataError(f"{path}: expected an existing .csv file of feature rows.")
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path} is above the limit of {MAX_BYTES:,} bytes.")
    header, names, rows = _columns_and_rows(path)
    if header and set(feature_names) <= set(names):
        columns = [names.index(name) for name in feature_names]
    elif len(names) == len(feature_names):
        columns = list(range(len(feature_names)))
    else:
        shown = ", ".join(feature_names[:8]) + (", ..." if len(feature_names) > 8 else "")
        raise DataError(f"{path}: expected the model's {len(feature_names)} feature columns "
                        f"({shown}); the file has {len(names)} columns without those names.")
    return _numbers(path, rows, names, columns)
