"""Dense and Dropout: forward values, backward against finite differences, contracts, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import input_gradient_check, on
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from rounding import assert_product_close

import nnscratch as ns
from nnscratch import _fast
from nnscratch.backend import to_numpy
from nnscratch.layers import Dense, Dropout, Layer


def built_dense(in_features, out_features, seed=0, dtype=np.float64):
    layer = Dense(in_features, out_features, init="glorot_normal")
    layer.initialize(np.random.default_rng(seed), dtype)
    layer.params["b"][...] = np.random.default_rng(seed + 1).standard_normal(out_features)
    return layer


def backward_as_a_network_does(layer, grad_output, input_grad=True):
    """The fast form where Sequential.backward takes it (one NumPy sample), else the plain."""
    if _fast.takes_dense_backward(layer, grad_output):
        return _fast.dense_backward(layer, grad_output, input_grad)
    return layer.backward(grad_output, input_grad)


def built_dense_on(backend, in_features, out_features):
    layer = built_dense(in_features, out_features)
    host = {key: value.copy() for key, value in layer.params.items()}
    layer.params = {key: on(backend, value, "float64") for key, value in host.items()}
    return layer, host


def test_dense_forward_is_x_times_w_plus_b(backend):
    layer, host = built_dense_on(backend, 3, 2)
    x = np.arange(6.0).reshape(2, 3)
    assert_allclose(to_numpy(layer.forward(on(backend, x, "float64"))),
                    x @ host["W"] + host["b"])


@pytest.mark.parametrize("rows", [[0, 1], [1]])  # two samples, and one (NumPy's fast form)
def test_dense_backward_gives_the_three_gradients_by_hand(backend, rows):
    layer, host = built_dense_on(backend, 3, 2)
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])[rows]
    grad_output = np.array([[1.0, -2.0], [0.5, 4.0]])[rows]
    layer.forward(on(backend, x, "float64"))
    grad_input = layer.backward(on(backend, grad_output, "float64"))
    assert_allclose(to_numpy(layer.grads["W"]), x.T @ grad_output)
    assert_allclose(to_numpy(layer.grads["b"]), grad_output.sum(axis=0))
    assert_allclose(to_numpy(grad_input), grad_output @ host["W"].T)


@given(n_samples=st.integers(1, 5), in_features=st.integers(1, 6), out_features=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_dense_gradients_match_finite_differences(n_samples, in_features, out_features, seed):
    rng = np.random.default_rng(seed)
    layer = built_dense(in_features, out_features, seed)
    input_error, param_errors = input_gradient_check(layer, rng.standard_normal((n_samples, in_features)), rng)
    assert input_error < 1e-6
    assert set(param_errors) == {"W", "b"}
    assert max(param_errors.values()) < 1e-6


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("n_samples", [1, 2, 7])
def test_dense_fast_backward_equals_the_plain_equations(n_samples, input_grad):
    """_fast.dense_backward takes an outer product for one sample; it must give what
    the plain lines of backward give (within the rounding of each sum: the BLAS adds in
    another order for an outer product than for a product), and skip dL/dx when not wanted."""
    rng = np.random.default_rng(n_samples)
    x = rng.standard_normal((n_samples, 5)).astype(np.float32)
    grad_output = rng.standard_normal((n_samples, 4)).astype(np.float32)
    results = {}
    for fast in (False, True):
        layer = built_dense(5, 4, dtype=np.float32)
        layer.forward(x)
        backward = backward_as_a_network_does if fast else type(layer).backward
        results[fast] = (backward(layer, grad_output, input_grad), dict(layer.grads))
    (plain_dx, plain), (fast_dx, fast) = results[False], results[True]
    weights = built_dense(5, 4, dtype=np.float32).params["W"]
    assert_product_close(plain["W"], x.T, grad_output, err_msg="plain dL/dW")
    assert_product_close(fast["W"], x.T, grad_output, expected=plain["W"], err_msg="dL/dW")
    assert_product_close(fast["b"], np.ones(n_samples), grad_output, expected=plain["b"],
                         err_msg="dL/db")
    if input_grad:
        assert_product_close(fast_dx, grad_output, weights.T, expected=plain_dx, err_msg="dL/dx")
    else:
        assert fast_dx is None and plain_dx is None


@pytest.mark.parametrize("sparse", [False, True])
def test_one_sample_backward_takes_a_gradient_of_another_dtype_as_the_plain_lines_do(sparse):
    """A float32 layer given float64 dL/dz (a custom loss, say): the one-sample forms must
    not fail on writing into float32 arrays, and must give what the batch lines give."""
    rng = np.random.default_rng(3)
    x = sparse_sample(rng, 30, 0.1) if sparse else rng.standard_normal((1, 30)).astype(np.float32)
    grad_output = rng.standard_normal((1, 4))  # float64
    results = {}
    for fast in (False, True):
        layer = built_dense(30, 4, dtype=np.float32)
        layer.forward(x)
        backward = _fast.dense_backward if fast else type(layer).backward
        results[fast] = (backward(layer, grad_output), dict(layer.grads))
    (plain_dx, plain), (fast_dx, fast) = results[False], results[True]
    weights = built_dense(30, 4, dtype=np.float32).params["W"]
    assert_product_close(fast_dx, grad_output, weights.T, expected=plain_dx, err_msg="dL/dx")
    assert_product_close(fast["W"], x.T, grad_output, err_msg="dL/dW")
    assert_product_close(fast["W"], x.T, grad_output, expected=plain["W"], err_msg="dL/dW")
    assert_product_close(fast["b"], np.ones(1), grad_output, err_msg="dL/db")


def test_dense_params_and_grads_share_keys_shapes_and_dtype():
    layer = Dense(4, 3)
    layer.initialize(np.random.default_rng(0), np.float32)
    assert layer.params.keys() == layer.grads.keys() == {"W", "b"}
    assert layer.params["W"].shape == (4, 3) and layer.params["b"].shape == (3,)
    for name in layer.params:
        assert layer.grads[name].shape == layer.params[name].shape
        assert layer.params[name].dtype == layer.grads[name].dtype == np.float32
    assert_array_equal(layer.params["b"], 0)


def test_dense_keeps_float32_through_backward():
    layer = Dense(4, 3)
    layer.initialize(np.random.default_rng(0), np.float32)
    x = np.ones((2, 4), dtype=np.float32)
    out = layer.forward(x)
    grad = layer.backward(np.ones_like(out))
    assert out.dtype == grad.dtype == layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32


def test_dense_without_weights_says_how_to_get_them():
    with pytest.raises(RuntimeError, match=r"no weights yet.*Sequential"):
        Dense(2, 3).forward(np.ones((1, 2)))


@pytest.mark.parametrize("arguments, error, message", [
    ((0, 3), ValueError, r"in_features must be an integer >= 1; got 0"),
    ((3, -2), ValueError, r"out_features must be an integer >= 1; got -2"),
    ((2.5, 3), TypeError, r"in_features must be an integer >= 1; got 2.5"),
    ((True, 3), TypeError, r"in_features must be an integer"),
])
def test_dense_rejects_bad_sizes(arguments, error, message):
    with pytest.raises(error, match=message):
        Dense(*arguments)


def test_dense_rejects_an_unknown_initialiser_by_name():
    with pytest.raises(ValueError, match=r"init must be one of .*he_normal"):
        Dense(2, 3, init="kaiming")


def test_dropout_is_the_identity_at_inference():
    layer = Dropout(0.5)
    layer.initialize(np.random.default_rng(0))
    x = np.arange(12.0).reshape(3, 4)
    assert layer.forward(x, training=False) is x
    assert layer.backward(x) is x


def test_dropout_scales_survivors_and_backward_uses_the_same_mask():
    layer = Dropout(0.25)
    layer.initialize(np.random.default_rng(0))
    x = np.ones((200, 50), dtype=np.float32)
    out = layer.forward(x, training=True)
    kept = out != 0
    assert_allclose(out[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01
    assert_array_equal(layer.backward(np.ones_like(x)), out)
    assert out.dtype == np.float32


def test_dropout_preserves_the_mean_in_expectation():
    layer = Dropout(0.5)
    layer.initialize(np.random.default_rng(3))
    out = layer.forward(np.ones((1000, 100)), training=True)
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_masks_are_fixed_by_the_seed():
    first, second = Dropout(0.5), Dropout(0.5)
    first.initialize(np.random.default_rng(7))
    second.initialize(np.random.default_rng(7))
    x = np.ones((5, 5))
    assert_array_equal(first.forward(x, training=True), second.forward(x, training=True))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2.0])
def test_dropout_rejects_rates_outside_0_1(rate):
    with pytest.raises(ValueError, match=r"rate must be a real number in \[0, 1\); got"):
        Dropout(rate)


def test_a_subclass_must_implement_forward_and_backward():
    layer = Layer()
    with pytest.raises(NotImplementedError, match="forward"):
        layer.forward(np.ones((1, 1)))
    with pytest.raises(NotImplementedError, match="backward"):
        layer.backward(np.ones((1, 1)))


@pytest.mark.parametrize("init, message", [
    (lambda shape, rng, dtype: np.zeros((shape[1], shape[0]), dtype), "of shape \\(4, 3\\)"),
    (lambda shape, rng, dtype: np.zeros(shape, dtype=bool), "a real array"),
    (lambda shape, rng, dtype: np.zeros(shape, dtype=complex), "a real array"),
    (lambda shape, rng, dtype: [[0.0] * shape[1]] * shape[0], "a real array"),
    (lambda shape, rng, dtype: np.full(shape, np.nan), "finite weights"),
])
def test_promise_a_custom_initialiser_returning_the_wrong_thing_is_refused(init, message):
    with pytest.raises(ValueError, match=message):
        ns.Sequential([ns.Dense(4, 3, init=init)], seed=0)


def test_a_custom_initialiser_in_another_float_dtype_is_cast_to_the_network_dtype():
    net = ns.Sequential([ns.Dense(4, 3, init=lambda shape, rng, dtype: np.ones(shape))], seed=0)
    assert net.layers[0].params["W"].dtype == np.float32
    assert (net.layers[0].params["W"] == 1).all()


def sparse_sample(rng, n_features, share):
    x = rng.standard_normal((1, n_features)).astype(np.float32)
    x[0, rng.random(n_features) > share] = 0.0
    return x


@pytest.mark.parametrize("keep_sparse_rows", [False, True])
def test_one_sample_fast_forms_equal_the_plain_equations_through_sparse_and_dense_inputs(
        keep_sparse_rows):
    """The one-sample forms, keeping sparse rows (as fit does for plain SGD) or not: the forward output, dL/db and dL/dx must equal the plain lines, and dL/dW too,
    complete or as the rows it keeps (zero on every other row), whatever came before: a
    dense sample, a batch, a sample with other non-zero rows, an all-zero sample. Equal within
    the rounding of each sum: the fast forms leave out the zero terms and call other BLAS
    routines, which add in another order."""
    rng = np.random.default_rng(0)
    fast, plain = built_dense(40, 6, dtype=np.float32), built_dense(40, 6, dtype=np.float32)
    fast.keep_sparse_rows = keep_sparse_rows
    inputs = [sparse_sample(rng, 40, 0.1), sparse_sample(rng, 40, 0.2),
              rng.standard_normal((1, 40)).astype(np.float32),  # dense: the complete route
              sparse_sample(rng, 40, 0.1), rng.standard_normal((3, 40)).astype(np.float32),
              sparse_sample(rng, 40, 0.05), np.zeros((1, 40), dtype=np.float32)]
    kept_sparse = 0
    W, b = plain.params["W"], plain.params["b"]
    for x in inputs:
        g = rng.standard_normal((len(x), 6)).astype(np.float32)
        assert_product_close(fast.forward(x), x, W, add=b, expected=plain.forward(x))
        assert_product_close(backward_as_a_network_does(fast, g), g, W.T,
                             expected=plain.backward(g))
        assert_product_close(fast.grads["b"], np.ones(len(x)), g)
        rows = fast.sparse_rows.get("W")
        if rows is None:
            assert_product_close(fast.grads["W"], x.T, g)
            continue
        kept_sparse += 1
        assert keep_sparse_rows and len(x) == 1 and len(rows) <= _fast.SPARSE_INPUTS * 40
        outside = np.setdiff1d(np.arange(40), rows)
        assert not x[0, outside].any()  # every row left out has a zero gradient
        assert_product_close(fast.grads["W"], x.T[rows], g)
        fast.complete_sparse_rows()
        assert fast.sparse_rows == {} and fast.grads["W"].shape == (40, 6)
        assert_product_close(fast.grads["W"], x.T, g)
    assert kept_sparse == (5 if keep_sparse_rows else 0)  # the four sparse samples and the zeros


@given(in_features=st.integers(1, 60), out_features=st.integers(1, 8),
       share=st.floats(0.0, 1.0), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_a_gradients_sparse_rows_and_their_sgd_step_equal_the_complete_ones(
        in_features, out_features, share, dtype, seed):
    """Any width, any share of zeros, either float: the one-sample dL/dW kept on its sparse rows,
    written out, is x.T g, and plain SGD on its rows moves W exactly as on the complete one."""
    rng = np.random.default_rng(seed)
    x = sparse_sample(rng, in_features, share).astype(dtype)
    g = rng.standard_normal((1, out_features)).astype(dtype)
    layer = built_dense(in_features, out_features, seed, dtype=dtype)
    layer.keep_sparse_rows = True
    layer.forward(x)
    _fast.dense_backward(layer, g)
    rows = layer.sparse_rows.get("W")
    assert (rows is not None) == (np.count_nonzero(x) <= _fast.SPARSE_INPUTS * in_features)
    complete = np.zeros((in_features, out_features), dtype=dtype)
    complete[...] = x.T @ g
    by_rows, by_complete = layer.params["W"].copy(), layer.params["W"].copy()
    _fast.step(ns.SGD(lr=0.1), [(by_rows, layer.grads["W"])], [rows])
    ns.SGD(lr=0.1).step([(by_complete, complete)])
    assert_array_equal(by_rows, by_complete)
    layer.complete_sparse_rows()
    assert_array_equal(layer.grads["W"], complete)

