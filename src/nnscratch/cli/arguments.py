"""The options several commands share, and the argument types that check each value.

Each type turns a bad value into a one-line usage error that says what was expected and what
was given (argparse reports it; see parser.py).
"""

from __future__ import annotations

import argparse
import difflib
import math
from collections.abc import Callable
from pathlib import Path

from .. import tabular
from .common import ACTIVATION_CHOICES, DATA_SETS


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
# Argument types


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

