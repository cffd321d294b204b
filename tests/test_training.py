"""The training loop: the articles' problems solved, reproducibility, batch modes, weights,
warm starts, callbacks, divergence, interruption, and bad arguments to fit."""

from __future__ import annotations

import math
import os
import signal
import sys
import types

import numpy as np
import pytest
from conftest import assert_same_weights
from numpy.testing import assert_array_equal
from rounding import assert_rounding_close, step_roundings

import nnscratch as ns
from nnscratch import _fast
from nnscratch.datasets import load_digits, load_xor


class Recorder(ns.Callback):
    """Keeps the batch count and a copy of the weights at the end of every epoch."""

    def __init__(self):
        self.batches = 0
        self.weights = []

    def on_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def blobs(n_samples=120, n_classes=3, seed=0):
    """Well-separated Gaussian clusters in 2-D."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5], [0.0, -2.5]])[:n_classes]
    return centres[y] + rng.normal(0, 0.5, (n_samples, 2)), y


# ---- the problems the articles train on --------------------------------------------------------

def test_xor_is_solved():
    X, y = load_xor()
    net = ns.MLP([2, 4, 2], activation="tanh", seed=0)
    history = net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.5), epochs=1000,
                      batch_size=None)
    assert_array_equal(net.predict(X), y)
    assert history.history["accuracy"][-1] == 1.0


def test_digits_reach_97_percent_on_the_held_out_test_set():
    X_train, y_train, X_test, y_test = load_digits(seed=0)
    net = ns.MLP([64, 256, 128, 10], activation="relu", dropout=0.2, seed=0)
    net.fit(X_train, y_train, loss="cross_entropy", optimizer=ns.Adam(lr=1e-3), epochs=50,
            batch_size=32, seed=0)
    assert net.evaluate(X_test, y_test)["accuracy"] >= 0.97


def test_sin_3x_regression_reaches_mse_below_0_01_on_unseen_points():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (512, 1))
    X_test = np.linspace(-2, 2, 201)[:, None]
    net = ns.MLP([1, 64, 64, 1], activation="tanh", seed=0)
    net.fit(X, np.sin(3 * X[:, 0]), loss="mse", optimizer=ns.Adam(lr=0.01), epochs=300,
            batch_size=64, seed=0)
    assert np.mean((net.predict(X_test) - np.sin(3 * X_test[:, 0])) ** 2) < 0.01


def test_binary_classification_with_one_logit():
    X, y = blobs(n_classes=2)
    net = ns.MLP([2, 8, 1], seed=0)
    history = net.fit(X, y, loss="binary_cross_entropy", optimizer=ns.Adam(lr=0.01), epochs=30)
    assert history.history["accuracy"][-1] > 0.95
    assert net.predict(X).shape == (120,)


# ---- reproducibility ---------------------------------------------------------------------------

def train_digits_briefly(seed):
    X_train, y_train, _, _ = load_digits(seed=0)
    net = ns.MLP([64, 32, 10], dropout=0.1, seed=seed)
    history = net.fit(X_train, y_train, loss="cross_entropy", optimizer=ns.Adam(), epochs=3,
                      batch_size=16, validation_split=0.2, seed=seed)
    return history, net


def test_the_same_seeds_give_bit_identical_histories_and_weights():
    (history, net), (again, net_again) = train_digits_briefly(5), train_digits_briefly(5)
    assert history.history == again.history
    assert_same_weights(net, net_again)
    different, _ = train_digits_briefly(6)
    assert different.history["loss"] != history.history["loss"]


# ---- the three kinds of gradient descent -------------------------------------------------------

@pytest.mark.parametrize("batch_size, steps", [(1, 30), (8, 4), (30, 1), (100, 1), (None, 1)])
def test_batch_size_sets_the_number_of_steps_per_epoch(batch_size, steps):
    X, y = blobs(30)
    recorder = Recorder()
    ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy", epochs=2, batch_size=batch_size,
                                  callbacks=[recorder])
    assert recorder.batches == 2 * steps


def test_per_sample_fit_is_the_loop_of_single_steps():
    X, y = blobs(20)
    by_fit, by_hand = ns.MLP([2, 5, 3], seed=1), ns.MLP([2, 5, 3], seed=1)
    by_fit.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1), epochs=1, batch_size=1,
               shuffle=False)
    optimizer = ns.SGD(lr=0.1)
    for row in range(len(X)):
        by_hand.train_on_batch(X[row:row + 1], y[row:row + 1], loss="cross_entropy",
                               optimizer=optimizer)
    assert_same_weights(by_fit, by_hand)


def sparse_rows(n_samples=60, n_features=30, seed=0):
    """Samples that are 85% zeros, like MNIST images, with labels of 3 classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(np.float32)
    X[rng.random(X.shape) < 0.85] = 0.0
    return X, rng.integers(0, 3, n_samples)


