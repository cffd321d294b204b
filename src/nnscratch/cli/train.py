"""``nnscratch train``: its options and their defaults, resuming a run, training, saving.

Adding an option to train takes three places, all in this file: ``add_train_arguments``
(the option), ``TRAIN_DEFAULTS`` (its default, filled in by ``settle_train_options``) and,
if a resumed run should keep its own value, ``FROM_THE_RUN``.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import tabular
from .._plot_worker import PlotWorker
from .._version import __version__
from ..backend import BackendError, get_backend
from ..callbacks import Callback, EarlyStopping, GradientNormRecorder, History, ProgressLogger
from ..input_stats import InputStats
from ..network import MLP, Sequential
from ..optim import OPTIMIZERS, Optimizer, get_optimizer
from ..runs import RunFolder, RunRecord, can_plot
from .arguments import (
    add_architecture_arguments,
    add_data_arguments,
    add_own_data_arguments,
    batch_size,
    fraction,
    non_negative_int,
    positive_float,
    positive_int,
)
from .common import (
    DATA_SETS,
    UsageError,
    architecture_of,
    data_label,
    load_data,
    load_model,
    run_folder,
    save_run_folder,
    test_scores,
)
from .process import DeferSignals, log

DEFAULT_EPOCHS = {"digits": 80, "xor": 200, "mnist": 10, "fashion-mnist": 10}
TRAIN_DEFAULTS: dict[str, object] = {
    "data": "digits", "layers": [256, 128], "activation": "relu", "dropout": 0.2,
    "optimizer": "adam", "batch_size": 32, "dtype": "float32", "validation_split": 0.1,
    "seed": 0, "target": None, "task": None, "scale": "standard", "test_split": 0.2,
    "x_key": "X", "y_key": "y"}
OWN_DATA_OPTIONS = ("target", "task", "scale", "test_split", "x_key", "y_key")
# What a resumed run takes from the run it continues, unless the option is given
FROM_THE_RUN = ("data", "batch_size", "validation_split", "seed", "target", "task", "scale",
                "test_split", "x_key", "y_key")


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    """The train command's options. Those a resumed run takes from the run it continues are
    left out of the namespace when not given (SUPPRESS), so settle_train_options can tell given
    from default."""
    add_data_arguments(train, default=argparse.SUPPRESS)
    add_own_data_arguments(train)
    add_architecture_arguments(train, defaults=False)
    train.add_argument("--optimizer", type=str.lower, choices=sorted(OPTIMIZERS),
                       default=argparse.SUPPRESS, help="(default: adam)")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: 0.001 for adam/adamw/rmsprop, else 0.01)")
    train.add_argument("--batch-size", type=batch_size, default=argparse.SUPPRESS,
                       help="samples per step: 1 for per-sample SGD, 'full' for the full batch "
                            "(default: 32)")
    train.add_argument("--epochs", type=positive_int, default=None,
                       help="passes over the data (default: 80 digits, 200 xor, 10 MNIST, "
                            "100 your own data); with --resume, the total to reach")
    train.add_argument("--validation-split", type=fraction, default=argparse.SUPPRESS,
                       help="fraction of the training data held out to watch each epoch; the "
                            "weights of the best validation epoch are kept (0: none; "
                            "default: 0.1)")
    train.add_argument("--early-stopping", type=non_negative_int, default=0, metavar="PATIENCE",
                       help="stop after this many epochs without improvement (0: never)")
    train.add_argument("--seed", type=non_negative_int, default=argparse.SUPPRESS,
                       help="seeds the weights, the data split, dropout and shuffling "
                            "(default: 0)")
    train.add_argument("--dtype", choices=("float32", "float64"), default=argparse.SUPPRESS,
                       help="(default: float32)")
    train.add_argument("--device", default="cpu", metavar="DEVICE",
                       help="where the equations run: cpu (NumPy), cuda[:N] (a GPU: CuPy if "
                            "installed, else PyTorch), or cupy[:N], torch:cpu, torch:cuda[:N] "
                            "(default: cpu). A GPU pays from batch 256 up; per-sample "
                            "training is faster on the CPU")
    train.add_argument("--out", type=Path, default=None,
                       help="the run folder (default: runs/<data>-<date>-<time>); it must not "
                            "hold files yet, unless --overwrite")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the folder given by --out once this run is complete")
    train.add_argument("--resume", type=Path, default=None, metavar="RUN_OR_MODEL",
                       help="continue a run (its folder or model.npz): its data, batch size, "
                            "split, seed and optimizer state; the epochs keep counting and the "
                            "history goes on. Options that contradict the model are refused")
    train.add_argument("--no-plots", action="store_true", help="save the run without plots")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="0 silent, 1 progress bar (one line per epoch when not a "
                            "terminal), 2 one line per epoch")


# ----------------------------------------------------------------------------------------------
# The options: given, taken from the resumed run, or the defaults


def settle_train_options(arguments: argparse.Namespace) -> None:
    """Fill in the options not given: from the run being resumed, else the defaults; refuse
    options that contradict the resumed model. Sets ``arguments.resumed`` (the loaded model
    or None), ``arguments.previous`` (its history) and ``arguments.initial_epoch``."""
    given = {name for name in TRAIN_DEFAULTS if hasattr(arguments, name)}
    arguments.resumed, arguments.initial_epoch, arguments.previous = None, 0, History()
    if arguments.resume is not None:
        _take_from_the_run(arguments, given)
    for name, value in TRAIN_DEFAULTS.items():
        if not hasattr(arguments, name):
            setattr(arguments, name, value)


def _take_from_the_run(arguments: argparse.Namespace, given: set[str]) -> None:
    """The resumed run's model, history and the options it recorded that were not given."""
    net = load_model(arguments.resume)
    saved_run = net.metadata.get("run")
    run: dict[str, Any] = saved_run if isinstance(saved_run, dict) else {}
    _refuse_contradictions(arguments, net, given)
    for name in FROM_THE_RUN:
        if name not in given and name in run:
            setattr(arguments, name, run[name])
    arguments.resumed, arguments.previous = net, _saved_history(net)
    arguments.initial_epoch = len(arguments.previous.epoch)
    planned = run.get("epochs") if isinstance(run.get("epochs"), int) else None
    if arguments.epochs is None:
        arguments.epochs = arguments.initial_epoch + (planned or 10)
    elif arguments.epochs <= arguments.initial_epoch:
        raise UsageError(f"{arguments.resume} has trained {arguments.initial_epoch} epochs; "
                         "with --resume, --epochs is the total to reach: give more than "
                         f"{arguments.initial_epoch} (e.g. --epochs "
                         f"{arguments.initial_epoch * 2}).")


