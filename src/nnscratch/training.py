"""The training loop: gradient descent over batches, with validation, callbacks and a History.

One training step on a batch (X_b, y_b) is five lines::

    outputs = network.forward(X_b, training=True)      forward propagation
    value   = loss.forward(outputs, y_b)               the score
    grad    = loss.backward()                          dL/d(outputs)
    network.backward(grad)                             backpropagation fills every layer's grads
    optimizer.step(network.parameters())               the gradient-descent update

``batch_size`` chooses the kind of gradient descent: 1 is per-sample (stochastic) gradient
descent, an int is mini-batch, and None is full-batch. Each epoch visits every training row
once, in a fresh seeded order when ``shuffle`` is on; batches are gathered by index, so the
training set itself is never copied.

With ``seed`` given, epoch e shuffles with a generator seeded by (seed, e), so a run resumed
from a checkpoint with ``initial_epoch=e`` replays exactly what an unbroken run would have
done; dropout draws from the network's own generator, whose state a saved model keeps.

The functions here work on any model with the network's interface (forward, backward,
parameters, get_weights, set_weights, n_inputs, n_outputs, dtype, rng); network.Sequential
exposes them as methods. Nothing here prints: progress goes through callbacks.

On another array library than NumPy (a network moved with ``to``, or data given as CuPy arrays
or PyTorch tensors, which the network follows), the data go to the device once, the batches
are gathered there, and the loss and the correct counts are summed there: an epoch reads back
its totals once, at its end, instead of waiting on the device after every step. A non-finite
loss is then noticed at the end of the epoch rather than at its batch; either way the weights
go back to those of the epoch's start.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from . import _fast
from ._signals import StopSignals
from ._threads import ThreadChoice, training_threads
from ._validation import (
    all_finite,
    check_int,
    fail,
)
from .backend import (
    NUMPY,
    Backend,
    count_true,
    namespace,
    take_rows,
)
from .callbacks import Callback, CallbackList, History, ProgressLogger
from .fit_data import (
    follow_data,
    model_backend,
    on_model,
    prepare_data,
    sample_weights,
    true_labels,
    validation_set,
)
from .losses import Loss, get_loss
from .metrics import CLASSIFICATION_TASKS, predicted_labels
from .optim import SGD, Optimizer, get_optimizer


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during ``fit``.

    ``history`` holds the epochs completed before it happened; the network's weights are those
    from the start of the epoch in which it happened (the last ones known to be finite).
    """

    def __init__(self, what: str, learning_rate: float, where: str = "", outcome: str = "",
                 history: History | None = None):
        self.what, self.learning_rate, self.where, self.outcome = what, learning_rate, where, \
            outcome
        self.history = history
        super().__init__(self.advice())

    def advice(self, learning_rate_option: str = "lr=") -> str:
        """What happened and what to try, the learning rate written as ``learning_rate_option``
        spells it (the command line says ``--lr 0.001``, Python ``lr=0.001``)."""
        return (f"Training diverged: {self.what}{self.where} with learning rate "
                f"{self.learning_rate:g}. Lower the learning rate (try {learning_rate_option}"
                f"{self.learning_rate / 10:g}) or scale the inputs (e.g. to [0, 1] or zero mean "
                f"and unit variance). {self.outcome}")


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    seed: int | None = None,
    callbacks: Sequence[Callback] | None = None,
    class_weight: str | dict[int, float] | None = None,
    sample_weight: Any = None,
    verbose: int | str = "auto",
    initial_epoch: int = 0,
) -> History:
    """Train on (X, y) by gradient descent; return the History of per-epoch metrics.

    Parameters
    ----------
    X : array (n_samples, n_features)
    y : array
        Class labels (n,) or one-hot rows (n, k) for "cross_entropy"; 0/1 for
        "binary_cross_entropy"; real targets (n,) or (n, k) for "mse".
    loss : str or Loss
        "cross_entropy", "binary_cross_entropy", "mse", or a Loss. Needed on the first fit.
    optimizer : str or Optimizer
        Default: the optimizer of the previous fit (warm start), else SGD(lr=0.01).
    epochs : int
        The final epoch count (passes over the training data).
    batch_size : int or None
        1: per-sample SGD; an int: mini-batches; None: the full batch.
    validation_data : (X_val, y_val), optional
        Scored after every epoch as "val_loss" (and "val_accuracy").
    validation_split : float
        Or: hold out this fraction of (X, y), chosen at random with ``seed``.
    shuffle : bool
        Visit the rows in a new random order every epoch.
    seed : int, optional
        Seeds the shuffling (per epoch) and the split; None uses the network's own generator.
    callbacks : list of Callback
        E.g. EarlyStopping, LearningRateScheduler, ReduceLROnPlateau.
    class_weight : "balanced" or dict, optional
        Weight each sample's loss by its class (classification only).
    sample_weight : array (n_samples,), optional
        Weight each sample's loss.
    verbose : "auto", 0, 1 or 2
        0 is silent; 1 draws a progress bar on stderr (on a terminal or in Jupyter; elsewhere,
        such as a log file, one line per epoch); 2 writes one line per epoch. "auto" (the
        default, as in Keras) is 1, so a script shows its progress; pass 0 for silence.
    initial_epoch : int
        The epoch to start from, when resuming a checkpoint saved after that many epochs.

    Calling fit again continues from the current weights. A loss or weights that turn NaN or
    infinite raise TrainingDivergedError (the weights go back to the last finite ones);
    Ctrl-C, SIGTERM or SIGHUP stop after the current batch. ``model`` is anything with the
    network's interface (see the module docstring); ``Sequential.fit`` is this function.
    """
    follow_data(model, X)
    run = _plan(model, X, y, loss, optimizer, epochs, batch_size, validation_data,
                validation_split, shuffle, seed, callbacks, class_weight, sample_weight, verbose,
                initial_epoch)
    _begin(run)
    # Overflow warnings are silenced because a blow-up is caught where it matters, at the loss
    # and the weights, and reported with the epoch, the batch and a fix (TrainingDivergedError).
    threads = training_threads(_largest_product_flops(model, run.batch_size))
    blas = ThreadChoice(threads, adaptive=threads is None and model_backend(model) == NUMPY)
    _fast.keep_sparse_rows(model, run.optimizer.fast and run.optimizer.updates_sparse_rows())
    try:
        with _StopOnInterrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"), \
                blas:
            for epoch in range(run.initial_epoch, run.epochs):
                logs = _train_epoch(run, epoch, interrupt, blas)
                run.callbacks.call("on_epoch_end", epoch, logs)
                if interrupt.requested:
                    model.stop_reason = "interrupted"
                if interrupt.requested or model.stop_training:
                    break
    finally:
        _fast.keep_sparse_rows(model, False)
    run.history.stop_signal = interrupt.signal_number  # also one after the last epoch's check
    run.callbacks.call("on_train_end")
    run.history.stop_reason = model.stop_reason
    return run.history


