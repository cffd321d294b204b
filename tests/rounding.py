"""How far two correct float computations of the same numbers may differ: the tests' one rule.

Two implementations of one sum (NumPy and PyTorch, one BLAS kernel and another, two thread
counts, a fast form and its plain lines) add the same terms in another order, and each order
rounds differently; so do two vendors' ``exp``. What one CPU happened to give is no tolerance:
another CPU's kernels give other roundings (issue 22: a forward pass 1.03e-6 apart on an AMD
EPYC, under a test that allowed 1e-6). The bound that holds on every CPU is the classic one
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 3.1): a sum of n
terms computed in floating point, in any order and with or without fused multiply-adds, is within

    gamma(n) * sum_i |term_i|,        gamma(n) = n u / (1 - n u),   u = eps / 2

of the exact sum. Machine epsilon times a bound that grows with the reduction length, scaled by
the size of the *terms*, not of the result: a result that cancels to near zero has no relative
accuracy to promise. Each implementation is within that bound of the exact value, so two of them
are within twice it of each other.

The rule counts *roundings*: a sum of n terms is n of them (n - 1 additions and the products'
own roundings), one operation of + - * / sqrt is one (IEEE rounds it correctly), and a vendor's
``exp``, ``log`` or ``tanh`` is ``LIBM_ROUNDINGS`` (glibc, SLEEF in PyTorch and NumPy's SIMD
forms promise at most a few ulp). A chain of steps adds its roundings; the scale is then the
largest magnitude along the chain, which for these tests' networks (initialised to keep the
scale, 1-Lipschitz activations) no later step amplifies beyond the outputs' own size.

Where the code promises bit-identity (the same library, the same thread count, the same order
of operations) the tests compare exactly and say so in their names or docstrings.
"""

from __future__ import annotations

import numpy as np

LIBM_ROUNDINGS = 4  # an exp, log or tanh from any vendor: within 4 ulp of the exact value


def gamma(roundings: int, dtype=np.float32) -> float:
    """Higham's gamma(n): the relative error bound of ``roundings`` chained roundings."""
    unit = float(np.finfo(dtype).eps) / 2
    assert roundings * unit < 0.5, "so many roundings bound nothing"
    return roundings * unit / (1 - roundings * unit)


def rounding_tolerance(roundings: int, scale, dtype=np.float32):
    """How far two correct computations may differ: twice gamma(roundings) times ``scale``.

    ``scale`` is the sum of the terms' magnitudes, entry by entry (``|A| @ |B|`` for a product
    ``A @ B``) or one number for all (the largest magnitude along a chain).
    """
    return 2 * gamma(roundings, dtype) * np.abs(np.asarray(scale, dtype=np.float64))


def assert_rounding_close(actual, expected, *, roundings: int, scale=None, dtype=np.float32,
                          err_msg: str = "") -> None:
    """Assert ``actual`` equals ``expected`` up to the rounding of ``roundings`` steps.

    ``scale`` defaults to the largest ``|expected|`` (a norm-wise comparison); give the
    terms' magnitudes entry by entry where the computation is one sum.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{err_msg}: shapes {actual.shape} != {expected.shape}"
    if scale is None:
        scale = np.abs(expected).max(initial=0.0)
    allowed = rounding_tolerance(roundings, scale, dtype)
    # the smallest normal number: below it the format has no relative precision (subnormals)
    allowed = np.maximum(allowed, float(np.finfo(dtype).tiny))
    difference = np.abs(actual - expected)
    outside = difference > allowed
    if outside.any():
        worst = np.unravel_index(np.argmax(difference - allowed), difference.shape)
        where = tuple(int(index) for index in worst)
        raise AssertionError(
            f"{err_msg + ': ' if err_msg else ''}{int(outside.sum())} of {outside.size} entries "
            f"differ by more than the rounding of {roundings} steps in {np.dtype(dtype).name}; "
            f"worst at {where}: {float(actual[worst])!r} against {float(expected[worst])!r}, "
            f"difference {float(difference[worst]):.3g}, "
            f"allowed {float(np.broadcast_to(allowed, difference.shape)[worst]):.3g}")


def product_scale(left, right):
    """The terms' magnitudes of ``left @ right``, entry by entry: ``|left| @ |right|``."""
    return np.abs(np.asarray(left, np.float64)) @ np.abs(np.asarray(right, np.float64))


