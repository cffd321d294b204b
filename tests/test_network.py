"""Sequential and MLP: construction, size checks, prediction, copies, dtypes, custom layers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same_weights
from numpy.testing import assert_allclose, assert_array_equal
from rounding import assert_rounding_close, probability_bound

import nnscratch as ns


def small_classifier(seed=0, **kwargs):
    return ns.MLP([4, 6, 3], seed=seed, loss="cross_entropy", **kwargs)


def test_mlp_is_the_same_network_as_the_equivalent_sequential():
    mlp = ns.MLP([4, 8, 5, 3], activation="tanh", seed=3)
    sequential = ns.Sequential([ns.Dense(4, 8), ns.Tanh(), ns.Dense(8, 5), ns.Tanh(),
                                ns.Dense(5, 3)], seed=3)
    assert [type(layer) for layer in mlp.layers] == [type(layer) for layer in sequential.layers]
    assert_same_weights(mlp, sequential)


def test_mlp_adds_dropout_and_an_output_activation():
    net = ns.MLP([4, 8, 8, 1], activation="relu", dropout=0.2, output_activation="sigmoid", seed=0)
    names = [type(layer).__name__ for layer in net.layers]
    assert names == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense", "Sigmoid"]


def test_seed_none_records_a_seed_that_reproduces_the_network():
    first = ns.MLP([3, 4, 2])
    again = ns.MLP([3, 4, 2], seed=first.seed)
    assert_array_equal(first.get_weights()[0], again.get_weights()[0])
    assert ns.MLP([3, 4, 2]).seed != first.seed


def test_default_initialisation_follows_the_activation():
    relu_weights = ns.MLP([500, 400, 2], activation="relu", seed=0).layers[0].params["W"]
    tanh_weights = ns.MLP([500, 400, 2], activation="tanh", seed=0).layers[0].params["W"]
    assert relu_weights.var() == pytest.approx(2 / 500, rel=0.03)  # He
    assert tanh_weights.var() == pytest.approx(2 / 900, rel=0.03)  # Glorot


def test_forward_and_backward_chain_the_layers():
    net = small_classifier()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = x
    for layer in net.layers:
        expected = layer.forward(expected)
    assert_array_equal(net.forward(x), expected)
    grad_input = net.backward(np.ones((5, 3), dtype=np.float32))
    assert grad_input.shape == (5, 4)
    assert [name for name, _, _ in net.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]


def test_predict_and_predict_proba_for_each_task():
    X = np.random.default_rng(0).random((7, 4))
    multiclass = small_classifier()
    probs = multiclass.predict_proba(X)
    assert probs.shape == (7, 3) and probs.dtype == np.float32
    assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    assert_array_equal(multiclass.predict(X), probs.argmax(axis=1))

    binary = ns.MLP([4, 5, 1], seed=0, loss="binary_cross_entropy")
    binary_probs = binary.predict_proba(X)
    assert binary_probs.shape == (7, 2)
    assert_allclose(binary_probs.sum(axis=1), 1, rtol=1e-6)
    assert_array_equal(binary.predict(X), (binary_probs[:, 1] > 0.5).astype(int))

    regression = ns.MLP([4, 5, 1], seed=0, loss="mse")
    assert regression.predict(X).shape == (7,)
    with pytest.raises(ValueError, match="probabilities need a classification loss"):
        regression.predict_proba(X)


def test_predict_in_batches_matches_one_pass():
    """Batches of 7 rows and one of 50: the BLAS may take another kernel for each size, so the
    probabilities agree within the rounding of the forward pass (tests/rounding.py)."""
    net = small_classifier()
    X = np.random.default_rng(1).random((50, 4)).astype(np.float32)
    roundings, scale = probability_bound(net, X)
    assert_rounding_close(net.predict_proba(X, batch_size=7), net.predict_proba(X),
                          roundings=roundings, scale=scale)


def test_predict_before_the_network_knows_its_task_says_what_to_do():
    with pytest.raises(ValueError, match=r"loss must be given.*cross_entropy"):
        ns.MLP([2, 3, 2], seed=0).predict(np.ones((1, 2)))


def test_summary_lists_layers_shapes_and_parameter_counts():
    net = ns.MLP([64, 128, 10], seed=0)
    text = net.summary()
    assert "Dense(in_features=64, out_features=128)" in text
    assert "(n, 128)" in text and "8,320" in text and "1,290" in text
    assert f"total parameters: {net.n_params:,}" in text and net.n_params == 8320 + 1290


def test_get_and_set_weights_round_trip_in_place():
    net, other = small_classifier(seed=0), small_classifier(seed=1)
    params_before = [param for param, _ in other.parameters()]
    other.set_weights(net.get_weights())
    assert_same_weights(net, other)
    params_after = [param for param, _ in other.parameters()]
    assert all(a is b for a, b in zip(params_before, params_after, strict=True))
    with pytest.raises(ValueError, match=r"weights must be a list of 4 arrays"):
        other.set_weights(net.get_weights()[:2])
    with pytest.raises(ValueError, match=r"weights for 0.W must be an array of shape \(4, 6\)"):
        other.set_weights([np.ones((2, 2))] + net.get_weights()[1:])


def test_astype_makes_an_independent_float64_copy():
    net = small_classifier()
    wide = net.astype("float64")
    assert wide.dtype == np.float64
    assert all(param.dtype == np.float64 for param, _ in wide.parameters())
    assert wide.forward(np.ones((1, 4))).dtype == np.float64
    wide.layers[0].params["W"][...] = 0
    assert net.layers[0].params["W"].any()
    assert net.dtype == np.float32


@pytest.mark.parametrize("make, error, message", [
    (lambda: ns.Sequential([ns.Dense(64, 128), ns.ReLU(), ns.Dense(64, 10)]), ValueError,
     r"layers\[2\] does not fit.*in_features must be 128.*got 64.*Dense\(128, 10\)"),
    (lambda: ns.Sequential([]), TypeError, r"layers must be a non-empty list"),
    (lambda: ns.Sequential(ns.Dense(2, 2)), TypeError, r"layers must be a non-empty list"),
    (lambda: ns.Sequential([ns.Dense(2, 2), ns.ReLU]), TypeError, r"layers\[1\].*ReLU\(\)"),
    (lambda: ns.Sequential([ns.Dense(2, 2), "relu"]), TypeError, r"layers\[1\] must be a Layer"),
    (lambda: ns.Sequential([ns.ReLU()]), ValueError, r"at least one Dense layer"),
    (lambda: ns.MLP([4, 0, 2]), ValueError, r"sizes\[1\] must be an integer >= 1; got 0"),
    (lambda: ns.MLP([4]), ValueError, r"sizes must be a list of at least two"),
    (lambda: ns.MLP(4), TypeError, r"sizes must be a list"),
    (lambda: ns.MLP([4, 2], activation="swish"), ValueError, r"activation must be one of"),
    (lambda: ns.MLP([4, 3, 2], dtype="float16"), ValueError, r"dtype must be one of 'float32'"),
    (lambda: ns.MLP([4, 2], seed=-1), ValueError, r"seed must be an integer >= 0"),
    (lambda: ns.MLP([4, 2], loss="hinge"), ValueError, r"loss must be one of"),
])
def test_bad_architectures_get_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("X, error, message", [
    (np.ones(4), ValueError, r"X must be a 2-D array.*X.reshape\(1, -1\)"),
    (np.ones((2, 5)), ValueError, r"X must be an array with 4 features.*got an array of shape \(2, 5\)"),
    (np.ones((0, 4)), ValueError, r"at least one sample"),
    (np.full((2, 4), np.nan), ValueError, r"finite numbers; got 8 NaN"),
    (np.array([[1, 2, 3, np.inf]]), ValueError, r"1 NaN or infinite"),
    ([["a", "b", "c", "d"]], TypeError, r"X must be an array of numbers"),
    ("data.csv", TypeError, r"X must be a 2-D array of numbers"),
    (np.ones((2, 2, 2)), ValueError, r"Flatten each sample"),
])
def test_bad_prediction_inputs_get_a_clear_error(X, error, message):
    with pytest.raises(error, match=message):
        small_classifier().predict(X)


def test_huge_but_finite_inputs_pass_the_finiteness_check():
    from nnscratch._validation import check_features

    huge = np.full((3, 2), 1e308)  # their sum overflows; no element is infinite
    assert check_features(huge, dtype=np.float64) is not None
    huge[1, 1] = np.inf
    with pytest.raises(ValueError, match="got 1 NaN or infinite"):
        check_features(huge, dtype=np.float64)


def test_forward_checks_the_shape_of_raw_arrays():
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(n_samples, 4\)"):
        small_classifier().forward(np.ones((3, 5), dtype=np.float32))


def test_a_final_softmax_with_cross_entropy_is_refused_with_the_fix():
    net = ns.Sequential([ns.Dense(4, 3), ns.Softmax()], seed=0)
    with pytest.raises(ValueError, match=r"ends in Softmax\(\).*Remove the final Softmax"):
        net.fit(np.ones((2, 4)), [0, 1], loss="cross_entropy")


def test_float32_stays_float32_end_to_end():
    rng = np.random.default_rng(0)
    X = rng.random((16, 4))  # float64 input is cast once, at the boundary
    for activation in ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity"]:
        for loss, y in [("cross_entropy", rng.integers(0, 3, 16)),
                        ("binary_cross_entropy", rng.integers(0, 2, (16, 3))),
                        ("mse", rng.standard_normal((16, 3)))]:
            for optimizer in [ns.SGD(momentum=0.9), ns.RMSProp(), ns.Adam(), ns.AdamW()]:
                net = ns.MLP([4, 5, 3], activation=activation, dropout=0.1, seed=0)
                net.fit(X, y, loss=loss, optimizer=optimizer, epochs=1, batch_size=8)
                assert net.forward(X.astype(np.float32)).dtype == np.float32
                for name, param, grad in net.named_parameters():
                    assert param.dtype == grad.dtype == np.float32, (activation, loss, name)
                for slots in optimizer.state.values():
                    assert all(buffer.dtype == np.float32 for buffer in slots.values())


class Square(ns.Layer):
    """A user's activation: a = z**2, backward dL/dz = dL/da * 2z."""

    def forward(self, x, training=False):
        self.inputs = x
        return x**2

    def backward(self, grad_output):
        return grad_output * 2 * self.inputs


