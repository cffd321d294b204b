"""The articles' experiments, set up as the articles set them up, with their numbers beside ours.

Each recipe fixes the data, the architecture, the activation, the optimizer and learning rate,
the batch mode and the number of epochs. Running one reports what the article reported next to
what nnscratch measures, and adds what the articles mostly leave out: accuracy on held-out
data, the loss at every epoch, and the time taken.

    xor                XOR, [2, 4, 2] ReLU, SGD lr 0.5, batch 64, 200 epochs, over 10 seeds
    digits-minibatch   8x8 digits, [64, 128, 64, 10] ReLU, SGD lr 0.01, batch 64, 100 epochs
    digits-fullbatch   8x8 digits raw, [64, 100, 10] ReLU + softmax, U(-1, 1), full batch lr 0.01
    mnist-per-sample   MNIST, [784, 200, 200, 10] ReLU, per-sample SGD lr 0.01, 3 epochs
    mnist-best         MNIST, the best we train in a few minutes on 2 CPU cores
    fashion-mnist      Fashion-MNIST, likewise

digits-minibatch is set up as ch295 sets it up (He initialisation, all 1,797 images, training
accuracy), and also runs the same setup on a 70/30 split for the held-out accuracy the article
leaves out. digits-fullbatch is set up as the code its article adapts (U(-1, 1) weights, raw
pixels, lr 0.01, scikit-learn's split with random_state=123) and prints its log every 20
epochs; the article's infinite first loss is reproduced, and explained, beside ours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import datasets
from ._validation import check_choice
from .activations import softmax
from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler
from .losses import CrossEntropy
from .network import MLP, Sequential
from .optim import SGD, AdamW, CosineDecay, Optimizer


@dataclass(frozen=True)
class Recipe:
    """One experiment: how it is set up, and what its article reported."""

    name: str
    data: str
    hidden: tuple[int, ...]
    activation: str
    lr: float
    epochs: int
    batch_size: int | None
    article: str
    article_measure: str
    article_value: float
    init: str | None = None
    optimizer: str = "sgd"
    dropout: float = 0.0
    weight_decay: float = 0.0
    validation_split: float = 0.0
    seeds: int = 1
    notes: str = ""
    deviations: str = "none"  # every way the recipe differs from its article, with the reason
    preprocessing: str = "pixels / 255, in [0, 1]"
    split: str = "MNIST's own 60,000 / 10,000"
    train_on_all: bool = False  # train on every image, as the article did, then again on a split
    article_data: bool = False  # the digits as the full-batch article: raw pixels, its split
    article_log: tuple[tuple[int, float, float], ...] = ()  # (epoch, accuracy, loss)
    log_every: int = 0  # print training accuracy and loss every this many epochs (0: never)

    def make_optimizer(self) -> Optimizer:
        if self.optimizer == "adamw":
            return AdamW(lr=self.lr, weight_decay=self.weight_decay)
        return SGD(lr=self.lr)

    def describe(self) -> str:
        batch = {None: "full batch", 1: "per-sample"}.get(self.batch_size,
                                                          f"batch {self.batch_size}")
        init = self.init or "He normal (the default before ReLU)"
        return (f"{self.data}, hidden {list(self.hidden)} {self.activation}, "
                f"{self.optimizer} lr {self.lr:g}, {batch}, {self.epochs} epochs; init {init}; "
                f"{self.preprocessing}; split: {self.split}")


# The full-batch article's training log, as the code it adapts prints it (epoch, training
# accuracy, loss, every 20 epochs): that code replayed with its own seed, its own draws and its
# backward pass reading the activations of epoch 0 (tools/replay_fullbatch_article.py; a test
# checks these numbers against the replay). It matches the figures the article quotes: loss inf
# at epoch 0 and 0.988 training accuracy at epoch 380.
FULLBATCH_ARTICLE_LOG: tuple[tuple[int, float, float], ...] = (
    (0, 0.0947, float("inf")), (20, 0.7749, 7.5488), (40, 0.8656, 3.9878),
    (60, 0.8934, 2.7503), (80, 0.9101, 2.1070), (100, 0.9189, 1.6117), (120, 0.9348, 1.3154),
    (140, 0.9475, 1.0729), (160, 0.9531, 0.9154), (180, 0.9602, 0.7626), (200, 0.9618, 0.7134),
    (220, 0.9658, 0.5968), (240, 0.9714, 0.5372), (260, 0.9730, 0.4763), (280, 0.9761, 0.4174),
    (300, 0.9801, 0.3642), (320, 0.9777, 0.3406), (340, 0.9857, 0.2830), (360, 0.9825, 0.2656),
    (380, 0.9881, 0.2255))

RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    Recipe("xor", "xor", (4,), "relu", lr=0.5, epochs=200, batch_size=64, seeds=10,
           preprocessing="the points as they are (0 and 1)",
           split="none: the 4 points, tiled 100 times for training, are also the test",
           article="all 4 XOR points correct", article_measure="XOR points correct",
           article_value=1.0,
           notes="With only 4 ReLU units, some starts end with dead units in a local minimum "
                 "that gets 3 of 4 points right.",
           deviations="10 seeds, showing the first that solves XOR (one start can end with "
                      "dead ReLU units); the four points tiled 100 times so that an epoch "
                      "holds several batches of 64."),
    Recipe("digits-minibatch", "digits", (128, 64), "relu", lr=0.01, epochs=100,
           batch_size=64, init="he_normal", preprocessing="pixels / 16, in [0, 1]",
           split="none: trained on all 1,797 images, as the article does; then the same setup "
                 "again on a stratified 70/30 split for held-out accuracy",
           train_on_all=True,
           article="0.98 training accuracy", article_measure="training accuracy",
           article_value=0.98,
           notes="As ch295 sets it up: He initialisation, all 1,797 images, training accuracy "
                 "reported.",
           deviations="none; the held-out run is an addition."),
    Recipe("digits-fullbatch", "digits", (100,), "relu", lr=0.01, epochs=400,
           batch_size=None, init="uniform", article_data=True, log_every=20,
           preprocessing="raw pixels, 0..16, unscaled",
           split="scikit-learn's train_test_split(test_size=0.3, shuffle=True, "
                 "random_state=123): 1,257 / 540",
           article="0.988 training accuracy by epoch 380, and a loss of inf at epoch 0",
           article_measure="training accuracy at epoch 380", article_value=0.988,
           article_log=FULLBATCH_ARTICLE_LOG,
           notes="Set up as the code the article adapts: U(-1, 1) weights, raw pixels, "
                 "lr 0.01, full batch. Its inf at epoch 0 is the unscaled pixels times U(-1, 1) "
                 "weights giving logits in the hundreds: the true class's softmax underflows "
                 "to 0 and -log 0 = inf; from the logits (log-sum-exp) the same start is "
                 "finite. From the article's own start, its stale backward pass costs about 100 "
                 "epochs: it first reaches 0.988 at epoch 376 (0.975 at 399), corrected at "
                 "epoch 270 (0.994 at 399); tools/replay_fullbatch_article.py replays both.",
           deviations="our own seeded U(-1, 1) draws (the article's come from the global "
                      "np.random.seed(99), which nnscratch never uses); a correct backward pass "
                      "(the adapted code's reuses the hidden activations of epoch 0 every "
                      "epoch); the loss from the logits (log-sum-exp), finite where the "
                      "article's is inf."),
    Recipe("mnist-per-sample", "mnist", (200, 200), "relu", lr=0.01, epochs=3, batch_size=1,
           article="97% accuracy", article_measure="accuracy", article_value=0.97,
           deviations="float32 where the article's loop is float64 (the same accuracy, a "
                      "fraction of the time); accuracy on the 10,000 test images."),
    Recipe("mnist-best", "mnist", (512, 256), "relu", lr=1e-3, epochs=20, batch_size=128,
           optimizer="adamw", weight_decay=1e-4, dropout=0.2, validation_split=0.1,
           article="(beyond the articles) at least 98.2% test accuracy",
           article_measure="test accuracy", article_value=0.982,
           notes="Dropout 0.2, AdamW with a cosine learning-rate decay; the weights of the "
                 "epoch with the best validation accuracy are kept.",
           deviations="not an article's experiment: the best nnscratch trains in minutes."),
    Recipe("fashion-mnist", "fashion-mnist", (512, 256), "relu", lr=1e-3, epochs=20,
           batch_size=128, optimizer="adamw", weight_decay=1e-4, dropout=0.2,
           validation_split=0.1,
           article="(beyond the articles) at least 89.5% test accuracy",
           article_measure="test accuracy", article_value=0.895,
           notes="As mnist-best.",
           deviations="not an article's experiment: the best nnscratch trains in minutes."),
)}


@dataclass
class RecipeResult:
    """What a recipe run measured."""

    recipe: Recipe
    network: Sequential
    history: History
    seconds: float
    train_accuracy: float
    test_accuracy: float
    measured: float  # the quantity the article reported, as nnscratch measures it
    loss_first_epoch: float
    loss_max: float
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str]:
        if self.recipe.data in datasets.DATA_SETS:
            return list(datasets.DATA_SETS[self.recipe.data].classes)
        return [str(label) for label in range(self.network.n_outputs)]

    def report(self) -> str:
        """A table: the article's number beside ours, then what the article did not report."""
        recipe = self.recipe
        held_out = "the 4 XOR points" if recipe.data == "xor" else "the held-out test set"
        lines = [
            f"recipe {recipe.name}: {recipe.describe()}",
            f"  {'':34} {'article':>10} {'nnscratch':>10}",
            f"  {recipe.article_measure:34} {recipe.article_value:10.4f} {self.measured:10.4f}",
            f"  {'accuracy on ' + held_out:34} {'-':>10} {self.test_accuracy:10.4f}",
            f"  {'training accuracy (after training)':34} {'-':>10} {self.train_accuracy:10.4f}",
            f"  {'loss at epoch 1':34} {'-':>10} {self.loss_first_epoch:10.4f}",
            f"  {'largest loss of any epoch':34} {'-':>10} {self.loss_max:10.4f}",
            f"  {'time':34} {'-':>10} {self.seconds:9.2f}s",
        ]
        for name, value in self.extra.items():
            lines.append(f"  {name:34} {'-':>10} {value:>10}")
        if recipe.log_every:
            lines.extend(self._log_beside_the_article())
        lines.append(f"  article: {recipe.article}")
        lines.append(f"  deviations from the article: {recipe.deviations}")
        if recipe.notes:
            lines.append(f"  note: {recipe.notes}")
        return "\n".join(lines)


    def _log_beside_the_article(self) -> list[str]:
        """Every ``log_every`` epochs: the article's training accuracy and loss (where shipped)
        beside ours, and our held-out accuracy, which the article does not log."""
        record = self.history.history
        article = {epoch: (accuracy, loss) for epoch, accuracy, loss in self.recipe.article_log}
        watched = record.get("val_accuracy")
        lines = [f"  every {self.recipe.log_every} epochs: training accuracy and loss "
                 "(article, then nnscratch), and nnscratch's held-out accuracy",
                 f"    {'epoch':>5} {'article':>8} {'loss':>8}   {'ours':>6} {'loss':>8}"
                 f" {'held-out':>9}"]
        for epoch in range(0, len(record["loss"]), self.recipe.log_every):
            theirs = (f"{article[epoch][0]:8.4f} {article[epoch][1]:8.4f}" if epoch in article
                      else f"{'-':>8} {'-':>8}")
            held_out = "-" if watched is None else f"{watched[epoch]:.4f}"
            lines.append(f"    {epoch:5d} {theirs}   {record['accuracy'][epoch]:6.4f} "
                         f"{record['loss'][epoch]:8.4f} {held_out:>9}")
        return lines


