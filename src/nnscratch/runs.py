"""A training run on disk: the model, its history, how it was made, and its plots.

    <folder>/model.npz                the trained network (nnscratch.load reads it)
    <folder>/history.json             per-epoch metrics, and why training stopped
    <folder>/history.csv              the same metrics as a table
    <folder>/config.json              the settings of the run and its test scores
    <folder>/report.html              all of it on one page that opens offline (report.py)
    <folder>/history.png              training curves
    <folder>/confusion_matrix.png     on the test set
    <folder>/predictions.png          test images with their predicted labels, mistakes first
    <folder>/first_layer_weights.png  for image inputs
    <folder>/gradient_norms.png       gradient magnitude per layer across training, if recorded

A run folder appears complete or not at all. ``RunFolder`` creates a hidden working folder
beside the target (``.<name>.partial-<pid>``) before training starts, which also proves the
place writable; the files are written there, and ``commit`` renames it to its name in one
step. A name already taken by another run is never reused (default names get a suffix, -2,
-3, ...) or replaced unless asked (``overwrite``). Working folders of processes that were
killed are removed by the next run in the same place. The plots need matplotlib
(``pip install nnscratch[plot]``); a plot that fails is reported and left out, never the model.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._files import WriteError, atomic_write, atomic_write_text, process_is_running
from .callbacks import History
from .metrics import confusion_matrix
from .network import Sequential
from .report import flatten, render_report


class RunFolderError(OSError):
    """A run folder that cannot be used: the message names it, the reason and the fix."""


class RunFolder:
    """Where a run is written: a hidden working folder, renamed into place by ``commit``.

    ``target`` is the folder the run should have. A target that already holds files is
    refused at once unless ``overwrite`` (replace it when the run is complete) or ``unique``
    (default names: take the next free suffix, -2, -3, ...). If another run takes the name while
    this one trains, the finished run goes to the next free suffix: it is never discarded.
    Creating the RunFolder checks the place at once, so a bad ``--out`` is reported before any
    training.
    """

    def __init__(self, target: str | os.PathLike, overwrite: bool = False, unique: bool = False):
        self.target = Path(target)
        self.overwrite = overwrite
        self.unique = unique
        resolved, here = self.target.resolve(), Path.cwd().resolve()
        if resolved == here or resolved in here.parents or resolved.parent == resolved:
            raise RunFolderError(f"Cannot save the run in {self.target}: that is the current "
                                 "folder or one above it. Give the run a folder of its own "
                                 "with --out.")
        if self.target.exists() and not self.target.is_dir():
            raise RunFolderError(f"Cannot save the run in {self.target}: it is a file, not a "
                                 "folder. Choose another place with --out.")
        if _is_nonempty_dir(self.target) and not (overwrite or unique):
            raise RunFolderError(f"{self.target} already holds files (an earlier run?), which "
                                 "this run would mix with its own. Choose another --out, or "
                                 "pass --overwrite to replace that folder.")
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            remove_abandoned_folders(parent)
            self.kept = False
            self.path = parent / f".{self.target.name}.partial-{os.getpid()}"
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir()
        except OSError as error:
            raise RunFolderError(f"Cannot save the run in {self.target}: "
                                 f"{error.strerror or error}. Choose a folder you can write to "
                                 "with --out.") from None

    def commit(self) -> Path:
        """Rename the working folder to the target, or, if another run took that name in the
        meantime (and ``overwrite`` was not asked), to the next free name ``<name>-2``, ...;
        return where the run now is. A finished run is never discarded."""
        if self.overwrite and _is_nonempty_dir(self.target):
            return self._replace(self.target)
        candidates = [self.target, *(self.target.with_name(f"{self.target.name}-{number}")
                                     for number in range(2, 1000))]
        for candidate in candidates:
            try:  # rename(2) replaces an empty folder and fails on a non-empty one
                os.rename(self.path, candidate)
                return candidate
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise RunFolderError(f"Cannot move the finished run into {candidate}: "
                                         f"{error.strerror or error}. It is complete in "
                                         f"{self._keep()}; move it yourself.") from None
        raise RunFolderError(f"Every name from {self.target} to {candidates[-1]} is taken; the "
                             f"run is complete in {self._keep()}.")

    def _keep(self) -> Path:
        """Keep a finished run that could not take its name, where no cleanup removes it."""
        self.kept = True
        unsaved = self.path.with_name(f"{self.target.name}.unsaved-{os.getpid()}")
        try:
            os.rename(self.path, unsaved)
        except OSError:
            return self.path
        self.path = unsaved
        return unsaved

    def discard(self) -> None:
        """Remove the working folder and everything in it, unless a finished run that could
        not be moved into place is kept there."""
        if not self.kept:
            shutil.rmtree(self.path, ignore_errors=True)

    def _replace(self, old: Path) -> Path:
        """Swap the finished run in for ``old``: two renames, then the old one is deleted."""
        aside = old.with_name(f".{old.name}.replaced-{os.getpid()}")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(old, aside)
        os.rename(self.path, old)
        shutil.rmtree(aside, ignore_errors=True)
        return old


def remove_abandoned_folders(parent: Path) -> list[Path]:
    """Delete the ``.<name>.partial-<pid>`` working folders of processes no longer running."""
    removed = []
    for candidate in parent.glob(".*.partial-*"):
        pid_text = candidate.name.rsplit("-", 1)[-1]
        if candidate.is_dir() and pid_text.isdigit() and not process_is_running(int(pid_text)):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _is_nonempty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError:
        return True


def can_plot() -> bool:
    """Whether matplotlib is installed, so that runs get their plots."""
    return importlib.util.find_spec("matplotlib") is not None


@dataclass
class RunRecord:
    """One run as training leaves it: all that saving it, its plots and its report read.

    ``config`` is what config.json holds (the settings and the test scores); ``X_test`` and
    ``y_test`` are the held-out rows the plots and the report show; ``gradient_norms`` is what a
    GradientNormRecorder recorded; ``images`` says whether the rows are square images (None:
    guessed from a square number of inputs).
    """

    network: Sequential
    history: History
    config: dict[str, Any]
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    class_names: list[str] | None = None
    gradient_norms: dict[str, list[float]] | None = None
    images: bool | None = None

    def __post_init__(self) -> None:
        if self.images is None:
            self.images = math.isqrt(self.network.n_inputs) ** 2 == self.network.n_inputs

    @property
    def scored_rows(self) -> bool:
        """Whether there are held-out rows of a classifier to show predictions for."""
        loss = self.network.loss
        return self.X_test is not None and self.y_test is not None and len(self.X_test) > 0 \
            and loss is not None and loss.task == "multiclass"

    @property
    def title(self) -> str:
        """The report's title: the command, the data (or recipe) and the date."""
        config = self.config
        return (f"nnscratch {config.get('command', 'run')}: "
                f"{config.get('recipe') or config.get('data', '')} "
                f"{config.get('date', '')}").strip()