def assert_product_close(actual, left, right, *, expected=None, add=None, dtype=np.float32,
                         err_msg: str = "") -> None:
    """Assert ``actual`` is ``left @ right (+ add)`` up to the rounding of that one sum.

    ``expected`` is the other implementation's result (default: the exact product, in float64).
    """
    left64, right64 = np.asarray(left, np.float64), np.asarray(right, np.float64)
    exact = left64 @ right64 if add is None else left64 @ right64 + np.asarray(add, np.float64)
    scale = product_scale(left, right) + (0 if add is None else np.abs(np.asarray(add, np.float64)))
    terms = left64.shape[-1] + (0 if add is None else 1)
    assert_rounding_close(actual, exact if expected is None else expected,
                          roundings=max(terms, 1), scale=scale, dtype=dtype, err_msg=err_msg)


# ---- chains: a loss, a network's forward and backward pass, optimizer steps -------------------
#
# Through a chain the rule is applied step by step (first order): each step adds its own roundings
# (twice gamma(its terms) times its terms' magnitudes) to the differences it inherits, which it
# carries forward at most by its Lipschitz constant. Every bound below keeps one array of
# magnitudes M beside the exact values, with |value| <= M and |difference| <= gamma(R) M for the
# chain's roundings R so far; gamma(a) x + gamma(b) y <= gamma(a + b) (x + y) lets the steps add.

# An elementwise activation or derivative takes at most two exp/tanh calls and four + - * /
# (sigmoid: exp, exp, 1 +, /), on values of size up to 1 where they cancel (1 - s, 1 - t**2):
# within that many roundings of max(1, |f(z)|), entry by entry.
ELEMENTWISE_ROUNDINGS = 2 * LIBM_ROUNDINGS + 4

# One step of any of nnscratch's optimizers is at most 16 elementwise operations (Adam: both
# moments, both bias corrections, the square root, eps, the division, the learning rate, the
# update), each one rounding; the differences of each step carry into the next.
STEP_ROUNDINGS = 16

# name: (Lipschitz constant of f, of f', roundings of f) for the elementwise activations
_ELEMENTWISE = {"Sigmoid": (0.25, 0.1, ELEMENTWISE_ROUNDINGS), "Tanh": (1.0, 0.77, LIBM_ROUNDINGS),
                "ReLU": (1.0, None, 0), "LeakyReLU": (1.0, None, 1), "Identity": (1.0, 0.0, 0)}


def softmax_roundings(z) -> int:
    """Rounding steps of each row's softmax, relative to its probabilities: the shift z - max
    (its error, up to |z - max| ulp of the shift, becomes a relative error of exp), one exp, a
    sum over the row and the division."""
    z = np.atleast_2d(np.asarray(z, np.float64))
    shift = float((z.max(axis=1, keepdims=True) - z).max())
    return LIBM_ROUNDINGS + z.shape[1] + 2 + int(np.ceil(shift))


def _softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _row_max(array):
    return array.max(axis=1, keepdims=True)