@dataclass
class _Run:
    """Everything fit has checked and prepared, for the steps below."""

    model: Any
    loss: Loss
    optimizer: Optimizer
    X: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None
    train_rows: np.ndarray | None  # None: every row of X
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None
    batch_size: int
    shuffle: bool
    seed: int | None
    epochs: int
    initial_epoch: int
    callbacks: CallbackList
    history: History
    last_finite: _Snapshot

    @property
    def n_train(self) -> int:
        return self.X.shape[0] if self.train_rows is None else len(self.train_rows)


def _plan(model, X, y, loss, optimizer, epochs, batch_size, validation_data, validation_split,
          shuffle, seed, callbacks, class_weight, sample_weight, verbose, initial_epoch) -> _Run:
    """Check every argument of fit once and prepare the data."""
    loss, optimizer = _resolve_loss_and_optimizer(model, loss, optimizer)
    epochs = check_int(epochs, "epochs", fix="Train for at least one epoch.")
    initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
    if initial_epoch >= epochs:
        fail("initial_epoch", f"less than epochs ({epochs}): epochs is the final epoch count, "
             "not the number still to run", initial_epoch)
    verbose = _check_verbose(verbose)
    if not isinstance(shuffle, (bool, np.bool_)):
        fail("shuffle", "True or False", shuffle, error=TypeError)
    callbacks = _check_callbacks(callbacks)
    X, targets = prepare_data(model, loss, X, y)
    weights = on_model(model, sample_weights(loss, targets, model.n_outputs, class_weight,
                                              sample_weight, model.dtype))
    if seed is not None:
        seed = check_int(seed, "seed", 0)
    split_rng = model.rng if seed is None else np.random.default_rng(seed)
    train_rows, validation = validation_set(model, loss, X, targets, validation_data,
                                             validation_split, split_rng)
    n_train = X.shape[0] if train_rows is None else len(train_rows)
    batch_size = min(check_int(n_train if batch_size is None else batch_size, "batch_size",
                               fix="Use 1 for per-sample SGD, or None for the full batch."),
                     n_train)
    history = History()
    progress = [ProgressLogger(verbose)] if verbose else []
    return _Run(model, loss, optimizer, X, targets, weights, train_rows, validation, batch_size,
                bool(shuffle), seed, epochs, initial_epoch,
                CallbackList([history, *callbacks, *progress]),
                history, _Snapshot(model, optimizer))