class GradientWatch(ns.callbacks.Callback):
    """Notes, after every step, whether the first layer kept its gradient row-sparse, and
    checks that named_parameters() gives complete gradients all the same."""

    def __init__(self):
        self.row_sparse = []

    def on_batch_end(self, batch, logs=None):
        self.row_sparse.append("W" in self.model.layers[0].sparse_rows)
        for name, param, grad in self.model.named_parameters():
            assert grad.shape == param.shape, name


@pytest.mark.parametrize("make_optimizer, row_sparse", [
    (lambda: ns.SGD(lr=0.05), True),
    (lambda: ns.SGD(lr=0.05, momentum=0.9), False),
    (lambda: ns.Adam(lr=0.01), False),
])
def test_per_sample_fit_on_sparse_inputs_equals_the_plain_lines(make_optimizer, row_sparse,
                                                                monkeypatch):
    """Mostly-zero samples take the one-sample forms, and with plain SGD row-sparse gradients:
    two epochs must end on the weights, gradient norms and last gradients of the plain lines
    (every fast form off), and the fit must leave no gradient row-sparse behind. The fast forms
    call other BLAS routines and leave out zero terms, so each of the 120 steps rounds in
    another order: equal within the roundings of all the steps (tests/rounding.py)."""
    X, y = sparse_rows()
    results = []
    for fast in (True, False):
        monkeypatch.setattr(ns.Dense, "fast", fast)
        monkeypatch.setattr(ns.optim.Optimizer, "fast", fast)
        net, watch = ns.MLP([30, 12, 3], seed=2), GradientWatch()
        norms = ns.callbacks.GradientNormRecorder(include_biases=True)
        net.fit(X, y, loss="cross_entropy", optimizer=make_optimizer(), epochs=2,
                batch_size=1, seed=0, callbacks=[watch, norms])
        results.append((net, watch, norms))
    (fast_net, fast_watch, fast_norms), (plain_net, plain_watch, plain_norms) = results
    assert any(fast_watch.row_sparse) == row_sparse and not any(plain_watch.row_sparse)
    roundings = 2 * len(X) * step_roundings(plain_net, 1)
    for mine, theirs in zip(fast_net.get_weights(), plain_net.get_weights(), strict=True):
        assert_rounding_close(mine, theirs, roundings=roundings, err_msg="weights")
    for name, values in plain_norms.norms.items():
        assert_rounding_close(fast_norms.norms[name], values, roundings=roundings, err_msg=name)
    for fast_layer, plain_layer in zip(fast_net.layers, plain_net.layers, strict=True):
        assert fast_layer.sparse_rows == {} and getattr(fast_layer, "keep_sparse_rows", False) is False
        for key, grad in plain_layer.grads.items():
            assert fast_layer.grads[key].shape == grad.shape
            assert_rounding_close(fast_layer.grads[key], grad, roundings=roundings, err_msg=key)


