"""Figures: the activation functions, training curves, predictions, and what happens inside.

Every function builds on ``matplotlib.figure.Figure`` (never pyplot), so nothing is shown,
nothing global changes, and it works without a display. Single-panel plots take ``ax=None``
and return the Axes they drew on; multi-panel plots return the Figure. Save with
``fig.savefig("name.png")``, or show in a notebook by leaving the Figure as a cell's value.

matplotlib is imported only when a plot is drawn: install it with ``pip install
nnscratch[plot]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import activations
from ._validation import check_features, fail
from .activations import ReLU
from .backend import to_numpy
from .callbacks import History
from .layers import Dense

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .network import Sequential


def plot_activations(names: Sequence[str] | None = None, ax: Axes | None = None,
                     derivatives: bool = False, z_range: tuple[float, float] = (-5.0, 5.0)
                     ) -> Axes:
    """The activation functions (or, with ``derivatives=True``, their derivatives) on z_range."""
    names = list(names) if names is not None else ["sigmoid", "tanh", "relu", "leaky_relu"]
    for name in names:
        if name not in activations.FUNCTIONS:
            fail("names", f"activation names from {sorted(activations.FUNCTIONS)}", name)
    ax = _axes(ax)
    z = np.linspace(*z_range, 501)
    for name in names:
        function, derivative = activations.FUNCTIONS[name]
        ax.plot(z, (derivative if derivatives else function)(z), label=name, linewidth=2)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_xlabel("z")
    ax.set_ylabel("f'(z)" if derivatives else "f(z)")
    ax.set_title("Derivatives of the activation functions" if derivatives
                 else "Activation functions")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_history(history: History | dict[str, list[float]]) -> Figure:
    """Training curves: loss (and accuracy, for classifiers), training and validation."""
    logs = history.history if isinstance(history, History) else history
    if not isinstance(logs, dict) or "loss" not in logs:
        fail("history", "a History (or its .history dict) with a 'loss' entry", history,
             error=TypeError)
    panels = [name for name in ("loss", "accuracy") if name in logs]
    figure = _figure(figsize=(5 * len(panels), 4), top=0.6)
    for index, name in enumerate(panels):
        ax = figure.add_subplot(1, len(panels), index + 1)
        epochs = np.arange(1, len(logs[name]) + 1)
        marker = "o" if len(epochs) <= 40 else None  # a dot per epoch, or a plain line
        ax.plot(epochs, logs[name], marker=marker, markersize=3, label=f"training {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], marker=marker, markersize=3,
                    label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if name == "loss" and min(logs[name]) > 0:
            ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
    figure.suptitle("Training curves")
    return figure


def plot_prediction(image: Any, probabilities: Any, true_label: int | None = None,
                    class_names: Sequence[str] | None = None) -> Figure:
    """One sample: its image beside a bar chart of the predicted class probabilities."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    names = _class_names(class_names, len(probabilities))
    figure = _figure(figsize=(9, 3.5), left=0.3, wspace=0.15)
    image_ax = figure.add_subplot(1, 2, 1)
    image_ax.imshow(_as_image(np.asarray(image)), cmap="gray_r")
    image_ax.set_xticks([])
    image_ax.set_yticks([])
    predicted = int(probabilities.argmax())
    title = f"predicted: {names[predicted]}"
    if true_label is not None:
        title += f"   true: {names[true_label]}"
    image_ax.set_title(title)
    bars_ax = figure.add_subplot(1, 2, 2)
    colours = ["tab:blue"] * len(names)
    if true_label is not None:
        colours[true_label] = "tab:green"
    if true_label is not None and predicted != true_label:
        colours[predicted] = "tab:red"
    bars_ax.bar(range(len(names)), probabilities, color=colours)
    bars_ax.set_xticks(range(len(names)), names, rotation=45 if len(names[0]) > 2 else 0)
    bars_ax.set_ylim(0, 1)
    bars_ax.set_ylabel("probability")
    bars_ax.set_title("predicted class probabilities")
    return figure


