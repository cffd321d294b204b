"""Full-batch gradient descent on the 8x8 digits, as the digits article trains: [64, 100, 10],
ReLU, softmax cross-entropy, 400 epochs of one step on all 1,257 training rows, nnscratch vs
PyTorch. Usage: python benchmarks/bench_full_batch.py [--rounds N]
"""

from __future__ import annotations

from common import Goal, alternate, bench_main, pin_torch_threads, print_times, timed, torch_mlp

import nnscratch as ns
from nnscratch.datasets import load_digits

EPOCHS = 400


def run(rounds: int) -> list[Goal]:
    X, y, _, _ = load_digits(seed=0)
    torch = pin_torch_threads()

    def nnscratch_run() -> float:
        net = ns.MLP([64, 100, 10], seed=0)
        return timed(lambda: net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1),
                                     verbose=0, epochs=EPOCHS, batch_size=None))

    contenders = {"nnscratch": nnscratch_run}
    if torch is not None:
        X_torch, y_torch = torch.from_numpy(X), torch.from_numpy(y)

        def torch_run() -> float:
            torch.manual_seed(0)
            model = torch_mlp(torch, [64, 100, 10])
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

            def train():
                for _ in range(EPOCHS):
                    optimizer.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(X_torch), y_torch)
                    loss.backward()
                    optimizer.step()
            return timed(train)

        contenders["PyTorch"] = torch_run
    times = alternate(contenders, rounds)
    print_times(f"full-batch: digits {len(X)} rows, [64, 100, 10], {EPOCHS} epochs "
                f"(median of {rounds})", times)
    if "PyTorch" not in times:
        return []
    ratio = times["nnscratch"] / times["PyTorch"]
    return [Goal("full-batch", "nnscratch / PyTorch", ratio, "< 1", ratio < 1)]


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5, uses_mnist=False)
