"""Run every benchmark in one process and print the goals table (Markdown) with the machine.

Usage: python benchmarks/run_all.py [--data-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import time

import bench_contention
import bench_epoch
import bench_full_batch
import bench_gpu
import bench_inference
import bench_load
import bench_memory
import bench_per_sample
import bench_play
import bench_sklearn
import bench_startup
from common import goals_table, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None,
                        help="folder with mnist/ (default: $NNSCRATCH_DATA or ../shared/data)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke test")
    arguments = parser.parse_args()
    rounds = 1 if arguments.quick else None
    start = time.perf_counter()
    print(f"machine: {machine()}\n")
    goals = []
    goals += bench_epoch.run(arguments.data_dir, rounds or 5)
    goals += bench_per_sample.run(arguments.data_dir, rounds or 7)
    goals += bench_full_batch.run(rounds or 5)
    goals += bench_inference.run(arguments.data_dir, rounds or 21)
    goals += bench_memory.run(arguments.data_dir)
    goals += bench_load.run(rounds or 5)
    goals += bench_contention.run(arguments.data_dir, rounds or 3)
    goals += bench_sklearn.run(arguments.data_dir, rounds or 3)
    goals += bench_play.run(rounds * 10 if rounds else 50)
    goals += bench_startup.run(rounds or 5)
    goals += bench_gpu.run(arguments.data_dir, rounds or 3)  # nothing without a GPU
    print(f"\n{goals_table(goals)}\n\n(all benchmarks: {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
