"""Inference: class probabilities for 10,000 MNIST-sized rows, nnscratch's predict_proba vs
PyTorch's softmax(model(X)) under torch.no_grad(), MLP 784-200-200-10.
Usage: python benchmarks/bench_inference.py [--data-dir DIR] [--rounds N]
"""

from __future__ import annotations

import argparse

from common import Goal, alternate, load_mnist, machine, pin_torch_threads, print_times, timed

import nnscratch as ns


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    _, _, X, _ = load_mnist(data_dir)
    torch = pin_torch_threads()
    net = ns.MLP([784, 200, 200, 10], seed=0, loss="cross_entropy")
    contenders = {"nnscratch": lambda: timed(lambda: net.predict_proba(X))}
    if torch is not None:
        model = torch.nn.Sequential(torch.nn.Linear(784, 200), torch.nn.ReLU(),
                                    torch.nn.Linear(200, 200), torch.nn.ReLU(),
                                    torch.nn.Linear(200, 10)).eval()
        X_torch = torch.from_numpy(X)

        def torch_predict() -> float:
            def predict():
                with torch.no_grad():
                    return torch.softmax(model(X_torch), dim=1).numpy()
            return timed(predict)

        contenders["PyTorch"] = torch_predict
    times = alternate(contenders, rounds, warmup=3)
    print_times(f"inference: predict_proba on {len(X)} rows (median of {rounds})", times)
    if "PyTorch" not in times:
        return []
    ratio = times["nnscratch"] / times["PyTorch"]
    return [Goal("inference", "nnscratch / PyTorch", ratio, "< 1", ratio < 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None, help="folder with mnist/ (IDX .gz files)")
    parser.add_argument("--rounds", type=int, default=21)
    arguments = parser.parse_args()
    print(machine())
    for goal in run(arguments.data_dir, arguments.rounds):
        print(goal.row())


if __name__ == "__main__":
    main()
