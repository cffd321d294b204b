"""The same equations on every array library: NumPy, array-api-strict, PyTorch, CuPy.

Every layer, activation, loss and optimizer, the gradient check and whole fits run on each
backend and must give NumPy's numbers (float32 tolerance; NumPy's own results are tested
against hand derivations and PyTorch elsewhere). array-api-strict refuses anything outside the
array-API standard and any mixing of devices, so passing on it proves the equations portable.
CuPy and PyTorch-CUDA run only where a GPU is present.
"""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest
from conftest import gpu_reason, on
from numpy.testing import assert_allclose, assert_array_equal
from rounding import (
    ELEMENTWISE_ROUNDINGS,
    STEP_ROUNDINGS,
    assert_product_close,
    assert_rounding_close,
    loss_bounds,
    probability_bound,
    softmax_roundings,
    step_roundings,
)

import nnscratch as ns
from nnscratch import activations, optim
from nnscratch.backend import (
    NUMPY,
    NUMPY_NAMESPACE,
    BackendError,
    backend_of,
    get_backend,
    library_of,
    namespace,
    to_numpy,
)
from nnscratch.layers import Dense, Dropout
from nnscratch.losses import LOSSES


def standard_normal(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------------------------
# The pieces, one by one, against NumPy


@pytest.mark.parametrize("name", list(activations.FUNCTIONS))
def test_every_activation_function_and_derivative(backend, name):
    z = standard_normal((5, 4)) * 3
    for function in activations.FUNCTIONS[name]:
        result, expected = function(on(backend, z)), function(z)
        assert library_of(result) == library_of(on(backend, z))
        assert_rounding_close(to_numpy(result), expected, roundings=ELEMENTWISE_ROUNDINGS,
                              scale=np.maximum(1, np.abs(expected)), err_msg=function.__name__)
    expected = activations.softmax(z, axis=1)
    assert_rounding_close(to_numpy(activations.softmax(on(backend, z), axis=1)), expected,
                          roundings=softmax_roundings(z), scale=expected, err_msg="softmax")


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
@pytest.mark.parametrize("n_samples", [1, 6])
def test_every_activation_layer_forward_and_backward(backend, name, n_samples):
    z, grad = standard_normal((n_samples, 4)) * 3, standard_normal((n_samples, 4), seed=1)
    reference, layer = activations.ACTIVATIONS[name](), activations.ACTIVATIONS[name]()
    expected = reference.forward(z)
    # softmax's backward adds a sum over the row and two more roundings to its forward's
    roundings = (softmax_roundings(z) + z.shape[1] + 2 if name == "softmax"
                 else ELEMENTWISE_ROUNDINGS)
    assert_rounding_close(to_numpy(layer.forward(on(backend, z))), expected,
                          roundings=roundings, scale=np.maximum(1, np.abs(expected)),
                          err_msg="forward")
    assert_rounding_close(to_numpy(layer.backward(on(backend, grad))), reference.backward(grad),
                          roundings=roundings + 1, err_msg="backward",
                          scale=np.abs(grad).max(axis=1, keepdims=True)
                          * np.maximum(1, np.abs(expected)) * z.shape[1])


@pytest.mark.parametrize("n_samples", [1, 7])
def test_dense_forward_and_backward(backend, n_samples):
    """Each of the layer's four sums (z, dL/dx, dL/dW, dL/db) within the rounding of that sum
    of NumPy's: another library adds the terms in another order (tests/rounding.py)."""
    x = standard_normal((n_samples, 5))
    x[:, 1] = 0.0  # zeros: NumPy's one-sample fast form takes only the non-zero rows
    grad = standard_normal((n_samples, 3), seed=1)
    reference = Dense(5, 3)
    reference.initialize(np.random.default_rng(0))
    layer = Dense(5, 3)
    layer.initialize(np.random.default_rng(0))
    W, b = reference.params["W"].copy(), reference.params["b"].copy()
    layer.params = {key: on(backend, value) for key, value in layer.params.items()}
    assert_product_close(to_numpy(layer.forward(on(backend, x))), x, W, add=b,
                         expected=reference.forward(x), err_msg="z = x W + b")
    assert_product_close(to_numpy(layer.backward(on(backend, grad))), grad, W.T,
                         expected=reference.backward(grad), err_msg="dL/dx = g W^T")
    assert_product_close(to_numpy(layer.grads["W"]), x.T, grad, expected=reference.grads["W"],
                         err_msg="dL/dW = x^T g")
    assert_product_close(to_numpy(layer.grads["b"]), np.ones(n_samples), grad,
                         expected=reference.grads["b"], err_msg="dL/db = sum of g's rows")
    for key in ("W", "b"):
        assert library_of(layer.grads[key]) == library_of(on(backend, x))


def test_dropout_draws_the_same_mask_on_every_backend(backend):
    x = standard_normal((6, 8))
    reference, layer = Dropout(0.4), Dropout(0.4)
    reference.initialize(np.random.default_rng(3))
    layer.initialize(np.random.default_rng(3))
    output = layer.forward(on(backend, x), training=True)
    assert_array_equal(to_numpy(output), reference.forward(x, training=True))
    grad = standard_normal((6, 8), seed=1)
    assert_array_equal(to_numpy(layer.backward(on(backend, grad))), reference.backward(grad))


def _targets(loss_name, n_samples, n_outputs, rng, one_hot=False):
    if loss_name == "cross_entropy":
        labels = rng.integers(0, n_outputs, n_samples)
        return np.eye(n_outputs)[labels] if one_hot else labels
    if loss_name == "binary_cross_entropy":
        return rng.integers(0, 2, (n_samples, n_outputs)).astype(float)
    return rng.standard_normal((n_samples, n_outputs))


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("one_hot", [False, True])
def test_every_loss_value_and_gradient(backend, loss_name, weighted, one_hot):
    rng = np.random.default_rng(0)
    outputs = standard_normal((6, 3)) * 4
    targets = _targets(loss_name, 6, 3, rng, one_hot)
    weights = rng.uniform(0.5, 2, 6).astype(np.float32) if weighted else None
    reference, loss = LOSSES[loss_name](), LOSSES[loss_name]()
    expected = reference(outputs, targets, weights)
    value = loss(on(backend, outputs), targets, None if weights is None else on(backend, weights))
    if backend.is_numpy:
        assert isinstance(value, float)
    else:  # left on the device: read only where it is reported
        assert library_of(value) == backend.library and value.shape == ()
    gradient = loss.backward()
    assert library_of(gradient) == library_of(on(backend, outputs))
    bounds = loss_bounds(loss_name, outputs, targets, weights)
    (roundings, scale), (grad_roundings, grad_scale) = bounds["loss"], bounds["gradient"]
    assert_rounding_close(float(value), expected, roundings=roundings, scale=scale,
                          err_msg="loss")
    assert_rounding_close(to_numpy(gradient), reference.backward(), roundings=grad_roundings,
                          scale=grad_scale, err_msg="dL/d(outputs)")


OPTIMIZERS = {
    "sgd": lambda: optim.SGD(lr=0.1),
    "momentum+decay": lambda: optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optim.RMSProp(lr=0.01, weight_decay=0.01),
    "adam": lambda: optim.Adam(lr=0.01),
    "adam+l2": lambda: optim.Adam(lr=0.01, weight_decay=0.1),
    "adamw": lambda: optim.AdamW(lr=0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_takes_numpys_steps(backend, name):
    """Elementwise steps; another library may fuse or reorder an expression's operations, so
    the steps agree within their roundings, relative to the largest number each array holds."""
    start, grads = standard_normal((4, 3)), standard_normal((5, 4, 3), seed=1)
    reference, optimizer = OPTIMIZERS[name](), OPTIMIZERS[name]()
    expected, param = start.copy(), on(backend, start)
    for grad in grads:
        reference.step([(expected, grad)])
        optimizer.step([(param, on(backend, grad))])
    assert library_of(param) == library_of(on(backend, start))
    roundings = STEP_ROUNDINGS * len(grads)
    assert_rounding_close(to_numpy(param), expected, roundings=roundings, err_msg="parameter")
    state = optimizer.state_dict()["state"]  # saved as NumPy arrays, wherever they live
    expected_state = reference.state_dict()["state"]
    assert state.keys() == expected_state.keys()
    for index, slots in expected_state.items():
        assert slots.keys() == state[index].keys()
        for key, array in slots.items():
            assert type(state[index][key]) is np.ndarray
            assert_rounding_close(state[index][key], array, roundings=roundings, err_msg=key)


# ----------------------------------------------------------------------------------------------
# Gradient checks on every backend


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax",
                                        "identity"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_gradient_check_passes_on_every_backend(backend, activation, loss):
    rng = np.random.default_rng(0)
    net = ns.MLP([4, 6, 5, 3], activation=activation, dropout=0.2, seed=1).to(backend)
    X = rng.standard_normal((6, 4))
    errors = ns.gradcheck.gradient_errors(net, on(backend, X, "float64"),
                                          _targets(loss, 6, 3, rng), loss=loss)
    assert max(errors.values()) < 1e-6, errors
    assert net.backend == backend and net.dtype == np.float32  # the check used a copy


def test_gradient_check_catches_a_wrong_backward_on_every_backend(backend):
    class ForgetfulTanh(ns.Tanh):
        def backward(self, grad_output, input_grad=True):
            return grad_output

    net = ns.Sequential([ns.Dense(3, 4), ForgetfulTanh(), ns.Dense(4, 2)], seed=0).to(backend)
    X = standard_normal((6, 3), dtype="float64") * 2
    errors = ns.gradcheck.gradient_errors(net, X, [0, 1, 1, 0, 1, 0], loss="cross_entropy")
    assert errors["2.W"] < 1e-6 and errors["0.W"] > 1e-2


# ----------------------------------------------------------------------------------------------
# Whole fits: same seed, same numbers


def _digits(n=400):
    X, y, X_test, y_test = ns.datasets.load_digits()
    return X[:n], y[:n], X_test[:100], y_test[:100]


FITS = {
    "adam, dropout, validation split": dict(
        sizes=[64, 32, 10], dropout=0.2, loss="cross_entropy", optimizer="adam", batch_size=32,
        validation_split=0.2),
    "momentum, class weights": dict(
        sizes=[64, 16, 10], loss="cross_entropy", optimizer="momentum", batch_size=64,
        class_weight="balanced"),
    "per sample": dict(sizes=[64, 16, 10], loss="cross_entropy", optimizer="sgd", batch_size=1),
    "full batch, binary, sample weights": dict(
        sizes=[64, 8, 1], loss="binary_cross_entropy", optimizer="rmsprop", batch_size=None,
        sample_weight=True),
    "regression": dict(sizes=[64, 8, 2], loss="mse", optimizer="adamw", batch_size=16,
                       activation="tanh"),
}


def _fit(device, sizes, dropout=0.0, activation="relu", sample_weight=False, **options):
    X, y, X_test, y_test = _digits()
    if options["loss"] == "binary_cross_entropy":
        y, y_test = y % 2, y_test % 2
    if options["loss"] == "mse":
        y, y_test = np.stack([X[:, 20], X[:, 35]], 1), np.stack([X_test[:, 20], X_test[:, 35]], 1)
    weights = np.random.default_rng(5).uniform(0.5, 1.5, len(X)) if sample_weight else None
    net = ns.MLP(sizes, activation=activation, dropout=dropout, seed=0).to(device)
    history = net.fit(X, y, epochs=3, seed=0, verbose=0, sample_weight=weights, **options)
    return net, history, net.evaluate(X_test, y_test), net.predict(X_test)


def assert_same_training(history, expected, roundings, n_samples):
    """Two runs' histories (or scores) within the roundings of the steps that made them; an
    accuracy may differ by one sample, whose outputs lay within that rounding of a tie."""
    for key, values in expected.items():
        if "accuracy" in key:
            assert_allclose(history[key], values, rtol=0, atol=1.01 / n_samples, err_msg=key)
        else:
            assert_rounding_close(history[key], values, roundings=roundings, err_msg=key)


@pytest.mark.parametrize("case", list(FITS))
def test_a_fit_agrees_with_numpy_from_the_same_seed(other, case):
    """Three epochs on another library: every step rounds in another order, and carries the
    differences of the steps before; weights, losses and scores agree within the roundings of
    all the steps (tests/rounding.py), relative to their size."""
    expected_net, expected, expected_scores, expected_predictions = _fit("numpy", **FITS[case])
    net, history, scores, predictions = _fit(other, **FITS[case])
    assert net.backend == other
    assert history.history.keys() == expected.history.keys()
    batch_size = FITS[case]["batch_size"] or 400
    n_steps = 3 * int(np.ceil(400 * (1 - FITS[case].get("validation_split", 0)) / batch_size))
    roundings = n_steps * step_roundings(net, batch_size)
    assert_same_training(history.history, expected.history, roundings, 80)
    assert_same_training(scores, expected_scores, roundings, 100)
    assert type(predictions) is np.ndarray  # NumPy data in, NumPy answers out
    for mine, theirs in zip(net.get_weights(), expected_net.get_weights(), strict=True):
        assert_rounding_close(mine, theirs, roundings=roundings, err_msg="weights")


def test_everything_follows_the_data(other):
    X, y, X_test, _ = _digits()
    net = ns.MLP([64, 16, 10], seed=0)
    net.fit(on(other, X), on(other, y, "int64"), loss="cross_entropy", epochs=1, verbose=0)
    assert net.backend == other
    assert all(backend_of(param) == other for param, _ in net.parameters())
    for answer in (net.predict(on(other, X_test)), net.predict_proba(on(other, X_test)),
                   net.predict_outputs(on(other, X_test))):
        assert backend_of(answer) == other
    assert type(net.predict(X_test)) is np.ndarray  # NumPy in, NumPy out, computed there
    assert net.backend == other
    net.predict(X_test[:3].astype(np.float64))
    net.fit(X, y, epochs=2, verbose=0)  # NumPy data go to the network
    assert net.backend == other


def test_to_moves_weights_gradients_and_optimizer_state_and_back(other):
    X, y, X_test, _ = _digits()
    net = ns.MLP([64, 16, 10], seed=0)
    net.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=1, verbose=0, seed=0)
    twin = net.copy()
    net.to(other)
    for _, param, grad in net.named_parameters():
        assert backend_of(param) == other and backend_of(grad) == other
    assert all(backend_of(array) == other
               for slots in net.optimizer.state.values() for array in slots.values())
    net.fit(X, y, epochs=2, verbose=0, seed=0)  # the moved Adam state carries on
    twin.fit(X, y, epochs=2, verbose=0, seed=0)
    net.to("numpy")
    assert net.backend == NUMPY and all(type(p) is np.ndarray for p, _ in net.parameters())
    # two epochs of 13 steps elsewhere, then one forward pass; probabilities are at most 1
    roundings = 27 * step_roundings(net, 32)
    assert_rounding_close(net.predict_proba(X_test), twin.predict_proba(X_test),
                          roundings=roundings, scale=1.0)
    assert "device=" in repr(ns.MLP([2, 2], seed=0).to(other))


def test_save_from_a_device_writes_host_arrays_and_loads_the_same(other, tmp_path):
    X, y, X_test, _ = _digits()
    net = ns.MLP([64, 16, 10], seed=0).to(other)
    net.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=1, verbose=0)
    path = net.save(tmp_path / "model.npz")
    assert net.backend == other  # saving did not move it
    loaded = ns.load(path)
    assert loaded.backend == NUMPY
    # the same weights, one forward pass on each library: probabilities within its rounding
    roundings, scale = probability_bound(loaded, X_test)
    expected = net.predict_proba(X_test)
    assert_rounding_close(loaded.predict_proba(X_test), expected, roundings=roundings,
                          scale=scale)
    net.save(tmp_path / "model.safetensors")
    assert_rounding_close(ns.load(tmp_path / "model.safetensors").predict_proba(X_test), expected,
                          roundings=roundings, scale=scale)


def test_an_epoch_reads_the_device_once_not_every_step(monkeypatch):
    """On a device the loss and correct counts stay there; reading one back waits for the
    GPU. Counted on array-api-strict's arrays: the reads per epoch do not grow with the
    number of steps."""
    array_type = type(get_backend("array_api_strict").asarray(np.ones(1)))
    reads = []
    for method in ("__float__", "__int__", "__bool__", "__index__", "__dlpack__"):
        original = getattr(array_type, method)

        def counted(self, _original=original, _method=method):
            reads.append(_method)
            return _original(self)

        monkeypatch.setattr(array_type, method, counted)
    X, y, _, _ = _digits(512)
    counts = {}
    for batch_size in (128, 8):  # 4 and 64 steps an epoch
        net = ns.MLP([64, 16, 10], seed=0).to("array_api_strict")
        net.fit(X, y, loss="cross_entropy", epochs=1, batch_size=batch_size, verbose=0)
        reads.clear()
        net.fit(X, y, epochs=3, batch_size=batch_size, verbose=0)
        counts[batch_size] = len(reads)
    assert counts[8] == counts[128] < 3 * 10, counts


def test_divergence_on_a_device_restores_the_epochs_weights(other):
    X, y, _, _ = _digits()
    net = ns.MLP([64, 16, 10], seed=0).to(other)
    net.fit(X, y, loss="cross_entropy", epochs=1, verbose=0)
    before = net.get_weights()
    with pytest.raises(ns.TrainingDivergedError, match=r"during epoch 2|end of epoch 2"):
        net.fit(X * 1e30, y, optimizer=ns.SGD(lr=1e10), epochs=2, initial_epoch=1, verbose=0)
    for now, then in zip(net.get_weights(), before, strict=True):
        assert_array_equal(now, then)


def test_device_data_are_checked_where_they_are(other):
    net = ns.MLP([3, 2], seed=0, loss="cross_entropy")
    bad = on(other, np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"X must contain only finite numbers; got 1 NaN"):
        net.predict(bad)
    with pytest.raises(ValueError, match=r"X must be an array with 3 features"):
        net.predict(on(other, np.ones((2, 4))))
    with pytest.raises(ValueError, match=r"X must be a 2-D array .* For one sample use"):
        net.predict(on(other, np.ones(3)))
    with pytest.raises(ValueError, match=r"y must hold class labels in 0..1"):
        net.fit(on(other, np.ones((2, 3))), on(other, np.array([0, 5]), "int64"), verbose=0)


# ----------------------------------------------------------------------------------------------
# Naming a backend


@pytest.mark.parametrize("spec, library", [("numpy", "numpy"), ("CPU", "numpy"),
                                           ("array_api_strict", "array_api_strict"),
                                           ("torch:cpu", "torch"), ("torch", "torch")])
def test_backends_by_name(spec, library):
    assert get_backend(spec).library == library
    assert get_backend(get_backend(spec)) == get_backend(spec)


@pytest.mark.parametrize("spec, message", [
    ("tpu", r"device must be one of 'numpy', 'cuda\[:N\]'.*got 'tpu'"),
    (3, r"device must be a name such as .*got 3 \(int\)"),
    ("torch:xla", r"'torch:cpu' or 'torch:cuda\[:N\]'; got 'xla'"),
    ("torch:cuda:x", r"the GPU number after ':' must be a whole number"),
])
def test_a_bad_device_name_is_a_clear_error(spec, message):
    with pytest.raises(BackendError, match=message):
        get_backend(spec)


@pytest.mark.skipif(gpu_reason("cuda") is None, reason="this machine has a GPU")
@pytest.mark.parametrize("spec", ["cuda", "cuda:1", "torch:cuda", "cupy", "torch:cuda:3"])
def test_a_gpu_device_without_a_gpu_says_how_to_get_one(spec):
    with pytest.raises(BackendError, match=r"(GPU|nnscratch\[cuda12\]|nnscratch\[torch\])"):
        get_backend(spec)


def test_a_missing_library_names_the_extra_to_install(monkeypatch):
    real_import = importlib.import_module

    def no_torch(name, *args):
        if name.split(".")[0] == "torch":
            raise ImportError(name)
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_torch)
    with pytest.raises(BackendError, match=r"torch.*pip install 'nnscratch\[torch\]'"):
        get_backend("torch:cpu")