def test_a_fit_stopped_by_an_error_leaves_no_gradient_row_sparse():
    class Fails(ns.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 7:
                raise RuntimeError("stop here")

    X, y = sparse_rows()
    net = ns.MLP([30, 12, 3], seed=2)
    with pytest.raises(RuntimeError, match="stop here"):
        net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.05), epochs=1, batch_size=1,
                seed=0, callbacks=[Fails()])
    first = net.layers[0]
    assert first.keep_sparse_rows is False and first.sparse_rows == {}
    assert first.grads["W"].shape == first.params["W"].shape
    assert np.count_nonzero(first.grads["W"]) > 0  # the last step's gradient, written out


def test_a_dense_subclass_with_its_own_backward_gets_complete_gradients_in_fit():
    """A user's Dense that adds an L1 penalty to dL/dW in its own backward must see the
    complete gradient, even where plain SGD would let Dense keep its sparse rows alone."""

    class L1Dense(ns.Dense):
        def backward(self, grad_output, input_grad=True):
            grad_input = super().backward(grad_output, input_grad)
            self.grads["W"] = self.grads["W"] + 1e-3 * np.sign(self.params["W"])
            return grad_input

    X, y = sparse_rows()
    net = ns.Sequential([L1Dense(30, 12), ns.ReLU(), ns.Dense(12, 3)], seed=2)
    net.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.05), epochs=1, batch_size=1,
            seed=0)
    first = net.layers[0]
    assert first.grads["W"].shape == first.params["W"].shape
    assert first.keep_sparse_rows is False and _fast.can_keep_sparse_rows(net.layers[2])


def test_full_batch_fit_is_one_step_on_all_the_data():
    X, y = blobs(20)
    by_fit, by_hand = ns.MLP([2, 5, 3], seed=1), ns.MLP([2, 5, 3], seed=1)
    by_fit.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1), epochs=1, batch_size=None)
    by_hand.train_on_batch(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1))
    assert_same_weights(by_fit, by_hand)


def test_calling_fit_again_continues_where_it_stopped():
    X, y = blobs(40)
    straight, in_two = ns.MLP([2, 5, 3], seed=2), ns.MLP([2, 5, 3], seed=2)
    straight.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1, momentum=0.9), epochs=4,
                 shuffle=False)
    in_two.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1, momentum=0.9), epochs=2,
               shuffle=False)
    in_two.fit(X, y, epochs=2, shuffle=False)  # same loss and optimizer, momentum kept
    assert_same_weights(straight, in_two)


def test_train_on_batch_reports_and_updates():
    X, y = blobs(12)
    net = ns.MLP([2, 4, 3], seed=0)
    before = net.get_weights()
    logs = net.train_on_batch(X, y, loss="cross_entropy", optimizer="sgd")
    assert set(logs) == {"loss", "accuracy"} and math.isfinite(logs["loss"])
    assert not np.array_equal(before[0], net.get_weights()[0])


# ---- validation and weights --------------------------------------------------------------------

def test_validation_data_and_split_are_scored_every_epoch():
    X, y = blobs(100)
    net = ns.MLP([2, 6, 3], seed=0)
    history = net.fit(X, y, loss="cross_entropy", epochs=3, validation_split=0.25, seed=0)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(history.history)
    assert all(len(values) == 3 for values in history.history.values())
    history = net.fit(X[:80], y[:80], epochs=2, validation_data=(X[80:], y[80:]))
    assert history.history["val_loss"][-1] == pytest.approx(net.evaluate(X[80:], y[80:])["loss"])


def test_balanced_class_weight_equals_the_hand_computed_sample_weights():
    X, y = blobs(40)
    y = np.where(np.arange(40) < 30, 0, y)  # class 0 dominates: 30 + a few of 1 and 2
    counts = np.bincount(y)
    by_hand = len(y) / (3 * counts[y])
    balanced, weighted = ns.MLP([2, 4, 3], seed=0), ns.MLP([2, 4, 3], seed=0)
    balanced.fit(X, y, loss="cross_entropy", epochs=2, class_weight="balanced", seed=0)
    weighted.fit(X, y, loss="cross_entropy", epochs=2, sample_weight=by_hand, seed=0)
    assert_same_weights(balanced, weighted)


