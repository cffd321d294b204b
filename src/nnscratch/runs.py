"""A training run on disk: the model, its history, how it was made, and its plots.

    <folder>/model.npz                the trained network (nnscratch.load reads it)
    <folder>/history.json             per-epoch metrics, and why training stopped
    <folder>/history.csv              the same metrics as a table
    <folder>/config.json              the settings of the run and its test scores
    <folder>/history.png              training curves
    <folder>/confusion_matrix.png     on the test set
    <folder>/predictions.png          test images with their predicted labels, mistakes first
    <folder>/first_layer_weights.png  for image inputs
    <folder>/gradient_norms.png       gradient magnitude per layer across training, if recorded

Every file is written atomically. The plots need matplotlib (``pip install nnscratch[plot]``);
without it the run is saved without them.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write, atomic_write_text
from .callbacks import History
from .metrics import confusion_matrix
from .network import Sequential


def can_plot() -> bool:
    """Whether matplotlib is installed, so that runs get their plots."""
    return importlib.util.find_spec("matplotlib") is not None


def save_run(folder: str | os.PathLike, network: Sequential, history: History,
             config: dict[str, Any], X_test: np.ndarray | None = None,
             y_test: np.ndarray | None = None, class_names: list[str] | None = None,
             gradient_norms: dict[str, list[float]] | None = None,
             plots: bool = True) -> list[Path]:
    """Write the run into ``folder`` (created if needed); return the files written.

    ``gradient_norms`` is what a GradientNormRecorder recorded during training.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"Cannot create the run folder {folder}: {error.strerror or error}. "
                      "Choose another with --out.") from None
    record = {"history": history.history, "epochs": history.epoch,
              "stop_reason": history.stop_reason}
    written = [network.save(folder / "model.npz",
                            metadata={**network.metadata, "run": config, **record})]
    written.append(_write_text(folder / "history.json", json.dumps(record, indent=2)))
    written.append(_write_text(folder / "history.csv", _history_csv(history)))
    written.append(_write_text(folder / "config.json", json.dumps(config, indent=2)))
    if plots and can_plot():
        written += _save_plots(folder, network, history, X_test, y_test, class_names,
                               gradient_norms)
    return written


def load_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """The per-epoch metrics of a run: ``path`` is its folder or its history.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "history.json"
    if not path.is_file():
        raise FileNotFoundError(f"No history at {path}: give a run folder written by "
                                "`nnscratch train` or its history.json.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        history = record["history"]
        if not isinstance(history, dict) or not all(
                isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)
                for values in history.values()):
            raise ValueError("history is not a dict of number lists")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a run history ({error}).") from None
    return history


def _history_csv(history: History) -> str:
    names = list(history.history)
    lines = [",".join(["epoch", *names])]
    for row, epoch in enumerate(history.epoch):
        lines.append(",".join([str(epoch + 1),
                               *(repr(history.history[name][row]) for name in names)]))
    return "\n".join(lines) + "\n"


def _save_plots(folder: Path, network: Sequential, history: History,
                X_test: np.ndarray | None, y_test: np.ndarray | None,
                class_names: list[str] | None,
                gradient_norms: dict[str, list[float]] | None) -> list[Path]:
    from . import plots

    figures: dict[str, Any] = {"history.png": plots.plot_history(history)}
    is_image = math.isqrt(network.n_inputs) ** 2 == network.n_inputs
    if X_test is not None and y_test is not None and network.loss is not None \
            and network.loss.task == "multiclass":
        predicted = network.predict(X_test)
        matrix = confusion_matrix(y_test, predicted, n_classes=network.n_outputs)
        ax = plots.plot_confusion_matrix(matrix, class_names)
        figures["confusion_matrix.png"] = ax.figure
        if is_image:
            figures["predictions.png"] = plots.plot_prediction_grid(X_test, y_test, predicted,
                                                                    class_names)
    if is_image and network.n_inputs > 4:
        figures["first_layer_weights.png"] = plots.plot_first_layer_weights(network)
    if gradient_norms:
        figures["gradient_norms.png"] = plots.plot_gradient_norms(gradient_norms).figure
    return [save_figure(figure, folder / name) for name, figure in figures.items()]


def save_figure(figure: Any, path: Path) -> Path:
    """Save a matplotlib Figure as a PNG at ``path``, atomically."""
    atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=100,
                                                   bbox_inches="tight"))
    return path


def _write_text(path: Path, text: str) -> Path:
    atomic_write_text(path, text)
    return path