def run_recipe(name: str, seed: int = 0, data_dir: str | os.PathLike | None = None,
               callbacks: Sequence[Callback] = ()) -> RecipeResult:
    """Run the recipe ``name`` (see RECIPES) and return what it measured."""
    recipe = RECIPES[check_choice(name, "name", tuple(RECIPES))]
    X_train, y_train, X_test, y_test = _load(recipe, data_dir)
    if recipe.data == "xor":
        return _run_xor(recipe, seed, X_train, y_train, X_test, y_test, callbacks)
    if recipe.train_on_all:
        return _run_on_all_then_split(recipe, seed, X_train, y_train, X_test, y_test,
                                      callbacks)
    network, history, seconds = _train(recipe, seed, X_train, y_train, X_test, y_test,
                                       callbacks)
    train_accuracy = network.evaluate(X_train, y_train)["accuracy"]
    test_accuracy = network.evaluate(X_test, y_test)["accuracy"]
    extra = _starting_loss(recipe, seed, X_train, y_train) if recipe.article_data else {}
    if recipe.article_measure == "training accuracy at epoch 380":
        measured = history.history["accuracy"][380]  # counted from 0, as the article's log
    elif recipe.article_measure == "training accuracy":
        measured = train_accuracy
    else:  # the article's accuracy, or ours beyond the articles: on the test set
        measured = test_accuracy
    return RecipeResult(recipe, network, history, seconds, train_accuracy, test_accuracy,
                        measured, history.history["loss"][0], max(history.history["loss"]),
                        X_test, y_test, extra)