def _refuse_contradictions(arguments: argparse.Namespace, net: Sequential,
                           given: set[str]) -> None:
    saved = {**architecture_of(net), "dtype": net.dtype.name}
    for name in ("layers", "activation", "dropout", "dtype"):
        if name in given and getattr(arguments, name) != saved[name]:
            raise UsageError(f"--{name} {getattr(arguments, name)} contradicts the model in "
                             f"{arguments.resume}, whose {name} is {saved[name]}. Leave it out "
                             "to continue the model as it is, or train a new one.")
    if "optimizer" in given and net.optimizer is not None:
        wanted = get_optimizer(arguments.optimizer)
        if type(wanted) is not type(net.optimizer) or \
                getattr(wanted, "momentum", 0) != getattr(net.optimizer, "momentum", 0):
            raise UsageError(f"--optimizer {arguments.optimizer} contradicts the model in "
                             f"{arguments.resume}, trained with {net.optimizer!r} (its state "
                             "continues). Leave --optimizer out.")


def _saved_history(net: Sequential) -> History:
    """The history saved with a run's model, to continue; empty if it has none (or a
    malformed one: a model file is untrusted)."""
    history = History()
    record, epochs = net.metadata.get("history"), net.metadata.get("epochs")
    if isinstance(record, dict) and isinstance(epochs, list) and all(
            isinstance(epoch, int) for epoch in epochs) and all(
            isinstance(values, list) and len(values) == len(epochs)
            and all(isinstance(value, (int, float)) for value in values)
            for values in record.values()):
        history.history = {str(name): [float(v) for v in values]
                           for name, values in record.items()}
        history.epoch = list(epochs)
    return history


