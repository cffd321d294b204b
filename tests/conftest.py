"""Shared fixtures and helpers for the nnscratch tests."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from nnscratch.backend import BackendError, get_backend

settings.register_profile("nnscratch", deadline=None, max_examples=30, derandomize=True)
settings.load_profile("nnscratch")


def pytest_collection_modifyitems(config, items):
    """In CI the PyTorch reference tests must run: a missing torch is a failure, not a skip."""
    if os.environ.get("CI") and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError("CI is set but torch is not installed: the reference tests "
                                "would be skipped. Install torch==2.13.0 (see .ci/run).")


# ---- the array libraries and devices the math runs on (see tests/test_backends.py) -------------

def gpu_reason(spec: str) -> str | None:
    """Why ``spec`` cannot run here (None: it can)."""
    try:
        get_backend(spec)
    except BackendError as error:
        return f"no GPU run: {str(error).split('. ')[0]}"
    return None


def _gpu_param(spec: str, module: str):
    """A GPU backend: run where it can, else skipped with the reason."""
    if importlib.util.find_spec(module) is None:
        reason: str | None = f"no GPU run: {module} is not installed"
    else:
        reason = gpu_reason(spec)
    return pytest.param(spec, marks=pytest.mark.skipif(reason is not None, reason=reason or ""))


# array-api-strict and PyTorch are test dependencies: CI has both, so those cases always run
BACKENDS = ["numpy", "array_api_strict", "torch:cpu", _gpu_param("cupy", "cupy"),
            _gpu_param("torch:cuda", "torch")]
OTHER_BACKENDS = BACKENDS[1:]


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request):
    """Each array library and device the math runs on (the GPUs' only where one is)."""
    return get_backend(request.param)


@pytest.fixture(params=OTHER_BACKENDS, scope="session")
def other(request):
    """A backend other than NumPy."""
    return get_backend(request.param)


def on(backend, array, dtype="float32"):
    """``array`` on ``backend``, in ``dtype``."""
    return backend.asarray(np.asarray(array), dtype)



HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAS_PILLOW = importlib.util.find_spec("PIL") is not None
needs_matplotlib = pytest.mark.skipif(not HAS_MATPLOTLIB, reason="plots need matplotlib "
                                      "(pip install 'nnscratch[plot]')")
needs_pillow = pytest.mark.skipif(not HAS_PILLOW, reason="reading images needs Pillow "
                                  "(pip install 'nnscratch[plot]')")


SHARED_DATA = Path(os.environ.get("NNSCRATCH_TEST_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: MNIST and Fashion-MNIST as the original IDX files (never the network)."""
    if not (SHARED_DATA / "mnist").is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs the shared data sets at {SHARED_DATA}")
        pytest.skip(f"the shared data sets are not at {SHARED_DATA} (set NNSCRATCH_TEST_DATA)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def input_gradient_check(layer, x: np.ndarray, rng: np.random.Generator) -> tuple[float, dict]:
    """Relative errors of a layer's backward against finite differences, in float64.

    The scalar objective is L = sum(forward(x) * R) for a fixed random R, so dL/d(output) = R.
    Returns the error of dL/dx and a dict of the errors of each parameter gradient.
    """
    from nnscratch.gradcheck import numerical_gradient, relative_error

    weights_of_output = rng.standard_normal(layer.forward(x).shape)

    def objective() -> float:
        return float(np.sum(layer.forward(x) * weights_of_output))

    objective()
    analytic_input = layer.backward(weights_of_output)
    analytic_params = {name: grad.copy() for name, grad in layer.grads.items()}
    input_error = relative_error(analytic_input, numerical_gradient(objective, x))
    param_errors = {name: relative_error(analytic_params[name],
                                         numerical_gradient(objective, layer.params[name]))
                    for name in layer.params}
    return input_error, param_errors


def assert_same_weights(first, second) -> None:
    """Assert two networks hold bit-identical parameters (and the same number of them)."""
    first_weights, second_weights = first.get_weights(), second.get_weights()
    assert len(first_weights) == len(second_weights) > 0
    for mine, theirs in zip(first_weights, second_weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
