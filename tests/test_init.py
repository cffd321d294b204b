"""Initialisers: the variance each rule promises, dtypes, and reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nnscratch import init

SHAPE = (400, 300)
EXPECTED_VARIANCE = {
    "he_normal": 2 / 400,
    "he_uniform": 2 / 400,
    "glorot_normal": 2 / 700,
    "glorot_uniform": 2 / 700,
    "standard_normal": 1.0,
    "uniform": 1 / 3,  # U(-1, 1)
    "zeros": 0.0,
}


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_each_initialiser_has_the_variance_its_rule_promises(name):
    weights = init.get_initializer(name)(SHAPE, np.random.default_rng(0), np.float64)
    assert weights.shape == SHAPE
    assert math.isclose(weights.var(), EXPECTED_VARIANCE[name], rel_tol=0.03, abs_tol=1e-12)
    assert abs(weights.mean()) < 0.01


@pytest.mark.parametrize("name", ["he_uniform", "glorot_uniform"])
def test_uniform_rules_stay_inside_their_limit(name):
    weights = init.get_initializer(name)(SHAPE, np.random.default_rng(0), np.float64)
    limit = math.sqrt(3 * EXPECTED_VARIANCE[name])
    assert np.abs(weights).max() <= limit


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisers_honour_the_dtype_and_the_seed(name, dtype):
    rule = init.get_initializer(name)
    first = rule((5, 4), np.random.default_rng(11), dtype)
    second = rule((5, 4), np.random.default_rng(11), dtype)
    assert first.dtype == dtype
    assert_array_equal(first, second)


def test_a_callable_passes_through():
    def custom(shape, rng, dtype):
        return np.full(shape, 0.5, dtype=dtype)

    assert init.get_initializer(custom) is custom