def test_class_weight_dict_weights_that_class_only():
    X, y = blobs(30)
    by_dict, by_hand = ns.MLP([2, 4, 3], seed=0), ns.MLP([2, 4, 3], seed=0)
    by_dict.fit(X, y, loss="cross_entropy", epochs=1, class_weight={2: 3.0}, seed=0)
    by_hand.fit(X, y, loss="cross_entropy", epochs=1, sample_weight=np.where(y == 2, 3.0, 1.0),
                seed=0)
    assert_same_weights(by_dict, by_hand)


def test_doubling_every_sample_weight_doubles_the_step():
    X, y = blobs(30)
    weighted, faster = ns.MLP([2, 4, 3], seed=0), ns.MLP([2, 4, 3], seed=0)
    weighted.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.05), epochs=1,
                 sample_weight=np.full(30, 2.0), seed=0)
    faster.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1), epochs=1, seed=0)
    for mine, theirs in zip(weighted.get_weights(), faster.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)


# ---- callbacks ---------------------------------------------------------------------------------

def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = blobs(60)
    rng = np.random.default_rng(0)
    recorder = Recorder()
    stopper = ns.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    net = ns.MLP([2, 32, 3], seed=0)
    history = net.fit(X, y, loss="cross_entropy", optimizer=ns.Adam(lr=0.05), epochs=200,
                      validation_data=(X[:20], rng.integers(0, 3, 20)),  # noise: stops early
                      callbacks=[recorder, stopper])
    assert len(history.epoch) < 200 and history.stop_reason == "early_stopping"
    best = int(np.argmin(history.history["val_loss"]))
    assert stopper.best_epoch == best
    for mine, theirs in zip(net.get_weights(), recorder.weights[best], strict=True):
        assert_array_equal(mine, theirs)


def test_early_stopping_on_a_missing_metric_says_what_to_pass():
    X, y = blobs(30)
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*Pass validation_data"):
        ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy", epochs=2,
                                      callbacks=[ns.EarlyStopping()])


def test_learning_rate_scheduler_sets_each_epochs_rate():
    X, y = blobs(30)
    history = ns.MLP([2, 4, 3], seed=0).fit(
        X, y, loss="cross_entropy", optimizer=ns.SGD(lr=0.1), epochs=4,
        callbacks=[ns.LearningRateScheduler(ns.optim.StepDecay(step_size=2, gamma=0.5))])
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.1, 0.05, 0.05])


def test_reduce_lr_on_plateau_cuts_the_rate_when_the_loss_stalls():
    X, y = blobs(30)
    plateau = ns.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=10.0)
    history = ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy",
                                            optimizer=ns.SGD(lr=0.1), epochs=6,
                                            callbacks=[plateau])
    # Epoch 1 sets the best and no later epoch improves on it by 10, so the rate halves at the
    # end of epochs 3 and 5 (after two epochs without improvement each time); "lr" is logged
    # before the callback acts.
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_fit_shows_progress_by_default_as_keras_and_is_silent_with_verbose_0(capsys,
                                                                            monkeypatch):
    """verbose="auto" (the default): a script's fit shows its progress; on a stream that is
    not a terminal (here, pytest's capture) that is one line per epoch, on stderr."""
    X, y = blobs(30)
    net = ns.MLP([2, 4, 3], seed=0)
    net.fit(X, y, loss="cross_entropy", epochs=2)
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 2
    assert captured.err.startswith("epoch 1/2")
    net.fit(X, y, epochs=4, verbose=0)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    net.fit(X, y, epochs=5, verbose="auto")  # in Jupyter: the bar, redrawn with "\r"
    assert "\r" in capsys.readouterr().err
    monkeypatch.delitem(sys.modules, "ipykernel")
    net.fit(X, y, epochs=3, verbose=2)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("epoch 3/3") and "accuracy:" in lines[-1]