def _begin(run: _Run) -> None:
    """Hand the model its loss, optimizer and history, and start the callbacks."""
    model = run.model
    _claim_optimizer(run.optimizer, model)
    _check_finite_weights(model, "before training", "Re-create the network or set finite "
                          "weights with set_weights().")
    model.loss, model.optimizer = run.loss, run.optimizer
    model.stop_training, model.stop_reason = False, None
    model.history = run.history
    run.callbacks.begin(model, {"epochs": run.epochs,
                                "steps": math.ceil(run.n_train / run.batch_size),
                                "samples": run.n_train, "batch_size": run.batch_size})


def _train_epoch(run: _Run, epoch: int, interrupt: _StopOnInterrupt,
                 blas: ThreadChoice) -> dict[str, float]:
    """One pass over the training rows, batch by batch; returns the epoch's logs.

    A non-finite loss, or weights that are no longer finite at the end, put the weights and
    the optimizer's state back to those of the epoch's start and raise TrainingDivergedError.
    """
    run.callbacks.call("on_epoch_begin", epoch)
    run.last_finite.take()  # the weights were checked finite at the end of the last epoch
    totals = _Totals()
    epoch_rng = run.model.rng if run.seed is None else np.random.default_rng([run.seed, epoch])
    watch_batches = run.callbacks.watch_batches
    for batch, rows in enumerate(_batches(run.n_train, run.train_rows, run.batch_size,
                                          run.shuffle, epoch_rng, model_backend(run.model))):
        y_batch = take_rows(run.targets, rows)
        blas.begin_step()
        outputs, value = train_step(run.model, run.loss, run.optimizer,
                                    take_rows(run.X, rows), y_batch,
                                    None if run.weights is None else take_rows(run.weights, rows))
        blas.end_step()
        if isinstance(value, float) and not math.isfinite(value):
            _diverged(run, f"the loss became {value}",
                      f" at epoch {epoch + 1}, batch {batch + 1}")
        totals.add(value, outputs, y_batch, run.loss.task)
        if watch_batches:
            run.callbacks.call("on_batch_end", batch, {"loss": value, "size": outputs.shape[0]})
        if interrupt.requested:
            break
    return _epoch_logs(run, epoch, totals)


