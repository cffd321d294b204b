"""Each fast path against its plain form, in the work it targets, in one run.

    python benchmarks/bench_fast_paths.py [--data-dir DIR] [--rounds N]

A fast path (an in-place form of an equation, a skipped product) stays in nnscratch only if it
saves at least 10% of the work it targets: an MNIST epoch (784-200-200-10, batch 64; SGD, or
Adam for Adam's path) or, for the one-sample paths, per-sample SGD on 3,000 MNIST rows (with
momentum for the flush of tiny optimizer state). Each path is switched off alone, the others
staying on, and the two forms alternate; the medians are compared. Paths measured and dropped
(saving < 10%): gradients written in place for batches (-3%), SGD's step through a scratch
array (0% epoch, -9% per-sample), a reused buffer for shuffled batches (1%). Dense.forward's
in-place bias add was replaced by the plain line without a measurement of its own;
benchmarks/run_all.py's epoch times cover it.
"""

from __future__ import annotations

from collections.abc import Callable

from common import Goal, alternate, bench_main, load_mnist, timed

import nnscratch as ns
from nnscratch import _fast

SIZES = [784, 200, 200, 10]


def epoch(X, y, optimizer: Callable[[], ns.optim.Optimizer], batch_size: int = 64,
          input_grad: bool = False) -> float:
    net = ns.MLP(SIZES, seed=0)
    if input_grad:  # the plain form: every layer computes dL/dx, the first one included
        backward = net.backward
        net.backward = lambda grad, input_grad=True: backward(grad, True)  # type: ignore
    return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=optimizer(),
                                 verbose=0, epochs=1,
                                 batch_size=batch_size, seed=0))


class Switch:
    """Set ``owner.name`` to ``value`` for one call."""

    def __init__(self, owner: object, name: str, value: object):
        self.owner, self.name, self.value = owner, name, value

    def __call__(self, run: Callable[[], float]) -> Callable[[], float]:
        def switched() -> float:
            saved = getattr(self.owner, self.name)
            setattr(self.owner, self.name, self.value)
            try:
                return run()
            finally:
                setattr(self.owner, self.name, saved)
        return switched


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    X, y, _, _ = load_mnist(data_dir)
    X_small, y_small = X[:3000], y[:3000]
    sgd = lambda: ns.SGD(lr=0.01)  # noqa: E731
    adam = lambda: ns.Adam()  # noqa: E731
    momentum = lambda: ns.SGD(lr=0.01, momentum=0.9)  # noqa: E731
    paths = {
        "Dense one-sample fast forms (outer product, non-zero rows), per-sample":
            (lambda: epoch(X_small, y_small, sgd, batch_size=1), Switch(ns.Dense, "fast", False)),
        "Dense one-sample rows of non-zero inputs (+ SGD on those rows), per-sample":
            (lambda: epoch(X_small, y_small, sgd, batch_size=1),
             Switch(_fast, "SPARSE_INPUTS", 0.0)),
        "first layer's dL/dx skipped, epoch":
            (lambda: epoch(X, y, sgd), lambda run: (lambda: epoch(X, y, sgd, input_grad=True))),
        "_fast.adam_step (Adam in place), epoch":
            (lambda: epoch(X, y, adam), Switch(ns.optim.Optimizer, "fast", False)),
        "optimizer state flushed short of subnormal floats, per-sample momentum":
            (lambda: epoch(X_small, y_small, momentum, batch_size=1),
             Switch(_fast, "FLUSH_EVERY", 10**9)),
    }
    goals = []
    print("| fast path | plain (ms) | fast (ms) | saved | kept (>= 10%) |\n|---|---|---|---|---|")
    for name, (fast, make_plain) in paths.items():
        times = alternate({"fast": fast, "plain": make_plain(fast)}, rounds)
        saved = 1 - times["fast"] / times["plain"]
        print(f"| {name} | {times['plain'] * 1e3:.0f} | {times['fast'] * 1e3:.0f} | "
              f"{saved:.0%} | {'yes' if saved >= 0.10 else 'no'} |", flush=True)
        goals.append(Goal("fast paths", f"{name}: time saved", saved * 100, ">= 10%",
                          saved >= 0.10, unit="%"))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5)
