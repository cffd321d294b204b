"""The ``nnscratch`` command.

    nnscratch train       train a network on a built-in data set and report held-out accuracy
    nnscratch summary     the layer table of an architecture
    nnscratch gradcheck   backprop against float64 finite differences, parameter by parameter

Results go to stdout, progress and errors to stderr. Exit codes: 0 success, 1 failure (for
example a diverging run), 2 a usage error (a bad argument, with a one-line explanation).
``main(argv)`` returns the exit code, so tests call it directly.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import __version__, datasets
from .callbacks import ProgressLogger
from .gradcheck import gradient_errors
from .network import MLP, Sequential
from .optim import OPTIMIZERS, get_optimizer
from .training import TrainingDivergedError

DATA_SETS = ("digits", "xor")
ACTIVATION_CHOICES = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
DATA_SHAPES = {"digits": (64, 10), "xor": (2, 2)}


class UsageError(Exception):
    """A bad combination of arguments, reported with exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit code."""
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit:  # argparse exits on --help, --version and usage errors
        return int(exit.code or 0)
    try:
        return arguments.run(arguments)
    except (UsageError, ValueError, TypeError) as error:
        print(f"nnscratch {arguments.command}: error: {error}", file=sys.stderr)
        return 2
    except TrainingDivergedError as error:
        print(f"nnscratch {arguments.command}: {error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnscratch",
        description="Neural networks from scratch in NumPy: train, inspect and check them.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a network and report its held-out accuracy",
        description="Train an MLP on a built-in data set. With no arguments: the 8x8 digits, "
                    "in a few seconds.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", choices=DATA_SETS, default="digits", help="the data set")
    add_architecture_arguments(train)
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    train.add_argument("--lr", type=positive_float, default=None,
                       help="learning rate (default: 0.001 for adam/adamw/rmsprop, else 0.01)")
    train.add_argument("--batch-size", type=batch_size, default=32,
                       help="samples per step: 1 for per-sample SGD, 'full' for the full batch")
    train.add_argument("--epochs", type=positive_int, default=50)
    train.add_argument("--validation-split", type=fraction, default=0.1,
                       help="fraction of the training data held out to watch each epoch "
                            "(0 for none)")
    train.add_argument("--seed", type=non_negative_int, default=0,
                       help="seeds the weights, the data split, dropout and shuffling")
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="0 silent, 1 progress bar (one line per epoch when not a "
                            "terminal), 2 one line per epoch")
    train.set_defaults(run=run_train)

    summary = commands.add_parser("summary", help="the layer table of an architecture")
    add_architecture_arguments(summary)
    summary.add_argument("--inputs", type=positive_int, default=64, help="input features")
    summary.add_argument("--outputs", type=positive_int, default=10, help="output units")
    summary.set_defaults(run=run_summary)

    gradcheck = commands.add_parser(
        "gradcheck", help="check backprop against finite differences",
        description="Compare each parameter's backprop gradient with float64 central "
                    "differences on a small random batch.")
    add_architecture_arguments(gradcheck)
    gradcheck.add_argument("--inputs", type=positive_int, default=8, help="input features")
    gradcheck.add_argument("--outputs", type=positive_int, default=3, help="classes")
    gradcheck.add_argument("--samples", type=positive_int, default=8, help="batch size")
    gradcheck.add_argument("--seed", type=non_negative_int, default=0)
    gradcheck.set_defaults(run=run_gradcheck)
    return parser


def add_architecture_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", type=positive_int, nargs="+", default=[256, 128],
                        metavar="UNITS", help="hidden layer sizes")
    parser.add_argument("--activation", choices=ACTIVATION_CHOICES, default="relu")
    parser.add_argument("--dropout", type=fraction, default=0.2,
                        help="dropout rate after each hidden activation")


# ----------------------------------------------------------------------------------------------
# The commands


def run_train(arguments: argparse.Namespace) -> int:
    n_inputs, n_classes = DATA_SHAPES[arguments.data]
    if arguments.data == "digits":
        X_train, y_train, X_test, y_test = datasets.load_digits(seed=arguments.seed)
    else:
        X_train, y_train = datasets.load_xor(repeats=100)
        X_test, y_test = datasets.load_xor()
    net = MLP([n_inputs, *arguments.layers, n_classes], activation=arguments.activation,
              dropout=arguments.dropout, seed=arguments.seed, dtype=arguments.dtype)
    optimizer = get_optimizer(arguments.optimizer, arguments.lr)
    validation_split = arguments.validation_split if arguments.data != "xor" else 0.0
    callbacks = [ProgressLogger(arguments.verbose)] if arguments.verbose else []
    log(f"{net.summary()}\ndata: {arguments.data}, {len(X_train)} training samples "
        f"({validation_split:.0%} held out for validation), {len(X_test)} test samples\n"
        f"optimizer: {optimizer!r}, batch size {arguments.batch_size or 'full'}, "
        f"{arguments.epochs} epochs", arguments.verbose)
    start = time.perf_counter()
    history = net.fit(X_train, y_train, loss="cross_entropy", optimizer=optimizer,
                      epochs=arguments.epochs, batch_size=arguments.batch_size,
                      validation_split=validation_split, seed=arguments.seed, callbacks=callbacks)
    seconds = time.perf_counter() - start
    if history.stop_reason == "interrupted":
        log(f"interrupted: stopped after {len(history.epoch)} epoch(s)", 1)
    scores = net.evaluate(X_test, y_test)
    held_out = "test" if arguments.data != "xor" else "XOR (the four points; no held-out set)"
    print(f"trained {len(history.epoch)} epochs in {seconds:.2f}s")
    print(f"{held_out} loss: {scores['loss']:.4f}")
    print(f"{held_out} accuracy: {scores['accuracy']:.4f}")
    return 0


def run_summary(arguments: argparse.Namespace) -> int:
    print(architecture(arguments).summary())
    return 0


def run_gradcheck(arguments: argparse.Namespace) -> int:
    net = architecture(arguments)
    rng = np.random.default_rng(arguments.seed)
    X = rng.standard_normal((arguments.samples, arguments.inputs))
    y = rng.integers(0, arguments.outputs, arguments.samples)
    errors = gradient_errors(net, X, y, loss="cross_entropy", max_samples=arguments.samples)
    print(f"{'parameter':<10} {'shape':<12} relative error")
    shapes = {name: param.shape for name, param, _ in net.named_parameters()}
    shapes["input"] = X.shape
    for name, error in errors.items():
        verdict = "ok" if error < 1e-6 else "WRONG" if error > 1e-3 else "suspicious"
        print(f"{name:<10} {str(shapes[name]):<12} {error:.2e}  {verdict}")
    worst = max(errors.values())
    print(f"largest relative error: {worst:.2e} ({'pass' if worst < 1e-6 else 'fail'}, "
          "threshold 1e-6)")
    return 0 if worst < 1e-6 else 1


def architecture(arguments: argparse.Namespace) -> Sequential:
    if arguments.outputs < 2:
        raise UsageError(f"--outputs must be at least 2 (one per class); got {arguments.outputs}.")
    return MLP([arguments.inputs, *arguments.layers, arguments.outputs],
               activation=arguments.activation, dropout=arguments.dropout,
               seed=getattr(arguments, "seed", 0), loss="cross_entropy")


def log(message: str, verbose: int) -> None:
    if verbose:
        print(message, file=sys.stderr)


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
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
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
