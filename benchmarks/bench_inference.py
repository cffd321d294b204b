"""Inference: class probabilities for 10,000 MNIST-sized rows, nnscratch's predict_proba vs
PyTorch's softmax(model(X)) under torch.no_grad(), MLP 784-200-200-10.
Usage: python benchmarks/bench_inference.py [--data-dir DIR] [--rounds N]
"""

from __future__ import annotations

from common import (
    Goal,
    alternate,
    bench_main,
    load_mnist,
    pin_torch_threads,
    print_times,
    timed,
    torch_mlp,
)

import nnscratch as ns


def run(data_dir: str | None, rounds: int) -> list[Goal]:
    _, _, X, _ = load_mnist(data_dir)
    torch = pin_torch_threads()
    net = ns.MLP([784, 200, 200, 10], seed=0, loss="cross_entropy")
    contenders = {"nnscratch": lambda: timed(lambda: net.predict_proba(X))}
    if torch is not None:
        model = torch_mlp(torch, [784, 200, 200, 10]).eval()
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


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=21)
