"""Activation functions, their derivatives, and the activation layers built on them.

The plain functions (``sigmoid`` and ``sigmoid_derivative``, ...) are the curves the articles
plot. The layers (``Sigmoid``, ``Tanh``, ...) wrap them for a network: forward caches what the
backward pass needs, and backward applies the chain rule elementwise,

    a = f(z)        dL/dz = dL/da * f'(z)

except for Softmax, whose output mixes a whole row and whose backward is a Jacobian-vector
product. Each takes the functions of ``xp``, the namespace of its input's array library
(backend.py): NumPy's arrays get NumPy itself, CuPy's and PyTorch's the same names. Every
function stays finite and raises no overflow warning for any float32 input: the sigmoid never
exponentiates a positive number, and softmax subtracts each row's maximum first.

Not here: softmax fused with cross-entropy, the stable way to train a classifier; see
losses.CrossEntropy, which takes the logits and never needs this Softmax layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import check_float, from_registry
from .backend import namespace
from .layers import Layer

# ----------------------------------------------------------------------------------------------
# The functions and their derivatives


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), computed as ``exp(min(z, 0)) / (1 + exp(-|z|))``.

    Both forms are equal; the second only ever takes exp of a non-positive number, so it cannot
    overflow, and it keeps full relative precision in both tails.
    """
    xp = namespace(z)
    return xp.exp(xp.minimum(z, 0)) / (1.0 + xp.exp(-xp.abs(z)))


def sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) * (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z))."""
    return namespace(z).tanh(z)


def tanh_derivative(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)**2."""
    return 1.0 - namespace(z).tanh(z) ** 2


def relu(z: np.ndarray) -> np.ndarray:
    """relu(z) = max(z, 0)."""
    return namespace(z).maximum(z, 0)


def relu_derivative(z: np.ndarray) -> np.ndarray:
    """relu'(z) = 1 where z > 0, else 0 (the kink at 0 gets 0, as in PyTorch)."""
    return _as_float(z > 0, z)


def leaky_relu(z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """leaky_relu(z) = z where z > 0, else alpha * z; for 0 <= alpha <= 1 that is
    max(z, alpha z)."""
    return namespace(z).maximum(z, alpha * z)


def leaky_relu_derivative(z: np.ndarray, alpha: float = 0.01) -> np.ndarray:
    """leaky_relu'(z) = 1 where z > 0, else alpha; that is max(sign(z), alpha)."""
    xp = namespace(z)
    return _as_float(xp.maximum(xp.sign(z), alpha), z)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_k = exp(z_k - max(z)) / sum_j exp(z_j - max(z)): a probability per row.

    Subtracting the maximum changes nothing mathematically and keeps every exp <= 1, so the
    result is finite whenever each row's range (max - min) is itself a finite float.
    """
    xp = namespace(z)
    exp_shifted = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return exp_shifted / xp.sum(exp_shifted, axis=axis, keepdims=True)


def identity(z: np.ndarray) -> np.ndarray:
    """identity(z) = z."""
    return z


def identity_derivative(z: np.ndarray) -> np.ndarray:
    """identity'(z) = 1."""
    return namespace(z).ones_like(z)


def _as_float(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` in the float dtype of ``like`` (float32 if ``like`` holds integers)."""
    xp = namespace(like)
    dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else xp.float32
    return xp.astype(values, dtype)


#: name -> (function, derivative) for the elementwise activations, as the articles plot them.
FUNCTIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "identity": (identity, identity_derivative),
}

# ----------------------------------------------------------------------------------------------
# The layers


class Sigmoid(Layer):
    """a = sigma(z);  backward: dL/dz = dL/da * a * (1 - a)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.outputs = sigmoid(x)
        return self.outputs

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad_output * self.outputs * (1.0 - self.outputs)


class Tanh(Layer):
    """a = tanh(z);  backward: dL/dz = dL/da * (1 - a**2)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.outputs = namespace(x).tanh(x)
        return self.outputs

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad_output * (1.0 - self.outputs**2)


class ReLU(Layer):
    """a = max(z, 0);  backward: dL/dz = dL/da * [z > 0] (the indicator: 1 or 0)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.inputs = x
        return namespace(x).maximum(x, 0)

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        xp = namespace(grad_output)
        return grad_output * xp.astype(self.inputs > 0, grad_output.dtype)


class LeakyReLU(Layer):
    """a = z if z > 0 else alpha * z;  backward: dL/dz = dL/da * (1 if z > 0 else alpha).

    Written without boolean masks, which are slow in NumPy: for 0 <= alpha <= 1,
    a = max(z, alpha z), and the slope max(sign(z), alpha) is 1 where z > 0, else alpha.
    """

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        self.alpha = check_float(alpha, "alpha", 0.0, 1.0, low_inclusive=True,
                                 fix="alpha is the slope for negative inputs; 0.01 is usual.")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.inputs = x
        return namespace(x).maximum(x, self.alpha * x)

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        xp = namespace(grad_output)
        return grad_output * xp.maximum(xp.sign(self.inputs), self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Softmax(Layer):
    """a = softmax(z) per row;  backward: dL/dz = a * (dL/da - sum_k (dL/da)_k a_k).

    That backward line is the Jacobian-vector product with J = diag(a) - a a^T, computed without
    forming the (k, k) Jacobian. To train a classifier, end the network with logits and use
    CrossEntropy instead: it fuses this softmax with the loss, giving dL/dz = (a - y) / n.
    """

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.outputs = softmax(x, axis=1)
        return self.outputs

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        weighted_sum = namespace(grad_output).sum(grad_output * self.outputs, axis=1,
                                                  keepdims=True)
        return self.outputs * (grad_output - weighted_sum)


class Identity(Layer):
    """a = z;  backward: dL/dz = dL/da. The "linear" activation of a regression output."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad_output


ACTIVATIONS: dict[str, type[Layer]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
    "identity": Identity,
}


#: the activation layer classes, e.g. for isinstance checks
ACTIVATION_LAYERS: tuple[type[Layer], ...] = tuple(ACTIVATIONS.values())


def get_activation(activation: str | Layer | type[Layer]) -> Layer:
    """A new activation layer from its name, a Layer subclass, or the given Layer itself."""
    return from_registry(activation, "activation", Layer, ACTIVATIONS)
