"""The command line's parser: every command and its options, and usage errors in one line.

train's options live beside its defaults in train.py; the options several commands share,
and the types that check each value, in arguments.py.
"""

from __future__ import annotations

import argparse
import difflib
import re
from pathlib import Path
from typing import NoReturn

from .. import datasets, recipes
from .._version import __version__
from .arguments import (
    add_data_arguments,
    add_model_or_architecture_arguments,
    non_negative_int,
    positive_float,
    positive_int,
    subcommand,
    whole_number,
)
from .commands import (
    FIGURES,
    run_check,
    run_download,
    run_evaluate,
    run_exercises,
    run_explain,
    run_gradcheck,
    run_play,
    run_plot,
    run_predict,
    run_recipe,
    run_runs,
    run_summary,
)
from .common import ACTIVATION_CHOICES
from .train import add_train_arguments, run_train


class ParserError(Exception):
    """A usage error found by argparse, reported by main as one line."""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised (for main to report in one line) instead of the
    usage text and an exit; ``commands`` maps each subcommand to its parser."""

    commands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        raise ParserError(message)


def build_parser() -> Parser:
    """The parser of every command and its options (train's are in train.py)."""
    parser = Parser(
        prog="nnscratch",
        description="Neural networks from scratch in NumPy: train, inspect and check them.")
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_train_command, _evaluate_command, _predict_command, _plot_command,
                _summary_command, _gradcheck_command, _download_command,
                _recipe_command, _runs_command, _play_command, _explain_command,
                _exercises_command, _checker_command):
        add(commands)
    parser.commands = dict(commands.choices)
    return parser


def _train_command(commands: argparse._SubParsersAction) -> None:
    train = subcommand(
        commands, run_train, "train", help="train a network and save the run",
        description="Train an MLP on a data set, report its test accuracy and save the run. "
                    "With no arguments: the built-in 8x8 digits, in a few seconds.")
    add_train_arguments(train)


def _evaluate_command(commands: argparse._SubParsersAction) -> None:
    evaluate = subcommand(commands, run_evaluate, "evaluate",
                          help="test loss, accuracy and confusion matrix")
    evaluate.add_argument("model", type=Path, help="a model file (or a run folder)")
    add_data_arguments(evaluate, default=None)


def _predict_command(commands: argparse._SubParsersAction) -> None:
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


def _plot_command(commands: argparse._SubParsersAction) -> None:
    plot = subcommand(
        commands, run_plot, "plot", help="draw a figure as a PNG",
        description="activations and derivatives need no source; history takes a run folder "
                    "or model; the others take a model (or run folder) and its data set.")
    plot.add_argument("figure", choices=tuple(FIGURES))
    plot.add_argument("source", type=Path, nargs="?", default=None,
                      help="a run folder, model file or history.json")
    add_data_arguments(plot, default=None)
    plot.add_argument("--index", type=non_negative_int, default=0,
                      help="for 'sample': which test sample to show")
    plot.add_argument("--output", "-o", type=Path, default=None,
                      help="the file to write: .png, .svg or .pdf (default: <figure>.png)")


def _summary_command(commands: argparse._SubParsersAction) -> None:
    summary = subcommand(commands, run_summary, "summary",
                         help="the layer table of a model or architecture")
    add_model_or_architecture_arguments(summary, inputs=64, outputs=10)


def _gradcheck_command(commands: argparse._SubParsersAction) -> None:
    gradcheck = subcommand(
        commands, run_gradcheck, "gradcheck", help="check backprop against finite differences",
        description="Compare each parameter's backprop gradient with float64 central "
                    "differences on a small random batch.")
    add_model_or_architecture_arguments(gradcheck, inputs=8, outputs=3)
    gradcheck.add_argument("--samples", type=positive_int, default=4, help="batch size")
    gradcheck.add_argument("--seed", type=non_negative_int, default=0)


def _download_command(commands: argparse._SubParsersAction) -> None:
    download = subcommand(commands, run_download, "download",
                          help="fetch a data set into the cache")
    download.add_argument("data", choices=tuple(datasets.DATA_SETS))
    download.add_argument("--data-dir", type=Path, default=None,
                          help="where to put it (default: $NNSCRATCH_DATA or the user cache)")


def _recipe_command(commands: argparse._SubParsersAction) -> None:
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


def _runs_command(commands: argparse._SubParsersAction) -> None:
    runs = subcommand(
        commands, run_runs, "runs", help="list the saved runs, or compare two",
        description="With no arguments, list the runs in --dir: name, data, epochs, best "
                    "validation accuracy, test accuracy (R2 for a regression) and date. "
                    "`nnscratch runs compare A B` prints two runs' settings and scores side "
                    "by side, marking those that differ.")
    runs.add_argument("compare", nargs="*", metavar="compare A B",
                      help="'compare' and two run folders")
    runs.add_argument("--dir", type=Path, default=Path("runs"), help="where the runs are")


def _play_command(commands: argparse._SubParsersAction) -> None:
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


def _explain_command(commands: argparse._SubParsersAction) -> None:
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


def _exercises_command(commands: argparse._SubParsersAction) -> None:
    exercises = subcommand(
        commands, run_exercises, "exercises", help="write exercises to fill in and check",
        description="Write a numbered ladder of exercise files (a neuron, activations, "
                    "softmax, losses, a dense layer, a step, training) and a README into "
                    "FOLDER; each function is a stub with its equation, shapes and a hint. "
                    "Files already there are never overwritten.")
    exercises.add_argument("folder", type=Path, metavar="FOLDER")
    exercises.add_argument("--notation", choices=("rows", "columns"), default="rows",
                           help="rows: one sample per row, W (in, out), z = x W + b "
                                "(nnscratch's); columns: one sample per column, W (out, in), "
                                "z = W a + b (the articles')")


def _checker_command(commands: argparse._SubParsersAction) -> None:
    checker = subcommand(
        commands, run_check, "check", help="check your exercises, with the slip each looks like",
        description="Check every exercise file of FOLDER (or one file) against nnscratch's "
                    "own equations: passed, not started, or wrong with the first mismatch and "
                    "the slip it looks like. Exit code 0 only when every exercise passes.")
    checker.add_argument("path", type=Path, metavar="FOLDER_OR_FILE")
    checker.add_argument("--notation", choices=("rows", "columns"), default=None,
                         help="the notation the files must be in (default: what each says)")


def did_you_mean(message: str, parser: argparse.ArgumentParser) -> str:
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
