"""Optimizers against steps derived by hand; state save/restore; schedules; bad arguments.

Each hand-derived case starts from theta = 1 with gradient g = 0.5 and lr = 0.1.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import pytest
from conftest import on
from numpy.testing import assert_allclose, assert_array_equal
from rounding import STEP_ROUNDINGS, assert_rounding_close

from nnscratch import _fast, optim
from nnscratch.backend import to_numpy


def run_steps(optimizer, n_steps=1, theta=1.0, grad=0.5, backend=None, fast=False):
    """theta after ``n_steps`` steps with gradient ``grad``, in float64 on ``backend``, by
    ``optimizer.step`` or (``fast``) by the fast forms fit takes."""
    param, gradient = np.array([theta]), np.array([grad])
    if backend is not None:
        param, gradient = on(backend, param, "float64"), on(backend, gradient, "float64")
    for _ in range(n_steps):
        if fast:
            _fast.step(optimizer, [(param, gradient)])
        else:
            optimizer.step([(param, gradient)])
    return float(to_numpy(param)[0])


@pytest.mark.parametrize("optimizer, n_steps, expected", [
    # theta - lr g = 1 - 0.1 * 0.5
    (optim.SGD(lr=0.1), 1, 0.95),
    # step 1: v = 0.5, theta = 0.95; step 2: v = 0.9 * 0.5 + 0.5 = 0.95, theta = 0.95 - 0.095
    (optim.SGD(lr=0.1, momentum=0.9), 2, 0.855),
    # v = 0.5; Nesterov uses g + mu v = 0.5 + 0.45 = 0.95; theta = 1 - 0.095
    (optim.SGD(lr=0.1, momentum=0.9, nesterov=True), 1, 0.905),
    # L2: g = 0.5 + 0.1 * 1 = 0.6; theta = 1 - 0.06
    (optim.SGD(lr=0.1, weight_decay=0.1), 1, 0.94),
    # s = 0.1 * 0.25 = 0.025; theta = 1 - 0.1 * 0.5 / sqrt(0.025)
    (optim.RMSProp(lr=0.1, rho=0.9, eps=1e-12), 1, 1 - 0.05 / math.sqrt(0.025)),
    # the first bias-corrected Adam step has size lr: m_hat = 0.5, v_hat = 0.25
    (optim.Adam(lr=0.1, eps=1e-12), 1, 0.9),
    # AdamW: decay first, theta = 1 - 0.1 * 0.1 * 1 = 0.99; then the Adam step of size lr
    (optim.AdamW(lr=0.1, weight_decay=0.1, eps=1e-12), 1, 0.89),
    # Adam with L2: g = 0.6, and the first step still has size lr
    (optim.Adam(lr=0.1, weight_decay=0.1, eps=1e-12), 1, 0.9),
])
@pytest.mark.parametrize("fast", [False, True])
def test_update_rules_match_hand_derived_steps(optimizer, n_steps, expected, fast, backend):
    optimizer = copy.deepcopy(optimizer)  # the fast forms are NumPy's; elsewhere the plain lines
    assert run_steps(optimizer, n_steps, backend=backend, fast=fast) == pytest.approx(expected,
                                                                                      rel=1e-9)


@pytest.mark.parametrize("make", [
    lambda: optim.Adam(lr=0.01), lambda: optim.Adam(lr=0.01, weight_decay=0.1),
    lambda: optim.AdamW(lr=0.01), lambda: optim.AdamW(lr=0.01, beta1=0.5, weight_decay=0.3),
])
def test_the_fast_adam_agrees_with_the_plain_equations(make):
    """The in-place Adam of _fast.py (its own lines, so this can fail) against Adam.adam_step,
    over five steps; the fast one must have run (its scratch arrays exist), the plain one not."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 3)).astype(np.float32)
    grads = rng.standard_normal((5, 4, 3)).astype(np.float32)
    results = []
    for fast in (False, True):
        optimizer, param = make(), start.copy()
        for grad in grads:
            if fast:
                _fast.step(optimizer, [(param, grad)])
            else:
                optimizer.step([(param, grad)])
        assert ("_scratch" in vars(optimizer)) == fast
        results.append(param)
    # the fast form fuses and reorders each step's elementwise operations
    assert_rounding_close(results[1], results[0], roundings=STEP_ROUNDINGS * len(grads))
    assert not np.array_equal(results[0], start)


