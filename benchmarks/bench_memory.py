"""Memory of a MNIST fit (784-200-200-10, batch 64, one epoch) against the size of its inputs.

Measured in a fresh child process, after the data are loaded: the peak of NumPy's own
allocations (tracemalloc) and the peak resident memory (the kernel's high-water mark, reset
just before the fit), each beyond what was in use before the fit began. A fit that copied the
training set (X[permutation] per epoch) would show at least the inputs' size again.
Usage: python benchmarks/bench_memory.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import Goal, machine

CHILD = """
import json, sys, tracemalloc
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from common import load_mnist
import nnscratch as ns

def resident(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024

X, y, _, _ = load_mnist(sys.argv[1] or None)
net = ns.MLP([784, 200, 200, 10], seed=0)
Path("/proc/self/clear_refs").write_text("5")   # reset the peak-RSS mark to the current RSS
rss_before = resident("VmRSS:")
tracemalloc.start()
net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.01), verbose=0, epochs=1,
        batch_size=64, seed=0)
_, traced_peak = tracemalloc.get_traced_memory()
print(json.dumps({"inputs": X.nbytes + y.nbytes, "traced_peak": traced_peak,
                  "rss_peak_increase": resident("VmHWM:") - rss_before}))
"""


def run(data_dir: str | None) -> list[Goal]:
    here = str(Path(__file__).resolve().parent)
    done = subprocess.run([sys.executable, "-c", CHILD, data_dir or "", here],
                          capture_output=True, text=True, check=True)
    numbers = json.loads(done.stdout)
    megabytes = {name: value / 2**20 for name, value in numbers.items()}
    print(f"memory: fit on MNIST, inputs {megabytes['inputs']:.1f} MiB")
    print(f"  NumPy allocations at their peak (tracemalloc): {megabytes['traced_peak']:.1f} MiB")
    print(f"  peak resident memory above the start of fit:   "
          f"{megabytes['rss_peak_increase']:.1f} MiB")
    return [
        Goal("memory", "peak NumPy allocations during fit", megabytes["traced_peak"],
             "<= 50 MiB", megabytes["traced_peak"] <= 50, " MiB"),
        Goal("memory", "peak resident memory added by fit", megabytes["rss_peak_increase"],
             "<= 50 MiB", megabytes["rss_peak_increase"] <= 50, " MiB"),
        Goal("memory", "peak NumPy allocations / inputs",
             numbers["traced_peak"] / numbers["inputs"], "< 1 (no copy of X)",
             numbers["traced_peak"] < numbers["inputs"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None, help="folder with mnist/ (IDX .gz files)")
    arguments = parser.parse_args()
    print(machine())
    for goal in run(arguments.data_dir):
        print(goal.row())


if __name__ == "__main__":
    main()