# ---- trouble -----------------------------------------------------------------------------------

def test_a_diverging_loss_stops_with_advice_and_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 100, (64, 3))
    y = X @ np.array([1.0, -2.0, 3.0]) * 1e3
    net = ns.MLP([3, 16, 1], seed=0)
    with pytest.raises(ns.TrainingDivergedError,
                       match=r"loss became (inf|nan) at epoch \d+, batch \d+.*Lower the learning rate"
                       ) as caught:
        net.fit(X, y, loss="mse", optimizer=ns.SGD(lr=10.0), epochs=50, batch_size=8)
    assert all(np.isfinite(weights).all() for weights in net.get_weights())
    assert caught.value.history is not None


def test_ctrl_c_stops_after_the_current_batch_and_keeps_the_history():
    X, y = blobs(64)

    class PressCtrlC(ns.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                os.kill(os.getpid(), signal.SIGINT)

    recorder = Recorder()
    history = ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy", epochs=10, batch_size=8,
                                            callbacks=[PressCtrlC(), recorder])
    assert history.stop_reason == "interrupted"
    assert recorder.batches == 3 and len(history.epoch) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---- bad arguments -----------------------------------------------------------------------------

X_GOOD, Y_GOOD = blobs(30)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(X=np.ones(30)), ValueError, r"X must be a 2-D array"),
    (dict(X=np.ones((30, 3))), ValueError, r"X must be an array with 2 features"),
    (dict(X=np.full((30, 2), np.nan)), ValueError, r"X must contain only finite numbers"),
    (dict(X=np.ones((0, 2)), y=np.array([], dtype=int)), ValueError, r"X must be a non-empty"),
    (dict(y=Y_GOOD[:20]), ValueError, r"y must be one entry per row of X \(30 rows\)"),
    (dict(y=Y_GOOD + 5), ValueError, r"class labels in 0..2.*got labels from 5 to 7"),
    (dict(y=Y_GOOD + 0.5), ValueError, r"y must be integer class labels"),
    (dict(y=np.where(Y_GOOD == 0, np.nan, Y_GOOD)), ValueError, r"finite"),
    (dict(loss="crossentropy"), ValueError, r"loss must be one of 'mse', 'cross_entropy'"),
    (dict(optimizer="adagrad"), ValueError, r"optimizer must be one of"),
    (dict(epochs=0), ValueError, r"epochs must be an integer >= 1; got 0"),
    (dict(epochs=2.5), TypeError, r"epochs must be an integer"),
    (dict(batch_size=0), ValueError, r"batch_size must be an integer >= 1; got 0.*None for the full"),
    (dict(batch_size=-4), ValueError, r"batch_size must be an integer >= 1; got -4"),
    (dict(validation_split=1.5), ValueError, r"validation_split must be a real number in \(0, 1\)"),
    (dict(validation_split=0.2, validation_data=(X_GOOD, Y_GOOD)), ValueError, r"not both"),
    (dict(validation_data=X_GOOD), TypeError, r"validation_data must be a pair"),
    (dict(validation_data=(X_GOOD[:, :1], Y_GOOD)), ValueError, r"validation_data\[0\] must be an array with 2 features"),
    (dict(callbacks=[ns.EarlyStopping]), TypeError, r"callbacks\[0\] must be a Callback instance"),
    (dict(verbose=3), ValueError, r"verbose must be 'auto', 0 \(silent\), 1"),
    (dict(class_weight="even"), ValueError, r"class_weight must be 'balanced' or a dict"),
    (dict(class_weight={7: 2.0}), ValueError, r"keys are class labels 0..2"),
    (dict(sample_weight=np.ones(3)), ValueError, r"sample_weight must be a 1-D array with one weight per sample \(30\)"),
    (dict(sample_weight=-np.ones(30)), ValueError, r"sample_weight must be finite, non-negative"),
    (dict(loss="mse", class_weight="balanced", y=np.zeros((30, 3))), ValueError, r"class_weight must be None here"),
])
def test_bad_arguments_to_fit_get_a_clear_error(arguments, error, message):
    call = dict(X=X_GOOD, y=Y_GOOD, loss="cross_entropy", epochs=1)
    call.update(arguments)
    with pytest.raises(error, match=message):
        ns.MLP([2, 4, 3], seed=0).fit(call.pop("X"), call.pop("y"), **call)


