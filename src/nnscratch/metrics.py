"""Classification metrics: accuracy, the confusion matrix, per-class precision, recall and F1.

All take integer class labels: ``y_true`` and ``y_pred`` of shape (n,), as ``net.predict``
returns them. For class c, with TP, FP, FN counted from the confusion matrix C (rows: true
class, columns: predicted class)::

    precision_c = C[c, c] / sum_i C[i, c]       of the samples predicted c, the share that are c
    recall_c    = C[c, c] / sum_j C[c, j]       of the samples that are c, the share found
    F1_c        = 2 precision_c recall_c / (precision_c + recall_c)

A ratio whose denominator is 0 is reported as 0, as scikit-learn does by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_int, check_sample_count, fail
from .backend import namespace, to_numpy

CLASSIFICATION_TASKS = ("multiclass", "binary")


def predicted_labels(outputs: np.ndarray, task: str) -> np.ndarray:
    """Labels from a network's raw outputs: the arg-max class ("multiclass"), or output > 0,
    i.e. probability > 0.5 ("binary"); a regression's outputs are its predictions."""
    xp = namespace(outputs)
    if task == "multiclass":
        return xp.argmax(outputs, axis=1)
    if task == "binary":
        labels = xp.astype(outputs > 0, xp.int64)
        return labels[:, 0] if outputs.shape[1] == 1 else labels
    return outputs


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of samples whose predicted label equals the true one."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """C[i, j] = the number of samples of true class i predicted as class j; shape (k, k)."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    if n_classes is None:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    n_classes = check_int(n_classes, "n_classes")
    if max(y_true.max(), y_pred.max()) >= n_classes:
        fail("n_classes", f"larger than every label (the largest is "
             f"{int(max(y_true.max(), y_pred.max()))})", n_classes)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def precision_recall_f1(
    y_true: Any, y_pred: Any, n_classes: int | None = None
) -> dict[str, np.ndarray]:
    """Per-class ``precision``, ``recall``, ``f1`` and ``support`` (true count), each (k,)."""
    counts = confusion_matrix(y_true, y_pred, n_classes)
    true_positives = np.diag(counts).astype(np.float64)
    predicted = counts.sum(axis=0)
    support = counts.sum(axis=1)
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def classification_report(y_true: Any, y_pred: Any, class_names: list[str] | None = None) -> str:
    """A text table of precision, recall, F1 and support per class, with their means."""
    scores = precision_recall_f1(y_true, y_pred,
                                 None if class_names is None else len(class_names))
    n_classes = len(scores["support"])
    names = class_names if class_names is not None else [str(c) for c in range(n_classes)]
    width = max(12, *(len(name) for name in names))
    lines = [f"{'class':>{width}} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>9}"]
    for c, name in enumerate(names):
        lines.append(f"{name:>{width}} {scores['precision'][c]:9.4f} {scores['recall'][c]:9.4f} "
                     f"{scores['f1'][c]:9.4f} {scores['support'][c]:9d}")
    total = int(scores["support"].sum())
    lines.append(f"{'macro mean':>{width}} {scores['precision'].mean():9.4f} "
                 f"{scores['recall'].mean():9.4f} {scores['f1'].mean():9.4f} {total:9d}")
    lines.append(f"{'accuracy':>{width}} {accuracy(y_true, y_pred):29.4f} {total:9d}")
    return "\n".join(lines)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    result = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=result, where=denominator > 0)
    return result


def _check_labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        array = to_numpy(labels)
        if array.ndim != 1 or array.dtype.kind not in "biu" or len(array) == 0:
            fail(name, "a non-empty 1-D array of integer class labels", array,
                 "Pass labels such as net.predict(X) returns, not probabilities or one-hot rows.")
        if array.min() < 0:
            fail(name, "class labels >= 0", array)
        arrays.append(array.astype(np.int64))
    check_sample_count(arrays[1], "y_pred", len(arrays[0]), "y_true")
    return arrays[0], arrays[1]
