"""One MNIST epoch on a GPU: nnscratch's own equations on CuPy arrays and on PyTorch CUDA
tensors, beside PyTorch eager on the GPU, PyTorch with its training step captured in a CUDA
graph, and nnscratch on the machine's CPU (NumPy).

Every contender: an MLP with ReLU, softmax cross-entropy, plain SGD (lr 0.01), one shuffled
epoch over 59,392 MNIST rows (a multiple of every batch size, so no step is partial and the
CUDA graph replays one shape), the data already on the device. Each time ends with the device
synchronised. Contenders alternate, after a warm-up round (CuPy compiles its kernels then);
medians of the rounds.

Goals (issue 14): nnscratch on the GPU faster than PyTorch eager at every batch size >= 64,
and at least 10x its CPU time at batch >= 256; stretch: within 2x of the CUDA-graph step.

Without a GPU nothing is measured (the script says why). ``--smoke`` runs the same code on
the CPU (PyTorch tensors on the CPU, a small slice of the data) to check the script itself;
its numbers mean nothing.

Usage: python benchmarks/bench_gpu.py [--data-dir DIR] [--rounds N] [--smoke]
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
from common import Goal, alternate, goals_table, load_mnist, machine, timed, torch_mlp

import nnscratch as ns
from nnscratch.backend import BackendError, get_backend

CASES = [([784, 200, 200, 10], 64), ([784, 200, 200, 10], 1024),
         ([784, 2048, 2048, 10], 256), ([784, 2048, 2048, 10], 1024)]
ROWS = 59_392  # 58 * 1024


def gpu_devices(smoke: bool) -> dict[str, str]:
    """nnscratch's GPU devices that work here: name -> device (torch:cpu stands in for smoke)."""
    if smoke:
        return {"nnscratch on torch (smoke: CPU)": "torch:cpu"}
    devices = {}
    for name, device in (("nnscratch on CuPy", "cupy"), ("nnscratch on torch CUDA",
                                                         "torch:cuda")):
        try:
            get_backend(device)
        except BackendError as error:
            print(f"{name}: not run ({error})")
        else:
            devices[name] = device
    return devices


def synchronize(device: str) -> None:
    """Wait until the device has finished what was queued on it."""
    if device == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()
    elif device.startswith("torch:cuda"):
        import torch

        torch.cuda.synchronize()


def nnscratch_epoch(device: str, X: np.ndarray, y: np.ndarray, sizes: list[int],
                    batch_size: int) -> float:
    net = ns.MLP(sizes, seed=0).to(device)
    X_device, y_device = net.backend.asarray(X), net.backend.asarray(y)
    synchronize(device)

    def epoch() -> None:
        net.fit(X_device, y_device, loss="cross_entropy", optimizer=ns.SGD(lr=0.01), epochs=1,
                batch_size=batch_size, seed=0, verbose=0)
        synchronize(device)  # fit has read its totals already; this costs nothing more

    return timed(epoch)


def torch_eager_epoch(torch, device, X, y, sizes, batch_size) -> float:
    X_device, y_device = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    torch.manual_seed(0)
    model = torch_mlp(torch, sizes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def epoch() -> None:
        order = torch.randperm(len(X_device), device=device)
        for start in range(0, len(X_device), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(X_device[rows]), y_device[rows])
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    return timed(epoch)


def torch_graph_epoch(torch, X, y, sizes, batch_size) -> float:
    """The forward pass, the backward pass and the SGD update recorded once as a CUDA graph;
    each step copies its batch into the graph's input tensors and replays it."""
    device = torch.device("cuda")
    X_device, y_device = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    torch.manual_seed(0)
    model = torch_mlp(torch, sizes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs, labels = X_device[:batch_size].clone(), y_device[:batch_size].clone()

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()

    warm_up = torch.cuda.Stream()  # PyTorch wants a few steps on a side stream before capture
    warm_up.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(warm_up):
        for _ in range(3):
            optimizer.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(warm_up)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        step()

    def epoch() -> None:
        order = torch.randperm(len(X_device), device=device)
        for start in range(0, len(X_device), batch_size):
            rows = order[start:start + batch_size]
            inputs.copy_(X_device[rows])
            labels.copy_(y_device[rows])
            graph.replay()
        torch.cuda.synchronize()

    return timed(epoch)


def _contenders(devices, torch, cuda, X, y, sizes, batch_size):
    """name -> a function that times one epoch of that contender."""
    contenders = {name: (lambda device=device: nnscratch_epoch(device, X, y, sizes, batch_size))
                  for name, device in devices.items()}
    contenders["nnscratch on the CPU (NumPy)"] = lambda: nnscratch_epoch("numpy", X, y, sizes,
                                                                         batch_size)
    if torch is not None:
        where = torch.device("cuda" if cuda else "cpu")
        contenders["PyTorch eager"] = lambda: torch_eager_epoch(torch, where, X, y, sizes,
                                                                batch_size)
    if cuda:
        contenders["PyTorch, step in a CUDA graph"] = lambda: torch_graph_epoch(
            torch, X, y, sizes, batch_size)
    return contenders


def run(data_dir: str | None, rounds: int, smoke: bool = False) -> list[Goal]:
    devices = gpu_devices(smoke)
    if not devices:
        print("bench_gpu: no GPU here, so nothing is measured (the GPU goals stay unmeasured).")
        return []
    X, y, _, _ = load_mnist(data_dir)
    rows = 2048 if smoke else ROWS
    X, y = np.ascontiguousarray(X[:rows]), y[:rows]
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    cuda = torch is not None and torch.cuda.is_available() and not smoke
    goals, lines = [], []
    for sizes, batch_size in CASES:
        contenders = _contenders(devices, torch, cuda, X, y, sizes, batch_size)
        times = alternate(contenders, rounds)
        label = f"{'-'.join(map(str, sizes))}, batch {batch_size}"
        lines.append((label, times))
        ours = min(times[name] for name in devices)
        if "PyTorch eager" in times:
            ratio = ours / times["PyTorch eager"]
            goals.append(Goal(f"gpu {label}", "nnscratch GPU / PyTorch eager GPU", ratio, "< 1",
                              ratio < 1))
        if batch_size >= 256:
            speedup = times["nnscratch on the CPU (NumPy)"] / ours
            goals.append(Goal(f"gpu {label}", "nnscratch CPU / nnscratch GPU (speed-up)",
                              speedup, ">= 10", speedup >= 10))
        if "PyTorch, step in a CUDA graph" in times:
            ratio = ours / times["PyTorch, step in a CUDA graph"]
            goals.append(Goal(f"gpu {label}", "nnscratch GPU / CUDA-graph step (stretch)",
                              ratio, "<= 2", ratio <= 2))
    names = list(lines[0][1])
    print(f"\none MNIST epoch ({rows:,} rows), seconds, median of {rounds}"
          f"{' (SMOKE RUN ON THE CPU: not a measurement)' if smoke else ''}\n")
    print("| net, batch | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for label, times in lines:
        print(f"| {label} | " + " | ".join(f"{times[name]:.4f}" for name in names) + " |")
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with mnist/ (IDX files)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true",
                        help="run the script's code on the CPU (no measurement)")
    arguments = parser.parse_args()
    print(machine())
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            print(f"GPU: {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}")
    goals = run(arguments.data_dir, arguments.rounds, arguments.smoke)
    if goals and not arguments.smoke:
        print(f"\n{goals_table(goals)}")


if __name__ == "__main__":
    main()