def loss_bounds(loss_name: str, outputs, targets, sample_weight=None, output_magnitude=None,
                roundings: int = 0) -> dict:
    """Bounds on a loss value and its gradient, for outputs known within gamma(roundings)
    times ``output_magnitude`` (default: exact). Returns ``{"loss": (R, M), "gradient": (R, M),
    "exact_gradient": array}`` for assert_rounding_close's ``roundings`` and ``scale``.

    The value: per-element terms (at most two exp/log calls and a few + - * / each), a sum over
    each row's k outputs and a weighted mean over the n rows. The gradient: the softmax (or
    sigmoid) or the residual, a subtraction, the division by n (or n k) and the weight.
    """
    z = np.asarray(outputs, np.float64)
    n_samples, n_outputs = z.shape
    error = np.zeros_like(z) if output_magnitude is None else output_magnitude
    targets = np.asarray(targets)
    if loss_name == "cross_entropy" and targets.ndim == 1:
        targets = np.eye(n_outputs)[targets]
    y = np.asarray(targets, np.float64).reshape(n_samples, n_outputs)
    weight = (np.ones(n_samples) if sample_weight is None
              else np.asarray(sample_weight, np.float64))[:, None]
    value_roundings = roundings + 2 * LIBM_ROUNDINGS + n_outputs + n_samples + 4
    if loss_name == "mse":
        residual_reach = np.abs(z) + np.abs(y) + error
        loss_scale = np.mean(weight * (2 * residual_reach * error + residual_reach**2))
        gradient = 2 * weight * (z - y) / z.size
        return {"loss": (roundings + n_outputs + n_samples + 4, loss_scale),
                "gradient": (roundings + 4, 2 * weight * residual_reach / z.size),
                "exact_gradient": gradient}
    if loss_name == "cross_entropy":
        probabilities = _softmax(z)
        loss_scale = np.mean(weight * (2 * _row_max(error) + 2 * _row_max(np.abs(z))
                                       + np.log(n_outputs)))
        gradient_scale = weight * (probabilities * (2 * _row_max(error) + 1) + y) / n_samples
        return {"loss": (value_roundings, loss_scale),
                "gradient": (roundings + softmax_roundings(z) + 3, gradient_scale),
                "exact_gradient": weight * (probabilities - y) / n_samples}
    if loss_name == "binary_cross_entropy":
        loss_scale = np.mean(weight * ((1 + np.abs(y)) * (error + np.abs(z)) + 1))
        sigmoid = 1 / (1 + np.exp(-z))
        return {"loss": (value_roundings, loss_scale),
                "gradient": (roundings + ELEMENTWISE_ROUNDINGS + 3,
                             weight * (error / 4 + 1 + np.abs(y)) / z.size),
                "exact_gradient": weight * (sigmoid - y) / z.size}
    raise ValueError(f"no bound for the loss {loss_name!r}")


def network_bounds(net, X, loss_name: str, targets, sample_weight=None) -> dict:
    """Bounds on every number of one forward and backward pass of ``net`` (its float32 copy
    evaluated in any order, by any library), from the exact pass in float64.

    Returns ``{"outputs": (R, M), "loss": (R, M), "dL/dX": (R, M), "<i>.W": (R, M),
    "<i>.b": (R, M)}``, ``i`` counting the Dense layers from 0.
    """
    value = np.asarray(X, np.float64)
    magnitude, roundings = np.abs(value), 0
    tape = []  # what the backward pass needs, one entry per layer
    for layer in net.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            weights = np.asarray(layer.params["W"], np.float64)
            bias = np.asarray(layer.params["b"], np.float64)
            tape.append((layer, value, magnitude, roundings))
            value = value @ weights + bias
            magnitude = magnitude @ np.abs(weights) + np.abs(bias)
            roundings += weights.shape[0] + 1
        elif kind == "Softmax":
            probabilities = _softmax(value)
            magnitude = probabilities * (2 * _row_max(magnitude) + 1)
            roundings += softmax_roundings(value)
            tape.append((layer, probabilities, magnitude, roundings))
            value = probabilities
        elif kind in _ELEMENTWISE:
            lipschitz, _, own = _ELEMENTWISE[kind]
            tape.append((layer, value, magnitude, roundings))
            value = _activation(kind, value, layer)
            magnitude = np.maximum(lipschitz * magnitude + (own > 0) * np.maximum(1, np.abs(value)),
                                   np.abs(value))
            roundings += own
        elif kind != "Dropout":  # dropout does nothing outside training
            raise ValueError(f"no bound for the layer {kind}")
    bounds = {"outputs": (roundings, magnitude)}
    loss = loss_bounds(loss_name, value, targets, sample_weight, magnitude, roundings)
    bounds["loss"] = loss["loss"]
    roundings, magnitude = loss["gradient"]
    grad = loss["exact_gradient"]
    magnitude = np.maximum(magnitude, np.abs(grad))
    dense_index = sum(type(layer).__name__ == "Dense" for layer, *_ in tape)
    for layer, inputs, input_magnitude, forward_roundings in reversed(tape):
        kind = type(layer).__name__
        if kind == "Dense":
            weights = np.asarray(layer.params["W"], np.float64)
            dense_index -= 1
            n_samples = len(inputs)
            both = roundings + forward_roundings + n_samples
            bounds[f"{dense_index}.W"] = (both, input_magnitude.T @ magnitude)
            bounds[f"{dense_index}.b"] = (both, magnitude.sum(axis=0))
            grad, magnitude = grad @ weights.T, magnitude @ np.abs(weights.T)
            roundings += weights.shape[1]
        elif kind == "Softmax":
            # dL/dz = p (g - sum_j g_j p_j): p's differences, g's, a sum over the row and two more
            probabilities, row = inputs, _row_max(magnitude)
            grad = probabilities * (grad - np.sum(grad * probabilities, axis=1, keepdims=True))
            magnitude = 2 * (input_magnitude + probabilities) * row * (
                1 + input_magnitude.sum(axis=1, keepdims=True))
            roundings = max(roundings, forward_roundings) + probabilities.shape[1] + 3
        else:
            # dL/dz = dL/da f'(z): g's differences times |f'| <= 1, plus |g| times the change
            # of f' over z's differences, plus one rounding of the product
            _, slope_lipschitz, own = _ELEMENTWISE[kind]
            if slope_lipschitz is None:  # a kink: f' is exact unless z's sign is in doubt
                doubt = gamma(forward_roundings + 1) * input_magnitude
                assert not np.any((np.abs(inputs) <= doubt) & (inputs != 0)), \
                    f"{kind}: an input within rounding of the kink; draw other data"
                slope_lipschitz = 0.0
            grad = grad * _derivative(kind, inputs, layer)
            magnitude = magnitude * (2 + slope_lipschitz * input_magnitude)
            roundings = max(roundings, forward_roundings) + own + 1
        magnitude = np.maximum(magnitude, np.abs(grad))
    bounds["dL/dX"] = (roundings, magnitude)
    return bounds


