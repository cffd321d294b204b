"""Layers: the base contract, the fully connected (Dense) layer, and inverted Dropout.

A layer maps a batch x of shape (n_samples, in_features) to an output, and back:

    forward(x)             -> output, caching what backward needs
    backward(grad_output)  -> grad_input = dL/dx, filling grads[name] = dL/dparams[name]

``params`` and ``grads`` are two dicts with the same keys and shapes. A layer owns them; an
optimizer only reads ``grads`` and updates ``params`` in place (see optim.py). Layers without
parameters (the activations, Dropout) keep both dicts empty.

One exception, for speed, and only while ``fit`` trains with plain SGD: a Dense layer given
one sample that is mostly zeros (an MNIST image) may keep dL/dW on its sparse rows, as
PyTorch's sparse gradients do: ``grads["W"]`` then holds only the rows ``sparse_rows["W"]`` of
dL/dW, every other row being zero (see _fast.py). ``network.named_parameters()`` always gives
the complete gradients, and fit writes them out in full when it ends.

Activation layers live in activations.py; convolution, normalisation and recurrent layers are
not part of nnscratch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import all_finite, check_float, check_int, fail
from .backend import backend_of, complete_sparse_rows, namespace, numpy_dtype
from .init import INITIALIZERS, Initializer, get_initializer


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
        # a gradient on its sparse rows: grads[name] holds only the rows sparse_rows[name] of
        # dL/dparams[name], the others being zero (a name not here: the complete gradient)
        self.sparse_rows: dict[str, np.ndarray] = {}

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

    def complete_sparse_rows(self) -> None:
        """Write every gradient kept on its sparse rows (see sparse_rows) out in full."""
        for name, rows in self.sparse_rows.items():
            self.grads[name] = complete_sparse_rows(self.grads[name], rows,
                                                    self.params[name].shape[0])
        self.sparse_rows = {}

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

    For one sample in NumPy, fit and Sequential.backward take the fast form of backward
    (_fast.dense_backward: dL/dW as the BLAS's outer product, on the sample's sparse rows while
    ``keep_sparse_rows`` is on); ``fast = False`` (on the class or one layer) keeps these lines.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output.
    init : str or callable, optional
        Weight initialiser (see init.py). ``None`` lets the network choose from the activation
        that follows: He for the ReLU family, Glorot otherwise. Biases start at zero.
    """

    fast = True  # the fast form of backward may be taken (see _fast.py)
    keep_sparse_rows = False  # set per layer by fit, while plain SGD trains

    def __init__(self, in_features: int, out_features: int, init: str | Initializer | None = None):
        super().__init__()
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
        return x @ self.params["W"] + self.params["b"]  # z = x W + b

    def backward(self, grad_output: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        xp = namespace(grad_output)
        self.grads["W"] = self.inputs.T @ grad_output  # dL/dW = x.T g
        self.grads["b"] = xp.sum(grad_output, axis=0)  # dL/db = sum of g over the batch
        self.sparse_rows = {}
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
