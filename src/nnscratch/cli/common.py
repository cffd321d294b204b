"""What several commands share: the data sets, loading a model or the data to score it on,
scoring, and writing a run folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets, tabular
from .._plot_worker import PlotWorker
from ..activations import ACTIVATIONS
from ..datasets import DataError
from ..layers import Dense, Dropout
from ..network import Sequential, load
from ..runs import RunFolder, RunRecord, save_run

DATA_SETS = ("digits", "xor", "mnist", "fashion-mnist")
ACTIVATION_CHOICES = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
ACTIVATION_NAMES = {cls.__name__: name for name, cls in ACTIVATIONS.items()
                    if name in ACTIVATION_CHOICES}


class UsageError(Exception):
    """A bad combination of arguments, reported with exit code 2."""


def load_model(path: Path) -> Sequential:
    """A saved model, from its file or from a run folder (its model.npz)."""
    if path.is_dir():
        path = path / "model.npz"
    return load(path)


def data_label(data: str) -> str:
    """A short name for a run folder: the data set's name, or the file's stem."""
    return data if data in DATA_SETS else Path(data).stem


def load_data(name: str, data_dir: Path | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(X_train, y_train, X_test, y_test, class_names) of a data set, downloading if needed."""
    if data_dir is not None and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a folder. Check the path, or create it "
                         f"with: nnscratch download {name} --data-dir {data_dir}")
    if name == "digits":
        return (*datasets.load_digits(), [str(digit) for digit in range(10)])
    if name == "xor":
        X, y = datasets.load_xor(repeats=100)
        X_points, y_points = datasets.load_xor()
        return X, y, X_points, y_points, ["0", "1"]
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    return (*loader(data_dir, progress=DownloadProgress()),
            list(datasets.DATA_SETS[name].classes))


@dataclass
class EvaluationData:
    """The data a saved model is scored on: its name (or file), the rows and their targets,
    the class names (None for a regressor) and the task."""

    data: str
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] | None
    task: str


def evaluation_data(net: Sequential, source: Path, arguments: argparse.Namespace
                    ) -> EvaluationData:
    """The data to score a saved model on: --data, else the data its run recorded. For the
    user's own file, the run's test rows when it is the file the run was trained on (same
    split), else every row; scaled as the model was."""
    run = net.metadata.get("run", {}) if isinstance(net.metadata, dict) else {}
    run = run if isinstance(run, dict) else {}
    data = arguments.data or run.get("data")
    if not isinstance(data, str) or not data:
        raise UsageError(f"{source} does not record its data set: pass --data.")
    if data in DATA_SETS:
        recorded = run.get("data_dir") if data == run.get("data") else None
        data_dir = arguments.data_dir or (Path(recorded) if isinstance(recorded, str) else None)
        _, _, X_test, y_test, names = load_data(data, data_dir)
        return EvaluationData(data, X_test, y_test, names, "classification")
    if not Path(data).is_file():
        raise UsageError(f"{source} was trained on {data}, which is not there any more. Pass "
                         "--data FILE with the same columns.")
    return _own_test_rows(net, data, run)


def _own_test_rows(net: Sequential, data: str, run: dict[str, Any]) -> EvaluationData:
    task = net.metadata.get("task", "classification")
    table = tabular.read_table(data, run.get("target"), run.get("x_key", "X"),
                               run.get("y_key", "y"))
    saved_names = net.metadata.get("class_names") if task == "classification" else None
    class_names: list[str] | None = list(saved_names) if saved_names else None
    y = _encode_like_the_model(table, class_names) if class_names else table.y.astype(float)
    rows = np.arange(len(y))
    if Path(data).resolve() == Path(str(run.get("data", ""))).resolve():
        _, rows = tabular.split_rows(len(y), float(run.get("test_split", 0.2)),
                                     int(run.get("seed", 0)), y if class_names else None)
    scaling = tabular.Scaling.from_dict(net.metadata.get("scaling"), table.X.shape[1])
    return EvaluationData(data, scaling.apply(table.X[rows]), y[rows], class_names, task)


def _encode_like_the_model(table: tabular.Table, class_names: list[str]) -> np.ndarray:
    index = {name: position for position, name in enumerate(class_names)}
    names = [tabular.label_name(value) for value in table.y]
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise DataError(f"{table.source}: labels {unknown[:5]} are not among the model's classes "
                        f"{class_names[:10]}.")
    return np.array([index[name] for name in names], dtype=np.int64)


