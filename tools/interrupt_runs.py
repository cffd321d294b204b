"""Interrupt `nnscratch train` at random moments and check that no run is half there.

    python tools/interrupt_runs.py              # 40 trials
    python tools/interrupt_runs.py --trials 60 --seed 3

Each trial starts `nnscratch train` (the built-in digits, a few epochs, with plots), waits a
random time drawn over the length of a warm run, the save included, and sends SIGINT, SIGTERM,
SIGHUP or SIGKILL; sometimes a second signal follows shortly after, to land during the save.
Then it checks:

- the run folder is either absent or complete and consistent: model.npz loads, history.json,
  history.csv and config.json are there, the history has as many epochs as config.json says
  were run, and config.json's architecture is the model's;
- the exit code says what happened: 0 for a finished run, 128 + the signal for an interrupted
  one that saved (130, 143, 129), -9 for SIGKILL;
- an older run in the same folder is byte-for-byte intact, and no visible partial folder is
  left (a killed run's hidden working folder is removed by the next run).

It prints the tally and exits 1 if any trial broke a promise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

import nnscratch as ns

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP,
           "SIGKILL": signal.SIGKILL}
COMMAND = [sys.executable, "-m", "nnscratch", "train", "--epochs", "12", "--verbose", "2"]


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.name.encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_run(folder: Path) -> str | None:
    """None if ``folder`` holds a complete, consistent run; else what is wrong."""
    names = {path.name for path in folder.iterdir()}
    missing = {"model.npz", "history.json", "history.csv", "config.json", "report.html"} - names
    if missing:
        return f"missing {sorted(missing)}"
    try:
        net = ns.load(folder / "model.npz")
    except (ns.ModelFileError, OSError) as error:
        return f"model does not load: {error}"
    history = json.loads((folder / "history.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    epochs = len(history["epochs"])
    if epochs != config["epochs_run"] or any(len(values) != epochs
                                             for values in history["history"].values()):
        return f"history has {epochs} epochs, config says {config['epochs_run']}"
    rows = (folder / "history.csv").read_text().strip().splitlines()
    if len(rows) != epochs + 1:
        return f"history.csv has {len(rows) - 1} rows for {epochs} epochs"
    hidden = [layer.out_features for layer in net.layers if isinstance(layer, ns.Dense)][:-1]
    if hidden != config["layers"]:
        return f"config.json says layers {config['layers']}, the model has {hidden}"
    return None


def trial(number: int, rng: np.random.Generator, parent: Path, duration: float,
          environment: dict[str, str]) -> tuple[str, str | None]:
    """Run one interrupted training; return (what was done, the broken promise or None)."""
    name = str(rng.choice(list(SIGNALS)))
    delay = float(rng.uniform(0.15, 1.0)) * duration
    second = name != "SIGKILL" and rng.random() < 0.3
    use_out = rng.random() < 0.5
    target = parent / f"run-{number}"
    command = COMMAND + (["--out", str(target)] if use_out else [])
    before = {path.name for path in (parent / "runs").iterdir()} if not use_out else set()
    process = subprocess.Popen(command, cwd=parent, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment)
    time.sleep(delay)
    process.send_signal(SIGNALS[name])
    if second:
        time.sleep(float(rng.uniform(0.0, 0.3)))
        process.send_signal(SIGNALS[name])
    _, err = process.communicate(timeout=120)
    label = f"{name}{' x2' if second else ''} at {delay:.2f}s -> exit {process.returncode}"
    if not use_out:
        created = sorted({path.name for path in (parent / "runs").iterdir()} - before)
        visible = [entry for entry in created if not entry.startswith(".")]
        if len(visible) > 1:
            return label, f"two folders appeared: {visible}"
        target = parent / "runs" / visible[0] if visible else parent / "runs" / "absent"
    # 0: finished first; 128 + signal: interrupted; 130: a second signal before the first
    # epoch ended (nothing to save); -signal: killed, or signalled while Python was still
    # starting, before nnscratch could handle it (then there must be no run)
    allowed = {0, 128 + SIGNALS[name], 130, -SIGNALS[name]}
    if process.returncode not in allowed:
        return label, f"exit code {process.returncode}: {err.decode()[-300:]}"
    if b"Traceback" in err:
        return label, f"a traceback: {err.decode()[-300:]}"
    if target.exists():
        problem = check_run(target)
        if problem:
            return label, f"{target.name}: {problem}"
        return label + ", run complete", None
    if process.returncode == 0:
        return label, "exit 0 but no run folder"
    if process.returncode != -SIGNALS[name] and b"epoch 1/" in err:
        return label, "interrupted after training started, yet no run was saved"
    return label + ", no run", None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    rng = np.random.default_rng(arguments.seed)
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    tally: Counter = Counter()
    broken = []
    with tempfile.TemporaryDirectory() as folder_name:
        parent = Path(folder_name)
        durations = []
        for name in ("older", "warm-up"):  # the second, warm, run sets the time scale
            start = time.perf_counter()
            subprocess.run(COMMAND + ["--out", str(parent / "runs" / name)], cwd=parent,
                           check=True, capture_output=True, env=environment)
            durations.append(time.perf_counter() - start)
        duration = min(durations)
        older = folder_digest(parent / "runs" / "older")
        print(f"a whole run takes {duration:.2f} s; {arguments.trials} trials", flush=True)
        for number in range(arguments.trials):
            label, problem = trial(number, rng, parent, duration, environment)
            tally["broken" if problem else "kept every promise"] += 1
            tally["complete run" if "run complete" in label else "no run"] += 1
            tally[label.split(" at ")[0]] += 1
            print(f"{number:3d} {label}{'' if problem is None else ' BROKEN: ' + problem}",
                  flush=True)
            if problem:
                broken.append(problem)
            if folder_digest(parent / "runs" / "older") != older:
                broken.append("the older run changed")
                tally["older run changed"] += 1
        visible_partial = [path.name for path in parent.rglob("*partial*")
                           if not path.name.startswith(".")]
        if visible_partial:
            broken.append(f"visible partial folders: {visible_partial}")
        shutil.rmtree(parent / "runs", ignore_errors=True)
    print("\ntally:")
    for kind, count in sorted(tally.items()):
        print(f"  {kind:<28} {count}")
    print(f"broken promises: {len(broken)}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