def test_the_first_fit_needs_a_loss():
    with pytest.raises(ValueError, match=r"loss must be given.*'cross_entropy'"):
        ns.MLP([2, 4, 3], seed=0).fit(X_GOOD, Y_GOOD)


# ---- promise: a diverging run never keeps or saves non-finite weights --------------------------

def overflowing_run(tmp_path, checkpoint_path=None, epochs=3):
    """One full batch per epoch and a learning rate so large that the update itself overflows
    float32: the loss of the batch (computed before the update) is finite, the weights are not."""
    X = np.random.default_rng(0).random((32, 4)).astype(np.float32) * 1000
    y = np.arange(32) % 3
    net = ns.MLP([4, 8, 3], seed=0)
    callbacks = [] if checkpoint_path is None else [
        ns.ModelCheckpoint(str(checkpoint_path), monitor="loss")]
    return net, lambda optimizer: net.fit(X, y, loss="cross_entropy", optimizer=optimizer,
                                          epochs=epochs, batch_size=None, callbacks=callbacks)


@pytest.mark.parametrize("optimizer", [lambda: ns.SGD(lr=1e38),
                                       lambda: ns.SGD(lr=1e38, momentum=0.9)])
def test_promise_an_update_that_overflows_the_weights_is_caught_and_undone(tmp_path, optimizer):
    net, fit = overflowing_run(tmp_path)
    start = net.get_weights()
    opt = optimizer()
    with pytest.raises(ns.TrainingDivergedError, match="weights became NaN or infinite at the "
                                                      "end of epoch 1"):
        fit(opt)
    for before, after in zip(start, net.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert all(np.isfinite(slot).all() for slots in opt.state.values() for slot in slots.values())


def test_promise_model_checkpoint_never_replaces_a_good_file_with_a_broken_one(tmp_path):
    path = tmp_path / "best.npz"
    good, fit = overflowing_run(tmp_path, checkpoint_path=path, epochs=1)
    good.save(path)
    before = path.read_bytes()
    with pytest.raises(ns.TrainingDivergedError):
        fit(ns.SGD(lr=1e38))
    assert path.read_bytes() == before
    ns.load(path)


def test_promise_model_checkpoint_keeps_a_better_file_from_an_earlier_run(tmp_path):
    X, y = np.random.default_rng(0).random((64, 4)), np.arange(64) % 2
    path = tmp_path / "best.npz"
    strong = ns.MLP([4, 16, 2], seed=0)
    strong.fit(X, y, loss="cross_entropy", optimizer=ns.Adam(0.01), epochs=40,
               callbacks=[ns.ModelCheckpoint(str(path), monitor="loss", save_best_only=True)])
    best_loss = min(strong.history.history["loss"])
    before = path.read_bytes()
    weak = ns.MLP([4, 16, 2], seed=1)  # a new run that never gets as good
    checkpoint = ns.ModelCheckpoint(str(path), monitor="loss", save_best_only=True)
    weak.fit(X, y, loss="cross_entropy", optimizer=ns.SGD(1e-4), epochs=2,
             callbacks=[checkpoint])
    assert min(weak.history.history["loss"]) > best_loss
    assert path.read_bytes() == before and checkpoint.saved == []


def test_promise_train_on_batch_undoes_a_step_that_overflows_the_weights():
    X = np.random.default_rng(0).random((8, 4)) * 1000
    net = ns.MLP([4, 8, 3], seed=0)
    start = net.get_weights()
    with pytest.raises(ns.TrainingDivergedError, match="weights became NaN or infinite"):
        net.train_on_batch(X, np.arange(8) % 3, loss="cross_entropy", optimizer=ns.SGD(lr=1e38))
    for before, after in zip(start, net.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


# ---- promise: options that would remove all training are refused --------------------------------

@pytest.mark.parametrize("options, message", [
    ({"sample_weight": np.full(30, 1e-50)}, "become 0 or infinite in float32"),
    ({"sample_weight": np.full(30, 1e39)}, "become 0 or infinite in float32"),
    ({"sample_weight": np.full(30, 1e-9)}, "averages 1e-09"),
    ({"class_weight": {0: 0.0, 1: 0.0, 2: 0.0}}, "gives every training sample the weight 0"),
    ({"class_weight": {True: 2.0}}, "keys are class labels"),
    ({"shuffle": "no"}, "shuffle must be True or False"),
    ({"shuffle": None}, "shuffle must be True or False"),
])
def test_promise_options_that_silently_stop_training_are_refused(options, message):
    X = np.random.default_rng(0).random((30, 4))
    net = ns.MLP([4, 5, 3], seed=0)
    with pytest.raises((ValueError, TypeError), match=message):
        net.fit(X, np.arange(30) % 3, loss="cross_entropy", epochs=1, **options)


def test_weights_that_are_merely_small_still_train():
    X = np.random.default_rng(0).random((30, 4))
    net = ns.MLP([4, 5, 3], seed=0)
    history = net.fit(X, np.arange(30) % 3, loss="cross_entropy", epochs=2,
                      sample_weight=np.full(30, 1e-3))
    assert len(history.epoch) == 2


def test_promise_one_optimizer_cannot_silently_train_two_networks():
    X, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    optimizer = ns.Adam()
    first, second = ns.MLP([4, 6, 2], seed=0), ns.MLP([4, 6, 2], seed=1)
    first.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=1)
    with pytest.raises(ValueError, match="already trains another network"):
        second.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=1)
    first.fit(X, y, epochs=2)  # its own optimizer still works for it
    copy = first.copy()  # a copy has its own optimizer
    copy.fit(X, y, epochs=3)


