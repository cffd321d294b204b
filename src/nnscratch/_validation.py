"""Checks for arguments at the public boundary, with messages that say how to fix them.

Every user-facing entry point (constructors, ``fit``, ``predict``, the losses' target
preparation, the CLI) validates its inputs here, once. Each error names the argument, what was
expected, what was received and what to do about it. Inner loops trust what passed these checks.
"""

from __future__ import annotations

import numbers
from typing import Any, NoReturn

import numpy as np

from .backend import backend_of, library_of, namespace

FLOAT_DTYPES = ("float32", "float64")  # the dtypes a network computes in


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message (type, and shape for arrays)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if library_of(value) is not None:
        return (f"a {library_of(value)} array of shape {tuple(value.shape)} and dtype "
                f"{value.dtype}")
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def fail(
    name: str, expected: str, value: Any, fix: str = "", error: type[Exception] = ValueError
) -> NoReturn:
    """Raise ``error`` saying that ``name`` must be ``expected``, what it was, and the fix."""
    message = f"{name} must be {expected}; got {describe(value)}."
    if fix:
        message += f" {fix}"
    raise error(message)


def check_int(value: Any, name: str, minimum: int = 1, fix: str = "") -> int:
    """Return ``value`` as an int if it is a whole number >= ``minimum`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, f"an integer >= {minimum}", value, fix, TypeError)
    if value < minimum:
        fail(name, f"an integer >= {minimum}", value, fix)
    return int(value)


def check_float(
    value: Any,
    name: str,
    low: float = 0.0,
    high: float = float("inf"),
    low_inclusive: bool = False,
    high_inclusive: bool = True,
    fix: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given interval."""
    if high == float("inf"):
        expected = f"a real number {'>=' if low_inclusive else '>'} {low:g}"
    else:
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        expected = f"a real number in {left}{low:g}, {high:g}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, expected, value, fix, TypeError)
    number = float(value)
    above_low = number >= low if low_inclusive else number > low
    below_high = number <= high if high_inclusive else number < high
    if not (np.isfinite(number) and above_low and below_high):
        fail(name, expected, value, fix)
    return number


def check_choice(value: Any, name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        error = TypeError if not isinstance(value, str) else ValueError
        fail(name, f"one of {listed}", value, "Pick one of those names.", error)
    return value


def check_features(
    X: Any, name: str = "X", n_features: int | None = None, dtype: Any = np.float32
) -> np.ndarray:
    """Return ``X`` as a finite, non-empty 2-D array of ``dtype`` with ``n_features`` columns.

    NumPy arrays and anything array-like come back as NumPy arrays; an array of another
    library (backend.py) is checked where it is and comes back in that library and device.
    """
    if library_of(X) is not None:
        return _check_library_features(X, name, n_features, dtype)
    if isinstance(X, (str, bytes)) or X is None:
        fail(name, "a 2-D array of numbers (n_samples, n_features)", X, error=TypeError)
    try:
        array = np.asarray(X)
    except (ValueError, TypeError):
        fail(name, "a 2-D array of numbers (n_samples, n_features)", X,
             "Rows of different lengths cannot form a matrix.")
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        fail(name, "an array of numbers", array,
             "Convert it to numbers first, e.g. with np.asarray(X, dtype=float).", TypeError)
    if np.issubdtype(array.dtype, np.complexfloating):
        fail(name, "an array of real numbers", array, error=TypeError)
    _check_matrix_shape(array, name, n_features)
    array = np.ascontiguousarray(array, dtype=dtype)
    if not all_finite(array):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"{name} must contain only finite numbers; got {bad} NaN or infinite value(s) in an "
            f"array of shape {array.shape}. Remove or impute them (e.g. np.nan_to_num) first."
        )
    return array


def _check_library_features(X: Any, name: str, n_features: int | None, dtype: Any) -> Any:
    """check_features for a CuPy, PyTorch or array-API-strict array, without leaving its device
    (only the finiteness verdict is read back)."""
    if library_of(X) == "torch":
        X = X.detach()  # nnscratch computes its own gradients: no autograd graph is kept
    xp = namespace(X)
    if xp.isdtype(X.dtype, "complex floating"):
        fail(name, "an array of real numbers", X, error=TypeError)
    if not xp.isdtype(X.dtype, ("bool", "integral", "real floating")):
        fail(name, "an array of numbers", X, error=TypeError)
    _check_matrix_shape(X, name, n_features)
    array = xp.astype(X, backend_of(X).dtype(dtype), copy=False)
    if not all_finite(array):
        bad = int(xp.sum(xp.astype(~xp.isfinite(array), xp.int64)))
        raise ValueError(
            f"{name} must contain only finite numbers; got {bad} NaN or infinite value(s) in an "
            f"array of shape {tuple(array.shape)}. Remove or impute them first."
        )
    return array


def _check_matrix_shape(array: Any, name: str, n_features: int | None) -> None:
    if array.ndim == 1:
        fail(name, "a 2-D array (n_samples, n_features)", array,
             "For one sample use X.reshape(1, -1); for one feature use X.reshape(-1, 1).")
    if array.ndim != 2:
        fail(name, "a 2-D array (n_samples, n_features)", array,
             "Flatten each sample first, e.g. X.reshape(len(X), -1).")
    if array.shape[0] == 0:
        fail(name, "a non-empty array with at least one sample", array)
    if n_features is not None and array.shape[1] != n_features:
        fail(name, f"an array with {n_features} features (columns) to match the network's input",
             array, f"The first layer takes {n_features} inputs; reshape the data or build the "
             f"network with {array.shape[1]} inputs.")


def check_sample_count(y: np.ndarray, name: str, n_samples: int, x_name: str = "X") -> None:
    """Raise if ``y`` does not have one entry per row of ``X``."""
    if len(y) != n_samples:
        fail(name, f"one entry per row of {x_name} ({n_samples} rows)", y,
             f"Pass {x_name} and {name} with the same number of samples.")


def from_registry(value: Any, name: str, base: type, registry: dict[str, type]) -> Any:
    """``value`` if it is an instance of ``base``; a new instance if it is a subclass of
    ``base``; else a new instance of ``registry[value]`` (an unknown name lists the choices)."""
    if isinstance(value, base):
        return value
    if isinstance(value, type) and issubclass(value, base):
        return value()
    return registry[check_choice(value, name, tuple(registry))]()


def all_finite(array: np.ndarray) -> bool:
    """Whether every element of a float array is finite.

    A sum is NaN or infinite if any term is, so a finite sum (in the array's own dtype: one
    fast pass, no temporary) proves every element finite; only when the sum is not finite,
    which may also be an overflow of finite terms, are the elements looked at one by one.
    """
    if type(array) is not np.ndarray:
        xp = namespace(array)
        return bool(xp.all(xp.isfinite(array)))
    if array.dtype.kind not in "fc" or array.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(array, axis=None)):
            return True
    return bool(np.isfinite(array).all())
