"""The reference answers, computed by nnscratch's own functions, and the inputs they are
checked on (a batch of one, larger batches, entries large enough to overflow a naive form).

In the columns notation each array is the transpose of the rows one (a bias is a column):
the answer is nnscratch's, transposed back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import activations
from ..layers import Dense, Layer
from ..losses import MSE, CrossEntropy
from ..network import Sequential
from ..optim import SGD

# ---- the answers, in rows -----------------------------------------------------------------


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(CrossEntropy().forward(logits, labels))


def _cross_entropy_gradient(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    loss = CrossEntropy()
    loss.forward(logits, labels)
    return loss.backward()


def _mse_gradient(y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    loss = MSE()
    loss.forward(y_pred, y)
    return loss.backward()


def _dense(W: np.ndarray, b: np.ndarray) -> Dense:
    layer = Dense(*W.shape)
    layer.params = {"W": W, "b": b}
    layer.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
    return layer


def _dense_backward(x: np.ndarray, W: np.ndarray, grad_z: np.ndarray) -> tuple:
    layer = _dense(W, np.zeros(W.shape[1]))
    layer.forward(x)
    grad_x = layer.backward(grad_z)
    return layer.grads["W"], layer.grads["b"], grad_x


def _sgd_step(param: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
    new = np.array(param, dtype=np.float64)
    SGD(lr=lr).update(0, new, grad)
    return new


def _train_step(params: dict, x: np.ndarray, labels: np.ndarray, lr: float) -> tuple:
    layers: list[Layer] = [_dense(params["W1"].copy(), params["b1"].copy()), activations.ReLU(),
                           _dense(params["W2"].copy(), params["b2"].copy())]
    net = Sequential(layers, seed=0, dtype="float64")
    for layer, key in ((layers[0], "1"), (layers[2], "2")):  # the network drew its own
        layer.params = {"W": params["W" + key].astype(np.float64),
                        "b": params["b" + key].astype(np.float64)}
    logs = net.train_on_batch(x, labels, loss="cross_entropy", optimizer=SGD(lr=lr))
    new = {"W1": layers[0].params["W"], "b1": layers[0].params["b"],
           "W2": layers[2].params["W"], "b2": layers[2].params["b"]}
    return new, logs["loss"]


ROWS: dict[str, Callable[..., Any]] = {
    "neuron": lambda x, w, b: float(x @ w + b),
    "sigmoid": activations.sigmoid,
    "sigmoid_derivative": activations.sigmoid_derivative,
    "tanh_derivative": activations.tanh_derivative,
    "relu": activations.relu,
    "relu_derivative": activations.relu_derivative,
    "softmax": lambda z: activations.softmax(z, axis=1),
    "mse": lambda y_pred, y: float(MSE().forward(y_pred, y)),
    "mse_gradient": _mse_gradient,
    "cross_entropy": _cross_entropy,
    "cross_entropy_gradient": _cross_entropy_gradient,
    "dense_forward": lambda x, W, b: x @ W + b,
    "dense_backward": _dense_backward,
    "sgd_step": _sgd_step,
    "train_step": _train_step,
}

# ---- the columns notation: the same answers, transposed -----------------------------------


def _column(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector).reshape(-1, 1)


def _params_in(params: dict, to_rows: bool) -> dict:
    """train_step's parameters in the other notation: W transposed, b a vector or a column."""
    return {key: (np.asarray(value).ravel() if to_rows else _column(value))
            if key.startswith("b") else np.asarray(value).T for key, value in params.items()}


def _train_step_columns(params: dict, x: np.ndarray, labels: np.ndarray, lr: float) -> tuple:
    new, loss = _train_step(_params_in(params, True), x.T, labels, lr)
    return _params_in(new, False), loss


def _dense_backward_columns(a: np.ndarray, W: np.ndarray, grad_z: np.ndarray) -> tuple:
    grad_W, grad_b, grad_x = _dense_backward(a.T, W.T, grad_z.T)
    return grad_W.T, _column(grad_b), grad_x.T


COLUMNS: dict[str, Callable[..., Any]] = {
    "softmax": lambda z: activations.softmax(z, axis=0),
    "cross_entropy": lambda logits, labels: _cross_entropy(logits.T, labels),
    "cross_entropy_gradient": lambda logits, labels: _cross_entropy_gradient(logits.T,
                                                                             labels).T,
    "dense_forward": lambda a, W, b: W @ a + _column(b),
    "dense_backward": _dense_backward_columns,
    "train_step": _train_step_columns,
}


def reference(name: str, notation: str) -> Callable[..., Any]:
    """nnscratch's answer to function ``name`` in ``notation``."""
    return COLUMNS[name] if notation == "columns" and name in COLUMNS else ROWS[name]