def _starting_loss(recipe: Recipe, seed: int, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The textbook loss, -log(softmax(z)[true class]), of the recipe's starting network,
    beside the largest logit and nnscratch's loss from the logits: where an inf comes from."""
    start = MLP([X.shape[1], *recipe.hidden, int(y.max()) + 1], activation=recipe.activation,
                init=recipe.init, seed=seed)
    logits = start.forward(X)
    with np.errstate(divide="ignore", under="ignore"):
        textbook = float(-np.log(softmax(logits, axis=1)[np.arange(len(y)), y]).mean())
    return {"largest |logit| at the start": f"{np.abs(logits).max():.1f}",
            "textbook -log softmax at the start": f"{textbook:.4g}",
            "nnscratch's loss at the start": f"{CrossEntropy().forward(logits, y):.4f}"}


def _train(recipe: Recipe, seed: int, X: np.ndarray, y: np.ndarray, X_test: np.ndarray | None,
           y_test: np.ndarray | None, callbacks: Sequence[Callback]
           ) -> tuple[Sequential, History, float]:
    """Train as the recipe says. Without a validation split, the held-out set is scored after
    every epoch (as val_loss, val_accuracy) to show it beside the training curve; nothing is
    chosen by it."""
    n_classes = int(y.max()) + 1
    network = MLP([X.shape[1], *recipe.hidden, n_classes], activation=recipe.activation,
                  dropout=recipe.dropout, init=recipe.init, seed=seed)
    extra: list[Callback] = []
    if recipe.optimizer == "adamw":
        extra.append(LearningRateScheduler(CosineDecay(recipe.epochs)))
    if recipe.validation_split:
        extra.append(EarlyStopping(monitor="val_accuracy", patience=recipe.epochs,
                                   restore_best_weights=True))
    start = time.perf_counter()
    watched = None if recipe.validation_split or X_test is None else (X_test, y_test)
    history = network.fit(X, y, loss="cross_entropy", optimizer=recipe.make_optimizer(),
                          epochs=recipe.epochs, batch_size=recipe.batch_size,
                          validation_split=recipe.validation_split, validation_data=watched,
                          seed=seed, callbacks=[*extra, *callbacks], verbose=0)
    return network, history, time.perf_counter() - start


def _run_on_all_then_split(recipe: Recipe, seed: int, X_train, y_train, X_test, y_test,
                           callbacks: Sequence[Callback]) -> RecipeResult:
    """As the article: train on every image and report training accuracy; then the same
    setup on the split, for the held-out accuracy the article leaves out."""
    X_all, y_all = np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test])
    start = time.perf_counter()
    network, history, _ = _train(recipe, seed, X_all, y_all, None, None, callbacks)
    on_split, _, _ = _train(recipe, seed, X_train, y_train, X_test, y_test, ())
    seconds = time.perf_counter() - start
    train_accuracy = network.evaluate(X_all, y_all)["accuracy"]
    test_accuracy = on_split.evaluate(X_test, y_test)["accuracy"]
    return RecipeResult(recipe, network, history, seconds, train_accuracy, test_accuracy,
                        train_accuracy, history.history["loss"][0],
                        max(history.history["loss"]), X_test, y_test,
                        extra={"trained on": f"all {len(X_all)} images; held-out accuracy "
                                             f"from the same setup on {len(X_train)}"})


