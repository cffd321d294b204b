"""Activation functions, their derivatives, and the activation layers' backward passes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import input_gradient_check
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from nnscratch import activations as act
from nnscratch.gradcheck import numerical_gradient

LAYERS = [act.Sigmoid, act.Tanh, act.ReLU, act.LeakyReLU, act.Softmax, act.Identity]
EXTREMES = np.array([-np.finfo(np.float32).max, -1e4, -1000.0, -88.0, -1.0, 0.0, 1.0, 88.0,
                     1000.0, 1e4, np.finfo(np.float32).max], dtype=np.float32)


def test_functions_match_their_textbook_definitions():
    z = np.linspace(-30, 30, 601)
    assert_allclose(act.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert_allclose(act.tanh(z), (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)), rtol=1e-12)
    assert_array_equal(act.relu(z), np.where(z > 0, z, 0))
    assert_array_equal(act.leaky_relu(z, 0.1), np.where(z > 0, z, 0.1 * z))
    rows = z[:600].reshape(3, -1)[:, :5]
    assert_allclose(act.softmax(rows), np.exp(rows) / np.exp(rows).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("name", sorted(act.FUNCTIONS))
def test_derivatives_match_finite_differences(name):
    function, derivative = act.FUNCTIONS[name]
    z = np.linspace(-5, 5, 41) + 0.0123  # avoid the kink of the ReLUs at exactly 0
    numeric = numerical_gradient(lambda: float(np.sum(function(z))), z)
    assert_allclose(derivative(z), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_keeps_relative_precision_in_the_tails():
    assert act.sigmoid(np.float64(-700.0)) == pytest.approx(np.exp(-700.0), rel=1e-12)
    assert act.sigmoid(np.float32(-80.0)) > 0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_functions_are_finite_and_silent_at_float32_extremes(name):
    function, derivative = act.FUNCTIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values, slopes = function(EXTREMES), derivative(EXTREMES)
    assert np.isfinite(values).all() and np.isfinite(slopes).all()
    assert values.dtype == np.float32 and slopes.dtype == np.float32


def test_sigmoid_saturates_to_exactly_0_and_1():
    assert_array_equal(act.sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32)), [0.0, 1.0])


@pytest.mark.parametrize("scale", [1.0, 1000.0, 1e4, 1e30])
def test_softmax_is_a_finite_distribution_for_huge_logits(scale):
    logits = (np.array([[1.0, -1.0, 0.5], [-3.0, -3.0, 2.0]]) * scale).astype(np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probs = act.softmax(logits)
    assert np.isfinite(probs).all()
    assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert_array_equal(probs.argmax(axis=1), logits.argmax(axis=1))


def test_relu_derivative_at_zero_is_zero_like_pytorch():
    assert act.relu_derivative(np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("layer_class", LAYERS)
@given(n_samples=st.integers(1, 6), n_features=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_layer_backward_matches_finite_differences(layer_class, n_samples, n_features, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, n_features)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of the ReLU kink, where the derivative is undefined
    input_error, param_errors = input_gradient_check(layer_class(), x, rng)
    assert input_error < 1e-6
    assert param_errors == {}


@pytest.mark.parametrize("layer_class", LAYERS)
def test_layers_are_finite_and_silent_at_float32_extremes(layer_class):
    layer = layer_class()
    x = np.stack([EXTREMES, EXTREMES[::-1]])
    if layer_class is act.Softmax:  # a row's range must fit in float32 for z - max(z)
        x = np.clip(x, -1e30, 1e30)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = layer.forward(x)
        grad = layer.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(grad).all()
    assert out.dtype == np.float32 and grad.dtype == np.float32


def test_leaky_relu_uses_its_alpha():
    layer = act.LeakyReLU(alpha=0.2)
    x = np.array([[-2.0, 3.0]], dtype=np.float32)
    assert_allclose(layer.forward(x), [[-0.4, 3.0]])
    assert_allclose(layer.backward(np.ones_like(x)), [[0.2, 1.0]])


def test_softmax_backward_is_the_jacobian_vector_product():
    layer = act.Softmax()
    z = np.array([[0.3, -1.2, 2.0]])
    probs = layer.forward(z)[0]
    jacobian = np.diag(probs) - np.outer(probs, probs)
    grad_output = np.array([[0.5, -1.0, 2.0]])
    assert_allclose(layer.backward(grad_output)[0], jacobian @ grad_output[0])


def test_get_activation_by_name_class_and_instance():
    assert isinstance(act.get_activation("tanh"), act.Tanh)
    assert isinstance(act.get_activation(act.ReLU), act.ReLU)
    layer = act.LeakyReLU(0.3)
    assert act.get_activation(layer) is layer


def test_unknown_activation_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"activation must be one of .*'relu'.*got 'relux'"):
        act.get_activation("relux")


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_leaky_relu_rejects_a_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a real number in"):
        act.LeakyReLU(alpha)