class Scale(ns.Layer):
    """A user's layer with a parameter: y = x * s, one scale per feature."""

    def __init__(self, n_features):
        super().__init__()
        self.n_features = n_features

    def initialize(self, rng, dtype=np.float32):
        self.params = {"s": rng.uniform(0.5, 1.5, self.n_features).astype(dtype)}
        self.grads = {"s": np.zeros(self.n_features, dtype=dtype)}

    def forward(self, x, training=False):
        self.inputs = x
        return x * self.params["s"]

    def backward(self, grad_output):
        self.grads["s"] = (grad_output * self.inputs).sum(axis=0)
        return grad_output * self.params["s"]


class MeanAbsoluteError(ns.Loss):
    """A user's loss: L = mean |y_hat - y|, dL/dy_hat = sign(y_hat - y) / N."""

    def forward(self, outputs, targets, sample_weight=None):
        self.residuals = outputs - targets
        return float(np.abs(self.residuals).mean())

    def backward(self):
        return np.sign(self.residuals) / self.residuals.size


def test_custom_layers_and_losses_plug_in_like_the_built_ins():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 2))
    y = X[:, :1] ** 2 + X[:, 1:]
    net = ns.Sequential([Scale(2), ns.Dense(2, 8), Square(), ns.Dense(8, 1)], seed=0)
    assert ns.check_gradients(net, X, y, loss="mse") < 1e-6
    history = net.fit(X, y, loss=MeanAbsoluteError(), optimizer=ns.Adam(lr=0.01), epochs=200,
                      batch_size=16, seed=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert "0.s" in [name for name, _, _ in net.named_parameters()]


def test_promise_the_same_layer_object_twice_is_refused():
    relu = ns.ReLU()
    with pytest.raises(ValueError, match=r"layers\[3\] must be a layer object not already in the "
                                         r"list.*same object as layers\[1\]"):
        ns.Sequential([ns.Dense(4, 5), relu, ns.Dense(5, 5), relu, ns.Dense(5, 2)], seed=0)
    dense = ns.Dense(3, 3)
    with pytest.raises(ValueError, match=r"same object as layers\[0\]"):
        ns.Sequential([dense, ns.Tanh(), dense], seed=0)