def test_numpy_arrays_need_nothing_but_numpy():
    x = np.ones((2, 2))
    assert namespace(x) is NUMPY_NAMESPACE and NUMPY.xp is NUMPY_NAMESPACE
    assert NUMPY_NAMESPACE.exp is np.exp and NUMPY_NAMESPACE.float32 is np.float32
    assert library_of(x) is None and library_of([[1.0]]) is None
    assert backend_of(x) == NUMPY


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_numpys_reductions_called_as_methods_are_numpys_functions_bit_for_bit(axis, keepdims):
    x = standard_normal((33, 17)) * 100
    xp = NUMPY_NAMESPACE
    for name in ("sum", "mean", "max", "argmax"):
        assert_array_equal(getattr(xp, name)(x, axis=axis, keepdims=keepdims),
                           getattr(np, name)(x, axis=axis, keepdims=keepdims), err_msg=name)
    assert_array_equal(xp.astype(x > 0, np.float32), np.astype(x > 0, np.float32))
    assert xp.astype(x, np.float32, copy=False) is x


# ----------------------------------------------------------------------------------------------
# The command line: nnscratch train --device


def _train(device, folder, capsys):
    from nnscratch.cli import main

    code = main(["train", "--device", device, "--epochs", "4", "--layers", "32",
                 "--no-plots", "--verbose", "0", "--out", str(folder)])
    output = capsys.readouterr()
    return code, output.out, output.err