def _activation(kind, z, layer):
    if kind == "Sigmoid":
        return 1 / (1 + np.exp(-z))
    if kind == "Tanh":
        return np.tanh(z)
    if kind == "ReLU":
        return np.maximum(z, 0)
    if kind == "LeakyReLU":
        return np.where(z > 0, z, layer.alpha * z)
    return z


def _derivative(kind, z, layer):
    if kind == "Sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    if kind == "Tanh":
        return 1 - np.tanh(z) ** 2
    if kind == "ReLU":
        return (z > 0).astype(np.float64)
    if kind == "LeakyReLU":
        return np.where(z > 0, 1.0, layer.alpha)
    return np.ones_like(z)


def step_roundings(net, batch_size: int) -> int:
    """An upper count of the roundings of one training step of ``net`` on ``batch_size`` rows:
    the forward pass's sums (in + 1 for each Dense layer), its activations (a softmax counted as
    an elementwise activation plus a row's sum), the loss, the backward pass's sums (out for
    dL/dx, the batch for dL/dW) and the optimizer's step. Steps chain: a training run of s steps
    carries s times this, relative to the size of the weights it compares."""
    roundings = 2 * LIBM_ROUNDINGS + 2 * batch_size + 4 + STEP_ROUNDINGS  # loss, its mean, step
    for layer in net.layers:
        if type(layer).__name__ == "Dense":
            n_in, n_out = layer.params["W"].shape
            roundings += n_in + 1 + n_out + batch_size
        else:
            roundings += ELEMENTWISE_ROUNDINGS + 1 + getattr(net, "n_outputs", 0)
    return roundings


def probability_bound(net, X) -> tuple[int, np.ndarray]:
    """(roundings, scale) for ``net.predict_proba(X)`` computed by two libraries from the same
    weights: the outputs' bound, then a softmax, which moves p_k by at most p_k (|dz_k| +
    sum_j p_j |dz_j|) <= 2 max|dz| and rounds within its own steps of p (at most 1)."""
    n_outputs = net.layers[-1].params["W"].shape[1]
    targets = np.zeros(len(X), dtype=np.int64) if n_outputs > 1 else np.zeros((len(X), 1))
    loss = "cross_entropy" if n_outputs > 1 else "binary_cross_entropy"
    roundings, magnitude = network_bounds(net, X, loss, targets)["outputs"]
    return (roundings + LIBM_ROUNDINGS + n_outputs + 3 + int(np.ceil(2 * magnitude.max())),
            2 * magnitude.max(axis=1, keepdims=True) + 1)