def test_adam_second_step_by_hand():
    # step 2 with g = 0.5 again: m = 0.9*0.05 + 0.05 = 0.095, m_hat = 0.095 / 0.19 = 0.5;
    # v = 0.999*0.00025 + 0.00025 = 0.00049975, v_hat = 0.00049975 / 0.001999 = 0.25
    assert run_steps(optim.Adam(lr=0.1, eps=1e-12), 2) == pytest.approx(0.8, rel=1e-9)


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: optim.RMSProp(lr=0.01), lambda: optim.Adam(lr=0.01), lambda: optim.AdamW(lr=0.01),
])
def test_updates_are_in_place_and_keep_float32(make):
    optimizer = make()
    param = np.ones((3, 2), dtype=np.float32)
    before = param
    for _ in range(3):
        optimizer.step([(param, np.full((3, 2), 0.5, dtype=np.float32))])
    assert param is before and param.dtype == np.float32
    assert all(buffer.dtype == np.float32 for slots in optimizer.state.values()
               for buffer in slots.values())


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(lr=0.1, momentum=0.9), lambda: optim.RMSProp(lr=0.01),
    lambda: optim.Adam(lr=0.01), lambda: optim.AdamW(lr=0.01),
])
def test_state_dict_restores_an_identical_continuation(make):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(4) for _ in range(6)]
    straight, param = make(), np.ones(4)
    for grad in grads:
        straight.step([(param, grad)])

    first_half, resumed_param = make(), np.ones(4)
    for grad in grads[:3]:
        first_half.step([(resumed_param, grad)])
    resumed = make()
    resumed.load_state_dict(first_half.state_dict())
    for grad in grads[3:]:
        resumed.step([(resumed_param, grad)])
    assert_array_equal(resumed_param, param)
    assert resumed.steps == 6


def test_state_dict_is_a_copy():
    optimizer = optim.SGD(lr=0.1, momentum=0.9)
    run_steps(optimizer)
    saved = optimizer.state_dict()
    run_steps(optimizer)
    assert saved["state"][0]["velocity"][0] == pytest.approx(0.5)


def test_loading_another_optimizers_state_is_refused():
    with pytest.raises(ValueError, match="state must come from a SGD; got the state of a 'Adam'"):
        optim.SGD().load_state_dict(optim.Adam().state_dict())


def test_get_optimizer_by_name():
    momentum = optim.get_optimizer("momentum", lr=0.05)
    assert isinstance(momentum, optim.SGD) and momentum.momentum == 0.9 and momentum.lr == 0.05
    assert isinstance(optim.get_optimizer("adam"), optim.Adam)
    with pytest.raises(ValueError, match=r"optimizer must be one of 'sgd', 'momentum'"):
        optim.get_optimizer("adagrad")


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD(lr=0), r"lr must be a real number > 0; got 0 \(int\)"),
    (lambda: optim.SGD(lr=-1), r"lr must be .*; got -1 .*positive"),
    (lambda: optim.SGD(lr=float("nan")), r"lr must be"),
    (lambda: optim.SGD(momentum=1.0), r"momentum must be a real number in \[0, 1\)"),
    (lambda: optim.SGD(nesterov=True), r"nesterov=True needs momentum > 0"),
    (lambda: optim.Adam(beta1=1.0), r"beta1 must be"),
    (lambda: optim.RMSProp(eps=0), r"eps must be"),
    (lambda: optim.Adam(weight_decay=-0.1), r"weight_decay must be"),
])
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_learning_rate_must_be_a_number():
    with pytest.raises(TypeError, match=r"lr must be a real number.*got '0.1' \(str\)"):
        optim.SGD(lr="0.1")