# ---- the inputs -----------------------------------------------------------------------------


def cases(name: str, notation: str, rng: np.random.Generator) -> list[tuple[str, tuple]]:
    """(description, arguments) for each input ``name`` is checked on, in ``notation``."""
    rows = _ROW_CASES[name](rng)
    if notation == "rows" or name not in COLUMNS:
        return rows
    return [(description, tuple(_to_columns(name, index, argument)
                                for index, argument in enumerate(arguments)))
            for description, arguments in rows]


def _to_columns(name: str, index: int, argument: Any) -> Any:
    if isinstance(argument, dict):  # train_step's params
        return _params_in(argument, False)
    if name == "dense_forward" and index == 2:
        return _column(argument)
    if isinstance(argument, np.ndarray) and argument.ndim == 2:
        return argument.T.copy()
    return argument


def _elementwise(rng: np.random.Generator) -> list[tuple[str, tuple]]:
    z = rng.standard_normal((4, 3)) * 3
    z[0, 0] = 0.0
    return [("a (4, 3) array", (z,)), ("one value", (np.array([0.7]),)),
            ("entries of size 1000", (np.array([[-1000.0, 1000.0, 30.0]]),))]


def _softmax_cases(rng: np.random.Generator) -> list[tuple[str, tuple]]:
    return [("a batch of one", (rng.standard_normal((1, 4)),)),
            ("a batch of 6", (rng.standard_normal((6, 3)) * 2,)),
            ("entries of size 1e4", (np.array([[1e4, 0.0, -1e4], [5e3, 5e3 + 1.0, 0.0]]),))]


def _loss_cases(rng: np.random.Generator) -> list[tuple[str, tuple]]:
    found = []
    for n, k in ((1, 3), (6, 4), (5, 2)):
        found.append((f"a batch of {n}, {k} classes",
                      (rng.standard_normal((n, k)) * 2, rng.integers(0, k, n))))
    found.append(("confident logits (differences of 1000)",
                  (np.array([[1000.0, 0.0, -5.0], [0.0, 800.0, 1.0]]), np.array([0, 2]))))
    return found


def _mse_cases(rng: np.random.Generator) -> list[tuple[str, tuple]]:
    return [(f"shape {shape}", (rng.standard_normal(shape), rng.standard_normal(shape)))
            for shape in ((1, 1), (5, 3), (8, 2))]


def _dense_cases(rng: np.random.Generator, backward: bool) -> list[tuple[str, tuple]]:
    found = []
    # the batch of one last: there a bias gradient not summed looks like one kept as a row
    for n, fan_in, fan_out in ((5, 4, 3), (6, 3, 3), (1, 3, 2)):
        x, W = rng.standard_normal((n, fan_in)), rng.standard_normal((fan_in, fan_out))
        last = rng.standard_normal((n, fan_out)) if backward else rng.standard_normal(fan_out)
        found.append((f"a batch of {n}, {fan_in} inputs, {fan_out} outputs", (x, W, last)))
    return found


def _train_step_cases(rng: np.random.Generator) -> list[tuple[str, tuple]]:
    found = []
    for n, fan_in, hidden, k in ((1, 3, 4, 2), (6, 4, 5, 3)):
        params = {"W1": rng.standard_normal((fan_in, hidden)) * 0.5,
                  "b1": rng.standard_normal(hidden) * 0.1,
                  "W2": rng.standard_normal((hidden, k)) * 0.5,
                  "b2": rng.standard_normal(k) * 0.1}
        found.append((f"a batch of {n}, {fan_in}-{hidden}-{k}",
                       (params, rng.standard_normal((n, fan_in)), rng.integers(0, k, n), 0.1)))
    return found


_ROW_CASES: dict[str, Callable[[np.random.Generator], list[tuple[str, tuple]]]] = {
    "neuron": lambda rng: [("3 inputs", (rng.standard_normal(3), rng.standard_normal(3), 0.5)),
                           ("1 input", (np.array([2.0]), np.array([-1.5]), -0.25))],
    **{name: _elementwise for name in ("sigmoid", "sigmoid_derivative", "tanh_derivative",
                                       "relu", "relu_derivative")},
    "softmax": _softmax_cases,
    "mse": _mse_cases, "mse_gradient": _mse_cases,
    "cross_entropy": _loss_cases, "cross_entropy_gradient": _loss_cases,
    "dense_forward": lambda rng: _dense_cases(rng, backward=False),
    "dense_backward": lambda rng: _dense_cases(rng, backward=True),
    "sgd_step": lambda rng: [("a (3, 2) parameter", (rng.standard_normal((3, 2)),
                                                     rng.standard_normal((3, 2)), 0.1))],
    "train_step": _train_step_cases,
}
