"""This checkout against an earlier commit, on the CPU: is the NumPy path any slower?

Each version runs in its own Python process (its ``src`` first on the path), in turn: A B B A
A B ..., so a slow spell of the machine hits both alike and neither always goes first. Every
process times each workload three times after a warm-up and keeps the fastest; the table gives
each workload's median seconds per version, their ratio (this / earlier: below 1 is faster)
and the spread of the per-round ratios.

Workloads (softmax cross-entropy, seed 0, one BLAS thread as fit chooses for these sizes):
    epoch         one MNIST epoch, 784-200-200-10, batch 64, SGD lr 0.01 (20,000 rows)
    per-sample    3,000 MNIST rows, batch size 1, the same network
    digits        the 8x8 digits, 64-128-64-10, batch 32, Adam, 20 epochs
    predict       predict_proba on 10,000 MNIST rows

Usage: python benchmarks/bench_versions.py REV [--rounds N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
import nnscratch as ns
from common import load_mnist
from nnscratch.datasets import load_digits

X, y, _, _ = load_mnist(sys.argv[3] or None)
digits = load_digits()

def epoch():
    net = ns.MLP([784, 200, 200, 10], seed=0)
    net.fit(X[:20000], y[:20000], loss="cross_entropy", optimizer=ns.SGD(lr=0.01), epochs=1,
            batch_size=64, seed=0, verbose=0)

def per_sample():
    net = ns.MLP([784, 200, 200, 10], seed=0)
    net.fit(X[:3000], y[:3000], loss="cross_entropy", optimizer=ns.SGD(lr=0.01), epochs=1,
            batch_size=1, seed=0, verbose=0)

def digits_job():
    net = ns.MLP([64, 128, 64, 10], seed=0)
    net.fit(digits[0], digits[1], loss="cross_entropy", optimizer="adam", epochs=20,
            batch_size=32, seed=0, verbose=0)

PREDICTOR = ns.MLP([784, 200, 200, 10], seed=0, loss="cross_entropy")

def predict():
    PREDICTOR.predict_proba(X[:10000])

times = {}
for name, work in (("epoch", epoch), ("per-sample", per_sample), ("digits", digits_job),
                   ("predict", predict)):
    work()
    measured = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        measured.append(time.perf_counter() - start)
    times[name] = min(measured)
print(json.dumps(times))
"""


def run_version(src: Path, data_dir: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", WORKER, str(src),
                             str(REPO / "benchmarks"), data_dir],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier commit, e.g. HEAD~3 or a hash")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data-dir", default="")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", arguments.rev, "src"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        versions = {"this checkout": REPO / "src", arguments.rev: Path(folder) / "src"}
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for round_number in range(arguments.rounds):
            order = list(versions.items())
            if round_number % 2:  # A B, B A, A B, ...: neither version always goes first
                order.reverse()
            for name, src in order:
                rounds[name].append(run_version(src, arguments.data_dir))
    mine, theirs = rounds["this checkout"], rounds[arguments.rev]
    print(f"this checkout vs {arguments.rev}, {arguments.rounds} alternating rounds "
          "(median seconds; ratio below 1 is faster)\n")
    print(f"| workload | this checkout | {arguments.rev} | ratio | ratio range |")
    print("|---|---|---|---|---|")
    for workload in mine[0]:
        ratios = [new[workload] / old[workload] for new, old in zip(mine, theirs, strict=True)]
        print(f"| {workload} | {statistics.median(r[workload] for r in mine):.3f} | "
              f"{statistics.median(r[workload] for r in theirs):.3f} | "
              f"{statistics.median(ratios):.3f} | {min(ratios):.3f}-{max(ratios):.3f} |")


if __name__ == "__main__":
    main()
