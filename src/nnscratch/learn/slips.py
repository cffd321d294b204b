"""The known slips: wrong forms of each equation, recognised in a learner's wrong answer.

``compare`` says whether an answer is right (within float64 rounding) and, when it is not,
what the first mismatch is and, when the answer is one of the wrong forms below, which slip
it looks like, in the learner's own terms:

    transposed          the answer, transposed (or W used as (in, out) in the columns notation)
    a factor of n       a sum where the mean is wanted, or the mean taken twice
    wrong sign          y - p for p - y; a step up the gradient
    at the activation   sigma'(a) = a (1 - a) computed on z, tanh'(z) as 1 - z^2
    overflow            exp of a large entry (no max subtracted), or an overflow warning
    log(0)              the log of a probability that rounded to 0
    bias not summed     the bias gradient kept per sample
    broadcasting        a shape numpy would broadcast silently into a wrong answer later
"""

from __future__ import annotations

from typing import Any

import numpy as np

RTOL, ATOL = 1e-6, 1e-9


def close(given: Any, expected: Any) -> bool:
    """Equal within float64 rounding of any correct order of the sums (finite or not)."""
    given, expected = np.asarray(given), np.asarray(expected)
    if given.shape != expected.shape or given.dtype.kind not in "biuf":
        return False
    scale = max(1.0, float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)))
    return bool(np.allclose(given, expected, rtol=RTOL, atol=ATOL * scale, equal_nan=True))


def _naive_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        exp = np.exp(z)
        return exp / exp.sum(axis=axis, keepdims=True)


def _unguarded_log(z: np.ndarray, labels: Any, axis: int) -> float:
    """The mean of -log p_y with p the (max-shifted) softmax: inf once some p_y rounds to 0."""
    probabilities = _shifted_softmax(z, axis)
    picked = np.take_along_axis(probabilities, np.expand_dims(np.asarray(labels), axis),
                                axis=axis)
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(picked)))


def _shifted_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    exp = np.exp(z - z.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def diagnose(name: str, notation: str, args: tuple, expected: Any, given: Any,
             what: str = "the result") -> str | None:
    """The slip ``given`` looks like, or None."""
    given, expected = np.asarray(given), np.asarray(expected)
    if given.dtype.kind not in "biuf":
        return None
    if given.shape != expected.shape:
        return _shape_slip(given, expected, what)
    if not np.isfinite(given).all() and np.isfinite(expected).all():
        return _non_finite_slip(name, notation, args, given)
    for slip in (_transposed, _factor, _sign, _particular):
        found = slip(name, notation, args, expected, given)
        if found:
            return found
    return None


def _shape_slip(given: np.ndarray, expected: np.ndarray, what: str) -> str:
    if given.shape == expected.T.shape and close(given.T, expected):
        return (f"transposed: {what} has shape {given.shape} and is the transpose of the "
                f"answer {expected.shape}; check the order of the matrix product")
    if given.size == expected.size and close(given.reshape(expected.shape), expected):
        return (f"a shape that broadcasts: the right numbers, but {what} has shape "
                f"{given.shape} where {expected.shape} is wanted; numpy would broadcast it "
                "silently into a wrong answer later")
    for axis in range(given.ndim):
        summed = given.sum(axis=axis)
        if summed.size == expected.size and close(summed.reshape(expected.shape), expected):
            return (f"not summed over the samples: {what} of shape {given.shape} holds one "
                    f"row per sample; the bias gradient is their sum, shape {expected.shape}")
    try:
        np.broadcast_shapes(given.shape, expected.shape)
        return (f"a shape that broadcasts: {what} has shape {given.shape} where "
                f"{expected.shape} is wanted; numpy would broadcast it silently into a wrong "
                "answer later")
    except ValueError:
        return f"the shape: {what} has shape {given.shape}; it should be {expected.shape}"


def _non_finite_slip(name: str, notation: str, args: tuple, given: np.ndarray) -> str:
    if name in ("cross_entropy", "cross_entropy_gradient", "softmax"):
        axis = 1 if notation == "rows" else 0
        z = np.asarray(args[0], dtype=np.float64)
        naive = _naive_softmax(z, axis)
        if name == "cross_entropy" and close(given, _unguarded_log(z, args[1], axis)):
            return ("log(0): a probability rounded to 0 and its log is -inf; take "
                    "log softmax(z)_y = z_y - max(z) - log(sum_j exp(z_j - max(z))) instead")
        if not np.isfinite(naive).all():
            return ("overflow: exp of a large entry is inf (inf / inf is nan); subtract each "
                    "sample's largest entry before exp: softmax is unchanged")
    return ("not finite: the answer holds NaN or inf where the right one is finite; look for "
            "an exp of a large number or a division by zero")


def _transposed(name: str, notation: str, args: tuple, expected: np.ndarray,
                given: np.ndarray) -> str | None:
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] \
            and close(given, expected.T) and not close(given, expected):
        return "transposed: the answer, transposed; check the order of the matrix product"
    if notation == "columns" and name == "dense_forward":
        a, W, b = (np.asarray(argument) for argument in args)
        if W.shape[0] == W.shape[1] and close(given, W.T @ a + b):
            return ("W used as (in, out): in the columns notation W is (out, in) and "
                    "z = W a + b, not W^T a + b")
    return None


