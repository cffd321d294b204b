"""Run the MNIST recipes (too long for the test suite) and print each one's report.

    python benchmarks/run_recipes.py [--data-dir DIR] [--names mnist-per-sample ...]

Their measured numbers are quoted in docs/recipes.md. The small recipes (xor, digits-*) run
in the tests instead (tests/test_recipes.py).
"""

from __future__ import annotations

import argparse

from common import DEFAULT_DATA, machine

from nnscratch.recipes import run_recipe

MNIST_RECIPES = ("mnist-per-sample", "mnist-best", "fashion-mnist")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--names", nargs="+", default=list(MNIST_RECIPES),
                        choices=MNIST_RECIPES)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    print(machine())
    for name in arguments.names:
        print()
        print(run_recipe(name, seed=arguments.seed, data_dir=arguments.data_dir).report(),
              flush=True)


if __name__ == "__main__":
    main()
