"""The figures of the docs, drawn by nnscratch itself each time the docs are built.

Nothing pre-rendered is shipped: each figure comes from the code and the recipes it shows, so a
change that alters a curve alters the figure. The pages include them from ``_generated/``.

    activations.png           the activations and their derivatives on [-2, 2] (walkthrough)
    prediction.png            a test digit beside the predicted probabilities (walkthrough)
    fullbatch-vs-article.png  digits-fullbatch's curves beside the article's log (recipes)
    digits-minibatch.png      digits-minibatch's training curves (recipes)
    xor-loss.png              the XOR recipe's loss curve (recipes)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sphinx.application import Sphinx

import nnscratch as ns
from nnscratch import datasets, plots
from nnscratch.recipes import run_recipe


def draw_activations(path: Path) -> None:
    """ReLU drawn plainly (no leaky ReLU on top of it), with sigmoid and tanh, on [-2, 2]."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    for index, derivatives in enumerate((False, True)):
        plots.plot_activations(["sigmoid", "tanh", "relu"], ax=figure.add_subplot(1, 2, index + 1),
                            derivatives=derivatives, z_range=(-2.0, 2.0))
    figure.savefig(path, dpi=90)


def draw_prediction(path: Path) -> None:
    """A small network trained on the digits' training set, shown the test image it is least
    sure about (the lowest top probability): a bar chart with more than one bar."""
    X_train, y_train, X_test, y_test = datasets.load_digits(seed=0)
    network = ns.MLP([64, 32, 10], seed=0, loss="cross_entropy")
    network.fit(X_train, y_train, optimizer=ns.Adam(lr=1e-2), verbose=0, epochs=20,
                batch_size=32, seed=0)
    probabilities = network.predict_proba(X_test)
    least_sure = int(probabilities.max(axis=1).argmin())
    plots.plot_prediction(X_test[least_sure], probabilities[least_sure],
                          true_label=int(y_test[least_sure])).savefig(path, dpi=90)


def draw_fullbatch_beside_the_article(path: Path) -> None:
    """Training accuracy and loss per epoch (counted from 0, as the article's log), held-out
    accuracy, and the article's log every 20 epochs as points (its loss at epoch 0 is inf)."""
    result = run_recipe("digits-fullbatch")
    record = result.history.history
    epochs = np.arange(len(record["loss"]))
    article = np.array(result.recipe.article_log)
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    accuracy_ax, loss_ax = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    accuracy_ax.plot(epochs, record["accuracy"], label="nnscratch: training")
    accuracy_ax.plot(epochs, record["val_accuracy"], label="nnscratch: held-out")
    accuracy_ax.plot(article[:, 0], article[:, 1], "o", label="article's log: training")
    loss_ax.plot(epochs, record["loss"], label="nnscratch: training")
    finite = np.isfinite(article[:, 2])
    loss_ax.plot(article[finite, 0], article[finite, 2], "o", label="article's log (inf at 0)")
    loss_ax.set_yscale("log")
    for ax, name in ((accuracy_ax, "accuracy"), (loss_ax, "loss")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle("digits-fullbatch: nnscratch beside the article's log")
    figure.savefig(path, dpi=90)


def draw_minibatch(path: Path) -> None:
    plots.plot_history(run_recipe("digits-minibatch").history).savefig(path, dpi=90)


def draw_xor_loss(path: Path) -> None:
    result = run_recipe("xor")
    figure = Figure(figsize=(5, 3.5), layout="constrained")
    ax = figure.add_subplot()
    ax.plot(np.arange(1, len(result.history.history["loss"]) + 1),
            result.history.history["loss"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(f"XOR, [2, 4, 2] ReLU (seed {result.extra['seed of the network shown']})")
    ax.grid(alpha=0.3)
    figure.savefig(path, dpi=90)


FIGURES = {
    "activations.png": draw_activations,
    "prediction.png": draw_prediction,
    "fullbatch-vs-article.png": draw_fullbatch_beside_the_article,
    "digits-minibatch.png": draw_minibatch,
    "xor-loss.png": draw_xor_loss,
}


def draw_all(app: Sphinx) -> None:
    folder = Path(app.srcdir) / "_generated"
    folder.mkdir(exist_ok=True)
    for name, draw in FIGURES.items():
        draw(folder / name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", draw_all)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
