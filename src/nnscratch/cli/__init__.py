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
    nnscratch exercises   write exercises to fill in: a neuron up to a whole training loop
    nnscratch check       check the exercises, naming the slip a wrong answer looks like

Results go to stdout, progress and errors to stderr. Exit codes: 0 success, 1 failure (a
missing or damaged file, a diverging run), 2 a usage error, 130 a second Ctrl-C. Every error
is one line, never a traceback. ``main(argv)`` returns the exit code, so tests call it directly.

The package, one concern a file, each importing only those below it:

    __init__.py   main: parse, run, turn every error into one line and an exit code
    parser.py     every command's options; usage errors in one line
    train.py      the train command: its options and defaults, resuming, training, saving
    commands.py   the other commands
    arguments.py  the options several commands share; argument types
    images.py     image files read as a model's input
    common.py     data sets, models, scoring and run folders, as the commands use them
    process.py    streams that survive a vanished reader; signals
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from ..datasets import DataError
from ..serialization import ModelFileError
from ..training import TrainingDivergedError
from .common import UsageError
from .parser import ParserError, build_parser, did_you_mean
from .process import SignalsInterrupt, TolerantStreams, log

__all__ = ["main", "UsageError"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit code."""
    with TolerantStreams():
        parser = build_parser()
        words = list(sys.argv[1:] if argv is None else argv)
        try:
            arguments = parser.parse_args(words)
        except ParserError as error:
            command = next((word for word in words if word in parser.commands), None)
            prog = f"nnscratch {command}" if command else "nnscratch"
            hint = did_you_mean(str(error), parser.commands[command] if command else parser)
            log(f"{prog}: error: {error}{hint} (see {prog} --help)")
            return 2
        except SystemExit as exit:  # argparse exits after --help and --version
            return int(exit.code or 0)
        return _run(arguments)


def _run(arguments: argparse.Namespace) -> int:
    prefix = f"nnscratch {arguments.command}"
    try:
        with SignalsInterrupt() as signals:
            return int(arguments.run(arguments))
    except KeyboardInterrupt:
        log(f"\n{prefix}: interrupted")
        return 128 + (signals.signal_number or signal.SIGINT)
    except TrainingDivergedError as error:
        log(f"{prefix}: {error.advice(learning_rate_option='--lr ')}")
        return 1
    except (FileNotFoundError, ModelFileError, DataError, OSError) as error:
        log(f"{prefix}: {error}")
        return 1
    except (UsageError, ValueError, TypeError) as error:
        log(f"{prefix}: error: {error}")
        return 2