def _continued(previous: History, new: History) -> History:
    """The run's whole history: the resumed run's epochs, then this run's."""
    merged = History()
    merged.epoch = previous.epoch + new.epoch
    for name in dict.fromkeys([*previous.history, *new.history]):  # in order, once each
        merged.history[name] = previous.history.get(name, []) + new.history.get(name, [])
    merged.stop_reason, merged.stop_signal = new.stop_reason, new.stop_signal
    return merged


# ----------------------------------------------------------------------------------------------
# The data


@dataclass
class TrainingData:
    """A data set as a command uses it: the split, the classes (None for regression), whether
    the rows are square images, and what the model and the run's config.json record of it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] | None
    task: str = "classification"
    images: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)  # saved in the model
    config: dict[str, Any] = field(default_factory=dict)  # saved in config.json


def load_training_data(arguments: argparse.Namespace) -> TrainingData:
    """The data to train on: a built-in data set, or the user's file read, checked, split
    and scaled (the scaling learned on the training rows and saved with the model)."""
    if arguments.data in DATA_SETS:
        return _built_in_data(arguments)
    path = Path(arguments.data).resolve()
    table = tabular.read_table(path, arguments.target, arguments.x_key, arguments.y_key)
    prepared = tabular.prepare(table, arguments.task, arguments.scale, arguments.test_split,
                               arguments.seed)
    metadata = {"task": prepared.task, "scaling": prepared.scaling.to_dict(),
                "feature_names": prepared.feature_names, "target_name": prepared.target_name}
    if prepared.target_scaling is not None:
        metadata["target_scaling"] = prepared.target_scaling.to_dict()
    if prepared.class_names is not None:
        metadata["class_names"] = prepared.class_names
    return TrainingData(prepared.X_train, prepared.y_train, prepared.X_test, prepared.y_test,
                        prepared.class_names, prepared.task, images=False, metadata=metadata,
                        config={"data": str(path), "target": arguments.target,
                                "task": prepared.task, "scale": arguments.scale,
                                "test_split": arguments.test_split, "x_key": arguments.x_key,
                                "y_key": arguments.y_key, "n_rows": len(table.y)})


def _built_in_data(arguments: argparse.Namespace) -> TrainingData:
    own = [f"--{name.replace('_', '-')}" for name in OWN_DATA_OPTIONS
           if getattr(arguments, name) != TRAIN_DEFAULTS[name]]
    if own:
        raise UsageError(f"{', '.join(own)} appl{'ies' if len(own) == 1 else 'y'} to your "
                         f"own data (--data FILE), not to the built-in {arguments.data}.")
    X_train, y_train, X_test, y_test, names = load_data(arguments.data, arguments.data_dir)
    where = {} if arguments.data_dir is None else {
        "data_dir": str(Path(arguments.data_dir).resolve())}
    return TrainingData(X_train, y_train, X_test, y_test, names,
                        images=arguments.data != "xor", metadata={"class_names": names},
                        config={"data": arguments.data, **where})


# ----------------------------------------------------------------------------------------------
# Training and saving


@dataclass
class Plan:
    """How this run trains: the network, its optimizer, the epochs, the validation split,
    and the callbacks that keep the best epoch and record the gradients' sizes."""

    net: Sequential
    optimizer: Optimizer
    epochs: int
    validation_split: float
    best: EarlyStopping
    recorder: GradientNormRecorder
    callbacks: list[Callback]

    @property
    def monitor(self) -> str:
        return self.best.tracker.monitor


def run_train(arguments: argparse.Namespace) -> int:
    try:  # before any data is read: a missing GPU is known at once
        arguments.backend = get_backend(arguments.device)
    except BackendError as error:
        raise UsageError(f"--device: {error}") from None
    settle_train_options(arguments)
    folder = run_folder(arguments.out, data_label(arguments.data), arguments.overwrite)
    # the plots are drawn by a second process that imports matplotlib while this one trains
    plot_worker = PlotWorker() if not arguments.no_plots and can_plot() \
        and os.environ.get("NNSCRATCH_PLOT_WORKER", "1").strip() != "0" else None
    try:
        return _train_and_save(arguments, folder, plot_worker)
    finally:
        if plot_worker is not None:
            plot_worker.close()
        folder.discard()  # after a commit there is nothing left to discard


