"""One MNIST epoch: nnscratch vs PyTorch (CPU) vs scikit-learn's MLPClassifier, and vs the FLOP
limit (the epoch's matrix-multiply FLOPs at the rate of a large square float32 GEMM), and
vs the same training written as a bare NumPy loop, whole and as its matrix products alone:
how close nnscratch comes to what any NumPy network can do on this machine.

MLP 784-200-200-10, ReLU, softmax cross-entropy, plain SGD lr 0.01, batch 64, 60,000 float32
rows, shuffled. Usage: python benchmarks/bench_epoch.py [--data-dir DIR] [--rounds N]
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
from common import (
    Goal,
    alternate,
    bench_main,
    gemm_rate,
    load_mnist,
    mlp_flops_per_sample,
    pin_torch_threads,
    print_times,
    timed,
    torch_sgd_epoch,
)

import nnscratch as ns
from nnscratch._threads import ThreadChoice, training_threads

SIZES = [784, 200, 200, 10]


def numpy_epoch(X: np.ndarray, y: np.ndarray, products_only: bool = False) -> float:
    """One epoch of the same training written as a bare NumPy loop, with the BLAS threads
    nnscratch's fit chooses: the floor for any NumPy network (``products_only``: the batch
    gather and the step's eight matrix products, nothing else)."""
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
               for fan_in, fan_out in zip(SIZES, SIZES[1:], strict=False)]
    biases = [np.zeros(fan_out, dtype=np.float32) for fan_out in SIZES[1:]]
    (W1, W2, W3), (b1, b2, b3) = weights, biases
    order = rng.permutation(len(X))
    with ThreadChoice(training_threads(2.0 * 64 * 784 * 200)):
        start_time = time.perf_counter()
        for start in range(0, len(X), 64):
            rows = order[start:start + 64]
            x, labels = X[rows], y[rows]
            if products_only:
                h1, g1 = x @ W1, x[:, :200]
                h2 = h1 @ W2
                logits = h2 @ W3
                x.T @ g1, h1.T @ g1, h2.T @ logits, g1 @ W2.T, logits @ W3.T
                continue
            z1 = x @ W1 + b1
            h1 = np.maximum(z1, 0)
            z2 = h1 @ W2 + b2
            h2 = np.maximum(z2, 0)
            logits = h2 @ W3 + b3
            shifted = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            g3 = exp / exp.sum(axis=1, keepdims=True)  # softmax, then p - y over n
            g3[np.arange(len(rows)), labels] -= 1.0
            g3 /= len(rows)
            g2 = (g3 @ W3.T) * (z2 > 0)
            g1 = (g2 @ W2.T) * (z1 > 0)
            W3 -= 0.01 * (h2.T @ g3)
            b3 -= 0.01 * g3.sum(axis=0)
            W2 -= 0.01 * (h1.T @ g2)
            b2 -= 0.01 * g2.sum(axis=0)
            W1 -= 0.01 * (x.T @ g1)
            b1 -= 0.01 * g1.sum(axis=0)
        return time.perf_counter() - start_time


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    X, y, _, _ = load_mnist(data_dir)
    torch = pin_torch_threads()

    def nnscratch_epoch() -> float:
        net = ns.MLP(SIZES, seed=0)
        return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.01),
                                     verbose=0, epochs=1, batch_size=64, seed=0))

    contenders = {"nnscratch": nnscratch_epoch,
                  "NumPy loop, hand-written": lambda: numpy_epoch(X, y),
                  "NumPy loop, matrix products only": lambda: numpy_epoch(X, y, True)}
    if torch is not None:
        contenders["PyTorch"] = lambda: torch_sgd_epoch(torch, X, y, SIZES, batch_size=64)
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        MLPClassifier = None
    if MLPClassifier is not None:
        def sklearn_epoch() -> float:
            model = MLPClassifier(hidden_layer_sizes=(200, 200), solver="sgd",
                                  learning_rate_init=0.01, momentum=0.0, alpha=0.0,
                                  batch_size=64, max_iter=1, shuffle=True, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return timed(lambda: model.fit(X, y))

        contenders["scikit-learn"] = sklearn_epoch
    times = alternate(contenders, rounds)
    rate = gemm_rate()
    steps = math.ceil(len(X) / 64)
    flops = mlp_flops_per_sample(SIZES) * len(X)
    limit = flops / rate
    times["FLOP limit"] = limit
    print_times(f"epoch: MNIST {len(X)} rows, {SIZES}, batch 64, {steps} steps, "
                f"{flops / 1e9:.1f} GFLOP at {rate / 1e9:.0f} GFLOP/s (median of {rounds})",
                times)
    ours = times["nnscratch"]
    goals = [Goal("epoch", "nnscratch / FLOP limit", ours / limit, "<= 1.3", ours / limit <= 1.3)]
    if "PyTorch" in times:
        ratio = ours / times["PyTorch"]
        goals.append(Goal("epoch", "nnscratch / PyTorch", ratio, "<= 0.6", ratio <= 0.6))
    floor = times["NumPy loop, hand-written"]
    goals.append(Goal("epoch", "nnscratch / hand-written NumPy loop", ours / floor, "report",
                      True))
    goals.append(Goal("epoch", "NumPy matrix products alone / FLOP limit",
                      times["NumPy loop, matrix products only"] / limit, "report", True))
    if "PyTorch" in times:
        products = times["NumPy loop, matrix products only"] / times["PyTorch"]
        goals.append(Goal("epoch", "NumPy matrix products alone / PyTorch", products,
                          "report", True))
    if "scikit-learn" in times:
        ratio = ours / times["scikit-learn"]
        goals.append(Goal("epoch", "nnscratch / scikit-learn", ratio, "< 1", ratio < 1))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5)
