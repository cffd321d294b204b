"""Losses: values by hand, gradients against finite differences, extreme logits, bad targets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import on
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import nnscratch as ns
from nnscratch.backend import to_numpy
from nnscratch.gradcheck import numerical_gradient, relative_error
from nnscratch.losses import MSE, BinaryCrossEntropy, CrossEntropy, Loss, get_loss, one_hot


def loss_gradient_error(loss: Loss, outputs, targets, weights=None, backend=None) -> float:
    """The relative error of the loss's gradient against central differences, in float64, on
    ``backend`` (default: NumPy)."""
    if backend is not None:
        dtypes = {"i": "int64", "f": "float64"}
        outputs = on(backend, outputs, "float64")
        targets = on(backend, targets, dtypes[np.asarray(targets).dtype.kind])
        weights = None if weights is None else on(backend, weights, "float64")
    loss.forward(outputs, targets, weights)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(outputs, targets, weights), outputs)
    return relative_error(analytic, numeric)


# ---- values by hand ----------------------------------------------------------------------------

def test_cross_entropy_value_is_log_sum_exp_minus_the_true_logit(backend):
    logits = on(backend, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], "float64")
    expected = np.mean([math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 1.0, math.log(3)])
    value = CrossEntropy().forward(logits, on(backend, [0, 2], "int64"))
    assert float(value) == pytest.approx(expected)


def test_cross_entropy_gradient_is_p_minus_y_over_n(backend):
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    labels = np.array([2, 0])
    loss = CrossEntropy()
    loss.forward(on(backend, logits, "float64"), on(backend, labels, "int64"))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_allclose(to_numpy(loss.backward()), (probs - one_hot(labels, 3, np.float64)) / 2)


def test_cross_entropy_labels_and_one_hot_agree():
    logits = np.random.default_rng(0).standard_normal((6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0])
    by_label, by_row = CrossEntropy(), CrossEntropy()
    assert by_label.forward(logits, labels) == pytest.approx(
        by_row.forward(logits, one_hot(labels, 4, np.float64)))
    assert_allclose(by_label.backward(), by_row.backward())


def test_mse_is_the_mean_over_samples_and_outputs(backend):
    outputs = np.array([[1.0, 2.0], [3.0, 5.0]])
    targets = np.array([[1.0, 0.0], [1.0, 1.0]])
    loss = MSE()
    value = loss.forward(on(backend, outputs, "float64"), on(backend, targets, "float64"))
    assert float(value) == pytest.approx((0 + 4 + 4 + 16) / 4)
    assert_allclose(to_numpy(loss.backward()), 2 * (outputs - targets) / 4)


def test_binary_cross_entropy_matches_the_probability_form(backend):
    logits = np.array([[-2.0], [0.3], [4.0]])
    targets = np.array([[0.0], [1.0], [1.0]])
    p = 1 / (1 + np.exp(-logits))
    expected = np.mean(-targets * np.log(p) - (1 - targets) * np.log(1 - p))
    value = BinaryCrossEntropy().forward(on(backend, logits, "float64"),
                                         on(backend, targets, "float64"))
    assert float(value) == pytest.approx(expected)


def test_sample_weights_scale_each_samples_loss():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = np.array([0, 0, 1])
    per_sample = [CrossEntropy().forward(logits[i:i + 1], labels[i:i + 1]) for i in range(3)]
    weights = np.array([2.0, 0.0, 1.0])
    value = CrossEntropy().forward(logits, labels, weights)
    assert value == pytest.approx(np.dot(weights, per_sample) / 3)


# ---- gradients against finite differences ------------------------------------------------------

shapes = dict(n_samples=st.integers(1, 6), n_outputs=st.integers(2, 6), seed=st.integers(0, 2**16))


@given(**shapes, weighted=st.booleans())
def test_cross_entropy_gradient_with_labels(backend, n_samples, n_outputs, seed, weighted):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n_samples, n_outputs))
    labels = rng.integers(0, n_outputs, n_samples)
    weights = rng.random(n_samples) if weighted else None
    assert loss_gradient_error(CrossEntropy(), logits, labels, weights, backend=backend) < 1e-6


@given(**shapes)
def test_cross_entropy_gradient_with_soft_targets(backend, n_samples, n_outputs, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n_samples, n_outputs))
    soft = rng.random((n_samples, n_outputs))
    soft /= soft.sum(axis=1, keepdims=True)
    assert loss_gradient_error(CrossEntropy(), logits, soft, backend=backend) < 1e-6


@given(**shapes, weighted=st.booleans())
def test_binary_cross_entropy_gradient(backend, n_samples, n_outputs, seed, weighted):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n_samples, n_outputs))
    targets = rng.random((n_samples, n_outputs))
    weights = rng.random(n_samples) if weighted else None
    assert loss_gradient_error(BinaryCrossEntropy(), logits, targets, weights, backend=backend) < 1e-6


@given(**shapes, weighted=st.booleans())
def test_mse_gradient(backend, n_samples, n_outputs, seed, weighted):
    rng = np.random.default_rng(seed)
    outputs = rng.standard_normal((n_samples, n_outputs))
    targets = rng.standard_normal((n_samples, n_outputs))
    weights = rng.random(n_samples) if weighted else None
    assert loss_gradient_error(MSE(), outputs, targets, weights, backend=backend) < 1e-6


# ---- extreme logits: finite values, no warnings ------------------------------------------------

@pytest.mark.parametrize("scale", [1000.0, 1e4])
def test_cross_entropy_is_finite_and_silent_for_extreme_logits(scale):
    logits = np.array([[scale, -scale, 0.0], [-scale, -scale, -scale]], dtype=np.float32)
    loss = CrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(logits, np.array([1, 0]))
        grad = loss.backward()
    assert value == pytest.approx((2 * scale + math.log(3)) / 2, rel=1e-6)
    assert np.isfinite(grad).all() and grad.dtype == np.float32


@pytest.mark.parametrize("scale", [1000.0, 1e4])
def test_binary_cross_entropy_is_finite_and_silent_for_extreme_logits(scale):
    logits = np.array([[scale], [-scale], [scale], [-scale]], dtype=np.float32)
    targets = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=np.float32)
    loss = BinaryCrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(logits, targets)
        grad = loss.backward()
    assert value == pytest.approx(scale / 2, rel=1e-6)
    assert np.isfinite(grad).all() and grad.dtype == np.float32


@pytest.mark.parametrize("loss_class", [MSE, CrossEntropy, BinaryCrossEntropy])
def test_losses_keep_float32(loss_class):
    rng = np.random.default_rng(0)
    outputs = rng.standard_normal((4, 3)).astype(np.float32)
    loss = loss_class()
    targets = loss.prepare_targets(np.array([0, 1, 2, 1]) if loss_class is CrossEntropy
                                   else rng.random((4, 3)), 3, np.float32)
    loss.forward(outputs, targets, np.ones(4, dtype=np.float32))
    assert loss.backward().dtype == np.float32


# ---- target checks ----------------------------------------------------------------------------

def test_cross_entropy_prepares_labels_one_hot_and_column_labels():
    loss = CrossEntropy()
    assert loss.prepare_targets([0, 2, 1], 3).dtype == np.int64
    assert loss.prepare_targets(np.array([0.0, 2.0]), 3).tolist() == [0, 2]
    assert loss.prepare_targets(np.array([[0], [2]]), 3).tolist() == [0, 2]
    assert loss.prepare_targets(np.eye(3), 3).shape == (3, 3)


@pytest.mark.parametrize("loss, targets, n_outputs, error, message", [
    (CrossEntropy(), [0, 3], 3, ValueError, r"y must hold class labels in 0..2 .* got labels from 0 to 3"),
    (CrossEntropy(), [-1, 0], 3, ValueError, r"class labels in 0..2"),
    (CrossEntropy(), [0.5, 1.0], 3, ValueError, r"y must be integer class labels.*loss='mse'"),
    (CrossEntropy(), ["cat", "dog"], 3, TypeError, r"y must be numeric targets.*np.unique"),
    (CrossEntropy(), [0.0, np.nan], 3, ValueError, r"finite numbers"),
    (CrossEntropy(), [[0.5, 0.1, 0.1]], 3, ValueError, r"summing to 1"),
    (CrossEntropy(), np.ones((2, 4)), 3, ValueError, r"one-hot rows of shape \(n, 3\)"),
    (CrossEntropy(), [0, 1], 1, ValueError, r"at least 2 outputs.*binary_cross_entropy"),
    (CrossEntropy(), [], 3, ValueError, r"non-empty"),
    (BinaryCrossEntropy(), [0, 2], 1, ValueError, r"0/1 labels.*cross_entropy"),
    (MSE(), np.ones((3, 2)), 1, ValueError, r"shape \(n,\) or \(n, 1\).*1 output"),
    (MSE(), [1.0, np.inf], 1, ValueError, r"finite"),
])
def test_bad_targets_get_a_clear_error(loss, targets, n_outputs, error, message):
    with pytest.raises(error, match=message):
        loss.prepare_targets(targets, n_outputs, name="y")


def test_get_loss_by_name_class_and_instance():
    assert isinstance(get_loss("mse"), MSE)
    assert isinstance(get_loss(CrossEntropy), CrossEntropy)
    loss = BinaryCrossEntropy()
    assert get_loss(loss) is loss
    with pytest.raises(ValueError, match=r"loss must be one of 'mse', 'cross_entropy'"):
        get_loss("categorical")


@pytest.mark.parametrize("loss, targets", [
    (ns.CrossEntropy(), [0, 2, 1]), (ns.CrossEntropy(), np.eye(3)[[0, 2, 1]]),
    (ns.MSE(), np.ones((3, 3))), (ns.BinaryCrossEntropy(), np.ones((3, 3))),
])
def test_a_loss_called_the_way_users_call_it(loss, targets):
    """loss(outputs, targets) works, equals forward on prepared targets, and backward follows."""
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 4.0, 0.0]])
    value = loss(logits, targets)
    prepared = loss.prepare_targets(targets, 3, np.float64)
    assert value == pytest.approx(type(loss)().forward(logits, prepared))
    assert loss.backward().shape == (3, 3)
    with pytest.raises(ValueError, match="targets"):
        loss(logits, targets[:2])



def test_a_loss_called_with_lists_computes_in_float32_and_float64_arrays_in_float64():
    loss = CrossEntropy()
    loss([[1.0, 2.0], [0.5, 0.0]], [1, 0])
    assert loss.backward().dtype == np.float32
    loss(np.array([[1.0, 2.0]]), [1])
    assert loss.backward().dtype == np.float64
