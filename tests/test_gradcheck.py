"""check_gradients: every activation with every loss passes, and a wrong backward is caught."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import nnscratch as ns
from nnscratch.gradcheck import gradient_errors, numerical_gradient

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity"]


def targets_for(loss, n_samples, n_outputs, rng):
    if loss == "cross_entropy":
        return rng.integers(0, n_outputs, n_samples)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n_samples, n_outputs))
    return rng.standard_normal((n_samples, n_outputs))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "binary_cross_entropy"])
def test_every_activation_with_every_loss_passes(activation, loss, backend):
    rng = np.random.default_rng(0)
    net = ns.MLP([4, 6, 5, 3], activation=activation, seed=1).to(backend)
    X = rng.standard_normal((8, 4))
    errors = gradient_errors(net, X, targets_for(loss, 8, 3, rng), loss=loss)
    assert max(errors.values()) < 1e-6, errors


def test_dropout_networks_are_checked_in_inference_mode():
    rng = np.random.default_rng(0)
    net = ns.MLP([4, 6, 3], dropout=0.5, seed=1)
    assert ns.check_gradients(net, rng.standard_normal((5, 4)), [0, 1, 2, 0, 1],
                              loss="cross_entropy") < 1e-6


class ForgetfulTanh(ns.Tanh):
    """A deliberately wrong backward: forgets the derivative of tanh."""

    def backward(self, grad_output):
        return grad_output


def test_a_wrong_backward_is_caught_and_located():
    rng = np.random.default_rng(0)
    net = ns.Sequential([ns.Dense(3, 4), ForgetfulTanh(), ns.Dense(4, 2)], seed=0)
    X = rng.standard_normal((6, 3)) * 2
    errors = gradient_errors(net, X, [0, 1, 1, 0, 1, 0], loss="cross_entropy")
    assert errors["2.W"] < 1e-6 and errors["2.b"] < 1e-6  # after the bug: still right
    assert errors["0.W"] > 1e-2 and errors["input"] > 1e-2  # before it: wrong


def test_the_check_leaves_the_network_untouched():
    net = ns.MLP([3, 4, 2], seed=0, loss="cross_entropy")
    before = net.get_weights()
    ns.check_gradients(net, np.ones((2, 3)), [0, 1])
    assert net.dtype == np.float32
    for mine, theirs in zip(before, net.get_weights(), strict=True):
        assert_array_equal(mine, theirs)


def test_error_names_every_parameter_and_the_input():
    net = ns.MLP([3, 4, 2], seed=0)
    errors = gradient_errors(net, np.ones((2, 3)), [0, 1], loss="cross_entropy")
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b", "input"}


def test_numerical_gradient_restores_its_input():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    assert_array_equal(x, [1.0, -2.0, 3.0])


def test_bad_arguments_are_refused():
    net = ns.MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"loss must be given"):
        ns.check_gradients(net, np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"X must be an array with 3 features"):
        ns.check_gradients(net, np.ones((2, 5)), [0, 1], loss="cross_entropy")
    with pytest.raises(ValueError, match=r"eps must be"):
        ns.check_gradients(net, np.ones((2, 3)), [0, 1], loss="cross_entropy", eps=0)