def _epoch_logs(run: _Run, epoch: int, totals: _Totals) -> dict[str, float]:
    """The epoch's loss and accuracy, checked finite with the weights, then the validation
    scores and the learning rate."""
    logs = totals.logs()  # for NumPy: sums of floats; elsewhere the one read from the device
    if not math.isfinite(logs["loss"]):  # seen only now when the loss stayed on the device
        _diverged(run, f"the loss became {logs['loss']}", f" during epoch {epoch + 1}")
    if not _weights_are_finite(run.model):  # the epoch's last update can overflow
        _diverged(run, "the weights became NaN or infinite",
                  f" at the end of epoch {epoch + 1}")
    if run.validation is not None:
        scores = _evaluate_prepared(run.model, run.loss, *run.validation)
        logs.update({f"val_{name}": score for name, score in scores.items()})
    logs["lr"] = run.optimizer.lr
    return logs


def _largest_product_flops(model: Any, batch_size: int) -> float:
    """2 n k m for the largest (n, k) @ (k, m) product of a training step: a batch times the
    largest weight matrix (see _threads.py for why it sets the BLAS threads)."""
    largest = max((math.prod(param.shape) for param, _ in model.parameters() if param.ndim == 2),
                  default=0)
    return 2.0 * batch_size * largest


def _diverged(run: _Run, what: str, where: str) -> NoReturn:
    run.last_finite.restore()
    raise TrainingDivergedError(what, run.optimizer.lr, where, _RESET, run.history)


