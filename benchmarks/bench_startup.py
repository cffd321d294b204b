"""Start-up: the default `nnscratch train` (built-in digits, 80 epochs, with its plots), wall
clock from the command to its exit, imports and plots included.

Three ways, each a fresh process, in turn (A B C, then C B A, ...):
    plots            as shipped: a second process imports matplotlib and draws the plots
                     while the command trains and saves (src/nnscratch/_plot_worker.py)
    plots, inline    NNSCRATCH_PLOT_WORKER=0: the plots drawn by the command itself, after
                     training, as before issue 13's change
    no plots         --no-plots
Each line gives the median wall time, its spread, and the median training time the command
reports ("trained 80 epochs in ..."): the rest is imports, data, saving and plots.

Usage: python benchmarks/bench_startup.py [--rounds N]
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Goal, bench_main

WAYS = {"plots": ([], {}), "plots, inline": ([], {"NNSCRATCH_PLOT_WORKER": "0"}),
        "no plots": (["--no-plots"], {})}


def one_run(folder: Path, options: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, training seconds) of one `nnscratch train` in a fresh process."""
    command = [sys.executable, "-m", "nnscratch", "train", "--verbose", "0", "--out",
               str(folder), *options]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True,
                            env={**os.environ, **environment})
    wall = time.perf_counter() - start
    training = float(re.search(r"trained \d+ epochs in ([0-9.]+)s", result.stdout).group(1))
    return wall, training


def run(rounds: int) -> list[Goal]:
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        for round_number in range(rounds + 1):  # the first round warms the caches, unrecorded
            order = list(WAYS) if round_number % 2 else list(reversed(WAYS))
            for way in order:
                options, environment = WAYS[way]
                measured = one_run(Path(folder) / f"{way}-{round_number}".replace(" ", "-")
                                   .replace(",", ""), options, environment)
                if round_number:
                    times[way].append(measured)
    print(f"start-up: nnscratch train, digits, 80 epochs (median of {rounds}, fresh processes)")
    for way, measured in times.items():
        walls = [wall for wall, _ in measured]
        training = statistics.median(train for _, train in measured)
        print(f"  {way:14s} {statistics.median(walls):5.2f} s (spread {min(walls):.2f}-"
              f"{max(walls):.2f}), training {training:.2f} s of it")
    median = statistics.median(wall for wall, _ in times["plots"])
    return [Goal("start-up", "nnscratch train, digits, with plots (s)", median, "<= 3",
                 median <= 3, " s")]


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5, uses_mnist=False)