def plot_prediction_grid(images: Any, y_true: Any, y_pred: Any,
                         class_names: Sequence[str] | None = None, n_images: int = 25) -> Figure:
    """A grid of images labelled "predicted (true)", the misclassified ones first, in red.

    The images are tiled into one picture (one axes, one draw), with a label above each."""
    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    right = np.flatnonzero(y_true == y_pred)
    chosen = np.concatenate([wrong, right])[:n_images]
    columns = math.ceil(math.sqrt(len(chosen)))
    rows = math.ceil(len(chosen) / columns)
    names = _class_names(class_names, int(max(y_true.max(), y_pred.max())) + 1)
    tiles = [_as_image(images[index]) for index in chosen]
    height, width = tiles[0].shape
    gap = max(2, height // 2)  # room for each label
    figure = _figure(figsize=(1.6 * columns, 1.8 * rows), **MOSAIC_MARGINS)
    ax = figure.add_subplot()
    ax.imshow(_mosaic(tiles, columns, gap, top=gap), cmap="gray_r")
    for position, index in enumerate(chosen):
        row, column = divmod(position, columns)
        is_wrong = y_true[index] != y_pred[index]
        ax.text(column * (width + gap) + width / 2, row * (height + gap) + gap - 0.7,
                f"{names[y_pred[index]]} ({names[y_true[index]]})", ha="center", va="bottom",
                fontsize=8, color="tab:red" if is_wrong else "black")
    ax.set_axis_off()
    figure.suptitle(f"predicted (true): {len(wrong)} of {len(y_true)} misclassified")
    return figure


def plot_confusion_matrix(matrix: Any, class_names: Sequence[str] | None = None,
                          ax: Axes | None = None, normalize: bool = False) -> Axes:
    """The confusion matrix (rows: true class, columns: predicted class), counts in each cell."""
    matrix = np.asarray(matrix)
    if not _is_confusion_matrix(matrix):
        fail("matrix", "a square confusion matrix of finite counts >= 0, as "
             "metrics.confusion_matrix returns", matrix)
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    names = _class_names(class_names, len(matrix))
    ax = _axes(ax)
    image = ax.imshow(shown, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = shown.max() / 2
    for (row, column), count in np.ndenumerate(matrix):
        text = (f"{shown[row, column]:.2f}" if normalize
                else f"{count:.0f}" if float(count).is_integer() else f"{count:.3g}")
        ax.text(column, row, text, ha="center", va="center", fontsize=7,
                color="white" if shown[row, column] > threshold else "black")
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names[0]) > 2 else 0)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix")
    return ax


def _is_confusion_matrix(matrix: np.ndarray) -> bool:
    """Square, not empty, and finite counts >= 0."""
    return (matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1] and matrix.size > 0
            and matrix.dtype.kind in "iuf" and bool(np.isfinite(matrix).all())
            and not (matrix < 0).any())


def plot_first_layer_weights(network: Sequential | np.ndarray, n_units: int = 36,
                             image_shape: tuple[int, int] | None = None) -> Figure:
    """Each first-layer unit's incoming weights drawn as an image: what the unit looks for.

    ``network`` is a network whose first parameter layer is Dense, or that layer's weights
    W (in_features, units). Each unit is scaled by its largest absolute weight (red +1, blue
    -1), and the units are tiled into one picture."""
    weights = network if isinstance(network, np.ndarray) else first_layer_weights(network)
    shape = image_shape or _square_shape(weights.shape[0])
    n_units = min(n_units, weights.shape[1])
    columns = math.ceil(math.sqrt(n_units))
    rows = math.ceil(n_units / columns)
    limits = np.maximum(np.abs(weights[:, :n_units]).max(axis=0), np.finfo(weights.dtype).tiny)
    tiles = [(weights[:, unit] / limits[unit]).reshape(shape) for unit in range(n_units)]
    figure = _figure(figsize=(1.3 * columns, 1.3 * rows), **MOSAIC_MARGINS)
    ax = figure.add_subplot()
    ax.imshow(_mosaic(tiles, columns, gap=1), cmap="seismic", vmin=-1, vmax=1)
    ax.set_axis_off()
    figure.suptitle("First-layer weights (red positive, blue negative)")
    return figure


