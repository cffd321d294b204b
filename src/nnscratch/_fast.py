"""The fast forms: the same equations as a plain method, faster in the one case each targets::

    plain method         fast form          the case it targets
    Dense.backward       dense_backward     one NumPy sample: dL/dW as the BLAS's outer product,
                                            and with ``keep_sparse_rows`` only its sparse rows
    SGD.update           sgd_sparse_rows    plain SGD given a gradient's sparse rows: only those
    Adam.adam_step       adam_step          NumPy arrays: the moments and the step in place
    (Optimizer.step)     flush_tiny_state   every 16 steps: state values far below the smallest
                                            normal float set to zero

The plain methods are the equations, whole, and a learner reads them alone. The plumbing that
calls them hands off in one line: Sequential.backward gives a layer to ``dense_backward`` where
``takes_dense_backward`` says so, and fit's step calls ``step(optimizer, ...)`` rather than
``optimizer.step``, which takes each fast form where it applies and the plain methods
everywhere else. Each fast form is
measured against its plain method in benchmarks/bench_fast_paths.py and kept only where it
saves at least 10%, and tests/test_layers.py, test_optim.py and test_training.py check that it
gives the plain method's numbers. ``Dense.fast = False`` or ``Optimizer.fast = False`` (on the
class, or one object) turns them off.

**Sparse rows.** One MNIST image is 81% black pixels, and dL/dW = x.T g is zero on every row of
W where the sample x is zero. While fit trains with plain SGD it sets ``keep_sparse_rows`` on
its Dense layers; a one-sample backward then keeps only the rows where x is not zero (when they
are at most SPARSE_INPUTS of them): ``layer.grads["W"]`` holds those rows and
``layer.sparse_rows["W"]`` says which, and SGD updates only them. No complete (in, out) gradient
is zeroed, written and read back at every step. ``named_parameters()`` always gives complete
gradients, and fit writes the sparse rows out in full when it ends (``complete_sparse_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np

from .backend import complete_sparse_rows
from .layers import Dense, Layer
from .optim import Adam, Optimizer, ParamsAndGrads

# A sample's sparse rows are kept when at most this share of its inputs is non-zero (measured
# in benchmarks/bench_fast_paths.py: per-sample SGD on MNIST is fastest from 0.2 to 0.5).
SPARSE_INPUTS = 0.3

# Every FLUSH_EVERY steps, state values smaller than TINY_STATE times the dtype's smallest
# normal float are set to zero (see flush_tiny_state).
FLUSH_EVERY = 16
TINY_STATE = 2.0**10


# ----------------------------------------------------------------------------------------------
# Dense.backward for one sample


def takes_dense_backward(layer: Layer, grad_output: np.ndarray) -> TypeGuard[Dense]:
    """Whether Sequential.backward hands ``layer`` to dense_backward: a plain Dense layer
    with ``fast`` on, given one NumPy sample."""
    return type(layer) is Dense and layer.fast and type(grad_output) is np.ndarray \
        and grad_output.shape[0] == 1


def dense_backward(layer: Dense, grad_output: np.ndarray, input_grad: bool = True
                   ) -> np.ndarray | None:
    """Dense.backward for one sample, where x.T g is an outer product: ``np.dot`` of a column
    and a row is the BLAS's outer product, several times faster than the plain line's matmul.
    With ``keep_sparse_rows``, a mostly-zero sample keeps dL/dW on its sparse rows only."""
    x = layer.inputs
    rows = _sparse_rows_of(x) if layer.keep_sparse_rows else None
    if rows is None:
        layer.grads["W"] = np.dot(x.T, grad_output)  # dL/dW = x.T g
        layer.sparse_rows = {}
    else:
        layer.grads["W"] = np.dot(x[:, rows].T, grad_output)  # its sparse rows: x[rows].T g
        layer.sparse_rows = {"W": rows}
    layer.grads["b"] = grad_output[0]  # dL/db = g, the one row
    return grad_output @ layer.params["W"].T if input_grad else None  # dL/dx = g W.T


def _sparse_rows_of(x: np.ndarray) -> np.ndarray | None:
    """The rows where the one sample x is not zero, if they are few (counted before any index
    is built); else None."""
    if np.count_nonzero(x) > SPARSE_INPUTS * x.shape[1]:
        return None
    return x[0].nonzero()[0]


def can_keep_sparse_rows(layer: Layer) -> bool:
    """Whether fit may turn ``keep_sparse_rows`` on: for Dense itself, not a subclass, whose
    backward may expect dL/dW complete (to add a penalty to it, say)."""
    return type(layer) is Dense


def keep_sparse_rows(model: Any, enabled: bool) -> None:
    """Let the model's Dense layers keep one-sample gradients on their sparse rows (fit turns
    it on for an optimizer that updates sparse rows alone), or turn it off and write every
    gradient out in full."""
    for layer in getattr(model, "layers", []):
        if isinstance(layer, Dense):
            layer.keep_sparse_rows = enabled and can_keep_sparse_rows(layer)
        if not enabled and getattr(layer, "sparse_rows", None):
            layer.complete_sparse_rows()


# ----------------------------------------------------------------------------------------------
# Optimizer.step: sparse rows, Adam in place, the flush


def step(optimizer: Optimizer, params_and_grads: ParamsAndGrads,
         sparse_rows: Sequence[np.ndarray | None] | None = None) -> None:
    """``optimizer.step(params_and_grads, sparse_rows)``, with the fast forms where they apply.

    ``sparse_rows`` (one entry per parameter) marks a gradient kept on its sparse rows (None:
    complete). Plain SGD updates only those rows; any other optimizer gets the gradient
    written out in full.
    """
    if not optimizer.fast:
        optimizer.step(params_and_grads, sparse_rows)
        return
    optimizer.steps += 1
    adam = optimizer if isinstance(optimizer, Adam) else None
    rows_alone = sparse_rows is not None and optimizer.updates_sparse_rows()
    for index, (param, grad) in enumerate(params_and_grads):
        rows = None if sparse_rows is None else sparse_rows[index]
        if rows is None:
            _update(optimizer, adam, index, param, grad)
        elif rows_alone:
            sgd_sparse_rows(optimizer, param, grad, rows)
        else:
            _update(optimizer, adam, index, param,
                    complete_sparse_rows(grad, rows, param.shape[0]))
    if optimizer.steps % FLUSH_EVERY == 0:
        flush_tiny_state(optimizer)


def _update(optimizer: Optimizer, adam: Adam | None, index: int, param: np.ndarray,
            grad: np.ndarray) -> None:
    """One parameter's update: Adam in place on NumPy arrays, else the plain update."""
    if adam is not None and type(param) is np.ndarray:
        adam_step(adam, index, param, adam.decay(param, grad) if adam.weight_decay else grad)
    else:
        optimizer.update(index, param, grad)


