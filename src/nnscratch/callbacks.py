"""Callbacks: code that ``fit`` calls at fixed points of training, to watch it or steer it.

    on_train_begin(logs)    on_epoch_begin(epoch, logs)    on_batch_end(batch, logs)
    on_epoch_end(epoch, logs)                              on_train_end(logs)

``logs`` at the end of an epoch holds "loss", "accuracy" (classifiers), "val_loss" and
"val_accuracy" (with validation data) and "lr"; at the end of a batch, that batch's "loss" and
"size". A callback reaches the network as ``self.model`` (and its optimizer as
``self.model.optimizer``) and stops training by setting ``self.model.stop_training = True``.

The library itself never prints: progress reports (ProgressLogger) are callbacks, which ``fit``
adds for ``verbose`` 1 or 2, and which the CLI uses.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from ._validation import check_choice, check_float, check_int
from .backend import to_numpy
from .serialization import read_metadata


class Callback:
    """Base class: every hook does nothing until a subclass overrides it."""

    model: Any = None
    params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Facts about the run: "epochs", "steps" (batches per epoch), "samples"."""
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...


class CallbackList:
    """The callbacks of one fit, called as one.

    Each hook reaches only the callbacks that override it, in one loop: a step calls no
    ``on_batch_end`` at all, and builds no logs for it, when no callback watches batches
    (Keras's CallbackList skips the hooks nobody overrides the same way).
    """

    HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")

    def __init__(self, callbacks: list[Callback]):
        self.callbacks = list(callbacks)
        self.hooks: dict[str, list[Callable[..., None]]] = {
            hook: [getattr(callback, hook) for callback in self.callbacks
                   if _overrides(callback, hook)]
            for hook in self.HOOKS}

    @property
    def watch_batches(self) -> bool:
        """Whether any callback overrides on_batch_end."""
        return bool(self.hooks["on_batch_end"])

    def begin(self, model: Any, params: dict[str, Any]) -> None:
        """Hand every callback the model and the run's facts, then start them."""
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)
        self.call("on_train_begin")

    def call(self, hook: str, *arguments: Any) -> None:
        """Call ``hook`` of each callback that overrides it, in order."""
        for method in self.hooks[hook]:
            method(*arguments)


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback``'s class (or the instance itself) replaces Callback's empty hook."""
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class History(Callback):
    """What ``fit`` returns: ``history[name]`` is a list with one value per epoch.

    ``epoch`` lists the epoch numbers run; ``stop_reason`` is None when every epoch ran, else
    "early_stopping", "interrupted" (Ctrl-C, SIGTERM or SIGHUP; ``stop_signal`` says which) or
    the name of the callback that stopped training.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        self.stop_signal: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class _Monitor:
    """Tracks the best value of one logged quantity (min for losses, max for accuracies)."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float):
        self.owner = owner
        self.monitor = monitor
        mode = check_choice(mode, "mode", ("auto", "min", "max"))
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0
        self.min_delta = min_delta
        self.best = math.inf

    def reset(self) -> None:
        self.best = math.inf

    def read(self, logs: dict[str, Any] | None) -> float:
        logs = logs or {}
        if self.monitor not in logs:
            hint = ("Pass validation_data or validation_split to fit, or monitor 'loss'."
                    if self.monitor.startswith("val_") else "")
            raise ValueError(f"{self.owner} monitors {self.monitor!r}, but fit logged only "
                             f"{sorted(logs)}. {hint}".rstrip())
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best by more than min_delta; if so, it becomes the best."""
        if self.sign * value < self.best - self.min_delta:
            self.best = self.sign * value
            return True
        return False