def first_layer_weights(network: Sequential) -> np.ndarray:
    """The weights W (in_features, units) of a network's first Dense layer, on the host."""
    first = next((layer for layer in network.layers if isinstance(layer, Dense)), None)
    if first is None:
        fail("network", "a network whose first parameter layer is Dense", network)
    return to_numpy(first.params["W"])


def plot_gradient_norms(norms: dict[str, list[float]], ax: Axes | None = None) -> Axes:
    """Gradient magnitude per parameter across training, as GradientNormRecorder records it."""
    if not isinstance(norms, dict) or not norms:
        fail("norms", "a non-empty dict name -> list of gradient norms "
             "(GradientNormRecorder.norms)", norms, error=TypeError)
    ax = _axes(ax)
    for name, values in norms.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("gradient norm ||dL/dW||")
    ax.set_title("Gradient magnitude per layer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def plot_activation_histograms(network: Sequential, X: Any, bins: int = 50) -> Figure:
    """The distribution of each hidden activation layer's outputs on X, with the fraction of
    dead ReLUs (units that output 0 for every sample)."""
    network = network.on_host()
    X = check_features(to_numpy(X), "X", network.n_inputs, network.dtype)
    outputs = X
    panels = []
    for index, layer in enumerate(network.layers[:-1]):
        outputs = layer.forward(outputs, training=False)
        if isinstance(layer, activations.ACTIVATION_LAYERS):
            panels.append((index, layer, outputs))
    if not panels:
        fail("network", "a network with at least one hidden activation layer", network)
    figure = _figure(figsize=(4 * len(panels), 3.5), top=0.8, left=0.6)
    for position, (index, layer, values) in enumerate(panels):
        ax = figure.add_subplot(1, len(panels), position + 1)
        ax.hist(values.ravel(), bins=bins, color="tab:blue")
        title = f"layer {index}: {type(layer).__name__}"
        if isinstance(layer, ReLU):
            dead = float(np.mean(np.all(values == 0, axis=0)))
            title += f"\n{dead:.0%} dead units"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("activation")
    figure.suptitle("Hidden activations")
    return figure


# ----------------------------------------------------------------------------------------------
# Helpers


# margins in inches around a picture drawn without axes (the tiled images)
MOSAIC_MARGINS = {"left": 0.05, "right": 0.05, "bottom": 0.05, "top": 0.45}


def _figure(figsize: tuple[float, float], left: float = 0.8, right: float = 0.25,
            bottom: float = 0.6, top: float = 0.45, wspace: float = 0.3) -> Figure:
    """A Figure with fixed margins, in inches (room for tick labels, axis labels and titles).

    Fixed margins, not matplotlib's constrained layout: that layout draws each figure twice to
    measure its text, nearly doubling the time a run's plots take."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("Plots need matplotlib: pip install 'nnscratch[plot]'") from None
    width, height = figsize
    figure = Figure(figsize=figsize)
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, wspace=wspace)
    return figure


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else _figure((6, 4)).add_subplot()


def _mosaic(tiles: Sequence[np.ndarray], columns: int, gap: int, top: int = 0) -> np.ndarray:
    """The tiles laid out ``columns`` to a row, ``gap`` pixels apart (and ``top`` above the
    first row), on a blank (NaN) background."""
    height, width = tiles[0].shape
    rows = math.ceil(len(tiles) / columns)
    canvas = np.full((top + rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for position, tile in enumerate(tiles):
        row, column = divmod(position, columns)
        y, x = top + row * (height + gap), column * (width + gap)
        canvas[y:y + height, x:x + width] = tile
    return canvas


def _square_shape(n_pixels: int) -> tuple[int, int]:
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        fail("image_shape", f"given for {n_pixels} features, which are not a square image",
             None)
    return side, side


def _as_image(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else image.reshape(_square_shape(image.size))


def _class_names(class_names: Sequence[str] | None, n_classes: int) -> list[str]:
    if class_names is None:
        return [str(label) for label in range(n_classes)]
    if len(class_names) < n_classes:
        fail("class_names", f"at least {n_classes} names", class_names)
    return [str(name) for name in class_names]
