"""The commands other than train: evaluate, predict, plot, summary, gradcheck, download,
recipe, runs, play and explain. Each ``run_<command>`` takes the parsed arguments and returns
the exit code; results go to stdout, progress and warnings to stderr.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets, metrics, recipes, tabular
from .._version import __version__
from ..callbacks import ProgressLogger
from ..gradcheck import gradient_errors
from ..input_stats import InputStats
from ..network import MLP, Sequential
from ..runs import (
    RunFolder,
    RunRecord,
    can_plot,
    compare_runs,
    list_runs,
    load_history,
    save_figure,
)
from .common import (
    DATA_SETS,
    DownloadProgress,
    EvaluationData,
    UsageError,
    check_fits,
    evaluation_data,
    load_model,
    read_npy_rows,
    regression_outputs,
    run_folder,
    save_run_folder,
    test_scores,
)
from .images import read_image
from .process import DeferSignals, log


def run_evaluate(arguments: argparse.Namespace) -> int:
    net = load_model(arguments.model)
    scored = evaluation_data(net, arguments.model, arguments)
    X_test, y_test, class_names = scored.X_test, scored.y_test, scored.class_names
    check_fits(net, X_test, class_names, scored.data)
    print(f"data: {scored.data} test set, {len(X_test)} samples")
    for name, value in test_scores(net, X_test, y_test, scored.task).items():
        print(f"test {name}: {value:.4f}")
    if scored.task != "classification" or not class_names:
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
    X, labels = _read_inputs(net, arguments)
    if "scaling" in net.metadata:  # trained on the user's own table: scaled as it was
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


def _read_inputs(net: Sequential, arguments: argparse.Namespace) -> tuple[np.ndarray, list[str]]:
    """The rows to predict, one or more from each input file, and a label for each row."""
    rows, labels = [], []
    for path in arguments.inputs:
        if not path.is_file():
            raise FileNotFoundError(f"No input file at {path}.")
        array = _read_input(net, path, arguments.invert)
        rows.append(array)
        labels += [f"{path}[{index}]" for index in range(len(array))] \
            if len(array) > 1 else [str(path)]
    return np.concatenate(rows), labels


def _read_input(net: Sequential, path: Path, invert: str) -> np.ndarray:
    """One input file's rows: a table's, a .npy's, or an image's pixels."""
    own_data = "scaling" in net.metadata  # trained on the user's own file
    if own_data and path.suffix.lower() == ".csv":
        return tabular.read_feature_rows(path, list(net.metadata.get("feature_names", [])))
    if path.suffix == ".npy":
        return read_npy_rows(path, net.n_inputs)
    if own_data:
        raise UsageError(f"{path}: this model was trained on a table; give .csv or .npy "
                         "rows of its features.")
    pixels, (width, height) = read_image(path, net.n_inputs, invert)
    side = math.isqrt(net.n_inputs)
    if (width, height) != (side, side):
        log(f"{path}: {width} x {height} pixels, resized to {side} x {side} (the model's input)")
    return pixels[None, :]


def _say_how_far(net: Sequential, X: np.ndarray, labels: list[str]) -> None:
    """On stderr: each input's distance from the training data, with a warning when it is far
    beyond what the training rows show (see InputStats)."""
    stats = InputStats.from_dict(net.metadata.get("input_stats"), net.n_inputs)
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
    output = arguments.output or Path(f"{arguments.figure}.png")
    save_figure(FIGURES[arguments.figure](arguments), output)
    print(f"wrote {output}")
    return 0


def _activations(arguments: argparse.Namespace) -> Any:
    from .. import plots

    return plots.plot_activations(derivatives=arguments.figure == "derivatives").figure


def _history(arguments: argparse.Namespace) -> Any:
    from .. import plots

    source = require_source(arguments)
    if source.suffix == ".npz":
        return plots.plot_history(load_model(source).metadata.get("history") or {})
    return plots.plot_history(load_history(source))


def _weights(arguments: argparse.Namespace) -> Any:
    from .. import plots

    return plots.plot_first_layer_weights(load_model(require_source(arguments)))


def _activation_histograms(arguments: argparse.Namespace) -> Any:
    from .. import plots

    net, scored = _scored(arguments)
    return plots.plot_activation_histograms(net, scored.X_test[:2000])


def _sample(arguments: argparse.Namespace) -> Any:
    from .. import plots

    net, scored = _scored(arguments, classifier=True, images=True)
    if arguments.index >= len(scored.X_test):
        raise UsageError(f"--index must be below {len(scored.X_test)}, the number of test "
                         f"samples in {scored.data}; got {arguments.index}.")
    sample = scored.X_test[arguments.index]
    return plots.plot_prediction(sample, net.predict_proba(sample[None])[0],
                                 int(scored.y_test[arguments.index]), scored.class_names)


def _confusion(arguments: argparse.Namespace) -> Any:
    from .. import plots

    net, scored = _scored(arguments, classifier=True)
    matrix = metrics.confusion_matrix(scored.y_test, net.predict(scored.X_test),
                                      len(scored.class_names or ()))
    return plots.plot_confusion_matrix(matrix, scored.class_names).figure


def _predictions(arguments: argparse.Namespace) -> Any:
    from .. import plots

    net, scored = _scored(arguments, classifier=True, images=True)
    return plots.plot_prediction_grid(scored.X_test, scored.y_test, net.predict(scored.X_test),
                                      scored.class_names)


#: the figures of ``nnscratch plot``: each draws from the command's arguments
FIGURES: dict[str, Callable[[argparse.Namespace], Any]] = {
    "activations": _activations, "derivatives": _activations, "history": _history,
    "sample": _sample, "confusion": _confusion, "predictions": _predictions,
    "weights": _weights, "activation-histograms": _activation_histograms,
}


def _scored(arguments: argparse.Namespace, classifier: bool = False, images: bool = False
            ) -> tuple[Sequential, EvaluationData]:
    """The model of the plot's SOURCE and the test data to show it on, checked to fit; a
    figure for classifiers refuses a regressor, and one of images a table."""
    source = require_source(arguments)
    net = load_model(source)
    scored = evaluation_data(net, source, arguments)
    check_fits(net, scored.X_test, scored.class_names, scored.data)
    if classifier and (scored.task != "classification" or scored.class_names is None):
        raise UsageError(f"plot {arguments.figure} is for classifiers; this model is a "
                         "regressor.")
    if images and scored.data not in DATA_SETS:
        raise UsageError(f"plot {arguments.figure} shows images; {scored.data} is a table. Try "
                         "plot confusion.")
    return net, scored


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
    run = RunRecord(result.network, result.history, config, result.X_test, result.y_test,
                    result.class_names, images=result.recipe.data != "xor")
    problems: list[str] = []
    with DeferSignals():
        out, written = save_run_folder(folder, run, problems, plots=not arguments.no_plots)
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
        _print_comparison(first, second)
        return 0
    summaries = list_runs(arguments.dir)
    if not summaries:
        print(f"no runs in {arguments.dir}")
        return 0
    name_width = max(4, *(len(summary["name"]) for summary in summaries))
    print(f"{'name':<{name_width}}  {'data':<14} {'epochs':>6} {'best val acc':>12} "
          f"{'test':>8}  date")
    for summary in summaries:
        best, test = summary["best_val_accuracy"], summary["test"]
        test_text = "-" if test is None else f"{test:.4f}" + (
            " r2" if summary["test_measure"] == "r2" else "")
        print(f"{summary['name']:<{name_width}}  {summary['data'][:14]:<14} "
              f"{_shown(summary['epochs']):>6} {'-' if best is None else f'{best:.4f}':>12} "
              f"{test_text:>8}  {summary['date']}")
    return 0


def _print_comparison(first: Path, second: Path) -> None:
    """Two runs' settings and scores side by side, a star beside those that differ."""
    rows = compare_runs(first, second)
    width = max(len(name) for name, _, _ in rows)
    column = max(12, *(len(_shown(value)) for _, value, _ in rows))
    print(f"  {'':{width}}  {first.name:<{column}}  {second.name}")
    for name, one, other in rows:
        mark = "*" if one != other else " "
        print(f"{mark} {name:{width}}  {_shown(one):<{column}}  {_shown(other)}")


def _shown(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def run_play(arguments: argparse.Namespace) -> int:
    from ..play.server import serve

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


def run_exercises(arguments: argparse.Namespace) -> int:
    from ..learn.exercises import write_ladder

    try:
        written = write_ladder(arguments.folder, arguments.notation)
    except FileExistsError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} files in {arguments.folder} ({arguments.notation} notation): "
          + ", ".join(path.name for path in written))
    print(f"fill in each function, then run: nnscratch check {arguments.folder}")
    return 0


def run_check(arguments: argparse.Namespace) -> int:
    from ..learn.grader import CheckError, check, report

    try:
        results = check(arguments.path, arguments.notation)
    except CheckError as error:
        raise UsageError(str(error)) from None
    print(report(results))
    return 0 if all(result.status == "passed" for result in results) else 1