def _train_and_save(arguments: argparse.Namespace, folder: RunFolder,
                    plot_worker: PlotWorker | None) -> int:
    data = load_training_data(arguments)
    plan = _plan(arguments, data)
    if arguments.verbose:
        _say_what_trains(arguments, data, plan)
    problems: list[str] = []
    # fit handles signals while it runs (stop after the batch); around it, from here on, a
    # signal waits for the run to be saved
    with DeferSignals() as deferred:
        run = _train(arguments, data, plan)
        out, written = save_run_folder(folder, run, problems, plots=not arguments.no_plots,
                                       plot_worker=plot_worker)
    for problem in problems:
        log(f"warning: {problem}")
    if not arguments.no_plots and not can_plot():
        log("no plots: matplotlib is not installed (pip install 'nnscratch[plot]')")
    _say_what_happened(arguments, run, plan, out, written)
    signal_number = run.history.stop_signal or deferred.signal_number
    if run.history.stop_reason == "interrupted" or signal_number:
        log(f"interrupted after {len(run.history.epoch)} epoch(s); the best weights so far are "
            f"saved. Resume with:\n  nnscratch train --resume {out} --epochs N")
        return 128 + (signal_number or signal.SIGINT)
    return 0


def _plan(arguments: argparse.Namespace, data: TrainingData) -> Plan:
    """The network, the optimizer and the callbacks this run trains with."""
    classifier = data.task == "classification"
    epochs = arguments.epochs or DEFAULT_EPOCHS.get(arguments.data, 100)
    n_outputs = len(data.class_names or ()) if classifier else 1
    net, optimizer = _network_to_train(arguments, data.X_train.shape[1], n_outputs)
    validation_split = arguments.validation_split if arguments.data != "xor" else 0.0
    best = EarlyStopping(monitor="val_loss" if validation_split else "loss",
                         patience=arguments.early_stopping or epochs, restore_best_weights=True)
    steps = math.ceil(len(data.X_train) * (1 - validation_split) / (arguments.batch_size
                                                                   or len(data.X_train)))
    recorder = GradientNormRecorder(every=max(1, epochs * steps // 500))
    callbacks: list[Callback] = [best, recorder]
    if arguments.verbose:
        callbacks.append(ProgressLogger(arguments.verbose))
    return Plan(net, optimizer, epochs, validation_split, best, recorder, callbacks)


def _network_to_train(arguments: argparse.Namespace, n_inputs: int, n_classes: int
                      ) -> tuple[Sequential, Optimizer]:
    """The network and optimizer: resumed from a saved model, or new from the options."""
    if arguments.resumed is None:
        new = MLP([n_inputs, *arguments.layers, n_classes], activation=arguments.activation,
                  dropout=arguments.dropout, seed=arguments.seed, dtype=arguments.dtype)
        return new, get_optimizer(arguments.optimizer, arguments.lr)
    net = arguments.resumed
    if (net.n_inputs, net.n_outputs) != (n_inputs, n_classes):
        raise UsageError(f"the model in {arguments.resume} maps {net.n_inputs} inputs to "
                         f"{net.n_outputs} outputs, but {arguments.data} has {n_inputs} "
                         f"features and needs {n_classes} outputs. Pass the --data it was "
                         "trained on.")
    if net.optimizer is None:
        return net, get_optimizer(arguments.optimizer, arguments.lr)
    if arguments.lr is not None and arguments.lr != net.optimizer.lr:
        log(f"learning rate: {arguments.lr:g} (the saved optimizer had {net.optimizer.lr:g})")
        net.optimizer.lr = arguments.lr
    return net, net.optimizer


def _say_what_trains(arguments: argparse.Namespace, data: TrainingData, plan: Plan) -> None:
    log(f"{plan.net.summary()}\ndata: {arguments.data} ({data.task}), {len(data.X_train)} "
        f"training samples ({plan.validation_split:.0%} held out for validation), "
        f"{len(data.X_test)} test samples\noptimizer: {plan.optimizer!r}, batch size "
        f"{arguments.batch_size or 'full'}, {plan.epochs} epochs, on {arguments.backend}"
        + (f" (continuing after epoch {arguments.initial_epoch})"
           if arguments.initial_epoch else ""))


def _train(arguments: argparse.Namespace, data: TrainingData, plan: Plan) -> RunRecord:
    """Fit the network, score it on the test rows, and record the run."""
    net = plan.net
    start = time.perf_counter()
    net.to(arguments.backend)  # the data follow the network there, once
    try:
        history = net.fit(data.X_train, data.y_train,
                          loss="cross_entropy" if data.task == "classification" else "mse",
                          optimizer=plan.optimizer, epochs=plan.epochs,
                          batch_size=arguments.batch_size,
                          validation_split=plan.validation_split, seed=arguments.seed,
                          callbacks=plan.callbacks, initial_epoch=arguments.initial_epoch,
                          verbose=0)  # the CLI's own ProgressLogger is in callbacks
    except KeyboardInterrupt:  # a second signal: stop at once, keep the best epoch so far
        history = _abandoned_history(net, plan.best)
    seconds = time.perf_counter() - start
    net.to("numpy")  # scored, explained and saved on the host
    this_run = len(history.epoch)
    history = _continued(arguments.previous, history)
    net.metadata.update(data.metadata)
    net.metadata["input_stats"] = InputStats.fit(data.X_train).to_dict()
    scores = test_scores(net, data.X_test, data.y_test, data.task)
    held_out = "test" if arguments.data != "xor" else "xor"
    config = {"command": "train", **data.config, **architecture_of(net),
              "optimizer": repr(plan.optimizer), "batch_size": arguments.batch_size,
              "epochs": plan.epochs, "validation_split": plan.validation_split,
              "seed": arguments.seed, "dtype": net.dtype.name, "device": str(arguments.backend),
              "resumed_from": str(arguments.resume or ""), "nnscratch_version": __version__,
              "seconds": round(seconds, 3), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
              "epochs_run": len(history.epoch), "epochs_this_run": this_run,
              "best_epoch": None if plan.best.best_epoch is None else plan.best.best_epoch + 1,
              f"{held_out}_scores": scores}
    return RunRecord(net, history, config, data.X_test, data.y_test, data.class_names,
                     plan.recorder.norms, data.images)


def _abandoned_history(net: Sequential, best: EarlyStopping) -> History:
    """After a second signal stopped fit midway: the epochs it completed, with the weights of
    the best of them (the current ones may be half-way through an update)."""
    history = net.history if net.history is not None else History()
    if best.best_weights is None:
        raise KeyboardInterrupt  # not one epoch finished: there is nothing worth saving
    net.set_weights(best.best_weights)
    history.stop_reason = "interrupted"
    history.stop_signal = history.stop_signal or signal.SIGINT
    return history


def _say_what_happened(arguments: argparse.Namespace, run: RunRecord, plan: Plan, out: Path,
                       written: list[Path]) -> None:
    """On stdout: how long it trained, which epoch's weights it kept, where the run is, and
    the test scores."""
    best, config, n_epochs = plan.best, run.config, len(run.history.epoch)
    this_run = config["epochs_this_run"]
    best_note = (f" (weights of epoch {best.best_epoch + 1}, the best by {plan.monitor})"
                 if best.best_epoch is not None else "")
    after = f" (epochs {arguments.initial_epoch + 1}-{n_epochs})" if arguments.initial_epoch \
        else ""
    print(f"trained {this_run} epoch{'s' * (this_run != 1)}{after} in {config['seconds']:.2f}s"
          f"{best_note}")
    if run.history.stop_reason == "early_stopping" and best.best_epoch is not None:
        print(f"stopped early after epoch {n_epochs}: {plan.monitor} had not improved for "
              f"{arguments.early_stopping} epochs since epoch {best.best_epoch + 1} "
              f"({plan.monitor} {abs(best.tracker.best):.4f}); --early-stopping sets the "
              "patience")
    print(f"saved the run in {out}: {', '.join(path.name for path in written)}")
    xor = "xor_scores" in config
    scores = config["xor_scores" if xor else "test_scores"]
    where = "XOR (the four points; no held-out set)" if xor else "test"
    for name, value in scores.items():
        print(f"{where} {name}: {value:.4f}")
    if not scores:
        print("no test rows (--test-split 0): nothing held out to score")
