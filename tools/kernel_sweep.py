"""Run the whole test suite under other BLAS kernels, thread counts and SIMD paths.

    python tools/kernel_sweep.py                      # every configuration this CPU can run
    python tools/kernel_sweep.py --only haswell-1 nehalem-2
    python tools/kernel_sweep.py --list               # the configurations, and which can run here
    python tools/kernel_sweep.py -- -x tests/test_backends.py   # pytest arguments after --

A test that compares two implementations must hold on any CPU (tests/rounding.py says how), but
CI runs on one. This sweep is how to see another CPU's arithmetic on this one, by hand: OpenBLAS
picks its kernel by OPENBLAS_CORETYPE (Haswell: AVX2 with FMA; Sandybridge: AVX without FMA;
Nehalem: SSE4.2; Prescott: SSE3; SkylakeX: AVX-512, only where the CPU has it), the thread
count by OPENBLAS_NUM_THREADS; NumPy's own SIMD loops fall back to their x86-64-v2 forms with
NPY_DISABLE_CPU_FEATURES=X86_V3, and PyTorch's to its plain ones with ATEN_CPU_CAPABILITY=default.
Tests and CI never set these (they leave the BLAS as users have it); only this script does.

Each configuration runs ``python -m pytest -q`` in a child process; the script prints one line per
configuration (the kernel OpenBLAS reports, the pytest summary) and exits 1 if any was not green.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OLD_CPU = {"NPY_DISABLE_CPU_FEATURES": "X86_V3", "ATEN_CPU_CAPABILITY": "default"}
CONFIGURATIONS = {
    "default": {},
    "haswell-1": {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"},
    "haswell-2": {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "2"},
    "skylakex-2": {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_NUM_THREADS": "2"},
    "sandybridge-2": {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "2"},
    "nehalem-1": {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"},
    "prescott-2": {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "2"},
    "old-cpu-1": {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1", **OLD_CPU},
}
# the CPU flag each OpenBLAS kernel needs (a kernel the CPU lacks dies of an illegal instruction)
NEEDS = {"SkylakeX": "avx512f", "Haswell": "avx2", "Sandybridge": "avx", "Nehalem": "sse4_2"}

REPORT_KERNEL = """
import numpy
from threadpoolctl import threadpool_info
print(", ".join(f"{info['internal_api']} {info.get('architecture')} {info['num_threads']} threads"
                for info in threadpool_info() if info["user_api"] == "blas"))
"""


def cpu_flags() -> set[str]:
    """The CPU's feature flags, from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def runs_here(settings: dict[str, str], flags: set[str]) -> bool:
    """Whether this CPU has what the configuration's kernel needs."""
    needed = NEEDS.get(settings.get("OPENBLAS_CORETYPE", ""))
    return needed is None or needed in flags


def environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without the sweep's variables, then the configuration's."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                          "NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY"}}
    env.update(settings)
    return env


def run(name: str, settings: dict[str, str], pytest_args: list[str]) -> tuple[bool, str]:
    """Run the suite under one configuration: (green, its line for the table)."""
    env = environment(settings)
    kernel = subprocess.run([sys.executable, "-c", REPORT_KERNEL], env=env, cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *pytest_args], env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else result.stderr.strip()[-200:]
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    text = (f"{name:14} {kernel:32} {time.monotonic() - started:6.0f} s  {summary}"
            + "".join(f"\n{'':16}{line}" for line in failures))
    return result.returncode == 0, text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGURATIONS), metavar="NAME",
                        help="run these configurations only")
    parser.add_argument("--list", action="store_true", help="list the configurations and stop")
    options = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    flags = cpu_flags()
    chosen = options.only or list(CONFIGURATIONS)
    if options.list:
        for name, settings in CONFIGURATIONS.items():
            where = "runs here" if runs_here(settings, flags) else "this CPU lacks its kernel"
            print(f"{name:14} {where:26} {' '.join(f'{k}={v}' for k, v in settings.items())}")
        return 0
    all_green = True
    for name in chosen:
        settings = CONFIGURATIONS[name]
        if not runs_here(settings, flags):
            print(f"{name:14} skipped: this CPU lacks {NEEDS[settings['OPENBLAS_CORETYPE']]}",
                  flush=True)
            continue
        green, line = run(name, settings, pytest_args)
        all_green &= green
        print(line, flush=True)
    return 0 if all_green else 1


if __name__ == "__main__":
    sys.exit(main())
