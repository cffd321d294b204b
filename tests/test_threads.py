"""The BLAS-thread choice (_threads.py): one thread for small training products, the user's
override, and a limit that really applies inside fit (timings are in bench_contention.py)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import nnscratch as ns
from nnscratch import _threads


@pytest.fixture(autouse=True)
def automatic(monkeypatch):
    monkeypatch.delenv("NNSCRATCH_BLAS_THREADS", raising=False)
    yield
    ns.set_blas_threads(None)


def blas_threads_now() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_small_products_train_on_one_thread_and_large_ones_on_the_blas_default():
    assert _threads.training_threads(2 * 64 * 784 * 200) == 1
    assert _threads.training_threads(2 * 256 * 2048 * 2048) is None


def test_the_user_overrides_by_function_or_environment(monkeypatch):
    monkeypatch.setenv("NNSCRATCH_BLAS_THREADS", "2")
    assert _threads.training_threads(1.0) == 2
    monkeypatch.setenv("NNSCRATCH_BLAS_THREADS", "auto")
    assert _threads.training_threads(1.0) == 1
    ns.set_blas_threads(3)
    assert _threads.training_threads(1e12) == 3
    ns.set_blas_threads(None)
    assert _threads.training_threads(1e12) is None
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a whole number >= 1 or None"):
            ns.set_blas_threads(bad)


def test_fit_runs_its_steps_under_the_chosen_limit_and_restores_it():
    if not blas_threads_now():
        pytest.skip("no BLAS library that threadpoolctl can see")
    before = blas_threads_now()
    seen: list[set[int]] = []

    class Watch(ns.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(blas_threads_now())

    X, y = np.random.default_rng(0).random((40, 8)), np.arange(40) % 2
    ns.MLP([8, 16, 2], seed=0).fit(X, y, loss="cross_entropy", epochs=1, batch_size=20,
                                   callbacks=[Watch()])
    assert seen and all(threads == {1} for threads in seen)
    assert blas_threads_now() == before
