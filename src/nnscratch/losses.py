"""Losses: a score for the network's output against the target, and its gradient.

    value = loss.forward(outputs, targets)     the mean loss over the batch, a float
    grad  = loss.backward()                    dL/d(outputs), same shape as outputs

Each loss takes what the network's last Dense layer produces (raw outputs, "logits" for the
classifiers) and applies its own link function inside, in a stable form::

    MSE                 L = mean over samples and outputs of (y_hat - y)**2
    CrossEntropy        L = mean_i [logsumexp(z_i) - sum_k y_ik z_ik],  dL/dz = (softmax(z) - y) / n
    BinaryCrossEntropy  L = mean [max(z, 0) - z y + log(1 + exp(-|z|))], dL/dz = (sigma(z) - y) / N

Neither classifier ever takes log of a probability, so log(0) and an infinite loss cannot happen.
The means match PyTorch's default reductions (MSELoss, CrossEntropyLoss, BCEWithLogitsLoss).
``forward`` returns a float for NumPy arrays; for another library's arrays (backend.py) it
returns the 0-d array on the device, which the fit loop reads only when it reports a result.
Optional ``sample_weight`` w scales each sample's loss: L = (1/n) sum_i w_i l_i.

``prepare_targets`` checks and converts the targets once, at the public boundary (fit,
evaluate); forward and backward trust what it returns. A custom loss subclasses Loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_features, check_sample_count, fail, from_registry
from .activations import sigmoid
from .backend import backend_of, namespace, numpy_dtype, to_numpy


class Loss:
    """Base class of the losses; subclass it (forward, backward) to plug in your own.

    ``task`` tells the network how to turn outputs into predictions: "regression" (the outputs
    themselves), "multiclass" (softmax, then the arg-max) or "binary" (sigmoid, then > 0.5).
    """

    task = "regression"

    def forward(
        self, outputs: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        """The mean loss of ``outputs`` against ``targets`` (a float; a 0-d array for arrays
        other than NumPy's); caches what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self) -> np.ndarray:
        """dL/d(outputs) for the last forward call."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def prepare_targets(self, targets: Any, n_outputs: int, dtype: Any = np.float32,
                        name: str = "y") -> np.ndarray:
        """Check ``targets`` for a network with ``n_outputs`` outputs; return them ready for use.

        The default accepts real-valued targets of shape (n,) for one output, or (n, n_outputs).
        """
        return _real_targets(targets, n_outputs, dtype, name)

    def __call__(self, outputs: Any, targets: Any, sample_weight: Any = None) -> float:
        """``loss(outputs, targets)``: the mean loss, with both checked as fit checks them
        (labels or one-hot rows for the classifiers); then ``backward()`` gives the gradient."""
        outputs = check_features(outputs, "outputs", dtype=_float_dtype(outputs))
        dtype, backend = numpy_dtype(outputs.dtype), backend_of(outputs)
        targets = self.prepare_targets(targets, outputs.shape[1], dtype, "targets")
        check_sample_count(targets, "targets", outputs.shape[0], "outputs")
        if sample_weight is not None:
            sample_weight = to_numpy(sample_weight).astype(dtype)
            if sample_weight.shape != (outputs.shape[0],):
                fail("sample_weight", f"an array of one weight per sample, shape "
                     f"({outputs.shape[0]},)", sample_weight)
            sample_weight = backend.asarray(sample_weight)
        return self.forward(outputs, backend.asarray(targets), sample_weight)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error, for regression.

    Forward, for outputs y_hat and targets y of shape (n, k)::

        r = y_hat - y
        L = sum_i w_i mean_k(r_ik**2) / n          (w_i = 1 without sample weights)

    Backward::

        dL/dy_hat = 2 r w / (n k)
    """

    def forward(self, outputs, targets, sample_weight=None) -> float:
        self.residuals = outputs - targets
        self.sample_weight = sample_weight
        per_sample = namespace(outputs).mean(self.residuals**2, axis=1)
        return _weighted_mean(per_sample, sample_weight)

    def backward(self) -> np.ndarray:
        n_samples, n_outputs = self.residuals.shape
        grad = 2.0 * self.residuals / (n_samples * n_outputs)
        return _apply_sample_weight(grad, self.sample_weight)


class CrossEntropy(Loss):
    """Softmax cross-entropy from logits, for one label out of k classes.

    Targets are integer labels (n,), one-hot rows (n, k), or soft rows that sum to 1.
    Forward, for logits z (n, k) and target rows y (n, k)::

        shifted   = z - max_k z                  every exp(shifted) <= 1: no overflow
        sum_exp   = sum_k exp(shifted)           >= 1: its log is finite
        p         = exp(shifted) / sum_exp       softmax(z)
        log_p     = shifted - log(sum_exp)       log softmax(z), finite
        L         = -sum_i w_i sum_k y_ik log_p_ik / n

    Backward (the softmax and the log cancel into one line)::

        dL/dz = (p - y) w / n
    """

    task = "multiclass"

    def forward(self, outputs, targets, sample_weight=None) -> float:
        xp = namespace(outputs)
        if targets.ndim == 1:
            targets = one_hot(targets, outputs.shape[1], outputs.dtype)
        shifted = outputs - xp.max(outputs, axis=1, keepdims=True)
        exp_shifted = xp.exp(shifted)
        sum_exp = xp.sum(exp_shifted, axis=1, keepdims=True)
        self.probs = exp_shifted / sum_exp
        log_probs = shifted - xp.log(sum_exp)
        self.targets = targets
        self.sample_weight = sample_weight
        per_sample = -xp.sum(targets * log_probs, axis=1)
        return _weighted_mean(per_sample, sample_weight)

    def backward(self) -> np.ndarray:
        grad = (self.probs - self.targets) / self.probs.shape[0]
        return _apply_sample_weight(grad, self.sample_weight)

    def prepare_targets(self, targets, n_outputs, dtype=np.float32, name="y") -> np.ndarray:
        if n_outputs < 2:
            raise ValueError(
                f"cross_entropy needs a network with at least 2 outputs (one per class); this one "
                f"has {n_outputs}. For two classes with one output use "
                "loss='binary_cross_entropy', or give the last Dense layer one output per class."
            )
        targets = _as_numeric_array(targets, name)
        if targets.ndim == 2 and targets.shape[1] == 1:
            targets = targets[:, 0]
        if targets.ndim == 1:
            return _class_labels(targets, n_outputs, name)
        if targets.ndim != 2 or targets.shape[1] != n_outputs:
            fail(name, f"integer labels of shape (n,) or one-hot rows of shape (n, {n_outputs})",
                 targets, "Give one label per sample, or one column per network output.")
        rows = _finite(targets.astype(dtype), name)
        row_sums = rows.sum(axis=1)
        if (rows < 0).any() or not np.allclose(row_sums, 1.0, atol=1e-3):
            fail(name, "rows of class probabilities (non-negative, each summing to 1)", targets,
                 "Use one-hot rows, or pass integer labels of shape (n,) instead.")
        return rows


class BinaryCrossEntropy(Loss):
    """Sigmoid cross-entropy from logits, for yes/no targets (one or more independent outputs).

    Targets are 0/1 (or probabilities in [0, 1]) of shape (n,) for one output, or (n, k).
    Forward, for logits z and targets y of shape (n, k)::

        l  = max(z, 0) - z y + log(1 + exp(-|z|))     = -y log sigma(z) - (1 - y) log(1 - sigma(z))
        L  = sum_i w_i mean_k(l_ik) / n

    Backward::

        dL/dz = (sigma(z) - y) w / (n k)
    """

    task = "binary"

    def forward(self, outputs, targets, sample_weight=None) -> float:
        self.outputs = outputs
        self.targets = targets
        self.sample_weight = sample_weight
        xp = namespace(outputs)
        per_element = (xp.maximum(outputs, 0) - outputs * targets
                       + xp.log1p(xp.exp(-xp.abs(outputs))))
        return _weighted_mean(xp.mean(per_element, axis=1), sample_weight)

    def backward(self) -> np.ndarray:
        n_samples, n_outputs = self.outputs.shape
        grad = (sigmoid(self.outputs) - self.targets) / (n_samples * n_outputs)
        return _apply_sample_weight(grad, self.sample_weight)

    def prepare_targets(self, targets, n_outputs, dtype=np.float32, name="y") -> np.ndarray:
        rows = _real_targets(targets, n_outputs, dtype, name)
        if ((rows < 0) | (rows > 1)).any():
            fail(name, "0/1 labels (or probabilities in [0, 1]) for binary_cross_entropy", targets,
                 "For labels 0..k-1 of more than two classes use loss='cross_entropy'.")
        return rows


LOSSES: dict[str, type[Loss]] = {
    "mse": MSE,
    "cross_entropy": CrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def get_loss(loss: str | Loss | type[Loss]) -> Loss:
    """A loss from its name ("mse", "cross_entropy", "binary_cross_entropy"), class or instance."""
    return from_registry(loss, "loss", Loss, LOSSES)


def one_hot(labels: np.ndarray, n_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """Rows of zeros with a one at each label: shape (len(labels), n_classes)."""
    if type(labels) is np.ndarray:
        rows = np.zeros((len(labels), n_classes), dtype=dtype)
        rows[np.arange(len(labels)), labels] = 1
        return rows
    xp = namespace(labels)  # the same rows, compared: row i, column k is [labels_i == k]
    classes = xp.arange(n_classes, dtype=labels.dtype, device=labels.device)
    return xp.astype(labels[:, None] == classes, dtype)


# ----------------------------------------------------------------------------------------------
# Helpers


def _float_dtype(outputs: Any) -> np.dtype:
    """float64 for float64 outputs, float32 for anything else."""
    dtype = getattr(outputs, "dtype", None)  # None for a list: float32
    try:
        is_float64 = dtype is not None and numpy_dtype(dtype) == np.float64
    except TypeError:
        is_float64 = False
    return np.dtype(np.float64 if is_float64 else np.float32)


def _weighted_mean(per_sample: np.ndarray, sample_weight: np.ndarray | None) -> Any:
    """(1/n) sum_i w_i l_i, as sum / n: the same pairwise sum as ndarray.mean, without its
    overhead, which is most of the cost for a batch of one. A float for NumPy; for another
    library a 0-d array on its device, so that no training step waits to read it."""
    if sample_weight is not None:
        per_sample = per_sample * sample_weight
    if type(per_sample) is np.ndarray:
        return float(per_sample.sum()) / len(per_sample)
    return namespace(per_sample).sum(per_sample) / per_sample.shape[0]


def _apply_sample_weight(grad: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    if sample_weight is None:
        return grad
    return grad * sample_weight[:, None]


def _as_numeric_array(targets: Any, name: str) -> np.ndarray:
    try:
        array = to_numpy(targets)  # checked and converted on the host
    except (ValueError, TypeError):
        fail(name, "an array of targets", targets)
    if array.dtype.kind not in "biuf":
        fail(name, "numeric targets", array,
             "Map class names to integers 0..k-1, e.g. "
             "classes, y = np.unique(y, return_inverse=True).", TypeError)
    if array.ndim == 0 or len(array) == 0:
        fail(name, "a non-empty array with one target per sample", array)
    return array


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(array).all():
        fail(name, "finite numbers (no NaN or inf)", array,
             "Remove or impute the samples with missing targets.")
    return array


def _class_labels(labels: np.ndarray, n_classes: int, name: str) -> np.ndarray:
    if labels.dtype.kind == "f":
        _finite(labels, name)
        if not (labels == np.round(labels)).all():
            fail(name, "integer class labels", labels,
                 "Classification needs labels 0..k-1; for real-valued targets use loss='mse'.")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"{name} must hold class labels in 0..{n_classes - 1} for a network with {n_classes} "
            f"outputs; got labels from {low:g} to {high:g}. Give the last Dense layer one output "
            "per class, or map the labels to 0..k-1 with np.unique(y, return_inverse=True)."
        )
    return labels.astype(np.int64)


def _real_targets(targets: Any, n_outputs: int, dtype: Any, name: str) -> np.ndarray:
    array = _as_numeric_array(targets, name)
    if array.ndim == 1 and n_outputs == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != n_outputs:
        shape = "(n,) or (n, 1)" if n_outputs == 1 else f"(n, {n_outputs})"
        fail(name, f"targets of shape {shape}, one column per network output", array,
             f"The network has {n_outputs} output(s); reshape {name} or change the last layer.")
    return _finite(np.ascontiguousarray(array, dtype=dtype), name)