def _batch(name: str, notation: str, args: tuple) -> int:
    """The number of samples the function's answer averages over."""
    first = np.asarray(args[0] if name not in ("train_step",) else args[1])
    if first.ndim < 2:
        return 1
    return first.shape[1] if notation == "columns" and name in (
        "softmax", "cross_entropy", "cross_entropy_gradient", "dense_backward") \
        else first.shape[0]


def _factor(name: str, notation: str, args: tuple, expected: np.ndarray,
            given: np.ndarray) -> str | None:
    n = _batch(name, notation, args)
    size = np.asarray(args[0]).size if name in ("mse", "mse_gradient") else n
    for count, meaning in ((n, "n, the number of samples"), (size, "the number of entries")):
        if count > 1 and close(given, expected * count):
            return (f"{count} times too large ({meaning}): a sum where the mean is wanted; "
                    f"divide by {count}")
        if count > 1 and close(given, expected / count):
            return (f"{count} times too small ({meaning}): divided once too often (the mean "
                    "taken twice?)")
    if name == "mse_gradient" and close(given, expected / 2):
        return "half the gradient: the derivative of (y_pred - y)^2 is 2 (y_pred - y)"
    return None


def _sign(name: str, notation: str, args: tuple, expected: np.ndarray,
          given: np.ndarray) -> str | None:
    if name == "sgd_step":
        param, grad, lr = args
        if close(given, np.asarray(param) + lr * np.asarray(grad)):
            return ("wrong sign: param + lr grad climbs the loss (gradient ascent); a step "
                    "goes against the gradient: param - lr grad")
    if np.any(expected != 0) and close(given, -expected):
        if name in ("cross_entropy_gradient", "mse_gradient"):
            return "wrong sign: y - p where p - y is wanted (the answer, negated)"
        return "wrong sign: the answer, negated"
    return None


def _particular(name: str, notation: str, args: tuple, expected: np.ndarray,
                given: np.ndarray) -> str | None:
    z = np.asarray(args[0], dtype=np.float64)
    if name == "sigmoid_derivative" and close(given, z * (1 - z)):
        return ("evaluated at the activation: z (1 - z) is sigma' written for a = sigma(z); "
                "the input here is z, so compute s = sigmoid(z), then s (1 - s)")
    if name == "tanh_derivative" and close(given, 1 - z**2):
        return ("evaluated at the activation: 1 - z^2 is tanh' written for a = tanh(z); "
                "the input here is z, so compute 1 - tanh(z)^2")
    if name == "softmax":
        other = 0 if notation == "rows" else 1
        if close(given, _shifted_softmax(z, other)):
            return ("normalised over the wrong axis: each sample's entries must sum to 1 "
                    f"({'a row' if notation == 'rows' else 'a column'} per sample here)")
    if name == "neuron" and close(given, expected - float(args[2])):
        return "the bias is missing: z = sum_i w_i x_i + b"
    return None
