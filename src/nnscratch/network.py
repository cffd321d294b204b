"""The network: a stack of layers, run forwards to predict and backwards to learn.

    forward:   a_0 = x,   a_l = layer_l(a_{l-1})            for l = 1 .. L
    backward:  g_L = dL/da_L,   g_{l-1} = layer_l.backward(g_l)   for l = L .. 1

Backward is the chain rule applied layer by layer: each layer turns the gradient with respect
to its output into the gradient with respect to its input, filling its own parameter gradients
on the way. For a Dense layer l+1 after an activation phi, the two steps together give the
hidden-layer error of the textbooks, in one line (W of shape (in, out), one sample per row)::

    dz^l = (dz^(l+1) @ W^(l+1).T) * phi'(z^l)

``Sequential`` holds any list of layers; ``MLP`` builds the usual Dense-activation-Dense-...
stack from a list of sizes.

Everything runs on the network's array library and device (``net.to("torch:cuda")``, see
backend.py): NumPy by default. Data given as CuPy arrays or PyTorch tensors take the network
there; NumPy data go to it, and the answers come back as NumPy arrays.

A classifier's last layer outputs logits (no softmax or sigmoid): the loss applies the link
function in its stable fused form, and ``predict_proba`` applies it for you. Training itself
(fit, evaluate, train_on_batch) lives in training.py; the methods here are those functions.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _fast, explain, fit_data, serialization, training
from ._validation import FLOAT_DTYPES, check_choice, check_features, check_float, check_int, fail
from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, get_activation, sigmoid, softmax
from .backend import (
    NUMPY,
    Backend,
    complete_sparse_rows,
    get_backend,
    library_of,
    namespace,
    take_rows,
    to_numpy,
)
from .callbacks import History
from .init import Initializer, zeros
from .layers import Dense, Dropout, Layer
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, get_loss
from .metrics import CLASSIFICATION_TASKS, predicted_labels
from .optim import Optimizer
from .serialization import ModelFileError


class Sequential:
    """A feed-forward network: the layers applied one after the other.

    Parameters
    ----------
    layers : list of Layer
        For example ``[Dense(64, 128), ReLU(), Dense(128, 10)]``. Consecutive Dense sizes must
        meet. Every parameter is (re)initialised from ``seed`` when the network is built.
    seed : int, optional
        Seeds the generator behind the initial weights, dropout masks and (unless fit gets its
        own seed) the shuffling. None draws a fresh seed and records it in ``self.seed``.
    dtype : "float32" (default) or "float64"
        The dtype of every parameter and every array the network computes.
    loss : str or Loss, optional
        What the outputs mean, for predict before any fit; fit(loss=...) sets it too.
    """

    # where the parameters live (see to()); a network is built, and loads, on NumPy, and a
    # class attribute also gives it to networks pickled before there was a choice
    backend: Backend = NUMPY

    def __init__(self, layers: Sequence[Layer], seed: int | None = None,
                 dtype: Any = "float32", loss: str | Loss | None = None):
        _check_layers(layers)
        self.layers: list[Layer] = list(layers)
        self.dtype = np.dtype(_check_dtype(dtype))
        self.seed = (int(np.random.SeedSequence().entropy) if seed is None  # type: ignore[arg-type]
                     else check_int(seed, "seed", minimum=0))
        self.rng = np.random.default_rng(self.seed)
        self.n_inputs, self.n_outputs = self._check_sizes()
        for layer, next_layer in zip(self.layers, [*self.layers[1:], None], strict=True):
            if isinstance(layer, Dense):
                layer.initialize(self.rng, self.dtype, default_init=_default_init(next_layer))
            else:
                layer.initialize(self.rng, self.dtype)
        self.loss: Loss | None = None if loss is None else get_loss(loss)
        self.optimizer: Optimizer | None = None
        self.stop_training = False
        self.stop_reason: str | None = None
        self.metadata: dict[str, Any] = {}  # saved with the model, e.g. the training history
        self.history: History | None = None  # of the latest fit, for callbacks

    # ------------------------------------------------------------------------------------------
    # Forward and backward propagation

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """a_l = layer_l(a_{l-1}) for every layer; returns the last output (logits)."""
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            fail("x", f"a 2-D array (n_samples, {self.n_inputs})", x,
                 "Use predict() for checked input of any array-like.")
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """g_{l-1} = layer_l.backward(g_l) from the last layer to the first; fills every grads.

        Returns dL/dx, or None with ``input_grad=False``: training never needs it, so the
        first layer is told so and may skip computing it.
        """
        grad: np.ndarray | None = grad_output
        for index in range(len(self.layers) - 1, -1, -1):
            assert grad is not None  # only the first layer may return None
            grad = _backward(self.layers[index], grad, input_grad or index > 0)
        return grad

    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, param, grad) for every parameter, named "<layer index>.<key>", e.g. "0.W";
        grad is the complete gradient (one kept on its sparse rows, see _fast.py, written
        out)."""
        return [(f"{index}.{key}", layer.params[key], _complete_gradient(layer, key))
                for index, layer in enumerate(self.layers) for key in layer.params]

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(param, grad) pairs for the optimizer, in the order of named_parameters(); in fit, a
        gradient may be kept on its sparse rows (sparse_rows() tells which, see _fast.py)."""
        return [(layer.params[key], layer.grads[key])
                for layer in self.layers for key in layer.params]

    def sparse_rows(self) -> list[np.ndarray | None]:
        """For each gradient of parameters(), the rows it holds if it is kept on its sparse
        rows (None: it is complete), as the layers report them after backward."""
        return [getattr(layer, "sparse_rows", {}).get(key)
                for layer in self.layers for key in layer.params]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter as NumPy arrays, in the order of parameters()."""
        return [np.array(to_numpy(param)) for param, _ in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as get_weights returns them) into the parameters, in place."""
        named = self.named_parameters()
        if len(weights) != len(named):
            fail("weights", f"a list of {len(named)} arrays, one per parameter", weights)
        for (name, param, _), value in zip(named, weights, strict=True):
            value = to_numpy(value)
            if value.shape != tuple(param.shape):
                fail(f"weights for {name}", f"an array of shape {tuple(param.shape)}", value)
            param[...] = self.backend.asarray(value, self.dtype)

    @property
    def n_params(self) -> int:
        """The number of trainable numbers in the network."""
        return sum(math.prod(param.shape) for param, _ in self.parameters())

    # ------------------------------------------------------------------------------------------
    # Training and prediction (the loop itself is in training.py)

    # training.py's functions, as methods: each has one signature and one docstring, there
    fit = training.fit
    train_on_batch = training.train_on_batch
    evaluate = training.evaluate

    def predict(self, X: Any, batch_size: int = 1024) -> np.ndarray:
        """Class labels (n,) for classifiers; the outputs for regression ((n,) for one output)."""
        task = self._task()
        outputs = self.predict_outputs(X, batch_size)
        if task in CLASSIFICATION_TASKS:
            return predicted_labels(outputs, task)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    def predict_proba(self, X: Any, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities (n, n_classes), each row summing to 1: softmax of the logits
        for cross-entropy; for binary cross-entropy with one output, columns [1 - p, p] with
        p = sigmoid(output) (with several outputs, each output's sigmoid)."""
        task = self._task()
        outputs = self.predict_outputs(X, batch_size)
        if task == "multiclass":
            return softmax(outputs, axis=1)
        if task == "binary":
            positive = sigmoid(outputs)
            if outputs.shape[1] > 1:
                return positive
            return namespace(positive).concat([1.0 - positive, positive], axis=1)
        raise ValueError("probabilities need a classification loss; this network is trained "
                         f"with a {task} loss. Use predict() for its outputs.")

    def predict_outputs(self, X: Any, batch_size: int = 1024) -> np.ndarray:
        """The raw outputs for X (logits for classifiers), checked and computed in batches, as
        arrays of X's library (NumPy for NumPy arrays and array-likes)."""
        fit_data.follow_data(self, X)
        X_checked = self.backend.asarray(check_features(X, "X", self.n_inputs, self.dtype))
        batch_size = check_int(batch_size, "batch_size")
        n_samples = X_checked.shape[0]
        outputs = namespace(X_checked).concat(
            [self.forward(take_rows(X_checked, slice(start, min(start + batch_size, n_samples))),
                          training=False)
             for start in range(0, n_samples, batch_size)])
        return outputs if library_of(X) is not None else to_numpy(outputs)

    # ------------------------------------------------------------------------------------------
    # Description and copies

    def summary(self) -> str:
        """A table of the layers with their output shapes and parameter counts."""
        rows = [("#", "layer", "output shape", "params")]
        features = None
        for index, layer in enumerate(self.layers):
            features = layer.output_features(features)
            count = sum(math.prod(param.shape) for param in layer.params.values())
            rows.append((str(index), repr(layer), f"(n, {features})", f"{count:,}"))
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        lines = ["  ".join(cell.ljust(width) if column < 3 else cell.rjust(width)
                           for column, (cell, width) in enumerate(zip(row, widths, strict=True)))
                 for row in rows]
        rule = "-" * len(lines[0])
        total = (f"total parameters: {self.n_params:,} "
                 f"({self.n_params * self.dtype.itemsize / 1024:,.1f} KiB as {self.dtype.name})")
        return "\n".join([lines[0], rule, *lines[1:], rule, total])

    def explain(self, n_samples: int = 32, loss: str | Loss | None = None) -> str:
        """Each layer's forward and backward equations with their shapes, in the order
        backpropagation runs them (see explain.py). Print it: ``print(net.explain())``."""
        return explain.explain(self.on_host(), n_samples,
                               None if loss is None else get_loss(loss))

    def trace(self, X: Any, y: Any, loss: str | Loss | None = None, lr: float = 0.1) -> str:
        """One SGD step on a tiny batch, with the values of every array and gradient, to check
        by hand; the network itself is not changed."""
        return explain.trace(self.on_host(), X, y, loss, lr)

    def save(self, path: str | os.PathLike, include_optimizer: bool = True,
             metadata: dict[str, Any] | None = None) -> Path:
        """Save to ``path`` (``.npz``, or ``.safetensors`` for PyTorch); see serialization.save.

        ``nnscratch.load(path)`` gives back a network with bit-identical predictions.
        """
        return serialization.save(self.on_host(), path, include_optimizer, metadata)

    @staticmethod
    def from_config(config: dict[str, Any]) -> Sequential:
        """The network a checked model-file config describes, with zero weights (no random
        draw is spent on weights that the file's will replace)."""
        layers = []
        for index, spec in enumerate(config["layers"]):
            try:
                layer = serialization.LAYER_TYPES[spec["type"]](**spec["config"])
            except (TypeError, ValueError) as error:
                raise ModelFileError(f"layer {index} ({spec['type']}) has a bad config: "
                                     f"{error}") from None
            if isinstance(layer, Dense):
                layer.init = zeros  # calloc'd pages cost nothing until the file's bytes arrive
            layers.append(layer)
        try:
            network = Sequential(layers, seed=config["seed"], dtype=config["dtype"],
                                 loss=config["loss"])
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"the layers do not form a network: {error}") from None
        for layer in layers:
            if isinstance(layer, Dense):
                layer.init = None
        return network

    def astype(self, dtype: Any) -> Sequential:
        """A copy of the network whose parameters and computations use ``dtype``."""
        network = self.copy()
        network.dtype = np.dtype(_check_dtype(dtype))
        xp, library_dtype = self.backend.xp, self.backend.dtype(network.dtype)
        for layer in network.layers:
            layer.params = {key: xp.astype(value, library_dtype)
                            for key, value in layer.params.items()}
            layer.grads = {key: xp.astype(value, library_dtype)
                           for key, value in layer.grads.items()}
        network.optimizer = None
        return network

    def to(self, device: str | Backend) -> Sequential:
        """Move the network to an array library and device, in place; returns the network.

        ``device`` is "numpy" (or "cpu"), "cupy", "torch:cpu", "torch:cuda", "cuda" (CuPy, else
        PyTorch) or "array_api_strict" (see backend.py). The parameters, their gradients and
        the optimizer's state move; the random generator stays on the host, so a seed draws
        the same dropout masks and shuffles everywhere. ``save`` always writes host arrays.
        """
        backend = get_backend(device)
        for layer in self.layers:
            layer.params = {key: backend.asarray(value) for key, value in layer.params.items()}
            layer.grads = {key: backend.asarray(value) for key, value in layer.grads.items()}
        if self.optimizer is not None:
            self.optimizer.state = {index: {name: backend.asarray(array)
                                            for name, array in slots.items()}
                                    for index, slots in self.optimizer.state.items()}
        self.backend = backend
        return self

    def on_host(self) -> Sequential:
        """The network itself if it is on NumPy, else a copy moved to NumPy."""
        return self if self.backend.is_numpy else self.copy().to(NUMPY)

    def copy(self) -> Sequential:
        """An independent deep copy (weights, generator state, loss and optimizer)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        layers = ", ".join(repr(layer) for layer in self.layers)
        where = "" if self.backend.is_numpy else f", device={str(self.backend)!r}"
        return (f"{type(self).__name__}([{layers}], seed={self.seed}, "
                f"dtype={self.dtype.name!r}){where}")

    # ------------------------------------------------------------------------------------------
    # Helpers

    def _check_sizes(self) -> tuple[int, int]:
        features = None
        n_inputs = None
        for index, layer in enumerate(self.layers):
            try:
                features = layer.output_features(features)
            except ValueError as error:
                raise ValueError(f"layers[{index}] does not fit the layer before it: {error}") \
                    from None
            if n_inputs is None and features is not None:
                n_inputs = getattr(layer, "in_features", None)
        if n_inputs is None or features is None:
            fail("layers", "a list with at least one Dense layer (to fix the input and output "
                 "sizes)", self.layers, "Add e.g. Dense(n_features, n_outputs).")
        return n_inputs, features

    def _task(self) -> str:
        return training.resolve_loss(self, None).task

    def check_loss(self, loss: Loss) -> None:
        """Refuse a loss that would apply the output layer's link function a second time
        (fit and train_on_batch call this)."""
        last = self.layers[-1]
        for loss_type, layer_type, name in ((CrossEntropy, Softmax, "cross_entropy"),
                                            (BinaryCrossEntropy, Sigmoid, "binary_cross_entropy")):
            if isinstance(loss, loss_type) and isinstance(last, layer_type):
                raise ValueError(
                    f"The network ends in {layer_type.__name__}(), but {name} takes logits and "
                    f"applies {layer_type.__name__.lower()} itself, stably. Remove the final "
                    f"{layer_type.__name__}() layer; predict_proba() gives the probabilities."
                )


class MLP(Sequential):
    """A multilayer perceptron built from layer sizes: Dense, activation, Dense, ... Dense.

    ``MLP([64, 128, 64, 10], activation="relu", seed=0)`` is
    ``Sequential([Dense(64, 128), ReLU(), Dense(128, 64), ReLU(), Dense(64, 10)], seed=0)``.

    Parameters
    ----------
    sizes : list of int
        The number of units of each layer, inputs first, outputs last (at least two).
    activation : str or Layer class
        The hidden activation: "relu", "leaky_relu", "tanh", "sigmoid", "identity", ...
    output_activation : str, optional
        An activation after the last Dense layer. Leave None for classifiers (the loss takes
        logits) and for regression.
    dropout : float
        If > 0, a Dropout layer with this rate after every hidden activation.
    init : str or callable, optional
        The weight initialiser; None picks He for the ReLU family and Glorot otherwise.
    seed, dtype, loss
        As for Sequential.
    """

    def __init__(self, sizes: Sequence[int], activation: Any = "relu",
                 output_activation: Any = None, dropout: float = 0.0,
                 init: str | Initializer | None = None, seed: int | None = None,
                 dtype: Any = "float32", loss: str | Loss | None = None):
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            fail("sizes", "a list of at least two layer sizes, inputs first", sizes,
                 "For example [64, 128, 10].", TypeError if not isinstance(sizes, (list, tuple))
                 else ValueError)
        sizes = [check_int(size, f"sizes[{index}]", fix="Every layer needs at least one unit.")
                 for index, size in enumerate(sizes)]
        dropout = check_float(dropout, "dropout", 0.0, 1.0, low_inclusive=True,
                              high_inclusive=False)
        hidden_activation = get_activation(activation)  # checks the name even with no hidden layer
        layers: list[Layer] = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
            layers.append(Dense(fan_in, fan_out, init=init))
            if index < len(sizes) - 2:
                layers.append(copy.deepcopy(hidden_activation))
                if dropout:
                    layers.append(Dropout(dropout))
        if output_activation is not None:
            layers.append(get_activation(output_activation))
        self.sizes = sizes
        super().__init__(layers, seed=seed, dtype=dtype, loss=loss)


def load(path: str | os.PathLike) -> Sequential:
    """Read a network saved by ``save``: same architecture, weights, loss, optimizer state and
    random-generator state, so predictions are bit-identical and training can resume.

    Raises FileNotFoundError if there is no file at ``path`` and ModelFileError for anything
    else that keeps it from loading (see serialization.py for every check).
    """
    return serialization.read(path, Sequential.from_config)


def _complete_gradient(layer: Layer, key: str) -> np.ndarray:
    """layer.grads[key], written out in full if the layer keeps it on its sparse rows."""
    rows = getattr(layer, "sparse_rows", {}).get(key)
    grad = layer.grads[key]
    return grad if rows is None else complete_sparse_rows(grad, rows, layer.params[key].shape[0])


def _backward(layer: Layer, grad_output: np.ndarray, input_grad: bool) -> np.ndarray | None:
    """layer.backward(grad_output, input_grad), or its fast form (see _fast.py), or without
    the flag for a custom layer whose backward does not take it (written before it existed)."""
    if grad_output.shape[0] == 1 and _fast.takes_dense_backward(layer, grad_output):
        return _fast.dense_backward(layer, grad_output, input_grad)
    if input_grad or not _takes_input_grad(type(layer).backward):
        return layer.backward(grad_output)
    return layer.backward(grad_output, input_grad=False)


@functools.cache
def _takes_input_grad(backward: Any) -> bool:
    return "input_grad" in inspect.signature(backward).parameters


def _check_layers(layers: Any) -> None:
    """A non-empty list of Layer instances, none of them twice."""
    if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)) or not layers:
        fail("layers", "a non-empty list of layers", layers,
             "For example [Dense(64, 128), ReLU(), Dense(128, 10)].", TypeError)
    for index, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            hint = ("Instantiate it: write ReLU() rather than ReLU."
                    if isinstance(layer, type) else
                    "Custom layers must subclass nnscratch.Layer.")
            fail(f"layers[{index}]", "a Layer instance", layer, hint, TypeError)
    for index, layer in enumerate(layers):
        first = next(i for i, other in enumerate(layers) if other is layer)
        if first != index:
            fail(f"layers[{index}]", "a layer object not already in the list", layer,
                 f"It is the same object as layers[{first}]: a layer caches its input and "
                 "owns its weights, so it cannot appear twice. Create a new one, e.g. "
                 "ReLU() for each place.")


def _default_init(next_layer: Layer | None) -> str:
    """He initialisation before the ReLU family, Glorot before anything else."""
    return "he_normal" if isinstance(next_layer, (ReLU, LeakyReLU)) else "glorot_uniform"


def _check_dtype(dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = repr(dtype)
    return check_choice(name, "dtype", FLOAT_DTYPES)
