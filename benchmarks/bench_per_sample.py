"""Per-sample SGD (batch size 1) on 3,000 MNIST rows, one epoch: nnscratch vs a per-sample
NumPy loop written the way the MNIST article writes it (float64 column vectors, weights of
shape (out, in), outer products for the weight gradients) vs PyTorch at batch size 1.

MLP 784-200-200-10, ReLU, softmax cross-entropy, SGD lr 0.01.
Usage: python benchmarks/bench_per_sample.py [--data-dir DIR] [--rounds N]
"""

from __future__ import annotations

import numpy as np
from common import (
    Goal,
    alternate,
    bench_main,
    load_mnist,
    pin_torch_threads,
    print_times,
    timed,
    torch_sgd_epoch,
)

import nnscratch as ns

SIZES = [784, 200, 200, 10]


def article_style_epoch(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
    """The textbook loop: one float64 column vector at a time, outer-product gradients."""
    weights = [rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
               for fan_in, fan_out in zip(SIZES, SIZES[1:], strict=False)]
    biases = [np.zeros((fan_out, 1)) for fan_out in SIZES[1:]]
    for index in rng.permutation(len(X)):
        activation = X[index].astype(np.float64).reshape(-1, 1)
        activations, pre_activations = [activation], []
        for layer, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
            z = weight @ activation + bias
            pre_activations.append(z)
            if layer < len(weights) - 1:
                activation = np.maximum(z, 0)
            else:
                exp = np.exp(z - z.max())
                activation = exp / exp.sum()
            activations.append(activation)
        target = np.zeros((SIZES[-1], 1))
        target[y[index]] = 1.0
        delta = activations[-1] - target
        for layer in range(len(weights) - 1, -1, -1):
            grad_weight = np.outer(delta, activations[layer])
            grad_bias = delta
            if layer > 0:
                delta = (weights[layer].T @ delta) * (pre_activations[layer - 1] > 0)
            weights[layer] -= 0.01 * grad_weight
            biases[layer] -= 0.01 * grad_bias


def run(data_dir: str | None, rounds: int, rows: int = 3000) -> list[Goal]:
    X, y, _, _ = load_mnist(data_dir)
    X, y = X[:rows], y[:rows]
    torch = pin_torch_threads()

    def nnscratch_epoch() -> float:
        net = ns.MLP(SIZES, seed=0)
        return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.01),
                                     verbose=0, epochs=1, batch_size=1, seed=0))

    contenders = {
        "nnscratch (batch 1)": nnscratch_epoch,
        "article-style loop (float64)":
            lambda: timed(lambda: article_style_epoch(X, y, np.random.default_rng(0))),
    }
    if torch is not None:
        contenders["PyTorch (batch 1)"] = lambda: torch_sgd_epoch(torch, X, y, SIZES,
                                                                  batch_size=1)
    times = alternate(contenders, rounds)
    print_times(f"per-sample: {rows} MNIST rows, batch size 1, {SIZES} (median of {rounds})",
                times)
    ours = times["nnscratch (batch 1)"]
    speedup = times["article-style loop (float64)"] / ours
    goals = [Goal("per-sample", "article-style loop / nnscratch (speed-up)", speedup,
                  ">= 3 (stretch 5)", speedup >= 3)]
    if "PyTorch (batch 1)" in times:
        ratio = ours / times["PyTorch (batch 1)"]
        goals.append(Goal("per-sample", "nnscratch / PyTorch at batch 1", ratio, "< 1",
                          ratio < 1))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=7)
