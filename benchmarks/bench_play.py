"""The playground's frame: one training epoch of the default network on the default data,
then everything the page draws (the 100 x 100 decision boundary, every hidden neuron's 40 x 40
map, the weights, the curves) encoded as the JSON the server sends. Goal: <= 50 ms (>= 20
frames per second). Also the per-sample setting (batch 1), the most work per epoch.

Usage: python benchmarks/bench_play.py [--rounds N]
"""

from __future__ import annotations

import json
import statistics

from common import Goal, bench_main, timed

from nnscratch.play.engine import Playground, Settings


def frame_seconds(settings: Settings, rounds: int) -> list[float]:
    playground = Playground(settings)

    def frame() -> None:
        playground.step(1)
        json.dumps(playground.snapshot())

    frame()  # warm-up
    return [timed(frame) for _ in range(rounds)]


def run(rounds: int) -> list[Goal]:
    goals = []
    for title, settings in (("default (batch 10)", Settings()),
                            ("per sample (batch 1)", Settings(batch_size=1))):
        times = frame_seconds(settings, rounds)
        median = statistics.median(times)
        print(f"playground frame, {title}: median {median * 1e3:.1f} ms over {rounds} frames "
              f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}); "
              f"{1 / median:.0f} frames per second")
        goals.append(Goal(f"playground, {title}", "ms per frame", median * 1e3, "<= 50",
                          median <= 0.05, " ms"))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=50, uses_mnist=False)
