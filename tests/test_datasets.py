"""The built-in data sets: shapes, ranges, the stratified split, and the shipped digits' origin."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nnscratch.datasets import load_digits, load_xor


def test_xor_is_the_four_corners():
    X, y = load_xor()
    assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert_array_equal(y, [0, 1, 1, 0])
    X, y = load_xor(repeats=100)
    assert X.shape == (400, 2) and X.dtype == np.float32 and y.dtype == np.int64


def test_digits_shapes_types_and_range():
    X_train, y_train, X_test, y_test = load_digits()
    assert X_train.shape == (1258, 64) and X_test.shape == (539, 64)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10))


def test_digits_split_is_stratified_disjoint_and_seeded():
    X_train, y_train, X_test, y_test = load_digits(test_size=0.3, seed=4)
    all_counts = np.bincount(np.concatenate([y_train, y_test]))
    assert np.all(np.abs(np.bincount(y_test) - 0.3 * all_counts) <= 1)
    rows = {row.tobytes() for row in X_train}
    assert sum(row.tobytes() in rows for row in X_test) <= 5  # a few images are duplicates
    again = load_digits(test_size=0.3, seed=4)
    assert_array_equal(again[0], X_train)
    assert not np.array_equal(load_digits(seed=5)[1], y_train)


def test_shipped_digits_equal_scikit_learns():
    datasets = pytest.importorskip("sklearn.datasets")
    theirs = datasets.load_digits()
    X_train, y_train, X_test, y_test = load_digits(test_size=0.5, seed=0)
    mine = np.concatenate([X_train, X_test]) * 16
    labels = np.concatenate([y_train, y_test])
    order = np.lexsort(np.column_stack([mine, labels]).T)
    their_order = np.lexsort(np.column_stack([theirs.data, theirs.target]).T)
    assert_array_equal(mine[order], theirs.data[their_order])
    assert_array_equal(labels[order], theirs.target[their_order])


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5])
def test_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size must be a real number in"):
        load_digits(test_size=test_size)
