"""Metrics against counts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nnscratch import metrics

#           true: 0  0  0  1  1  2  2  2
#      predicted: 0  1  0  1  1  2  0  2
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 0, 1, 1, 2, 0, 2])


def test_accuracy():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(6 / 8)


def test_confusion_matrix_rows_are_true_columns_are_predicted():
    assert_array_equal(metrics.confusion_matrix(Y_TRUE, Y_PRED),
                       [[2, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert metrics.confusion_matrix([0], [0], n_classes=4).shape == (4, 4)


def test_precision_recall_f1_by_hand():
    scores = metrics.precision_recall_f1(Y_TRUE, Y_PRED)
    # precision: class 0: 2 of 3 predicted; class 1: 2 of 3; class 2: 2 of 2
    assert_allclose(scores["precision"], [2 / 3, 2 / 3, 1.0])
    # recall: class 0: 2 of 3 true; class 1: 2 of 2; class 2: 2 of 3
    assert_allclose(scores["recall"], [2 / 3, 1.0, 2 / 3])
    assert_allclose(scores["f1"], [2 / 3, 0.8, 0.8])
    assert_array_equal(scores["support"], [3, 2, 3])


def test_a_class_never_predicted_scores_zero_not_nan():
    scores = metrics.precision_recall_f1([0, 1], [0, 0], n_classes=3)
    assert_allclose(scores["precision"], [0.5, 0.0, 0.0])
    assert np.isfinite(scores["f1"]).all()


def test_classification_report_is_a_table():
    report = metrics.classification_report(Y_TRUE, Y_PRED, class_names=["cat", "dog", "owl"])
    lines = report.splitlines()
    assert "precision" in lines[0] and lines[1].split()[0] == "cat"
    assert lines[-1].split()[:2] == ["accuracy", "0.7500"]


@pytest.mark.parametrize("y_true, y_pred, message", [
    ([0, 1], [0], r"y_pred must be one entry per row of y_true"),
    ([[0.2, 0.8]], [1], r"y_true must be a non-empty 1-D array of integer class labels"),
    ([0.5, 1.0], [0, 1], r"y_true must be a non-empty 1-D array of integer"),
    ([], [], r"non-empty"),
    ([0, -1], [0, 1], r"class labels >= 0"),
])
def test_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metrics.accuracy(y_true, y_pred)
