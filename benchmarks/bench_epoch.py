"""One MNIST epoch: nnscratch vs PyTorch (CPU) vs scikit-learn's MLPClassifier, and vs the FLOP
limit (the epoch's matrix-multiply FLOPs at the rate of a large square float32 GEMM).

MLP 784-200-200-10, ReLU, softmax cross-entropy, plain SGD lr 0.01, batch 64, 60,000 float32
rows, shuffled. Usage: python benchmarks/bench_epoch.py [--data-dir DIR] [--rounds N]
"""

from __future__ import annotations

import math
import warnings

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

SIZES = [784, 200, 200, 10]


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    X, y, _, _ = load_mnist(data_dir)
    torch = pin_torch_threads()

    def nnscratch_epoch() -> float:
        net = ns.MLP(SIZES, seed=0)
        return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.01),
                                     verbose=0, epochs=1, batch_size=64, seed=0))

    contenders = {"nnscratch": nnscratch_epoch}
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
    if "scikit-learn" in times:
        ratio = ours / times["scikit-learn"]
        goals.append(Goal("epoch", "nnscratch / scikit-learn", ratio, "< 1", ratio < 1))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5)