def test_the_callback_list_calls_only_the_hooks_a_callback_overrides(monkeypatch):
    """One loop per hook over the callbacks that override it; with no batch watcher, a step
    calls no on_batch_end and builds no logs for one."""
    calls = []

    class EpochsOnly(ns.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            calls.append(("epoch", epoch))

    class Batches(ns.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append(("batch", batch, logs["size"]))

    listed = ns.callbacks.CallbackList([EpochsOnly(), Batches(), ns.callbacks.Callback()])
    assert [len(listed.hooks[hook]) for hook in listed.HOOKS] == [0, 0, 1, 1, 0]
    X, y = blobs(30)
    ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy", epochs=2, batch_size=10,
                                  callbacks=[EpochsOnly()], verbose=0)
    assert calls == [("epoch", 0), ("epoch", 1)]
    calls.clear()
    ns.MLP([2, 4, 3], seed=0).fit(X, y, loss="cross_entropy", epochs=1, batch_size=10,
                                  callbacks=[Batches()], verbose=0)
    assert calls == [("batch", 0, 10), ("batch", 1, 10), ("batch", 2, 10)]
    watcher = ns.callbacks.Callback()  # a hook set on the instance counts as overridden
    watcher.on_batch_end = lambda batch, logs=None: calls.append(("instance", batch))
    assert ns.callbacks.CallbackList([watcher]).watch_batches
