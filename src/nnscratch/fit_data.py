"""What fit trains on: the data checked once, on the network's device; the per-sample and
per-class loss weights; the validation split.

``prepare_data`` checks X against the network's inputs and y against its loss (labels, one-hot
rows or real values), once, and puts both in the network's dtype on its array library and
device. ``sample_weights`` combines ``sample_weight`` and ``class_weight`` into one weight per
sample (refusing weights that would silently stop training), and ``validation_set`` holds out
the validation rows, drawn from the seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_features, check_float, check_sample_count, fail
from .backend import NUMPY, Backend, backend_of, library_of, namespace, take_rows, to_numpy
from .losses import Loss
from .metrics import CLASSIFICATION_TASKS


def prepare_data(model: Any, loss: Loss, X: Any, y: Any,
                 names: tuple[str, str] = ("X", "y")) -> tuple[np.ndarray, np.ndarray]:
    """Check X and y once and return them in the network's dtype (labels as int64), on the
    network's array library and device."""
    X = check_features(X, names[0], model.n_inputs, model.dtype)
    targets = loss.prepare_targets(y, model.n_outputs, model.dtype, names[1])
    check_sample_count(targets, names[1], X.shape[0], names[0])
    backend = model_backend(model)
    return backend.asarray(X), backend.asarray(targets)



def model_backend(model: Any) -> Backend:
    """The array library and device of a model's parameters (NumPy for a model that does not
    say)."""
    return getattr(model, "backend", NUMPY)



def on_model(model: Any, weights: np.ndarray | None) -> Any:
    """Per-sample weights (or None) on the model's array library and device."""
    return None if weights is None else model_backend(model).asarray(weights)



def follow_data(model: Any, X: Any) -> None:
    """Everything follows the data: given the arrays of another library (CuPy, PyTorch), a
    network moves to that library and device (``model.to``), and computes and answers there.
    NumPy arrays and array-likes go to wherever the network is."""
    if library_of(X) is None or not hasattr(model, "to"):
        return
    if str(backend_of(X)) != str(model_backend(model)):
        model.to(backend_of(X))



def validation_set(model, loss, X, targets, validation_data, validation_split, rng):
    """Training rows (None: all) and the prepared validation (X, targets, weights), if any."""
    if validation_data is not None and validation_split:
        raise ValueError("Pass validation_data or validation_split, not both; got both. "
                         "validation_data is the held-out set; validation_split carves one out "
                         "of the training data.")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            fail("validation_data", "a pair (X_val, y_val)", validation_data, error=TypeError)
        X_val, y_val = prepare_data(model, loss, *validation_data,
                                    names=("validation_data[0]", "validation_data[1]"))
        return None, (X_val, y_val, None)
    if not validation_split:
        return None, None
    fraction = check_float(validation_split, "validation_split", 0.0, 1.0, high_inclusive=False)
    n_samples = X.shape[0]
    n_validation = round(n_samples * fraction)
    if not 1 <= n_validation < n_samples:
        fail("validation_split", f"a fraction that leaves at least one sample on each side of "
             f"the split of {n_samples} samples", validation_split)
    shuffled = rng.permutation(n_samples)
    validation_rows = model_backend(model).asarray(np.sort(shuffled[:n_validation]))
    train_rows = np.sort(shuffled[n_validation:])
    return train_rows, (take_rows(X, validation_rows), take_rows(targets, validation_rows), None)



