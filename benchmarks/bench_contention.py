"""Training on a busy machine: the slowdown beside CPU-bound competitors, one per core.

    python benchmarks/bench_contention.py [--data-dir DIR] [--rounds N]

Two workloads: the default `nnscratch train` work (the built-in digits, [256, 128] ReLU,
dropout 0.2, Adam, batch 32, 10% validation, 80 epochs) and one MNIST epoch (784-200-200-10,
SGD, batch 64). Each runs quiet, then beside one busy-looping process per core. nnscratch's
automatic BLAS-thread choice (one thread for a step's small products, see src/nnscratch/
_threads.py) is compared with the BLAS's own default (as many threads as cores), which is what
nnscratch did before; the default's busy MNIST case runs on 10,000 rows, as a whole epoch takes
over a minute. Goal: busy / quiet <= 2.5 (sharing the cores alone explains 2).

A third workload has large products, where a second BLAS thread pays on a quiet machine and
collapses on a busy one: 784-1024-1024-10 at batch 256 on 16,384 MNIST rows, with the
automatic choice (which times both settings as it trains), the BLAS default and one thread.
No single setting is best both ways, so its goals compare the automatic choice with the best
fixed setting of each condition: within 1.25x of the BLAS default when quiet, and within 1.25x
of one thread when busy.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
from collections.abc import Callable

from common import Goal, bench_main, load_mnist, timed

import nnscratch as ns
from nnscratch.datasets import load_digits

MNIST_SIZES = [784, 200, 200, 10]
LARGE_SIZES = [784, 1024, 1024, 10]


def spin() -> None:
    while True:
        pass


class Competitors:
    """One busy-looping process per core while the block runs."""

    def __enter__(self) -> Competitors:
        self.processes = [multiprocessing.Process(target=spin, daemon=True)
                          for _ in range(os.cpu_count() or 2)]
        for process in self.processes:
            process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:
            process.terminate()
            process.join()


def digits_default() -> float:
    X, y, _, _ = load_digits()
    net = ns.MLP([64, 256, 128, 10], dropout=0.2, seed=0)
    return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.Adam(),
                                 verbose=0, epochs=80,
                                 batch_size=32, validation_split=0.1, seed=0))


def sgd_epoch(X, y, sizes: list[int], batch_size: int) -> Callable[[], float]:
    """One epoch of plain SGD on a fresh MLP(sizes): the MNIST and large-network workloads."""
    def run() -> float:
        net = ns.MLP(sizes, seed=0)
        return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.01),
                                     verbose=0, epochs=1, batch_size=batch_size, seed=0))
    return run


def median_of(run: Callable[[], float], rounds: int) -> tuple[float, float, float]:
    times = [run() for _ in range(rounds)]
    return statistics.median(times), min(times), max(times)


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    X, y, _, _ = load_mnist(data_dir)
    workloads = {"digits, default train": (digits_default, digits_default),
                 "MNIST epoch": (sgd_epoch(X, y, MNIST_SIZES, 64),
                                 sgd_epoch(X[:10_000], y[:10_000], MNIST_SIZES, 64))}
    goals = []
    print("| workload | BLAS threads | quiet (s) | busy (s) | busy / quiet |")
    print("|---|---|---|---|---|")
    for name, (work, short_work) in workloads.items():
        results = {}
        for policy, threads in (("automatic (nnscratch)", None), ("BLAS default", os.cpu_count())):
            ns.set_blas_threads(threads)
            try:
                work()  # warm-up
                quiet = median_of(work, rounds)
                busy_work = work if threads is None else short_work
                with Competitors():
                    busy = median_of(busy_work, 1 if threads is not None else rounds)
                if busy_work is not work:  # scale the short run to a whole epoch
                    quiet_short = median_of(short_work, rounds)[0]
                    busy = tuple(value * quiet[0] / quiet_short for value in busy)
            finally:
                ns.set_blas_threads(None)
            results[policy] = busy[0] / quiet[0]
            print(f"| {name} | {policy} | {quiet[0]:.2f} ({quiet[1]:.2f}-{quiet[2]:.2f}) | "
                  f"{busy[0]:.2f} ({busy[1]:.2f}-{busy[2]:.2f}) | {busy[0] / quiet[0]:.1f} |",
                  flush=True)
        ratio = results["automatic (nnscratch)"]
        goals.append(Goal("contention", f"{name}: busy / quiet", ratio, "<= 2.5", ratio <= 2.5))
    return goals + large_products(X[:16_384], y[:16_384], rounds)


def large_products(X, y, rounds: int) -> list[Goal]:
    """The large-network workload: every setting quiet and busy, and the automatic choice
    against the best fixed one in each condition."""
    work = sgd_epoch(X, y, LARGE_SIZES, 256)
    quiet, busy = {}, {}
    for policy, threads in (("automatic (nnscratch)", None), ("BLAS default", os.cpu_count()),
                            ("one thread", 1)):
        ns.set_blas_threads(threads)
        try:
            work()  # warm-up
            quiet[policy] = median_of(work, rounds)
            with Competitors():
                busy[policy] = median_of(work, 1 if threads == os.cpu_count() else rounds)
        finally:
            ns.set_blas_threads(None)
        print(f"| 784-1024-1024-10, batch 256 | {policy} | {quiet[policy][0]:.2f} "
              f"({quiet[policy][1]:.2f}-{quiet[policy][2]:.2f}) | {busy[policy][0]:.2f} "
              f"({busy[policy][1]:.2f}-{busy[policy][2]:.2f}) | "
              f"{busy[policy][0] / quiet[policy][0]:.1f} |", flush=True)
    automatic = "automatic (nnscratch)"
    quiet_ratio = quiet[automatic][0] / quiet["BLAS default"][0]
    busy_ratio = busy[automatic][0] / busy["one thread"][0]
    return [Goal("contention", "large products: automatic / BLAS default, quiet", quiet_ratio,
                 "<= 1.25", quiet_ratio <= 1.25),
            Goal("contention", "large products: automatic / one thread, busy", busy_ratio,
                 "<= 1.25", busy_ratio <= 1.25)]


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=3)
