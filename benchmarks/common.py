"""Shared pieces of the benchmarks: data, timing by alternation, the machine, the GEMM rate.

Timing rule: contenders run in turn (A B C A B C ...) after a warm-up round, and each reports
the median of its rounds, so a slow spell of the machine hits all of them alike; results are
quoted as ratios measured in the same run.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Goal:
    """One measured ratio (or amount) beside the goal it is held to."""

    benchmark: str
    measure: str
    value: float
    goal: str
    met: bool
    unit: str = ""

    def row(self) -> str:
        value = f"{self.value:.2f}{self.unit}"
        return f"| {self.benchmark} | {self.measure} | {value} | {self.goal} | " \
               f"{'yes' if self.met else 'no'} |"


def alternate(contenders: dict[str, Callable[[], float]], rounds: int,
              warmup: int = 1) -> dict[str, float]:
    """Median seconds of each contender over ``rounds`` alternating rounds.

    Each contender is a function that does its own set-up and returns the seconds of the part
    to be timed.
    """
    for _ in range(warmup):
        for run in contenders.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            times[name].append(run())
    return {name: statistics.median(values) for name, values in times.items()}


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (threadpoolctl if present, else the cores)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max((pool["num_threads"] for pool in pools), default=os.cpu_count() or 1)


def pin_torch_threads():
    """Import torch with as many threads as NumPy's BLAS, or return None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_threads())
    return torch


def gemm_rate(size: int = 2048, rounds: int = 7) -> float:
    """Float32 FLOP/s of a large square matrix product, the BLAS limit for this machine."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    seconds = statistics.median(timed(lambda: np.matmul(a, b, out=out)) for _ in range(rounds))
    return 2 * size**3 / seconds


def machine() -> str:
    """A one-paragraph description of the machine and the library versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}",
             f"NumPy {np.__version__} ({blas_threads()} BLAS threads)"]
    torch = pin_torch_threads()
    if torch is not None:
        parts.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    try:
        import sklearn

        parts.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def torch_mlp(torch, sizes: list[int]):
    """The PyTorch twin of nnscratch.MLP(sizes): Linear layers with ReLU between them."""
    modules = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        if index:
            modules.append(torch.nn.ReLU())
        modules.append(torch.nn.Linear(fan_in, fan_out))
    return torch.nn.Sequential(*modules)


def torch_sgd_epoch(torch, X, y, sizes: list[int], batch_size: int, lr: float = 0.01) -> float:
    """Seconds for one shuffled epoch of plain SGD on the PyTorch twin of MLP(sizes)."""
    X_torch, y_torch = torch.from_numpy(X), torch.from_numpy(y)
    torch.manual_seed(0)
    model = torch_mlp(torch, sizes)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def epoch():
        order = torch.randperm(len(X_torch))
        for start in range(0, len(X_torch), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X_torch[rows]), y_torch[rows])
            loss.backward()
            optimizer.step()
    return timed(epoch)


def bench_main(run: Callable[..., list[Goal]], description: str, rounds: int,
               uses_mnist: bool = True) -> None:
    """The command line of one benchmark script: parse, describe the machine, run, report."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    if uses_mnist:
        parser.add_argument("--data-dir", default=None, help="folder with mnist/ (IDX files)")
    parser.add_argument("--rounds", type=int, default=rounds)
    arguments = parser.parse_args()
    print(machine())
    options = {"rounds": arguments.rounds}
    if uses_mnist:
        options["data_dir"] = arguments.data_dir
    for goal in run(**options):
        print(goal.row())


def load_mnist(data_dir: str | None):
    from nnscratch.datasets import load_mnist as load

    return load(data_dir or os.environ.get("NNSCRATCH_DATA") or DEFAULT_DATA, download=False)


def mlp_flops_per_sample(sizes: list[int]) -> int:
    """Matrix-multiply FLOPs that one training sample needs: the forward products, the weight
    gradients, and the input gradients of every layer but the first (2 FLOPs per multiply-add)."""
    products = [fan_in * fan_out for fan_in, fan_out in zip(sizes, sizes[1:], strict=False)]
    return 2 * (2 * sum(products) + sum(products[1:]))


def print_times(title: str, times: dict[str, float]) -> None:
    """The median time of each contender, as one block of the report."""
    print(title)
    width = max(len(name) for name in times)
    for name, seconds in times.items():
        print(f"  {name:<{width}}  {seconds * 1e3:10.1f} ms")


def goals_table(goals: list[Goal]) -> str:
    """The goals as a Markdown table."""
    lines = ["| benchmark | measure | value | goal | met |", "|---|---|---|---|---|"]
    return "\n".join(lines + [goal.row() for goal in goals])