def test_schedules():
    assert [optim.StepDecay(2, 0.5)(epoch, 1.0) for epoch in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert_allclose([optim.ExponentialDecay(0.9)(epoch, 2.0) for epoch in range(3)],
                    [2.0, 1.8, 1.62])
    cosine = optim.CosineDecay(total_epochs=4, min_lr=0.1)
    assert_allclose([cosine(epoch, 1.1) for epoch in (0, 2, 4, 9)], [1.1, 0.6, 0.1, 0.1])


def test_get_optimizer_never_drops_a_learning_rate():
    adam = optim.Adam(lr=0.01)
    assert optim.get_optimizer(adam, lr=0.01) is adam and optim.get_optimizer(adam) is adam
    with pytest.raises(ValueError, match=r"lr=0.5 was given with the optimizer Adam"):
        optim.get_optimizer(adam, lr=0.5)


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(lr=0.1),  # updates the rows alone
    lambda: optim.SGD(lr=0.1, momentum=0.9),  # decays every row: gets the gradient in full
    lambda: optim.SGD(lr=0.1, weight_decay=0.01), lambda: optim.Adam(lr=0.01),
    lambda: optim.RMSProp(lr=0.01), lambda: optim.AdamW(lr=0.01),
])
@pytest.mark.parametrize("fast", [False, True])
def test_a_gradients_sparse_rows_give_the_update_of_the_complete_gradient(make, fast):
    """sparse_rows marks a gradient that holds only some rows (the others zero): every
    optimizer, fast or plain, must move the parameter as the complete gradient would."""
    rng = np.random.default_rng(1)
    start = rng.standard_normal((8, 3))
    full, sparse = start.copy(), start.copy()
    full_optimizer, sparse_optimizer = make(), make()
    step = functools.partial(_fast.step, sparse_optimizer) if fast else sparse_optimizer.step
    for rows in ([1, 4, 6], [0, 4], [7]):
        rows = np.array(rows)
        on_rows = rng.standard_normal((len(rows), 3))
        complete = np.zeros((8, 3))
        complete[rows] = on_rows
        full_optimizer.step([(full, complete)])
        step([(sparse, on_rows)], [rows])
        assert_allclose(sparse, full, rtol=1e-12, atol=1e-15)
    assert not np.array_equal(full, start)
    plain_sgd = make()
    assert plain_sgd.updates_sparse_rows() == (type(plain_sgd) is optim.SGD
                                           and not plain_sgd.momentum
                                           and not plain_sgd.weight_decay)


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(lr=0.1, momentum=0.9), lambda: optim.RMSProp(lr=0.01),
    lambda: optim.Adam(lr=0.01), lambda: optim.AdamW(lr=0.01),
])
def test_state_that_decays_towards_subnormal_floats_is_flushed_without_changing_the_weights(
        make, monkeypatch):
    """A few gradients, then a thousand zero ones (a pixel that stays black): the moments
    decay geometrically into the subnormal floats, where arithmetic is slow. Flushed, no
    state value is ever subnormal; the weights end exactly where the unflushed steps go."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((6, 4)).astype(np.float32)
    grads = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(3)]
    zero = np.zeros((6, 4), dtype=np.float32)
    smallest_normal = np.finfo(np.float32).tiny
    results = {}
    for flush_every in (_fast.FLUSH_EVERY, 10**9):
        monkeypatch.setattr(_fast, "FLUSH_EVERY", flush_every)
        optimizer, param = make(), start.copy()
        subnormal_steps = 0
        for grad in grads + [zero] * 1000:
            _fast.step(optimizer, [(param, grad)])
            subnormal_steps += any(np.any((array != 0) & (np.abs(array) < smallest_normal))
                                   for array in optimizer.state[0].values())
        results[flush_every] = (param, subnormal_steps)
    (flushed, flushed_subnormal), (plain, plain_subnormal) = results.values()
    assert flushed_subnormal == 0 and plain_subnormal > 0
    assert_array_equal(flushed, plain)