def _run_xor(recipe: Recipe, seed: int, X_train, y_train, X_points, y_points,
             callbacks: Sequence[Callback]) -> RecipeResult:
    start = time.perf_counter()
    runs = [_train(recipe, seed + offset, X_train, y_train, X_points, y_points,
                   callbacks if offset == 0 else ()) for offset in range(recipe.seeds)]
    seconds = time.perf_counter() - start
    solved = [bool((network.predict(X_points) == y_points).all()) for network, _, _ in runs]
    shown = solved.index(True) if any(solved) else 0  # the first seed that solves it
    network, history, _ = runs[shown]
    correct = float(np.mean(network.predict(X_points) == y_points))
    return RecipeResult(recipe, network, history, seconds, correct, correct, correct,
                        history.history["loss"][0], max(history.history["loss"]),
                        X_points, y_points,
                        extra={f"seeds solving XOR, of {seed}..{seed + recipe.seeds - 1}":
                               f"{sum(solved)}/{recipe.seeds}",
                               "seed of the network shown": seed + shown})


def _load(recipe: Recipe, data_dir: str | os.PathLike | None) -> tuple[np.ndarray, ...]:
    data = recipe.data
    if recipe.article_data:
        return datasets.load_digits_as_the_article(raw_pixels=True)
    if data == "xor":
        return (*datasets.load_xor(repeats=100), *datasets.load_xor())
    if data == "digits":
        return datasets.load_digits(test_size=0.3, seed=0)
    loader = datasets.load_mnist if data == "mnist" else datasets.load_fashion_mnist
    return loader(data_dir)