def sgd_sparse_rows(optimizer: Optimizer, param: np.ndarray, grad: np.ndarray,
                    rows: np.ndarray) -> None:
    """SGD.update on the sparse rows alone (``grad`` holds them): theta - eta 0 = theta on
    every other row."""
    param[rows] -= optimizer.lr * grad  # theta[rows] <- theta[rows] - eta g[rows]


def adam_step(optimizer: Adam, index: int, param: np.ndarray, grad: np.ndarray) -> None:
    """Adam.adam_step's five equations in place, through two reused scratch arrays: no array
    is allocated at any step."""
    m = optimizer.buffer(index, "first_moment", param)
    v = optimizer.buffer(index, "second_moment", param)
    work, step_ = _scratch(optimizer, index, param)
    t = optimizer.steps
    m *= optimizer.beta1  # m <- beta1 m + (1 - beta1) g
    m += np.multiply(grad, 1.0 - optimizer.beta1, out=work)
    v *= optimizer.beta2  # v <- beta2 v + (1 - beta2) g^2
    v += np.multiply(np.square(grad, out=work), 1.0 - optimizer.beta2, out=work)
    np.divide(v, 1.0 - optimizer.beta2**t, out=work)  # v_hat = v / (1 - beta2^t)
    np.sqrt(work, out=work)
    work += optimizer.eps
    np.divide(m, 1.0 - optimizer.beta1**t, out=step_)  # m_hat = m / (1 - beta1^t)
    step_ *= optimizer.lr
    step_ /= work
    param -= step_  # theta <- theta - eta m_hat / (sqrt(v_hat) + eps)


def _scratch(optimizer: Optimizer, index: int, param: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Two reusable work arrays like parameter ``index`` (their content is garbage); kept on
    the optimizer, never saved."""
    scratch = optimizer.__dict__.setdefault("_scratch", {})
    pair = scratch.get(index)
    if pair is None or pair[0].shape != param.shape or pair[0].dtype != param.dtype:
        pair = scratch[index] = (np.empty_like(param), np.empty_like(param))
    return pair


def flush_tiny_state(optimizer: Optimizer) -> None:
    """Set to zero every state value below 1,024 times the smallest normal float (1.2e-38 in
    float32), far too small to move a weight.

    The velocity or moment of a weight whose gradient stays zero (a pixel that is black in
    every recent sample) shrinks geometrically, towards the subnormal floats, where each
    arithmetic operation takes the CPU up to a hundred times as long (benchmarks/README.md:
    per-sample momentum SGD on MNIST slowed five-fold within 3,000 samples). A CPU in
    flush-to-zero mode does the same for every operation; this does it for the state.
    """
    for slots in optimizer.state.values():
        for array in slots.values():
            if type(array) is np.ndarray and array.dtype.kind == "f":
                smallest = np.finfo(array.dtype).tiny * TINY_STATE
                np.putmask(array, np.abs(array) < smallest, 0.0)