def check_fits(net: Sequential, X: np.ndarray, class_names: list[str] | None, data: str) -> None:
    n_outputs = len(class_names) if class_names else 1
    if net.n_inputs != X.shape[1] or net.n_outputs != n_outputs:
        raise UsageError(f"the model maps {net.n_inputs} inputs to {net.n_outputs} outputs, "
                         f"but {data} has {X.shape[1]} features and needs {n_outputs} outputs. "
                         "Pass the --data it was trained on.")


def test_scores(net: Sequential, X: np.ndarray, y: np.ndarray, task: str) -> dict[str, float]:
    """loss and accuracy of a classifier; mse, mae and r2 of a regressor; {} without rows."""
    if len(X) == 0:
        return {}
    if task == "classification":
        return net.evaluate(X, y, loss=net.loss or "cross_entropy")
    predicted = regression_outputs(net, X).reshape(y.shape)
    residual = np.asarray(y, dtype=np.float64) - predicted
    spread = float(np.sum((y - np.mean(y)) ** 2))
    return {"mse": float(np.mean(residual ** 2)), "mae": float(np.mean(np.abs(residual))),
            "r2": 1.0 - float(np.sum(residual ** 2)) / spread if spread > 0 else float("nan")}


def regression_outputs(net: Sequential, X: np.ndarray) -> np.ndarray:
    """A regressor's predictions in the target's units (undoing the target's scaling)."""
    record = net.metadata.get("target_scaling")
    scaling = tabular.Scaling.from_dict(record, 1) if record is not None else None
    return tabular.unscale_targets(scaling, net.predict(X))


def architecture_of(net: Sequential) -> dict[str, object]:
    """The hidden layer sizes, activation and dropout of an MLP-shaped network."""
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    activations = [layer for layer in net.layers if type(layer).__name__ in ACTIVATION_NAMES]
    dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    return {"layers": [layer.out_features for layer in dense[:-1]],
            "activation": ACTIVATION_NAMES[type(activations[0]).__name__] if activations
            else "identity",
            "dropout": dropouts[0].rate if dropouts else 0.0}


def run_folder(out: Path | None, data: str, overwrite: bool = False) -> RunFolder:
    """The run's folder, checked now: --out, or a new runs/<data>-<date>-<time>."""
    if out is not None:
        return RunFolder(out, overwrite=overwrite)
    return RunFolder(Path("runs") / f"{data}-{time.strftime('%Y%m%d-%H%M%S')}", unique=True)


def save_run_folder(folder: RunFolder, run: RunRecord, problems: list[str], plots: bool = True,
                    plot_worker: PlotWorker | None = None) -> tuple[Path, list[Path]]:
    """Write the run and move it into place; if the disk refuses, rescue the model."""
    try:
        written = save_run(folder.path, run, plots=plots, problems=problems,
                           plot_worker=plot_worker)
        out = folder.commit()
        if out != folder.target:
            problems.append(f"{folder.target} was taken by another run while this one trained; "
                            f"this run is saved in {out}")
    except OSError as error:
        reason = f"Cannot save the run in {folder.target}: {error}"
        rescue = Path(tempfile.gettempdir()) / f"nnscratch-rescued-{folder.target.name}.npz"
        try:
            run.network.save(rescue, metadata={**run.network.metadata, "run": run.config})
        except (OSError, ValueError):
            raise OSError(f"{reason} The trained model could not be saved anywhere.") from None
        raise OSError(f"{reason} The trained model was saved to {rescue} instead.") from None
    return out, [out / path.name for path in written]


def read_npy_rows(path: Path, n_features: int) -> np.ndarray:
    try:  # mapped, not read: the shape is checked before any row is loaded
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, OverflowError) as error:
        raise DataError(f"{path} is not a readable .npy array ({error}). Save the rows with "
                        "np.save(path, X).") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != n_features or not np.issubdtype(array.dtype,
                                                                            np.number):
        raise UsageError(f"{path} holds an array of shape {array.shape} and dtype "
                         f"{array.dtype}; the model needs numeric rows of {n_features} "
                         f"features, shape (n, {n_features}) or ({n_features},).")
    return np.asarray(array)


class DownloadProgress:
    """Report a download on stderr: redrawn in place on a terminal, one line per file else."""

    def __call__(self, name: str, done: int, total: int) -> None:
        finished = total and done >= total
        if sys.stderr.isatty():
            share = f"{done / total:4.0%}" if total else f"{done / 1e6:.1f} MB"
            sys.stderr.write(f"\rdownloading {name}: {share}" + ("\n" if finished else ""))
        elif finished:
            sys.stderr.write(f"downloaded {name} ({total / 1e6:.1f} MB)\n")

