"""A second process that draws a run's plots, so that `nnscratch train` does not wait for them.

matplotlib takes about half a second to import and the five plots of a run about as long to
draw, while training uses one core (one BLAS thread: see _threads.py). So the CLI starts this
worker before training: it imports matplotlib and warms its fonts on the idle core, then waits
for one request on its standard input, a line of JSON naming the run's working folder and the
folder of the plots' inputs (runs.PlotInputs: an .npz without pickle, and JSON). It draws the
plots into the run's folder, each file written atomically, answers with a line of JSON (the
files written and any problems) and exits. Meanwhile the CLI writes the model and the report.

The worker runs in a session of its own, so a Ctrl-C at the terminal reaches only the CLI,
which ends the worker with itself; if the CLI dies, the worker reads the end of its input and
exits. Whenever the worker cannot start, fails or takes too long, the CLI draws the plots in
its own process, as it did before: the worker only ever saves time. NNSCRATCH_PLOT_WORKER=0
in the environment draws them in the CLI's process from the start.

benchmarks/bench_startup.py measures the default `nnscratch train` with the worker, with the
plots drawn inline and without plots (benchmarks/README.md gives the numbers and the CPU). Two
workers, drawing half of the plots each, were no faster: their start-up took the core that
training needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .runs import PlotInputs, draw_plots

TIMEOUT = 120.0  # seconds to wait for the plots before drawing them here instead


class PlotWorker:
    """The parent's handle: ``submit`` the inputs, then ``result``; ``close`` always."""

    def __init__(self) -> None:
        self.inputs_folder: Path | None = None
        self.process: subprocess.Popen[str] | None = None
        package_root = str(Path(__file__).resolve().parents[1])  # this nnscratch, not another
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        try:  # no temporary folder or no process: no worker, the plots are drawn here
            self.inputs_folder = Path(tempfile.mkdtemp(prefix="nnscratch-plots-"))
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nnscratch._plot_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env=environment, start_new_session=True)
        except OSError:
            pass

    def submit(self, folder: Path, inputs: PlotInputs) -> bool:
        """Ask the worker to draw ``inputs`` into ``folder``; False if it cannot take it."""
        if self.process is None or self.process.poll() is not None or self.process.stdin is None \
                or self.inputs_folder is None:
            return False
        try:
            inputs.save(self.inputs_folder)
            request = {"folder": str(Path(folder).resolve()),
                       "inputs": str(self.inputs_folder)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError, TypeError):  # TypeError: something JSON cannot hold
            return False
        return True

    def result(self, problems: list[str]) -> list[Path] | None:
        """The files the worker wrote (its problems added to ``problems``), or None if it
        failed or took longer than TIMEOUT seconds."""
        if self.process is None:
            return None
        try:
            output, _ = self.process.communicate(timeout=TIMEOUT)
            answer = json.loads(output.strip().splitlines()[-1])
            written = [Path(path) for path in answer["written"]]
            found_problems = [str(problem) for problem in answer["problems"]]
        except (subprocess.TimeoutExpired, OSError, ValueError, IndexError, KeyError,
                TypeError):
            self.close()
            return None
        if self.process.returncode != 0:
            return None
        problems.extend(found_problems)
        return written

    def close(self) -> None:
        """End the worker if it still runs, close its pipes, and remove the inputs' folder."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a broken pipe: nothing to flush
                        stream.close()
        if self.inputs_folder is not None:
            shutil.rmtree(self.inputs_folder, ignore_errors=True)


def _warm_up() -> None:
    """Import matplotlib and draw each kind of plot once on tiny made-up inputs: the first
    draw of a process loads fonts and code (slower than any later draw), which then costs the
    run nothing."""
    import numpy as np

    tiny = PlotInputs(history={"loss": [1.0, 0.5], "val_loss": [1.1, 0.6],
                               "accuracy": [0.5, 0.9], "val_accuracy": [0.4, 0.8]},
                      X_test=np.zeros((2, 4)), y_test=np.array([0, 1]),
                      predicted=np.array([1, 1]), n_classes=2,
                      first_weights=np.ones((4, 2)), gradient_norms={"0.W": [1.0, 0.1]},
                      is_image=True)
    with tempfile.TemporaryDirectory(prefix="nnscratch-warm-up-") as folder:
        draw_plots(Path(folder), tiny, [])


def main() -> int:
    """The worker: warm up, read one request, draw, answer."""
    _warm_up()
    line = sys.stdin.readline()
    if not line:  # the CLI went away, or had nothing to draw
        return 0
    request: dict[str, Any] = json.loads(line)
    problems: list[str] = []
    inputs = PlotInputs.load(Path(request["inputs"]))
    written = draw_plots(Path(request["folder"]), inputs, problems)
    sys.stdout.write(json.dumps({"written": [str(path) for path in written],
                                 "problems": problems}) + "\n")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the answer is out: skip tearing down matplotlib (a tenth of a second)