def sample_weights(loss: Loss, targets: np.ndarray, n_outputs: int, class_weight: Any,
                   sample_weight: Any, dtype: Any) -> np.ndarray | None:
    """Per-sample loss weights: ``sample_weight`` times the weight of each sample's class.

    ``class_weight="balanced"`` gives class c the weight n / (n_classes * count_c), as
    scikit-learn does; a dict {class: weight} sets them directly (missing classes get 1).
    """
    targets = to_numpy(targets)  # the weights are worked out on the host, once
    weights = None if sample_weight is None else _sample_weight(sample_weight, len(targets),
                                                                 dtype)
    if class_weight is not None:
        labels = true_labels(targets, loss.task) if loss.task in CLASSIFICATION_TASKS else None
        if labels is None or labels.ndim != 1:
            fail("class_weight", "None here: it needs a classification loss with one label per "
                 "sample", class_weight, "Drop class_weight, or weight samples with sample_weight.")
        n_classes = n_outputs if loss.task == "multiclass" else 2
        per_class = _class_weights(class_weight, labels, n_classes)
        weights = per_class[labels] if weights is None else weights * per_class[labels]
        weights = _check_weight_scale(weights, dtype, "class_weight (times sample_weight)")
    return weights



def _sample_weight(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray:
    """``sample_weight`` checked: one finite, non-negative weight per sample, not all zero."""
    weights = to_numpy(sample_weight).astype(np.float64)
    if weights.ndim != 1 or len(weights) != n_samples:
        fail("sample_weight", f"a 1-D array with one weight per sample ({n_samples})",
             sample_weight)
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() == 0:
        fail("sample_weight", "finite, non-negative weights, not all zero", sample_weight)
    return _check_weight_scale(weights, dtype, "sample_weight")



WEIGHT_SCALE = (1e-6, 1e6)



def _check_weight_scale(weights: np.ndarray, dtype: Any, name: str) -> np.ndarray:
    """``weights`` in ``dtype``, refusing weights that would silently stop training.

    The loss is (1/n) sum_i w_i l_i, so the weights scale every gradient: all zero, a mean far
    from 1, or values that round to 0 or infinity in the network's dtype would leave the
    network unchanged or blow it up without a word.
    """
    with np.errstate(over="ignore"):
        cast = weights.astype(dtype)
    mean = float(weights.mean())
    if not weights.any():
        raise ValueError(f"{name} gives every training sample the weight 0, so nothing would be "
                         "learned. Give the classes or samples you want learned a positive "
                         "weight.")
    if not np.isfinite(cast).all() or np.count_nonzero(cast) != np.count_nonzero(weights):
        raise ValueError(f"{name} holds weights that become 0 or infinite in "
                         f"{np.dtype(dtype).name} (from {weights[weights > 0].min():.3g} to "
                         f"{weights.max():.3g}). Weights are relative: divide them by their "
                         "mean.")
    if not WEIGHT_SCALE[0] <= mean <= WEIGHT_SCALE[1]:
        raise ValueError(f"{name} averages {mean:.3g}, which scales every gradient by that much "
                         f"(training would {'do nothing' if mean < 1 else 'diverge'}). Weights "
                         f"are relative: divide them by their mean to keep it in "
                         f"[{WEIGHT_SCALE[0]:g}, {WEIGHT_SCALE[1]:g}].")
    return cast



def _class_weights(class_weight: Any, labels: np.ndarray, n_classes: int) -> np.ndarray:
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            fail("class_weight", "'balanced' or a dict {class: weight}", class_weight)
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        present = np.count_nonzero(counts)
        return np.divide(len(labels), present * counts, out=np.ones(n_classes),
                         where=counts > 0)
    if not isinstance(class_weight, dict):
        fail("class_weight", "'balanced' or a dict {class: weight}", class_weight,
             error=TypeError)
    per_class = np.ones(n_classes)
    for label, weight in class_weight.items():
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) \
                or not 0 <= label < n_classes:
            fail("class_weight", f"a dict whose keys are class labels 0..{n_classes - 1}",
                 class_weight)
        per_class[label] = check_float(weight, f"class_weight[{label}]", low_inclusive=True)
    return per_class



def true_labels(targets: np.ndarray, task: str) -> np.ndarray:
    xp = namespace(targets)
    if task == "multiclass":
        return targets if targets.ndim == 1 else xp.argmax(targets, axis=1)
    labels = xp.astype(targets >= 0.5, xp.int64)
    return labels[:, 0] if labels.shape[1] == 1 else labels