def test_train_on_another_device_gives_the_cpus_result(tmp_path, capsys):
    results = {}
    for device in ("cpu", "torch:cpu"):
        code, out, _ = _train(device, tmp_path / device.replace(":", "-"), capsys)
        assert code == 0, out
        results[device] = float(out.strip().splitlines()[-1].split(": ")[1])
        config = json.loads((tmp_path / device.replace(":", "-") / "config.json").read_text())
        assert config["device"] == str(get_backend(device))
    assert results["torch:cpu"] == pytest.approx(results["cpu"], abs=0.006)  # one test digit
    loaded = ns.load(tmp_path / "torch-cpu" / "model.npz")  # saved as host arrays
    assert loaded.backend == NUMPY


@pytest.mark.parametrize("device, message", [
    ("tpu", r"--device: device must be one of 'numpy', 'cuda"),
    pytest.param("cuda", r"--device: device 'cuda'.*(GPU|nnscratch\[)", marks=pytest.mark.skipif(
        gpu_reason("cuda") is None, reason="this machine has a GPU")),
])
def test_train_refuses_a_device_it_cannot_use_before_reading_data(tmp_path, capsys, device,
                                                                   message):
    code, _, err = _train(device, tmp_path / "run", capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()


def test_the_tools_read_a_network_on_any_device(other):
    from conftest import HAS_MATPLOTLIB

    net = ns.MLP([64, 16, 10], seed=0, loss="cross_entropy").to(other)
    host = ns.MLP([64, 16, 10], seed=0, loss="cross_entropy")
    X, y, _, _ = _digits(8)
    assert net.summary() == host.summary()
    assert net.explain() == host.explain()
    assert net.trace(X[:2], y[:2]) == host.trace(X[:2], y[:2])
    assert all(type(weights) is np.ndarray for weights in net.get_weights())
    twin = net.copy()
    assert twin.backend == other and twin.layers[0].params["W"] is not net.layers[0].params["W"]
    if HAS_MATPLOTLIB:
        from nnscratch import plots

        figure = plots.plot_activation_histograms(net, on(other, X))
        assert len(figure.axes) == 1
    assert net.backend == other  # reading it did not move it


def test_train_on_batch_and_evaluate_follow_the_data_too(other):
    X, y, X_test, y_test = _digits()
    net = ns.MLP([64, 16, 10], seed=0)
    logs = net.train_on_batch(on(other, X[:32]), on(other, y[:32], "int64"),
                              loss="cross_entropy", optimizer="sgd")
    assert net.backend == other and isinstance(logs["loss"], float)
    twin = ns.MLP([64, 16, 10], seed=0)
    expected = twin.train_on_batch(X[:32], y[:32], loss="cross_entropy", optimizer="sgd")
    one_step = step_roundings(net, 32)
    assert_rounding_close(logs["loss"], expected["loss"], roundings=one_step, err_msg="loss")
    scores = net.evaluate(on(other, X_test), on(other, y_test, "int64"))
    assert_same_training(scores, twin.evaluate(X_test, y_test), 2 * one_step, len(y_test))


def test_a_torch_tensor_that_requires_grad_is_data_like_any_other():
    torch = pytest.importorskip("torch")
    X, y, X_test, _ = _digits()
    inputs = torch.tensor(X, requires_grad=True)
    net = ns.MLP([64, 16, 10], seed=0)
    net.fit(inputs, torch.tensor(y), loss="cross_entropy", epochs=1, verbose=0)
    outputs = net.predict_proba(torch.tensor(X_test, requires_grad=True))
    assert not outputs.requires_grad
    assert all(not param.requires_grad for param, _ in net.parameters())
