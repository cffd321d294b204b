"""Layers: the base contract, the fully connected (Dense) layer, and inverted Dropout.

A layer maps a batch x of shape (n_samples, in_features) to an output, and back:

    forward(x)             -> output, caching what backward needs
    backward(grad_output)  -> grad_input = dL/dx, filling grads[name] = dL/dparams[name]

``params`` and ``grads`` are two dicts with the same keys and shapes. A layer owns them; an
optimizer only reads ``grads`` and updates ``params`` in place (see optim.py). Layers without
parameters (the activations, Dropout) keep both dicts empty.

One exception, for speed, and only while ``fit`` trains with plain SGD: a Dense layer given
one sample that is mostly zeros (an MNIST image) keeps dL/dW row-sparse, as PyTorch's sparse
gradients do: ``grads["W"]`` holds only the rows ``grad_rows["W"]`` of dL/dW, every other row
being zero, and SGD updates only those rows (a subclass of Dense with a backward of its own
always gets complete gradients). ``network.named_parameters()`` always gives the complete
gradients, and fit writes them out in full when it ends (see Dense).

Activation layers live in activations.py; convolution, normalisation and recurrent layers are
not part of nnscratch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import all_finite, check_float, check_int, fail
from .backend import backend_of, complete_rows, namespace, numpy_dtype
from .init import INITIALIZERS, Initializer, get_initializer

# The one-sample fast forms work on rows when at most this share of the inputs is non-zero
# (per-sample SGD, 2,000 rows, median of 4: MNIST 701 ms at 0.2, 560 at 0.3, 598 at 0.5 and at
# 0.7; Fashion-MNIST, about half non-zero, 583-635 ms whatever the share).
SPARSE_INPUTS = 0.3


class Layer:
    """Base class of every layer; subclass it to plug a custom layer into a Sequential.

    A subclass implements ``forward`` and ``backward``. One with parameters also implements
    ``initialize`` (called by the network with its seeded generator and dtype), and one that
    changes the number of features implements ``output_features``.

    ``backward(grad_output, input_grad)`` is told whether dL/dx is wanted: in training nothing
    uses the first layer's, so the network passes ``input_grad=False`` there and a layer with
    parameters may skip that product (returning None), as Dense does. A layer may also ignore
    the flag and always return dL/dx.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        # a row-sparse gradient: grads[name] holds only the rows grad_rows[name] of
        # dL/dparams[name], the others being zero (a name not here: the complete gradient)
        self.grad_rows: dict[str, np.ndarray] = {}

    def initialize(self, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create the parameters (and zeroed gradients) with ``rng``, in ``dtype``."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Return the layer's output for the batch ``x``; ``training`` enables dropout."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training)")

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Given dL/d(output), fill ``grads`` and return dL/d(input) (None if not wanted)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_output)")

    def output_features(self, input_features: int | None) -> int | None:
        """The number of output features for ``input_features`` inputs (None: not yet known)."""
        return input_features

    def complete_grads(self) -> None:
        """Write every row-sparse gradient (see grad_rows) out as the complete array."""
        for name, rows in self.grad_rows.items():
            self.grads[name] = complete_rows(self.grads[name], rows, self.params[name].shape[0])
        self.grad_rows = {}

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (used to save models)."""
        return {}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class Dense(Layer):
    """Fully connected layer: every output is a weighted sum of every input plus a bias.

    Forward, for a batch x (n, in_features)::

        z = x @ W + b                     z: (n, out_features), W: (in, out), b: (out,)

    Backward, given g = dL/dz of shape (n, out_features)::

        dL/dW = x.T @ g                   (in, out)
        dL/db = sum of g over the batch   (out,)
        dL/dx = g @ W.T                   (n, in), skipped when not wanted

    The articles write one sample as a column, a = W' x + b with W' of shape (out, in); with
    one sample per row the same sum is z = x W + b, W = W'.T.

    For one sample in NumPy, ``backward_fast`` computes dL/dW as an outer product through the
    BLAS. With ``row_sparse_grads`` on (fit turns it on while it trains with plain SGD), a
    sample that is mostly zeros gets its dL/dW row-sparse: only the rows where x is not zero,
    the others being zero (see the module docstring). benchmarks/bench_fast_paths.py measures
    both against the plain lines and the tests check they agree. ``fast = False`` (on the class
    or one layer) uses the plain lines alone.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output.
    init : str or callable, optional
        Weight initialiser (see init.py). ``None`` lets the network choose from the activation
        that follows: He for the ReLU family, Glorot otherwise. Biases start at zero.
    """

    fast = True
    row_sparse_grads = False  # set per layer by fit, while plain SGD trains

    def __init__(self, in_features: int, out_features: int, init: str | Initializer | None = None):
        super().__init__()
        self.input_rows: np.ndarray | None = None  # a sparse sample's non-zero columns
        self.input_values = np.zeros((1, 0))  # and the sample on them (while input_rows is set)
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.init = init if init is None else get_initializer(init)
        self.inputs: np.ndarray  # set by forward, read by backward

    def initialize(self, rng: np.random.Generator, dtype: Any = np.float32,
                   default_init: str = "glorot_uniform") -> None:
        init = self.init if self.init is not None else get_initializer(default_init)
        shape = (self.in_features, self.out_features)
        weights = init(shape, rng, dtype)
        if init not in INITIALIZERS.values():  # a user's own: check what it returned
            _check_initial_weights(weights, shape, f"the initialiser "
                                   f"{getattr(init, '__name__', init)!r} of {self!r}")
        self.params = {"W": weights.astype(dtype, copy=False),
                       "b": np.zeros(self.out_features, dtype=dtype)}
        self.grads = {name: np.zeros(value.shape, dtype=dtype)
                      for name, value in self.params.items()}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not self.params:
            raise RuntimeError(
                f"{self!r} has no weights yet. Put it in a Sequential(..., seed=...) or call "
                "layer.initialize(np.random.default_rng(seed)) first."
            )
        self.inputs = x
        self.input_rows = None
        if self.row_sparse_grads and self.fast and type(x) is np.ndarray and x.shape[0] == 1:
            self.note_sparse_input(x)
        return x @ self.params["W"] + self.params["b"]  # z = x W + b

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if self.fast and type(grad_output) is np.ndarray and grad_output.shape[0] == 1:
            return self.backward_fast(grad_output, input_grad)
        xp = namespace(grad_output)
        self.grads["W"] = self.inputs.T @ grad_output  # dL/dW = x.T g
        self.grads["b"] = xp.sum(grad_output, axis=0)  # dL/db = sum of g over the batch
        self.grad_rows = {}
        return grad_output @ self.params["W"].T if input_grad else None  # dL/dx = g W.T

    # The fast forms, for one sample (per-sample SGD). An input with mostly zero features (an
    # MNIST image is 81% black pixels) meets only the rows of W where it is not zero:
    #     dL/dW = x.T g is zero outside the rows where x is not zero
    # so with row_sparse_grads on, the gradient keeps only those rows, a fifth of W, and plain
    # SGD updates only them: no complete (in, out) gradient is zeroed, written and read back at
    # every step (per-sample MNIST: 18% faster than keeping it complete, measured in
    # benchmarks/README.md). The forward pass keeps z = x W + b: for one MNIST sample the
    # product with all of W (18.6 us) is as fast as gathering the rows, x[rows] W[rows].

    def can_keep_row_sparse_grads(self) -> bool:
        """Whether fit may turn ``row_sparse_grads`` on: not for a subclass with a backward of
        its own, which may expect dL/dW complete (to add a penalty to it, say)."""
        return type(self).backward is Dense.backward

    def note_sparse_input(self, x: np.ndarray) -> None:
        """Note the columns where the one sample x is not zero, and x on them, if they are few
        (at most SPARSE_INPUTS of them; counted before any index is built)."""
        if np.count_nonzero(x) <= SPARSE_INPUTS * x.shape[1]:
            self.input_rows = x[0].nonzero()[0]
            self.input_values = x[:, self.input_rows]  # (1, rows): x on those rows

    def backward_fast(self, grad_output: np.ndarray, input_grad: bool = True
                      ) -> np.ndarray | None:
        """``backward`` for one sample, where x.T g is an outer product. ``np.dot`` of a column
        and a row is the BLAS's outer product: 12 us for a 200 x 200 gradient, against 22 us
        broadcasting ``x.T * g`` and 60 us for the plain line's matmul ``x.T @ g``. After
        ``note_sparse_input``, dL/dW is kept row-sparse: its rows where x is not zero."""
        rows = self.input_rows
        if rows is None:
            self.grads["W"] = np.dot(self.inputs.T, grad_output)  # dL/dW = x.T g
            self.grad_rows = {}
        else:
            self.grads["W"] = np.dot(self.input_values.T, grad_output)  # its rows: x[rows].T g
            self.grad_rows = {"W": rows}
        self.grads["b"] = grad_output[0]  # dL/db = g, the one row
        return grad_output @ self.params["W"].T if input_grad else None  # dL/dx = g W.T

    def output_features(self, input_features: int | None) -> int:
        if input_features is not None and input_features != self.in_features:
            fail("in_features", f"{input_features}, the number of features the layer before "
                 "it outputs", self.in_features,
                 f"Make the layer Dense({input_features}, {self.out_features}) or change the "
                 "layer before it.")
        return self.out_features

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features}


def _check_initial_weights(weights: Any, shape: tuple[int, int], name: str) -> None:
    if not isinstance(weights, np.ndarray) or weights.shape != shape \
            or weights.dtype.kind not in "fiu":
        fail(name, f"a function returning a real array of shape {shape}", weights,
             "An initialiser is init(shape, rng, dtype) -> np.ndarray of that shape.")
    if not all_finite(weights):
        fail(name, "a function returning finite weights", weights)


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the
    survivors by 1 / (1 - rate), so that at test time the layer is the identity.

    Forward (training), with a fresh mask m of independent Bernoulli(1 - rate) draws::

        y = x * m / (1 - rate)

    Backward::

        dL/dx = dL/dy * m / (1 - rate)

    The mask comes from the network's seeded generator, so a seed fixes every mask.
    """

    def __init__(self, rate: float = 0.5):
        super().__init__()
        self.rate = check_float(rate, "rate", 0.0, 1.0, low_inclusive=True, high_inclusive=False,
                                fix="Use 0 <= rate < 1; rate is the fraction of inputs dropped.")
        self.rng: np.random.Generator | None = None
        self.scaled_mask: np.ndarray | None = None

    def initialize(self, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        self.rng = rng

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.scaled_mask = None
            return x
        if self.rng is None:
            raise RuntimeError("Dropout has no generator yet. Put it in a Sequential(..., "
                               "seed=...) or call layer.initialize(np.random.default_rng(seed)).")
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate  # drawn on the host
        scaled_mask = keep.astype(numpy_dtype(x.dtype)) / (1.0 - self.rate)
        self.scaled_mask = backend_of(x).asarray(scaled_mask)
        return x * self.scaled_mask

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray:
        if self.scaled_mask is None:
            return grad_output
        return grad_output * self.scaled_mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}
