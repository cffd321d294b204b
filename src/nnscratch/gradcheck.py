"""Gradient checking: backpropagation compared with finite differences, in float64.

For a scalar loss L(theta), the central difference

    dL/dtheta_i  ~  (L(theta + eps e_i) - L(theta - eps e_i)) / (2 eps)

has an error of order eps**2, so with eps = 1e-6 in float64 it agrees with a correct analytic
gradient to about 1e-9 relative. The error reported for each parameter array is

    relative_error = ||g_backprop - g_numeric|| / (||g_backprop|| + ||g_numeric||)

which is near 1e-10 for a correct gradient and near 1 for a wrong one. The check runs on a
float64 copy of the network in inference mode (dropout off), so it never changes the network.
It runs on the network's array library and device; the errors are worked out on the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import check_float, check_int
from .backend import take_rows, to_numpy
from .fit_data import prepare_data
from .losses import Loss
from .training import resolve_loss


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of df/dx, nudging each element of ``x`` in place.

    ``f`` takes no arguments and reads ``x`` (e.g. a closure over the network); every element
    is restored to its value afterwards. ``x`` may be any library's array; the estimate is a
    NumPy array.
    """
    grad = np.zeros(tuple(x.shape), dtype=np.float64)
    for index in np.ndindex(grad.shape):
        original = float(x[index])
        x[index] = original + eps
        loss_plus = float(f())
        x[index] = original - eps
        loss_minus = float(f())
        x[index] = original
        grad[index] = (loss_plus - loss_minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||), and 0 when both are exactly zero."""
    analytic, numeric = to_numpy(analytic), to_numpy(numeric)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / scale)


def gradient_errors(network: Any, X: Any, y: Any, loss: str | Loss | None = None,
                    eps: float = 1e-6, max_samples: int = 32) -> dict[str, float]:
    """The relative error of every parameter's gradient, by name ("0.W", "0.b", ...).

    Also reports "input", the error of dL/dX, which checks the gradient that each layer passes
    back to the one before it. Uses the first ``max_samples`` rows of X: the cost grows with
    rows times parameters.
    """
    loss = resolve_loss(network, loss)
    eps = check_float(eps, "eps", 0.0, 1.0, fix="1e-6 is right for float64.")
    max_samples = check_int(max_samples, "max_samples")
    network64 = network.astype("float64")
    X, targets = prepare_data(network64, loss, X, y)
    rows = slice(0, min(max_samples, X.shape[0]))
    X, targets = take_rows(X, rows), take_rows(targets, rows)

    def objective() -> float:
        return float(loss.forward(network64.forward(X, training=False), targets))

    objective()
    grad_input = network64.backward(loss.backward())
    analytic = {name: np.array(to_numpy(grad)) for name, _, grad in network64.named_parameters()}
    errors = {name: relative_error(analytic[name], numerical_gradient(objective, param, eps))
              for name, param, _ in network64.named_parameters()}
    errors["input"] = relative_error(grad_input, numerical_gradient(objective, X, eps))
    return errors


def check_gradients(network: Any, X: Any, y: Any, loss: str | Loss | None = None,
                    eps: float = 1e-6, max_samples: int = 32) -> float:
    """The largest relative error between backprop and finite differences, over all parameters.

    Below 1e-6 the gradients are right; above 1e-3 something is wrong. See gradient_errors.
    """
    return max(gradient_errors(network, X, y, loss, eps, max_samples).values())