class EarlyStopping(Callback):
    """Stop once ``monitor`` has gone ``patience`` epochs without improving by ``min_delta``.

    With ``restore_best_weights`` the network ends training (stopped or not) with the weights
    of its best epoch.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        self.patience = check_int(patience, "patience", minimum=0)
        self.tracker = _Monitor("EarlyStopping", monitor,
                                mode, check_float(min_delta, "min_delta", low_inclusive=True))
        self.restore_best_weights = restore_best_weights
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0

    def on_train_begin(self, logs=None) -> None:
        self.tracker.reset()
        self.best_weights, self.best_epoch, self.stopped_epoch, self.wait = None, None, None, 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.tracker.improved(self.tracker.read(logs)):
            self.best_epoch, self.wait = epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self.model.stop_reason = "early_stopping"

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate each epoch: lr = schedule(epoch, initial_lr).

    ``schedule`` is any callable of (epoch, initial_lr), such as optim.StepDecay,
    optim.ExponentialDecay or optim.CosineDecay.
    """

    def __init__(self, schedule: Callable[[int, float], float]):
        if not callable(schedule):
            raise TypeError(f"schedule must be a callable schedule(epoch, initial_lr) -> lr; "
                            f"got {schedule!r}. Use e.g. nnscratch.optim.CosineDecay(20).")
        self.schedule = schedule
        self.initial_lr = 0.0  # read from the optimizer when training begins

    def on_train_begin(self, logs=None) -> None:
        self.initial_lr = self.model.optimizer.lr

    def on_epoch_begin(self, epoch, logs=None) -> None:
        lr = float(self.schedule(epoch, self.initial_lr))
        self.model.optimizer.lr = check_float(lr, "the scheduled learning rate",
                                              fix="Check the schedule's arguments.")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` each time ``monitor`` goes ``patience`` epochs
    without improving by ``min_delta``."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 5,
                 min_delta: float = 1e-4, min_lr: float = 0.0, mode: str = "auto"):
        self.factor = check_float(factor, "factor", 0.0, 1.0, high_inclusive=False,
                                  fix="factor multiplies the learning rate; 0.1 or 0.5 is usual.")
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_lr = check_float(min_lr, "min_lr", low_inclusive=True)
        self.tracker = _Monitor("ReduceLROnPlateau", monitor, mode,
                                check_float(min_delta, "min_delta", low_inclusive=True))
        self.wait = 0

    def on_train_begin(self, logs=None) -> None:
        self.tracker.reset()
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.tracker.improved(self.tracker.read(logs)):
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            optimizer = self.model.optimizer
            optimizer.lr = max(optimizer.lr * self.factor, self.min_lr)
            self.wait = 0


class ModelCheckpoint(Callback):
    """Save the network (with its optimizer and generator state) at the end of epochs.

    ``filepath`` may hold ``{epoch}`` and any logged name, e.g. "ckpt-{epoch:03d}.npz". With
    ``save_best_only`` a file is written only when ``monitor`` improves on a finite value,
    and an existing file that recorded a better value of the same monitor (from an earlier
    run) is kept until this run beats it. Each save is atomic and verified, and records in the
    file's metadata the epoch, the monitored value and the history so far, so a run resumes
    with ``nnscratch.load(path).fit(..., initial_epoch=metadata["epoch"])``. A good file is
    never replaced by a worse or broken one: fit stops before the epoch's callbacks if the
    weights stop being finite, and save refuses anything load would refuse.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", include_optimizer: bool = True):
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"filepath must be a path (str); got {filepath!r}.")
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.include_optimizer = include_optimizer
        self.tracker = _Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.saved: list[str] = []

    def on_train_begin(self, logs=None) -> None:
        self.tracker.reset()
        if self.save_best_only and "{" not in self.filepath:
            self.tracker.best = self._recorded_best()

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = self.tracker.read(logs)
            if not math.isfinite(value) or not self.tracker.improved(value):
                return
        path = self.filepath.format(epoch=epoch + 1, **logs)
        history = self.model.history
        metadata = {**self.model.metadata, "epoch": epoch + 1,
                    "history": history.history if history is not None else {}}
        if self.tracker.monitor in logs and math.isfinite(logs[self.tracker.monitor]):
            metadata["checkpoint"] = {"monitor": self.tracker.monitor,
                                      "value": float(logs[self.tracker.monitor])}
        self.model.save(path, include_optimizer=self.include_optimizer, metadata=metadata)
        self.saved.append(path)

    def _recorded_best(self) -> float:
        """The signed best value recorded in the existing file, or inf if there is none."""
        try:
            recorded = read_metadata(self.filepath).get("checkpoint")
        except (OSError, ValueError):
            return math.inf
        if not isinstance(recorded, dict) or recorded.get("monitor") != self.tracker.monitor:
            return math.inf
        value = recorded.get("value")
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return math.inf
        return self.tracker.sign * float(value)


class GradientNormRecorder(Callback):
    """Record ||dL/dparam|| for every weight matrix after each ``every``-th batch.

    ``norms["0.W"]`` is the list of the first Dense layer's gradient norms; plots.
    plot_gradient_norms draws them, showing vanishing or exploding gradients layer by layer.
    """

    def __init__(self, every: int = 1, include_biases: bool = False):
        self.every = check_int(every, "every")
        self.include_biases = include_biases
        self.norms: dict[str, list[float]] = {}

    def on_batch_end(self, batch, logs=None) -> None:
        if batch % self.every:
            return
        for name, _, grad in self.model.named_parameters():
            if self.include_biases or not name.endswith(".b"):
                self.norms.setdefault(name, []).append(float(np.linalg.norm(to_numpy(grad))))


class ProgressLogger(Callback):
    """Report progress on a stream (stderr by default), as Keras's ``verbose`` does.

    verbose=1: a bar redrawn in place within each epoch, with the time left and the running
    loss, on a terminal or in a Jupyter notebook; on anything else (a file, a pipe, a CI log)
    it falls back to 2.
    verbose=2: one line per epoch with its metrics ("lr" only once a schedule has changed it).
    """

    def __init__(self, verbose: int = 1, stream: TextIO | None = None, bar_width: int = 30):
        self.verbose = check_int(verbose, "verbose", minimum=1)
        self.stream: TextIO | None = stream if stream is not None else sys.stderr
        self.bar_width = bar_width
        self.epoch = 0
        self.epoch_start = 0.0
        self.last_draw = 0.0
        self.batch_loss_sum = 0.0
        self.batch_samples = 0

    def on_train_begin(self, logs=None) -> None:
        try:
            is_terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        except (OSError, ValueError):
            is_terminal = False
        in_notebook = "ipykernel" in sys.modules  # its output area redraws a line on "\r"
        self.draw_bar = self.verbose == 1 and (is_terminal or in_notebook)
        self.first_lr = None

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.epoch = epoch
        self.epoch_start = self.last_draw = time.perf_counter()
        self.batch_loss_sum, self.batch_samples = 0.0, 0

    def on_batch_end(self, batch, logs=None) -> None:
        if not self.draw_bar:
            return
        logs = logs or {}
        self.batch_loss_sum += logs.get("loss", 0.0) * logs.get("size", 1)
        self.batch_samples += logs.get("size", 1)
        now = time.perf_counter()
        steps = self.params.get("steps", 0)
        if now - self.last_draw < 0.1 and batch + 1 < steps:
            return
        self.last_draw = now
        done = (batch + 1) / steps if steps else 1.0
        filled = int(self.bar_width * done)
        remaining = (now - self.epoch_start) * (1.0 - done) / max(done, 1e-9)
        bar = "=" * filled + "." * (self.bar_width - filled)
        self._write(f"\r{self._epoch_label()} [{bar}] {batch + 1}/{steps} - ETA "
                    f"{remaining:4.1f}s - loss: "
                    f"{float(self.batch_loss_sum) / max(self.batch_samples, 1):.4f}")

    def on_epoch_end(self, epoch, logs=None) -> None:
        seconds = time.perf_counter() - self.epoch_start
        logs = dict(logs or {})
        self.first_lr = logs.get("lr") if self.first_lr is None else self.first_lr
        if logs.get("lr") == self.first_lr:
            logs.pop("lr", None)
        metrics = " - ".join(f"{name}: {value:.4g}" if name == "lr" else f"{name}: {value:.4f}"
                             for name, value in logs.items())
        prefix = "\r" if self.draw_bar else ""
        self._write(f"{prefix}{self._epoch_label()} - {seconds:.2f}s - {metrics}"
                    f"{' ' * 10 if self.draw_bar else ''}\n")

    def _write(self, text: str) -> None:
        """Write and flush; a stream that is closed or gone (``| head``) is dropped, never
        allowed to stop training."""
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.stream = None

    def _epoch_label(self) -> str:
        return f"epoch {self.epoch + 1}/{self.params.get('epochs', '?')}"
