"""Weight initialisers: how a Dense layer's weights W (in_features, out_features) start.

A good start keeps the variance of the signal roughly constant from layer to layer:

    Glorot (Xavier), for sigmoid and tanh:   Var(W) = 2 / (fan_in + fan_out)
    He (Kaiming), for the ReLU family:       Var(W) = 2 / fan_in

with fan_in = in_features and fan_out = out_features. Each rule comes as a normal and a uniform
draw with that variance; a uniform draw on [-limit, limit] has variance limit**2 / 3.

Every initialiser is ``init(shape, rng, dtype) -> np.ndarray`` and draws only from the
``numpy.random.Generator`` it is given, so a seed fixes the network exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._validation import check_choice

Initializer = Callable[[tuple, np.random.Generator, "np.typing.DTypeLike"], np.ndarray]


def he_normal(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Normal draw with std = sqrt(2 / fan_in) (He et al., 2015)."""
    std = math.sqrt(2.0 / shape[0])
    return (rng.standard_normal(shape, dtype=np.float64) * std).astype(dtype)


def he_uniform(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Uniform draw on [-limit, limit] with limit = sqrt(6 / fan_in)."""
    limit = math.sqrt(6.0 / shape[0])
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_normal(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Normal draw with std = sqrt(2 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    std = math.sqrt(2.0 / (shape[0] + shape[1]))
    return (rng.standard_normal(shape, dtype=np.float64) * std).astype(dtype)


def glorot_uniform(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Uniform draw on [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def standard_normal(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """N(0, 1) for every weight, drawn from ``rng``: the articles draw theirs with randn.

    Its variance ignores the fan-in, so the outputs of a layer grow with the number of its
    inputs and a softmax after it starts out saturated. The digits recipes use it to reproduce
    the articles, and show what it does to held-out accuracy.
    """
    return rng.standard_normal(shape, dtype=np.float64).astype(dtype)


def uniform(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """U(-1, 1) for every weight, drawn from ``rng``: how the code the full-batch article
    adapts starts its weights. Like standard_normal it ignores the fan-in."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


def zeros(shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """All zeros: right for biases; for weights it makes every unit of a layer identical."""
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "standard_normal": standard_normal,
    "uniform": uniform,
    "zeros": zeros,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Return the initialiser called ``init``, or ``init`` itself if it is callable."""
    if callable(init):
        return init
    return INITIALIZERS[check_choice(init, "init", tuple(INITIALIZERS))]