def train_step(
    model: Any, loss: Loss, optimizer: Optimizer, X_batch: np.ndarray, y_batch: np.ndarray,
    weights_batch: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """One gradient-descent step on a prepared batch; returns the outputs and the loss value.

    A non-finite loss (a float: NumPy) skips the update, so the caller can stop with the
    weights unharmed; a loss on a device is not read here (see the module docstring).
    """
    outputs = model.forward(X_batch, training=True)
    value = loss.forward(outputs, y_batch, weights_batch)
    if not isinstance(value, float) or math.isfinite(value):
        model.backward(loss.backward(), input_grad=False)
        rows = model.sparse_rows() if hasattr(model, "sparse_rows") else None
        _fast.step(optimizer, model.parameters(), rows)  # optimizer.step, or its fast forms
    return outputs, value


def train_on_batch(model: Any, X: Any, y: Any, *, loss: str | Loss | None = None,
                   optimizer: str | Optimizer | None = None,
                   sample_weight: Any = None) -> dict[str, float]:
    """One gradient-descent step on (X, y), checked, for custom training loops; returns the
    batch's metrics. A step that makes the weights non-finite is undone, and raises."""
    follow_data(model, X)
    loss, optimizer = _resolve_loss_and_optimizer(model, loss, optimizer)
    X, targets = prepare_data(model, loss, X, y)
    weights = on_model(model, sample_weights(loss, targets, model.n_outputs, None,
                                              sample_weight, model.dtype))
    _claim_optimizer(optimizer, model)
    model.loss, model.optimizer = loss, optimizer
    before = _Snapshot(model, optimizer)
    with np.errstate(over="ignore", invalid="ignore"):
        outputs, value = train_step(model, loss, optimizer, X, targets, weights)
    value = float(value)  # one step, reported: read from the device
    if math.isfinite(value) and not _weights_are_finite(model):
        before.restore()
        raise TrainingDivergedError(
            "the weights became NaN or infinite", optimizer.lr,
            outcome="The weights and the optimizer's state were reset to those before the step.")
    if not math.isfinite(value):
        raise TrainingDivergedError(f"the loss became {value}", optimizer.lr,
                                    outcome="The weights were left unchanged.")
    totals = _Totals()
    totals.add(value, outputs, targets, loss.task)
    return totals.logs()


def evaluate(model: Any, X: Any, y: Any, *, loss: str | Loss | None = None,
             sample_weight: Any = None, batch_size: int = 1024) -> dict[str, float]:
    """{"loss": ..., "accuracy": ...} on (X, y), without training (accuracy for classifiers
    only)."""
    follow_data(model, X)
    loss = resolve_loss(model, loss)
    X, targets = prepare_data(model, loss, X, y)
    weights = on_model(model, sample_weights(loss, targets, model.n_outputs, None,
                                              sample_weight, model.dtype))
    return _evaluate_prepared(model, loss, X, targets, weights,
                              check_int(batch_size, "batch_size"))


def resolve_loss(model: Any, loss: str | Loss | None) -> Loss:
    """``loss`` as a Loss object, defaulting to the one the model was built or trained with."""
    if loss is None:
        loss = getattr(model, "loss", None)
    if loss is None:
        raise ValueError("loss must be given: this network does not know what its outputs mean "
                         "yet. Pass loss='cross_entropy' (classes), 'binary_cross_entropy' "
                         "(yes/no) or 'mse' (regression), to fit or to the network.")
    return get_loss(loss)


# ----------------------------------------------------------------------------------------------
# Helpers


class _Totals:
    """Running sums over an epoch's batches: the loss and, for classifiers, the correct count."""

    def __init__(self) -> None:
        self.loss_sum = 0.0
        self.samples = 0
        self.correct = 0
        self.compared = 0

    def add(self, value: Any, outputs: np.ndarray, targets: np.ndarray, task: str) -> None:
        """Add a batch; ``value`` is a float, or a 0-d array left on its device."""
        self.loss_sum = self.loss_sum + value * outputs.shape[0]
        self.samples += outputs.shape[0]
        if task in CLASSIFICATION_TASKS:
            predicted = predicted_labels(outputs, task)
            self.correct = self.correct + count_true(predicted == true_labels(targets, task))
            self.compared += math.prod(predicted.shape)

    def logs(self) -> dict[str, float]:
        logs = {"loss": float(self.loss_sum) / self.samples}
        if self.compared:
            logs["accuracy"] = int(self.correct) / self.compared
        return logs


def _evaluate_prepared(model: Any, loss: Loss, X: np.ndarray, targets: np.ndarray,
                       weights: np.ndarray | None, batch_size: int = 1024) -> dict[str, float]:
    totals = _Totals()
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, X.shape[0]))
        outputs = model.forward(take_rows(X, rows), training=False)
        batch_targets = take_rows(targets, rows)
        value = loss.forward(outputs, batch_targets,
                             None if weights is None else take_rows(weights, rows))
        totals.add(value, outputs, batch_targets, loss.task)
    return totals.logs()


def _batches(n_train: int, train_rows: np.ndarray | None, batch_size: int, shuffle: bool,
             rng: np.random.Generator, backend: Backend = NUMPY) -> Iterator[slice | np.ndarray]:
    """Row selectors for one epoch: slices (views) in order, or index arrays when shuffled
    (drawn on the host, and copied to the backend's device once per epoch)."""
    order = train_rows
    if shuffle and batch_size < n_train:
        order = rng.permutation(n_train if train_rows is None else train_rows)
    if order is not None:
        order = backend.asarray(order)
    for start in range(0, n_train, batch_size):
        stop = min(start + batch_size, n_train)  # the standard leaves a stop past the end open
        yield slice(start, stop) if order is None else order[start:stop]


def _resolve_loss_and_optimizer(model, loss, optimizer) -> tuple[Loss, Optimizer]:
    loss = resolve_loss(model, loss)
    check_loss = getattr(model, "check_loss", None)  # a model may refuse a loss that clashes
    if check_loss is not None:  # with its output layer
        check_loss(loss)
    if optimizer is None:
        optimizer = getattr(model, "optimizer", None) or SGD()
    return loss, get_optimizer(optimizer)


