"""Loading a 256 MiB model: nnscratch.load (every check included) vs numpy.load of the same
.npz, in time and in peak memory, each measured in a fresh process, alternating.
Usage: python benchmarks/bench_load.py [--rounds N]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import Goal, bench_main

import nnscratch as ns

# Each contender runs in a new interpreter: the peak resident memory it adds to a process that
# has imported nnscratch and NumPy (Linux's VmHWM, reset through /proc/self/clear_refs), and the
# seconds of the load itself.
MEASURE = """
import json, sys, time
import numpy as np
import nnscratch as ns
path, how = sys.argv[1], sys.argv[2]
def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # restart the peak (VmHWM) here: ru_maxrss would include the parent's
before = status("VmRSS")
start = time.perf_counter()
if how == "nnscratch":
    net = ns.load(path)
    total = sum(param.nbytes for param, _ in net.parameters())
else:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    total = sum(array.nbytes for array in arrays.values())
seconds = time.perf_counter() - start
peak = status("VmHWM") - before
print(json.dumps({"seconds": seconds, "peak": peak, "bytes": total}))
"""


def measure(path: Path, how: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, "-c", MEASURE, str(path), how], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)


def run(rounds: int) -> list[Goal]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.npz"
        net = ns.MLP([8192, 8191, 2], seed=0)  # 67.1 M float32 parameters: 256 MiB
        net.save(path)
        size_mib = net.n_params * 4 / 2**20
        del net
        results: dict[str, list[dict[str, float]]] = {"nnscratch": [], "numpy": []}
        for how in results:  # warm the page cache
            measure(path, how)
        for _ in range(rounds):
            for how in results:
                results[how].append(measure(path, how))
    medians = {how: {key: statistics.median(run[key] for run in runs)
                     for key in ("seconds", "peak")} for how, runs in results.items()}
    print(f"load of a {size_mib:.0f} MiB model (median of {rounds} fresh processes each)")
    for how, runs in results.items():
        seconds = [run["seconds"] for run in runs]
        print(f"  {how:<10} {medians[how]['seconds'] * 1e3:8.1f} ms "
              f"(spread {min(seconds) * 1e3:.0f}-{max(seconds) * 1e3:.0f}), "
              f"peak +{medians[how]['peak'] / 2**20:.0f} MiB")
    time_ratio = medians["nnscratch"]["seconds"] / medians["numpy"]["seconds"]
    memory_ratio = medians["nnscratch"]["peak"] / medians["numpy"]["peak"]
    return [Goal("load", "ns.load / np.load, time (256 MiB)", time_ratio, "<= 1.5",
                 time_ratio <= 1.5),
            Goal("load", "ns.load / np.load, peak memory", memory_ratio, "<= 1.5",
                 memory_ratio <= 1.5)]


if __name__ == "__main__":
    bench_main(run, __doc__, rounds=5, uses_mnist=False)
