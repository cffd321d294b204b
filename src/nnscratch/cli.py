"""The ``nnscratch`` command.

    nnscratch train       train on a data set; save the run (model, history, config, plots)
    nnscratch evaluate    a saved model's test loss, accuracy and confusion matrix
    nnscratch predict     classify image files or .npy rows with a saved model
    nnscratch plot        draw a figure: activations, history, confusion, predictions, ...
    nnscratch summary     the layer table of a saved model or an architecture
    nnscratch gradcheck   backprop against float64 finite differences, parameter by parameter
    nnscratch download    fetch MNIST or Fashion-MNIST into the cache, checksummed
    nnscratch recipe      run one of the articles' experiments, its numbers beside ours
    nnscratch explain     the forward and backward equations of a network, with shapes
    nnscratch runs        list the saved runs; ``runs compare A B`` puts two side by side
    nnscratch play        the playground: watch the network learn in your browser, equations live

Results go to stdout, progress and errors to stderr. Exit codes: 0 success, 1 failure (a
missing or damaged file, a diverging run), 2 a usage error, 130 a second Ctrl-C. Every error
is one line, never a traceback. ``main(argv)`` returns the exit code, so tests call it directly.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from . import datasets, metrics, recipes, tabular
from ._plot_worker import PlotWorker
from ._signals import StopSignals
from ._version import __version__
from .activations import ACTIVATIONS
from .backend import BackendError, get_backend
from .callbacks import EarlyStopping, GradientNormRecorder, History, ProgressLogger
from .datasets import DataError
from .gradcheck import gradient_errors
from .layers import Dense, Dropout
from .network import MLP, Sequential, load
from .optim import OPTIMIZERS, Optimizer, get_optimizer
from .runs import RunFolder, can_plot, compare_runs, list_runs, load_history, save_figure, save_run
from .serialization import ModelFileError
from .training import TrainingDivergedError

DATA_SETS = ("digits", "xor", "mnist", "fashion-mnist")
ACTIVATION_CHOICES = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
DEFAULT_EPOCHS = {"digits": 80, "xor": 200, "mnist": 10, "fashion-mnist": 10}
ACTIVATION_NAMES = {cls.__name__: name for name, cls in ACTIVATIONS.items()
                    if name in ACTIVATION_CHOICES}
PLOTS = ("activations", "derivatives", "history", "sample", "confusion", "predictions",
         "weights", "activation-histograms")


class UsageError(Exception):
    """A bad combination of arguments, reported with exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit code."""
    with _TolerantStreams():
        parser = build_parser()
        words = list(sys.argv[1:] if argv is None else argv)
        try:
            arguments = parser.parse_args(words)
        except _ParserError as error:
            command = next((word for word in words if word in parser.commands), None)
            prog = f"nnscratch {command}" if command else "nnscratch"
            hint = _did_you_mean(str(error), parser.commands[command] if command else parser)
            log(f"{prog}: error: {error}{hint} (see {prog} --help)")
            return 2
        except SystemExit as exit:  # argparse exits after --help and --version
            return int(exit.code or 0)
        return _run(arguments)


class _ParserError(Exception):
    """A usage error found by argparse, reported by main as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised (for main to report in one line) instead of the
    usage text and an exit; ``commands`` maps each subcommand to its parser."""

    commands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        raise _ParserError(message)


def _did_you_mean(message: str, parser: argparse.ArgumentParser) -> str:
    """"; did you mean ...?" for a mistyped subcommand, choice or option."""
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        options = re.findall(r"'([^']*)'", choice.group(2)) or choice.group(2).split(", ")
        wrong = choice.group(1)
    else:
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if not unknown or not unknown.group(1).startswith("-"):
            return ""
        wrong = unknown.group(1).split("=")[0]
        options = [option for action in parser._actions for option in action.option_strings]
    close = difflib.get_close_matches(wrong.lower(), options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _run(arguments: argparse.Namespace) -> int:
    prefix = f"nnscratch {arguments.command}"
    try:
        with _SignalsInterrupt() as signals:
            return int(arguments.run(arguments))
    except KeyboardInterrupt:
        log(f"\n{prefix}: interrupted")
        return 128 + (signals.signal_number or signal.SIGINT)
    except TrainingDivergedError as error:
        log(f"{prefix}: {_cli_advice(str(error))}")
        return 1
    except (FileNotFoundError, ModelFileError, DataError, OSError) as error:
        log(f"{prefix}: {error}")
        return 1
    except (UsageError, ValueError, TypeError) as error:
        log(f"{prefix}: error: {error}")
        return 2


def _cli_advice(message: str) -> str:
    """The library's advice in the command's own words: lr=0.01 is --lr 0.01."""
    return re.sub(r"\blr=([0-9.e-]+)", r"--lr \1", message)


class _TolerantStreams:
    """Make stdout and stderr safe to write to while a command runs.

    A reader that goes away (``nnscratch train | head``) or a stream closed from the start
    (``2>&-``) must not abort training or lose a run: a write that fails sends that stream
    to /dev/null from then on (its file descriptor too, so the interpreter's last flush is
    quiet), and the command carries on.
    """

    def __enter__(self) -> _TolerantStreams:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = _TolerantStream(sys.stdout)  # type: ignore[assignment]
        sys.stderr = _TolerantStream(sys.stderr)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc_info: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = self.saved


class _TolerantStream:
    """A text stream that turns a broken pipe or closed file into silence."""

    def __init__(self, stream: TextIO | None):
        self.stream = stream

    def write(self, text: str) -> int:
        if self.stream is not None:
            try:
                return self.stream.write(text)
            except (OSError, ValueError):
                self._silence()
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self._silence()

    def isatty(self) -> bool:
        try:
            return self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def _silence(self) -> None:
        try:
            descriptor = self.stream.fileno()  # type: ignore[union-attr]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, descriptor)
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        self.stream = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def build_parser() -> _Parser:
    parser = _Parser(
        prog="nnscratch",
        description="Neural networks from scratch in NumPy: train, inspect and check them.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = subcommand(
        commands, run_train, "train", help="train a network and save the run",
        description="Train an MLP on a data set, report its test accuracy and save the run. "
                    "With no arguments: the built-in 8x8 digits, in a few seconds.")
    # The options a resumed run takes from the run it continues are left out of the namespace
    # when not given (SUPPRESS), so settle_train_options can tell given from default.
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

    evaluate = subcommand(commands, run_evaluate, "evaluate",
                          help="test loss, accuracy and confusion matrix")
    evaluate.add_argument("model", type=Path, help="a model file (or a run folder)")
    add_data_arguments(evaluate, default=None)

    predict = subcommand(
        commands, run_predict, "predict", help="classify images or .npy rows",
        description="Print the predicted class and its probability for each input: image "
                    "files (PNG, JPEG, ...; resized to the model's input) or .npy arrays of "
                    "rows.")
    predict.add_argument("model", type=Path, help="a model file (or a run folder)")
    predict.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    predict.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                         help="invert image brightness (the data sets are light digits on a "
                              "dark ground; auto inverts images whose border is light)")
    predict.add_argument("--top", type=positive_int, default=1,
                         help="how many of the most likely classes to print")

    plot = subcommand(
        commands, run_plot, "plot", help="draw a figure as a PNG",
        description="activations and derivatives need no source; history takes a run folder "
                    "or model; the others take a model (or run folder) and its data set.")
    plot.add_argument("figure", choices=PLOTS)
    plot.add_argument("source", type=Path, nargs="?", default=None,
                      help="a run folder, model file or history.json")
    add_data_arguments(plot, default=None)
    plot.add_argument("--index", type=non_negative_int, default=0,
                      help="for 'sample': which test sample to show")
    plot.add_argument("--output", "-o", type=Path, default=None,
                      help="the file to write: .png, .svg or .pdf (default: <figure>.png)")

    summary = subcommand(commands, run_summary, "summary",
                         help="the layer table of a model or architecture")
    add_model_or_architecture_arguments(summary, inputs=64, outputs=10)

    gradcheck = subcommand(
        commands, run_gradcheck, "gradcheck", help="check backprop against finite differences",
        description="Compare each parameter's backprop gradient with float64 central "
                    "differences on a small random batch.")
    add_model_or_architecture_arguments(gradcheck, inputs=8, outputs=3)
    gradcheck.add_argument("--samples", type=positive_int, default=4, help="batch size")
    gradcheck.add_argument("--seed", type=non_negative_int, default=0)

    download = subcommand(commands, run_download, "download",
                          help="fetch a data set into the cache")
    download.add_argument("data", choices=tuple(datasets.DATA_SETS))
    download.add_argument("--data-dir", type=Path, default=None,
                          help="where to put it (default: $NNSCRATCH_DATA or the user cache)")

    recipe = subcommand(
        commands, run_recipe, "recipe", help="run one of the articles' experiments",
        description="Run an experiment set up as its article sets it up, and print the "
                    "article's number beside ours, with held-out accuracy and the time taken. "
                    "The run is saved with its plots.")
    recipe.add_argument("name", nargs="?", choices=tuple(recipes.RECIPES), metavar="NAME",
                        help=f"one of: {', '.join(recipes.RECIPES)}")
    recipe.add_argument("--list", action="store_true", help="list the recipes")
    recipe.add_argument("--seed", type=non_negative_int, default=0)
    recipe.add_argument("--data-dir", type=Path, default=None,
                        help="where MNIST files are (default: $NNSCRATCH_DATA or the cache)")
    recipe.add_argument("--out", type=Path, default=None,
                        help="the run folder (default: runs/recipe-<name>-<date>-<time>)")
    recipe.add_argument("--no-plots", action="store_true")
    recipe.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)

    runs = subcommand(
        commands, run_runs, "runs", help="list the saved runs, or compare two",
        description="With no arguments, list the runs in --dir: name, data, epochs, best "
                    "validation accuracy, test accuracy (R2 for a regression) and date. "
                    "`nnscratch runs compare A B` prints two runs' settings and scores side "
                    "by side, marking those that differ.")
    runs.add_argument("compare", nargs="*", metavar="compare A B",
                      help="'compare' and two run folders")
    runs.add_argument("--dir", type=Path, default=Path("runs"), help="where the runs are")

    play = subcommand(
        commands, run_play, "play", help="the playground in your browser",
        description="Start a local server with the playground page: toy 2-D data, nnscratch's "
                    "network trained live, every neuron drawn, its equations with the numbers. "
                    "The first line printed is the page's URL. Ctrl-C stops it.")
    play.add_argument("--host", default="127.0.0.1",
                      help="the address to listen on (anything other than 127.0.0.1 lets other "
                           "machines reach it)")
    play.add_argument("--port", type=whole_number(0), default=8000,
                      help="the port (0: any free one)")
    play.add_argument("--no-browser", action="store_true", help="do not open a browser")

    explain = subcommand(
        commands, run_explain, "explain", help="the equations of a network, with shapes",
        description="Print each layer's forward and backward equations with the actual array "
                    "shapes, in the order backpropagation runs them. With --trace, run one "
                    "training step on a tiny random batch and print every value.")
    explain.add_argument("model", type=Path, nargs="?", default=None,
                         help="a model file; without it, the network from --layers")
    explain.add_argument("--layers", type=positive_int, nargs="+", default=None,
                         metavar="UNITS", help="all layer sizes, inputs first, outputs last "
                                               "(default: 64 100 10; with --trace, 2 3 2)")
    explain.add_argument("--activation", choices=ACTIVATION_CHOICES, default="relu")
    explain.add_argument("--loss", choices=("cross_entropy", "binary_cross_entropy", "mse"),
                         default="cross_entropy")
    explain.add_argument("--batch", type=positive_int, default=None,
                         help="the batch size the shapes are shown for (default 32), or with "
                              "--trace the number of random samples (default 2)")
    explain.add_argument("--trace", action="store_true",
                         help="one SGD step with the values of every array (use tiny layers)")
    explain.add_argument("--lr", type=positive_float, default=0.1, help="for --trace")
    explain.add_argument("--seed", type=non_negative_int, default=0)
    parser.commands = dict(commands.choices)
    return parser


def subcommand(commands: argparse._SubParsersAction, run: Callable[[argparse.Namespace], int],
               name: str, **options: str) -> argparse.ArgumentParser:
    """A subcommand parser whose defaults show in --help, and that runs ``run``."""
    parser = commands.add_parser(name, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                 **options)  # type: ignore[arg-type]
    parser.set_defaults(run=run)
    return parser


def add_data_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument("--data", type=data_source, default=default, metavar="DATA",
                        help=f"a built-in data set ({', '.join(DATA_SETS)}) or your own "
                             ".csv, .npz or .npy file (default: " + (
                                 "the one the model was trained on)" if default is None
                                 else "digits; with --resume, the run's)"))
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where MNIST files are (default: $NNSCRATCH_DATA or the user "
                             "cache, downloading them if absent)")


def add_own_data_arguments(parser: argparse.ArgumentParser) -> None:
    own = parser.add_argument_group("your own data (--data FILE)")
    own.add_argument("--target", default=argparse.SUPPRESS, metavar="COLUMN",
                     help="the target column: its name or index (default: the last); for a "
                          ".npy of features, the .npy of labels")
    own.add_argument("--task", type=str.lower, choices=tabular.TASKS,
                     default=argparse.SUPPRESS,
                     help="default: classification for labels (text, or few whole numbers), "
                          "else regression")
    own.add_argument("--scale", type=str.lower, choices=tabular.SCALINGS,
                     default=argparse.SUPPRESS,
                     help="feature scaling, learned on the training rows and saved with the "
                          "model (default: standard)")
    own.add_argument("--test-split", type=fraction, default=argparse.SUPPRESS,
                     help="fraction of the rows held out as the test set (default: 0.2)")
    own.add_argument("--x-key", default=argparse.SUPPRESS,
                     help="the features' name in a .npz (default: X)")
    own.add_argument("--y-key", default=argparse.SUPPRESS,
                     help="the target's name in a .npz (default: y)")


def add_model_or_architecture_arguments(parser: argparse.ArgumentParser, inputs: int,
                                        outputs: int) -> None:
    parser.add_argument("model", type=Path, nargs="?", default=None,
                        help="a model file; without it, the architecture from the options")
    add_architecture_arguments(parser)
    parser.add_argument("--inputs", type=positive_int, default=inputs, help="input features")
    parser.add_argument("--outputs", type=positive_int, default=outputs, help="output units")


def add_architecture_arguments(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    """--layers, --activation, --dropout; without ``defaults``, absent unless given (the
    defaults then come from settle_train_options)."""
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS
    parser.add_argument("--layers", type=positive_int, nargs="+", default=default([256, 128]),
                        metavar="UNITS", help="hidden layer sizes" + (
                            "" if defaults else " (default: 256 128)"))
    parser.add_argument("--activation", type=str.lower, choices=ACTIVATION_CHOICES,
                        default=default("relu"),
                        help=None if defaults else "(default: relu)")
    parser.add_argument("--dropout", type=fraction, default=default(0.2),
                        help="dropout rate after each hidden activation" + (
                            "" if defaults else " (default: 0.2)"))


# ----------------------------------------------------------------------------------------------
# The commands


TRAIN_DEFAULTS: dict[str, object] = {
    "data": "digits", "layers": [256, 128], "activation": "relu", "dropout": 0.2,
    "optimizer": "adam", "batch_size": 32, "dtype": "float32", "validation_split": 0.1,
    "seed": 0, "target": None, "task": None, "scale": "standard", "test_split": 0.2,
    "x_key": "X", "y_key": "y"}
OWN_DATA_OPTIONS = ("target", "task", "scale", "test_split", "x_key", "y_key")
# What a resumed run takes from the run it continues, unless the option is given
FROM_THE_RUN = ("data", "batch_size", "validation_split", "seed", "target", "task", "scale",
                "test_split", "x_key", "y_key")


def settle_train_options(arguments: argparse.Namespace) -> None:
    """Fill in the options not given: from the run being resumed, else the defaults; refuse
    options that contradict the resumed model. Sets ``arguments.resumed`` (the loaded model
    or None) and ``arguments.initial_epoch``."""
    given = {name for name in TRAIN_DEFAULTS if hasattr(arguments, name)}
    arguments.resumed, arguments.initial_epoch, arguments.previous = None, 0, History()
    if arguments.resume is not None:
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
    for name, value in TRAIN_DEFAULTS.items():
        if not hasattr(arguments, name):
            setattr(arguments, name, value)


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
    classifier = data.task == "classification"
    epochs = arguments.epochs or DEFAULT_EPOCHS.get(arguments.data, 100)
    n_outputs = len(data.class_names or ()) if classifier else 1
    net, optimizer = _network_to_train(arguments, data.X_train.shape[1], n_outputs)
    validation_split = arguments.validation_split if arguments.data != "xor" else 0.0
    monitor = "val_loss" if validation_split else "loss"
    best = EarlyStopping(monitor=monitor, patience=arguments.early_stopping or epochs,
                         restore_best_weights=True)
    steps = math.ceil(len(data.X_train) * (1 - validation_split) / (arguments.batch_size
                                                                   or len(data.X_train)))
    recorder = GradientNormRecorder(every=max(1, epochs * steps // 500))
    callbacks = [best, recorder]
    if arguments.verbose:
        callbacks.append(ProgressLogger(arguments.verbose))
        log(f"{net.summary()}\ndata: {arguments.data} ({data.task}), {len(data.X_train)} "
            f"training samples ({validation_split:.0%} held out for validation), "
            f"{len(data.X_test)} test samples\noptimizer: {optimizer!r}, batch size "
            f"{arguments.batch_size or 'full'}, {epochs} epochs, on {arguments.backend}"
            + (f" (continuing after epoch {arguments.initial_epoch})"
               if arguments.initial_epoch else ""))
    start = time.perf_counter()
    # fit handles signals while it runs (stop after the batch); around it, from here on, a
    # signal waits for the run to be saved
    with _DeferSignals() as deferred:
        net.to(arguments.backend)  # the data follow the network there, once
        try:
            history = net.fit(data.X_train, data.y_train,
                              loss="cross_entropy" if classifier else "mse", optimizer=optimizer,
                              epochs=epochs, batch_size=arguments.batch_size,
                              validation_split=validation_split, seed=arguments.seed,
                              callbacks=callbacks, initial_epoch=arguments.initial_epoch,
                              verbose=0)  # the CLI's own ProgressLogger is in callbacks
        except KeyboardInterrupt:  # a second signal: stop at once, keep the best epoch so far
            history = _abandoned_history(net, best)
        seconds = time.perf_counter() - start
        net.to("numpy")  # scored, explained and saved on the host
        this_run = len(history.epoch)
        history = _continued(arguments.previous, history)
        net.metadata.update(data.metadata)
        net.metadata["input_stats"] = tabular.InputStats.fit(data.X_train).to_dict()
        scores = test_scores(net, data.X_test, data.y_test, data.task)
        held_out = "test" if arguments.data != "xor" else "xor"
        config = {"command": "train", **data.config, **architecture_of(net),
                  "optimizer": repr(optimizer), "batch_size": arguments.batch_size,
                  "epochs": epochs, "validation_split": validation_split, "seed": arguments.seed,
                  "dtype": net.dtype.name, "device": str(arguments.backend),
                  "resumed_from": str(arguments.resume or ""),
                  "nnscratch_version": __version__, "seconds": round(seconds, 3),
                  "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "epochs_run": len(history.epoch), "epochs_this_run": this_run,
                  "best_epoch": _one_based(best.best_epoch),
                  f"{held_out}_scores": scores}
        problems: list[str] = []
        out, written = save_run_folder(
            folder, net, history, config, problems, X_test=data.X_test, y_test=data.y_test,
            class_names=data.class_names, gradient_norms=recorder.norms,
            plots=not arguments.no_plots, images=data.images,
            plot_worker=plot_worker)
    for problem in problems:
        log(f"warning: {problem}")
    if not arguments.no_plots and not can_plot():
        log("no plots: matplotlib is not installed (pip install 'nnscratch[plot]')")
    best_note = (f" (weights of epoch {best.best_epoch + 1}, the best by {monitor})"
                 if best.best_epoch is not None else "")
    n_epochs = len(history.epoch)
    after = f" (epochs {arguments.initial_epoch + 1}-{n_epochs})" if arguments.initial_epoch \
        else ""
    print(f"trained {this_run} epoch{'s' * (this_run != 1)}{after} in {seconds:.2f}s"
          f"{best_note}")
    if history.stop_reason == "early_stopping" and best.best_epoch is not None:
        print(f"stopped early after epoch {n_epochs}: {monitor} had not improved for "
              f"{arguments.early_stopping} epochs since epoch {best.best_epoch + 1} "
              f"({monitor} {abs(best.tracker.best):.4f}); --early-stopping sets the patience")
    print(f"saved the run in {out}: {', '.join(path.name for path in written)}")
    where = "XOR (the four points; no held-out set)" if held_out == "xor" else "test"
    for name, value in scores.items():
        print(f"{where} {name}: {value:.4f}")
    if not scores:
        print("no test rows (--test-split 0): nothing held out to score")
    signal_number = history.stop_signal or deferred.signal_number
    if history.stop_reason == "interrupted" or signal_number:
        log(f"interrupted after {n_epochs} epoch(s); the best weights so far are saved. "
            f"Resume with:\n  nnscratch train --resume {out} --epochs N")
        return 128 + (signal_number or signal.SIGINT)
    return 0


def regression_outputs(net: Sequential, X: np.ndarray) -> np.ndarray:
    """A regressor's predictions in the target's units (undoing the target's scaling)."""
    record = net.metadata.get("target_scaling")
    scaling = tabular.Scaling.from_dict(record, 1) if record is not None else None
    return tabular.unscale_targets(scaling, net.predict(X))


def test_scores(net: Sequential, X: np.ndarray, y: np.ndarray, task: str) -> dict[str, float]:
    """loss and accuracy of a classifier; mse, mae and r2 of a regressor; {} without rows."""
    if len(X) == 0:
        return {}
    if task == "classification":
        return net.evaluate(X, y, loss=net.loss or "cross_entropy")
    predicted = regression_outputs(net, X).reshape(y.shape)
    residual = np.asarray(y, dtype=np.float64) - predicted
    spread = float(np.sum((y - np.mean(y)) ** 2))
    return {"mse": float(np.mean(residual ** 2)), "mae": float(np.mean(np.abs(residual))),
            "r2": 1.0 - float(np.sum(residual ** 2)) / spread if spread > 0 else float("nan")}


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


def architecture_of(net: Sequential) -> dict[str, object]:
    """The hidden layer sizes, activation and dropout of an MLP-shaped network."""
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    activations = [layer for layer in net.layers if type(layer).__name__ in ACTIVATION_NAMES]
    dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    return {"layers": [layer.out_features for layer in dense[:-1]],
            "activation": ACTIVATION_NAMES[type(activations[0]).__name__] if activations
            else "identity",
            "dropout": dropouts[0].rate if dropouts else 0.0}


def run_folder(out: Path | None, data: str, overwrite: bool = False) -> RunFolder:
    """The run's folder, checked now: --out, or a new runs/<data>-<date>-<time>."""
    if out is not None:
        return RunFolder(out, overwrite=overwrite)
    return RunFolder(Path("runs") / f"{data}-{time.strftime('%Y%m%d-%H%M%S')}", unique=True)


def save_run_folder(folder: RunFolder, net: Sequential, history: History,
                    config: dict[str, object], problems: list[str], **contents: Any
                    ) -> tuple[Path, list[Path]]:
    """Write the run (``contents``: save_run's test data, class names, gradient norms, plots
    and images options) and move it into place; if the disk refuses, rescue the model."""
    try:
        written = save_run(folder.path, net, history, config, problems=problems, **contents)
        out = folder.commit()
        if out != folder.target:
            problems.append(f"{folder.target} was taken by another run while this one trained; "
                            f"this run is saved in {out}")
    except OSError as error:
        reason = f"Cannot save the run in {folder.target}: {error}"
        rescue = Path(tempfile.gettempdir()) / f"nnscratch-rescued-{folder.target.name}.npz"
        try:
            net.save(rescue, metadata={**net.metadata, "run": config})
        except (OSError, ValueError):
            raise OSError(f"{reason} The trained model could not be saved anywhere.") from None
        raise OSError(f"{reason} The trained model was saved to {rescue} instead.") from None
    return out, [out / path.name for path in written]


class _SignalsInterrupt(StopSignals):
    """Outside training and saving, SIGTERM and SIGHUP interrupt a command as Ctrl-C does
    (KeyboardInterrupt), so it cleans up and exits with 128 + the signal's number."""

    def _receive(self, signum: int, frame: object) -> None:
        self.signal_number = signum  # recorded before handle raises
        self.handle(signum)

    def handle(self, signum: int) -> None:
        raise KeyboardInterrupt


class _DeferSignals(StopSignals):
    """Hold SIGINT, SIGTERM and SIGHUP while a run is saved: the save completes, and
    ``signal_number`` tells the caller which signal arrived, to exit with 128 + it."""

    def handle(self, signum: int) -> None:
        if self.signal_number is None:
            log("saving the run first; it stops when the save is done")


def run_evaluate(arguments: argparse.Namespace) -> int:
    net = load_model(arguments.model)
    data, X_test, y_test, class_names, task = evaluation_data(net, arguments.model, arguments)
    check_fits(net, X_test, class_names, data)
    print(f"data: {data} test set, {len(X_test)} samples")
    scores = test_scores(net, X_test, y_test, task)
    for name, value in scores.items():
        print(f"test {name}: {value:.4f}")
    if task != "classification" or not class_names:
        return 0
    predicted = net.predict(X_test)
    matrix = metrics.confusion_matrix(y_test, predicted, n_classes=len(class_names))
    print("\nconfusion matrix (rows: true class, columns: predicted class):")
    width = max(5, len(str(matrix.max())) + 1)
    print(" " * 6 + "".join(f"{label:>{width}}" for label in range(len(class_names))))
    for label, row in enumerate(matrix):
        print(f"{label:>5} " + "".join(f"{count:>{width}}" for count in row))
    print()
    print(metrics.classification_report(y_test, predicted, class_names))
    return 0


def run_predict(arguments: argparse.Namespace) -> int:
    net = load_model(arguments.model)
    rows, labels = [], []
    own_data = "scaling" in net.metadata  # trained on the user's own file
    for path in arguments.inputs:
        if not path.is_file():
            raise FileNotFoundError(f"No input file at {path}.")
        if own_data and path.suffix.lower() == ".csv":
            array = tabular.read_feature_rows(path, list(net.metadata.get("feature_names", [])))
        elif path.suffix == ".npy":
            array = read_npy_rows(path, net.n_inputs)
        elif own_data:
            raise UsageError(f"{path}: this model was trained on a table; give .csv or .npy "
                             "rows of its features.")
        else:
            pixels, (width, height) = read_image(path, net.n_inputs, arguments.invert)
            side = math.isqrt(net.n_inputs)
            if (width, height) != (side, side):
                log(f"{path}: {width} x {height} pixels, resized to {side} x {side} (the "
                    "model's input)")
            rows.append(pixels[None, :])
            labels.append(str(path))
            continue
        rows.append(array)
        labels += [f"{path}[{index}]" for index in range(len(array))] \
            if len(array) > 1 else [str(path)]
    X = np.concatenate(rows)
    if own_data:
        X = tabular.Scaling.from_dict(net.metadata["scaling"], net.n_inputs).apply(X)
    _say_how_far(net, X, labels)
    if net.metadata.get("task") == "regression":
        for label, value in zip(labels, regression_outputs(net, X).reshape(len(X), -1),
                                strict=True):
            print(f"{label}: {', '.join(f'{v:.6g}' for v in value)}")
        return 0
    class_names = net.metadata.get("class_names") or [str(c) for c in range(net.n_outputs)]
    probabilities = net.predict_proba(X)
    top = min(arguments.top, probabilities.shape[1])
    for label, row in zip(labels, probabilities, strict=True):
        best = np.argsort(row)[::-1][:top]
        guesses = ", ".join(f"{class_names[c]} ({row[c]:.4f})" for c in best)
        print(f"{label}: {guesses}")
    return 0


def _say_how_far(net: Sequential, X: np.ndarray, labels: list[str]) -> None:
    """On stderr: each input's distance from the training data, with a warning when it is far
    beyond what the training rows show (see tabular.InputStats)."""
    stats = tabular.InputStats.from_dict(net.metadata.get("input_stats"), net.n_inputs)
    if stats is None:
        return
    for label, distance in zip(labels, stats.distance(X), strict=True):
        far = distance > 2 * stats.typical
        log(f"{'warning: ' if far else ''}{label}: distance from the training data "
            f"{distance:.2f} (99% of training rows: up to {stats.typical:.2f})"
            + ("; it is unlike anything the model was trained on, so the prediction may be "
               "meaningless" if far else ""))


def run_plot(arguments: argparse.Namespace) -> int:
    if not can_plot():
        raise UsageError("plots need matplotlib: pip install 'nnscratch[plot]'")
    from . import plots

    figure_name = arguments.figure
    output = arguments.output or Path(f"{figure_name}.png")
    if figure_name in ("activations", "derivatives"):
        figure = plots.plot_activations(derivatives=figure_name == "derivatives").figure
    elif figure_name == "history":
        source = require_source(arguments)
        if source.suffix == ".npz":
            figure = plots.plot_history(load_model(source).metadata.get("history") or {})
        else:
            figure = plots.plot_history(load_history(source))
    else:
        source = require_source(arguments)
        net = load_model(source)
        if figure_name == "weights":
            figure = plots.plot_first_layer_weights(net)
        else:
            data, X_test, y_test, class_names, task = evaluation_data(net, source, arguments)
            check_fits(net, X_test, class_names, data)
            if figure_name != "activation-histograms" and (task != "classification"
                                                          or class_names is None):
                raise UsageError(f"plot {figure_name} is for classifiers; this model is a "
                                 "regressor.")
            if figure_name in ("sample", "predictions") and data not in DATA_SETS:
                raise UsageError(f"plot {figure_name} shows images; {data} is a table. Try "
                                 "plot confusion.")
            if figure_name == "activation-histograms":
                figure = plots.plot_activation_histograms(net, X_test[:2000])
            elif figure_name == "sample":
                if arguments.index >= len(X_test):
                    raise UsageError(f"--index must be below {len(X_test)}, the number of test "
                                     f"samples in {data}; got {arguments.index}.")
                sample = X_test[arguments.index]
                figure = plots.plot_prediction(sample, net.predict_proba(sample[None])[0],
                                               int(y_test[arguments.index]), class_names)
            else:
                predicted = net.predict(X_test)
                if figure_name == "confusion":
                    matrix = metrics.confusion_matrix(y_test, predicted, len(class_names or ()))
                    figure = plots.plot_confusion_matrix(matrix, class_names).figure
                else:
                    figure = plots.plot_prediction_grid(X_test, y_test, predicted, class_names)
    save_figure(figure, output)
    print(f"wrote {output}")
    return 0


def run_summary(arguments: argparse.Namespace) -> int:
    net = load_model(arguments.model) if arguments.model else architecture(arguments)
    print(net.summary())
    return 0


def run_gradcheck(arguments: argparse.Namespace) -> int:
    net = load_model(arguments.model) if arguments.model else architecture(arguments)
    rng = np.random.default_rng(arguments.seed)
    X = rng.standard_normal((arguments.samples, net.n_inputs))
    loss = net.loss or "cross_entropy"
    y = rng.integers(0, net.n_outputs, arguments.samples)
    if getattr(loss, "task", "multiclass") != "multiclass":
        y = rng.random((arguments.samples, net.n_outputs))
    errors = gradient_errors(net, X, y, loss=loss, max_samples=arguments.samples)
    shapes = {name: param.shape for name, param, _ in net.named_parameters()}
    shapes["input"] = X.shape
    print(f"{'parameter':<10} {'shape':<12} relative error")
    for name, error in errors.items():
        verdict = "ok" if error < 1e-6 else "WRONG" if error > 1e-3 else "suspicious"
        print(f"{name:<10} {str(shapes[name]):<12} {error:.2e}  {verdict}")
    worst = max(errors.values())
    print(f"largest relative error: {worst:.2e} ({'pass' if worst < 1e-6 else 'fail'}, "
          "threshold 1e-6)")
    return 0 if worst < 1e-6 else 1


def run_download(arguments: argparse.Namespace) -> int:
    paths = datasets.download_dataset(arguments.data, arguments.data_dir,
                                      progress=DownloadProgress())
    for path in paths:
        print(path)
    return 0


def run_recipe(arguments: argparse.Namespace) -> int:
    if arguments.list or arguments.name is None:  # `nnscratch recipe` alone lists them too
        for recipe in recipes.RECIPES.values():
            print(f"{recipe.name:<18} {recipe.describe()}\n{'':<18} article: {recipe.article}"
                  f"\n{'':<18} deviations: {recipe.deviations}")
        if not arguments.list:
            log("run one with: nnscratch recipe NAME")
        return 0
    callbacks = [ProgressLogger(arguments.verbose)] if arguments.verbose else []
    folder = run_folder(arguments.out, f"recipe-{arguments.name}")
    try:
        return _run_recipe(arguments, folder, callbacks)
    finally:
        folder.discard()


def _run_recipe(arguments: argparse.Namespace, folder: RunFolder, callbacks: list) -> int:
    result = recipes.run_recipe(arguments.name, arguments.seed, arguments.data_dir, callbacks)
    config = {"command": "recipe", "recipe": arguments.name, "data": result.recipe.data,
              "setup": result.recipe.describe(), "article": result.recipe.article,
              "seed": arguments.seed, "seconds": round(result.seconds, 3),
              "measured": result.measured, "test_accuracy": result.test_accuracy,
              "train_accuracy": result.train_accuracy, "nnscratch_version": __version__,
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    result.network.metadata["class_names"] = result.class_names
    problems: list[str] = []
    with _DeferSignals():
        out, written = save_run_folder(
            folder, result.network, result.history, config, problems, X_test=result.X_test,
            y_test=result.y_test, class_names=result.class_names, plots=not arguments.no_plots,
            images=result.recipe.data != "xor")
    for problem in problems:
        log(f"warning: {problem}")
    print(result.report())
    print(f"saved the run in {out}: {', '.join(path.name for path in written)}")
    return 0


def run_runs(arguments: argparse.Namespace) -> int:
    words = arguments.compare
    if words:
        if words[0] != "compare" or len(words) != 3:
            raise UsageError(f"expected `runs` or `runs compare A B`; got `runs "
                             f"{' '.join(words)}`.")
        first, second = (Path(word) if Path(word).is_dir() else arguments.dir / word
                         for word in words[1:])
        rows = compare_runs(first, second)
        width = max(len(name) for name, _, _ in rows)
        column = max(12, *(len(_shown(value)) for _, value, _ in rows))
        print(f"  {'':{width}}  {first.name:<{column}}  {second.name}")
        for name, one, other in rows:
            mark = "*" if one != other else " "
            print(f"{mark} {name:{width}}  {_shown(one):<{column}}  {_shown(other)}")
        return 0
    summaries = list_runs(arguments.dir)
    if not summaries:
        print(f"no runs in {arguments.dir}")
        return 0
    name_width = max(4, *(len(summary["name"]) for summary in summaries))
    print(f"{'name':<{name_width}}  {'data':<14} {'epochs':>6} {'best val acc':>12} "
          f"{'test':>8}  date")
    for summary in summaries:
        best = summary["best_val_accuracy"]
        test = summary["test"]
        test_text = "-" if test is None else f"{test:.4f}" + (
            " r2" if summary["test_measure"] == "r2" else "")
        print(f"{summary['name']:<{name_width}}  {summary['data'][:14]:<14} "
              f"{_shown(summary['epochs']):>6} {'-' if best is None else f'{best:.4f}':>12} "
              f"{test_text:>8}  {summary['date']}")
    return 0


def _shown(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def run_play(arguments: argparse.Namespace) -> int:
    from .play.server import serve

    if arguments.port > 65535:
        raise UsageError(f"--port must be at most 65535; got {arguments.port}.")
    try:
        server = serve(arguments.host, arguments.port)
    except OSError as error:
        reason = error.strerror or str(error)
        raise OSError(f"cannot listen on {arguments.host}:{arguments.port} ({reason}). Try "
                      "another --port, or --port 0 for any free one.") from None
    print(server.url, flush=True)
    if not arguments.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def run_explain(arguments: argparse.Namespace) -> int:
    if arguments.batch is None:
        arguments.batch = 2 if arguments.trace else 32
    if arguments.layers is None:
        arguments.layers = [2, 3, 2] if arguments.trace else [64, 100, 10]
    if arguments.model is not None:
        net = load_model(arguments.model)
    else:
        if len(arguments.layers) < 2:
            raise UsageError("--layers needs at least two sizes: inputs first, outputs last.")
        net = MLP(arguments.layers, activation=arguments.activation, seed=arguments.seed,
                  loss=arguments.loss)
    if not arguments.trace:
        print(net.explain(arguments.batch))
        return 0
    rng = np.random.default_rng(arguments.seed)
    X = rng.random((arguments.batch, net.n_inputs)).round(2)
    loss_name = type(net.loss).__name__ if net.loss is not None else "CrossEntropy"
    if loss_name == "CrossEntropy":
        y = rng.integers(0, net.n_outputs, arguments.batch)
    elif loss_name == "BinaryCrossEntropy":
        y = rng.integers(0, 2, (arguments.batch, net.n_outputs))
    else:
        y = rng.standard_normal((arguments.batch, net.n_outputs)).round(2)
    print(net.trace(X, y, loss=net.loss or "cross_entropy", lr=arguments.lr))
    return 0


# ----------------------------------------------------------------------------------------------
# Helpers


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


def load_data(name: str, data_dir: Path | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(X_train, y_train, X_test, y_test, class_names) of a data set, downloading if needed."""
    if data_dir is not None and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a folder. Check the path, or create it "
                         f"with: nnscratch download {name} --data-dir {data_dir}")
    if name == "digits":
        return (*datasets.load_digits(), [str(digit) for digit in range(10)])
    if name == "xor":
        X, y = datasets.load_xor(repeats=100)
        X_points, y_points = datasets.load_xor()
        return X, y, X_points, y_points, ["0", "1"]
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    return (*loader(data_dir, progress=DownloadProgress()),
            list(datasets.DATA_SETS[name].classes))


def evaluation_data(net: Sequential, source: Path, arguments: argparse.Namespace
                    ) -> tuple[str, np.ndarray, np.ndarray, list[str] | None, str]:
    """(data, X_test, y_test, class_names, task) to score a saved model on: --data, else the
    data its run recorded. For the user's own file, the run's test rows when it is the file
    the run was trained on (same split), else every row; scaled as the model was."""
    run = net.metadata.get("run", {}) if isinstance(net.metadata, dict) else {}
    run = run if isinstance(run, dict) else {}
    data = arguments.data or run.get("data")
    if not isinstance(data, str) or not data:
        raise UsageError(f"{source} does not record its data set: pass --data.")
    if data in DATA_SETS:
        recorded = run.get("data_dir") if data == run.get("data") else None
        data_dir = arguments.data_dir or (Path(recorded) if isinstance(recorded, str) else None)
        _, _, X_test, y_test, names = load_data(data, data_dir)
        return data, X_test, y_test, names, "classification"
    if not Path(data).is_file():
        raise UsageError(f"{source} was trained on {data}, which is not there any more. Pass "
                         "--data FILE with the same columns.")
    task = net.metadata.get("task", "classification")
    table = tabular.read_table(data, run.get("target"), run.get("x_key", "X"),
                               run.get("y_key", "y"))
    saved_names = net.metadata.get("class_names") if task == "classification" else None
    class_names: list[str] | None = list(saved_names) if saved_names else None
    y = _encode_like_the_model(table, class_names) if class_names else table.y.astype(float)
    rows = np.arange(len(y))
    if Path(data).resolve() == Path(str(run.get("data", ""))).resolve():
        _, rows = tabular.split_rows(len(y), float(run.get("test_split", 0.2)),
                                     int(run.get("seed", 0)), y if class_names else None)
    scaling = tabular.Scaling.from_dict(net.metadata.get("scaling"), table.X.shape[1])
    return data, scaling.apply(table.X[rows]), y[rows], class_names, task


def _encode_like_the_model(table: tabular.Table, class_names: list[str]) -> np.ndarray:
    index = {name: position for position, name in enumerate(class_names)}
    names = [tabular.label_name(value) for value in table.y]
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise DataError(f"{table.source}: labels {unknown[:5]} are not among the model's classes "
                        f"{class_names[:10]}.")
    return np.array([index[name] for name in names], dtype=np.int64)


def load_model(path: Path) -> Sequential:
    """A saved model, from its file or from a run folder (its model.npz)."""
    if path.is_dir():
        path = path / "model.npz"
    return load(path)


def data_label(data: str) -> str:
    """A short name for a run folder: the data set's name, or the file's stem."""
    return data if data in DATA_SETS else Path(data).stem


def check_fits(net: Sequential, X: np.ndarray, class_names: list[str] | None, data: str) -> None:
    n_outputs = len(class_names) if class_names else 1
    if net.n_inputs != X.shape[1] or net.n_outputs != n_outputs:
        raise UsageError(f"the model maps {net.n_inputs} inputs to {net.n_outputs} outputs, "
                         f"but {data} has {X.shape[1]} features and needs {n_outputs} outputs. "
                         "Pass the --data it was trained on.")


def require_source(arguments: argparse.Namespace) -> Path:
    if arguments.source is None:
        raise UsageError(f"plot {arguments.figure} needs a SOURCE: a run folder or model file.")
    return arguments.source


def architecture(arguments: argparse.Namespace) -> Sequential:
    if arguments.outputs < 2:
        raise UsageError(f"--outputs must be at least 2 (one per class); got {arguments.outputs}.")
    return MLP([arguments.inputs, *arguments.layers, arguments.outputs],
               activation=arguments.activation, dropout=arguments.dropout,
               seed=getattr(arguments, "seed", 0), loss="cross_entropy")


def read_npy_rows(path: Path, n_features: int) -> np.ndarray:
    try:  # mapped, not read: the shape is checked before any row is loaded
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, OverflowError) as error:
        raise DataError(f"{path} is not a readable .npy array ({error}). Save the rows with "
                        "np.save(path, X).") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != n_features or not np.issubdtype(array.dtype,
                                                                            np.number):
        raise UsageError(f"{path} holds an array of shape {array.shape} and dtype "
                         f"{array.dtype}; the model needs numeric rows of {n_features} "
                         f"features, shape (n, {n_features}) or ({n_features},).")
    return np.asarray(array)


MAX_IMAGE_PIXELS = 50_000_000  # a 7,000 x 7,000 photo; a larger one is refused unread


def read_image(path: Path, n_features: int, invert: str) -> tuple[np.ndarray, tuple[int, int]]:
    """A grey image resized to the model's square input, scaled to [0, 1], light on dark,
    and the image's own (width, height).

    16-bit greyscale is scaled by its full range, and a drawing on a transparent background
    is laid on a background that contrasts with its strokes before it is turned grey.
    """
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise UsageError(f"this model takes {n_features} features, which is not a square "
                         "image: give .npy rows instead.")
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("reading images needs Pillow: pip install 'nnscratch[plot]'") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DataError(f"{path} is {width} x {height} pixels, more than the "
                                    f"{MAX_IMAGE_PIXELS:,} read for a prediction. Shrink it "
                                    "first.")
                grey = _grey_pixels(image)
            resized = Image.fromarray(grey, mode="F").resize((side, side),
                                                             Image.Resampling.LANCZOS)
            pixels = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    except DataError:
        raise
    except (Exception, Image.DecompressionBombWarning) as error:  # Pillow raises many kinds
        raise DataError(f"{path} is not an image Pillow can read ({type(error).__name__}: "
                        f"{error}). Give a PNG or JPEG, or .npy rows.") from None
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        pixels = 1.0 - pixels
    return pixels.ravel(), (width, height)


def _grey_pixels(image: object) -> np.ndarray:
    """The image as float32 grey levels in [0, 1]."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit grey: 0..65535
        return np.clip(np.asarray(image, dtype=np.float64) / 65535.0, 0, 1).astype(np.float32)
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        return np.clip(values / max(1.0, float(values.max(initial=0))), 0, 1)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha > 0.5
    ink = float(luminance[opaque].mean()) if opaque.any() else 0.0
    background = 1.0 if ink < 0.5 else 0.0  # dark strokes on white, light strokes on black
    return (alpha * luminance + (1.0 - alpha) * background).astype(np.float32)


class DownloadProgress:
    """Report a download on stderr: redrawn in place on a terminal, one line per file else."""

    def __call__(self, name: str, done: int, total: int) -> None:
        finished = total and done >= total
        if sys.stderr.isatty():
            share = f"{done / total:4.0%}" if total else f"{done / 1e6:.1f} MB"
            sys.stderr.write(f"\rdownloading {name}: {share}" + ("\n" if finished else ""))
        elif finished:
            sys.stderr.write(f"downloaded {name} ({total / 1e6:.1f} MB)\n")


def log(message: str) -> None:
    print(message, file=sys.stderr)


def _one_based(epoch: int | None) -> int | None:
    return None if epoch is None else epoch + 1


# ----------------------------------------------------------------------------------------------
# Argument types: each turns a bad value into a one-line usage error


def whole_number(minimum: int):
    """An argparse type for whole numbers >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return value

    return parse


positive_int, non_negative_int = whole_number(1), whole_number(0)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def data_source(text: str) -> str:
    """A built-in data set's name (any case) or the path of a .csv, .npz or .npy file."""
    if text.lower() in DATA_SETS:
        return text.lower()
    if Path(text).suffix.lower() in tabular.SUFFIXES:
        if not Path(text).is_file():
            raise argparse.ArgumentTypeError(f"no file {text!r}")
        return text
    close = difflib.get_close_matches(text.lower(), DATA_SETS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise argparse.ArgumentTypeError(
        f"expected one of {', '.join(DATA_SETS)} or a .csv, .npz or .npy file, got "
        f"{text!r}{hint}")


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def batch_size(text: str) -> int | None:
    if text == "full":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1 or 'full', got {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