def save_run(folder: str | os.PathLike, run: RunRecord, plots: bool = True,
             problems: list[str] | None = None, plot_worker: Any = None) -> list[Path]:
    """Write ``run``'s files into ``folder`` (which must exist); return the files written.

    The model, history and config come first; a plot that fails is left out and described in
    ``problems`` (if given) rather than losing the rest. Write into a RunFolder's ``path`` and
    commit it, so the run appears only when complete. ``plot_worker`` (a
    _plot_worker.PlotWorker) draws the plots in a second process while this one writes the
    report; if it fails, they are drawn here.
    """
    folder = Path(folder)
    history = run.history
    record = {"history": history.history, "epochs": history.epoch,
              "stop_reason": history.stop_reason}
    written = [run.network.save(folder / "model.npz",
                                metadata={**run.network.metadata, "run": run.config, **record})]
    written.append(_write_text(folder / "history.json", json.dumps(record, indent=2)))
    written.append(_write_text(folder / "history.csv", _history_csv(history)))
    written.append(_write_text(folder / "config.json", json.dumps(run.config, indent=2)))
    problems = problems if problems is not None else []
    inputs = plot_inputs(run) if plots and can_plot() else None
    # handed to the worker first, so that it draws while this process writes the rest
    submitted = inputs is not None and plot_worker is not None \
        and plot_worker.submit(folder, inputs)
    written.append(_write_text(folder / "report.html", _report(run)))
    if inputs is not None:
        drawn = plot_worker.result(problems) if submitted else None
        written += drawn if drawn is not None else draw_plots(folder, inputs, problems)
    return written