def _check_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1  # ProgressLogger draws a bar where one can be redrawn, else one line per epoch
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        fail("verbose", "'auto', 0 (silent), 1 (progress bar) or 2 (one line per epoch)",
             verbose)
    return int(verbose)


def _check_callbacks(callbacks: Any) -> list[Callback]:
    callbacks = list(callbacks or [])
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            fail(f"callbacks[{index}]", "a Callback instance", callback,
                 "Subclass nnscratch.callbacks.Callback, and pass instances, not classes.",
                 TypeError)
    return callbacks


_RESET = ("The weights and the optimizer's state were reset to those at the start of this "
          "epoch, the last ones known to be finite.")


class _Snapshot:
    """A copy of a model's weights and its optimizer's state, to go back to.

    ``take`` copies into the arrays of the previous take (fit takes one every epoch, and a
    full-batch epoch is a single step, so allocating anew would cost a visible share).
    """

    def __init__(self, model: Any, optimizer: Optimizer):
        self.model, self.optimizer = model, optimizer
        self.weights: list[np.ndarray] = []
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self.steps = 0
        self.take()

    def take(self) -> None:
        params = [param for param, _ in self.model.parameters()]
        if [type(saved) for saved in self.weights] != [type(param) for param in params]:
            self.weights = [_copy(param) for param in params]
        for saved, param in zip(self.weights, params, strict=True):
            saved[...] = param
        self.steps = self.optimizer.steps
        for index, slots in self.optimizer.state.items():
            saved_slots = self.state.setdefault(index, {})
            for name, value in slots.items():
                kept = saved_slots.get(name)
                if kept is not None and kept.shape == value.shape and type(kept) is type(value):
                    kept[...] = value
                else:
                    saved_slots[name] = _copy(value)

    def restore(self) -> None:
        for (param, _), saved in zip(self.model.parameters(), self.weights, strict=True):
            param[...] = saved
        self.optimizer.steps = self.steps
        for index in list(self.optimizer.state):
            slots = self.optimizer.state[index]
            for name in list(slots):  # state created since the snapshot did not exist then
                if name in self.state.get(index, {}):
                    slots[name][...] = self.state[index][name]
                else:
                    del slots[name]


def _copy(array: Any) -> Any:
    return namespace(array).asarray(array, copy=True)


def _weights_are_finite(model: Any) -> bool:
    return all(all_finite(param) for param, _ in model.parameters())


def _check_finite_weights(model: Any, when: str, fix: str) -> None:
    if not _weights_are_finite(model):
        raise ValueError(f"The network's weights hold NaN or infinite values {when}. {fix}")


def _claim_optimizer(optimizer: Optimizer, model: Any) -> None:
    """Refuse an optimizer whose state (velocity, moments, step count) belongs to another
    network that still uses it: sharing it would mix the two networks' updates."""
    owner = _OPTIMIZER_OWNERS.get(optimizer)
    other = owner() if owner is not None else None
    if other is not None and other is not model and getattr(other, "optimizer", None) is optimizer:
        raise ValueError(f"optimizer {optimizer!r} already trains another network, and its "
                         "state (step count, velocity, moments) belongs to that network. Give "
                         "each network its own optimizer, e.g. ns.Adam(lr=...) for each.")
    _OPTIMIZER_OWNERS[optimizer] = weakref.ref(model)


# Which network each optimizer trains, known without holding either: kept here rather than on
# the optimizer, so that optimizers and networks stay plain objects (copyable, picklable).
_OPTIMIZER_OWNERS: weakref.WeakKeyDictionary[Optimizer, weakref.ref] = weakref.WeakKeyDictionary()


class _StopOnInterrupt(StopSignals):
    """Turn the first Ctrl-C, SIGTERM or SIGHUP during fit into a request to stop after the
    current batch; ``signal_number`` says which arrived. A second one raises KeyboardInterrupt
    at once."""

    requested = False

    def handle(self, signum: int) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
