"""nnscratch.sklearn.NNClassifier beside scikit-learn's MLPClassifier: accuracy and time.

Both with the same set-up: one hidden layer of 100 ReLU units, Adam lr 1e-3, batch 200, the
same number of epochs (MLPClassifier's stopping on a flat training loss turned off), inputs
standardised in a Pipeline; on the 8x8 digits (70/30 split, 100 epochs) and on 10,000 MNIST
training images scored on the 10,000 test images (20 epochs). Rounds alternate the two; the
times are medians, the accuracy that of the last round (both are seeded).

Usage: python benchmarks/bench_sklearn.py [--rounds N] [--data-dir DIR]
"""

from __future__ import annotations

import warnings

from common import Goal, alternate, bench_main, print_times, timed

from nnscratch.datasets import load_digits, load_mnist


def _contenders(X, y, X_test, y_test, epochs: int, scores: dict[str, float]) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from nnscratch.sklearn import NNClassifier

    models = {
        "nnscratch NNClassifier": lambda: NNClassifier(
            hidden_layer_sizes=(100,), lr=1e-3, batch_size=200, epochs=epochs, random_state=0),
        "scikit-learn MLPClassifier": lambda: MLPClassifier(
            hidden_layer_sizes=(100,), learning_rate_init=1e-3, batch_size=200,
            max_iter=epochs, n_iter_no_change=epochs + 1, tol=0.0, random_state=0),
    }

    def contender(name):
        def run() -> float:
            model = make_pipeline(StandardScaler(), models[name]())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds = timed(lambda: model.fit(X, y))
            scores[name] = model.score(X_test, y_test)
            return seconds
        return run

    return {name: contender(name) for name in models}


def run(data_dir, rounds: int) -> list[Goal]:
    goals = []
    X, y, X_test, y_test = load_digits(seed=0)
    problems = [("digits, 1,257 rows, 100 epochs", X, y, X_test, y_test, 100)]
    try:
        X, y, X_test, y_test = load_mnist(data_dir, download=False)
        problems.append(("MNIST, 10,000 rows, 20 epochs", X[:10_000], y[:10_000], X_test,
                         y_test, 20))
    except (OSError, ValueError) as error:
        print(f"MNIST skipped: {error}")
    for title, X, y, X_test, y_test, epochs in problems:
        scores: dict[str, float] = {}
        times = alternate(_contenders(X, y, X_test, y_test, epochs, scores), rounds)
        print_times(f"{title} (median of {rounds})", times)
        for name, score in scores.items():
            print(f"  {name:<28} test accuracy {score:.4f}")
        ratio = times["nnscratch NNClassifier"] / times["scikit-learn MLPClassifier"]
        gap = scores["nnscratch NNClassifier"] - scores["scikit-learn MLPClassifier"]
        goals.append(Goal(f"sklearn, {title.split(',')[0]}", "NNClassifier / MLPClassifier time",
                          ratio, "<= 1", ratio <= 1))
        goals.append(Goal(f"sklearn, {title.split(',')[0]}", "accuracy gap (points)",
                          100 * gap, ">= -0.5", gap >= -0.005))
    return goals


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=3)