def _report(run: RunRecord) -> str:
    probabilities = run.network.predict_proba(run.X_test) if run.scored_rows else None
    return render_report(run.config, run.history.history, probabilities, run.X_test, run.y_test,
                         run.class_names, run.gradient_norms, bool(run.images), title=run.title)


def load_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """The per-epoch metrics of a run: ``path`` is its folder or its history.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "history.json"
    if not path.is_file():
        raise FileNotFoundError(f"No history at {path}: give a run folder written by "
                                "`nnscratch train` or its history.json.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        history = record["history"]
        if not isinstance(history, dict) or not all(
                isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)
                for values in history.values()):
            raise ValueError("history is not a dict of number lists")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a run history ({error}).") from None
    return history


# ----------------------------------------------------------------------------------------------
# Reading runs back: the list, and two runs side by side

MAX_CONFIG_BYTES = 1 << 20  # a config.json is a few kB; anything above 1 MiB is not ours


def read_config(folder: str | os.PathLike) -> dict[str, Any]:
    """A run's config.json, as a dict (ValueError if it is missing or not a run's)."""
    path = Path(folder) / "config.json"
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError("too large")
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{Path(folder)} is not a run folder: {path.name} cannot be read "
                         f"({error}).") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a run's config (not a JSON object).")
    return config


def run_summary(folder: str | os.PathLike) -> dict[str, Any]:
    """One line of ``nnscratch runs``: name, data, epochs, best validation accuracy, test
    accuracy (or R^2 for a regression), date."""
    folder = Path(folder)
    config = read_config(folder)
    scores = next((value for key, value in config.items()
                   if key.endswith("_scores") and isinstance(value, dict)), {})
    try:
        watched = load_history(folder).get("val_accuracy") or []
    except (FileNotFoundError, ValueError):
        watched = []
    date = config.get("date")
    if not isinstance(date, str):
        date = _local_time((folder / "config.json").stat().st_mtime)
    test = scores.get("accuracy", scores.get("r2", config.get("test_accuracy")))
    return {"name": folder.name, "data": _short_data(config.get("data")),
            "epochs": config.get("epochs_run"), "best_val_accuracy": max(watched, default=None),
            "test": test if isinstance(test, (int, float)) else None,
            "test_measure": "r2" if "r2" in scores else "accuracy", "date": date}


def list_runs(parent: str | os.PathLike = "runs") -> list[dict[str, Any]]:
    """The run folders directly in ``parent`` (those with a readable config.json), oldest
    first."""
    parent = Path(parent)
    if not parent.is_dir():
        raise FileNotFoundError(f"No runs folder at {parent}: train a model first "
                                "(nnscratch train), or pass --dir.")
    summaries = []
    for folder in sorted(parent.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and \
                (folder / "config.json").is_file():
            try:
                summaries.append(run_summary(folder))
            except (OSError, ValueError):
                continue  # not a run after all; listing never fails over one folder
    return sorted(summaries, key=lambda summary: summary["date"])


def compare_runs(first: str | os.PathLike, second: str | os.PathLike
                 ) -> list[tuple[str, Any, Any]]:
    """Every setting and score of two runs, as (name, first's, second's); scores flattened
    (``test_scores.accuracy``); a name absent from one run has None there."""
    flat = [flatten(read_config(folder)) for folder in (first, second)]
    names = list(dict.fromkeys([*flat[0], *flat[1]]))
    return [(name, flat[0].get(name), flat[1].get(name)) for name in names]


def _short_data(data: Any) -> str:
    text = str(data) if data is not None else "-"
    return Path(text).name if os.sep in text else text


def _local_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _history_csv(history: History) -> str:
    names = list(history.history)
    lines = [",".join(["epoch", *names])]
    for row, epoch in enumerate(history.epoch):
        lines.append(",".join([str(epoch + 1),
                               *(repr(history.history[name][row]) for name in names)]))
    return "\n".join(lines) + "\n"


@dataclass
class PlotInputs:
    """What a run's plots show, as arrays, lists and names: all that drawing them needs, so
    that another process can draw them (``save``, ``load``: an .npz without pickle, and JSON).
    """

    history: dict[str, list[float]]
    X_test: np.ndarray | None = None  # the test rows, for the grid of images
    y_test: np.ndarray | None = None
    predicted: np.ndarray | None = None  # a classifier's labels for X_test
    n_classes: int = 0
    class_names: list[str] | None = None
    first_weights: np.ndarray | None = None  # W (in, units) of the first Dense, for images
    gradient_norms: dict[str, list[float]] | None = None
    is_image: bool = False

    ARRAYS = ("X_test", "y_test", "predicted", "first_weights")

    def save(self, folder: Path) -> None:
        arrays = {name: getattr(self, name) for name in self.ARRAYS
                  if getattr(self, name) is not None}
        atomic_write(folder / "arrays.npz", lambda file: np.savez(file, **arrays))
        rest = {name: value for name, value in vars(self).items() if name not in self.ARRAYS}
        atomic_write_text(folder / "inputs.json", json.dumps(rest))

    @classmethod
    def load(cls, folder: Path) -> PlotInputs:
        with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
        return cls(**json.loads((folder / "inputs.json").read_text(encoding="utf-8")), **loaded)


def plot_inputs(run: RunRecord) -> PlotInputs:
    """What the run's plots need from the network and the test data (predictions, weights),
    as PlotInputs, which a second process can read."""
    network = run.network
    inputs = PlotInputs(run.history.history, gradient_norms=run.gradient_norms or None,
                        class_names=run.class_names, is_image=bool(run.images))
    if run.scored_rows:
        inputs.predicted = network.predict(run.X_test)
        inputs.y_test, inputs.n_classes = np.asarray(run.y_test), network.n_outputs
        if run.images:
            inputs.X_test = run.X_test
    if run.images and network.n_inputs > 4:
        from .plots import first_layer_weights

        inputs.first_weights = first_layer_weights(network)
    return inputs


def draw_plots(folder: Path, inputs: PlotInputs, problems: list[str]) -> list[Path]:
    """Draw the run's plots into ``folder``; a plot that fails is described in ``problems``."""
    from . import plots

    drawings: dict[str, Any] = {"history.png": lambda: plots.plot_history(inputs.history)}
    if inputs.predicted is not None and inputs.y_test is not None:
        matrix = confusion_matrix(inputs.y_test, inputs.predicted, n_classes=inputs.n_classes)
        drawings["confusion_matrix.png"] = \
            lambda: plots.plot_confusion_matrix(matrix, inputs.class_names).figure
        if inputs.X_test is not None:
            drawings["predictions.png"] = lambda: plots.plot_prediction_grid(
                inputs.X_test, inputs.y_test, inputs.predicted, inputs.class_names)
    if inputs.first_weights is not None:
        drawings["first_layer_weights.png"] = \
            lambda: plots.plot_first_layer_weights(inputs.first_weights)
    if inputs.gradient_norms:
        drawings["gradient_norms.png"] = \
            lambda: plots.plot_gradient_norms(inputs.gradient_norms).figure
    written = []
    for name, draw in drawings.items():
        try:
            written.append(save_figure(draw(), folder / name))
        except WriteError:
            raise
        except Exception as error:  # a plot is a bonus: never lose the run over one
            problems.append(f"{name} was not drawn ({type(error).__name__}: {error})")
    return written


FIGURE_FORMATS = ("png", "svg", "pdf")


def save_figure(figure: Any, path: Path) -> Path:
    """Save a matplotlib Figure at ``path``, atomically, in the format its suffix names
    (.png, .svg or .pdf)."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in FIGURE_FORMATS:
        raise ValueError(f"{path}: a figure is written as .png, .svg or .pdf; got "
                         f"{path.suffix or 'no suffix'!r}. Name the file e.g. {path.stem}.png.")
    atomic_write(path, lambda file: figure.savefig(file, format=kind, dpi=100))
    return path


def _write_text(path: Path, text: str) -> Path:
    atomic_write_text(path, text)
    return path
