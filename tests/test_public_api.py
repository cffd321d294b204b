"""Every public callable, called the way a user calls it (a review found `ns.CrossEntropy()(logits,
y)` raising NotImplementedError because no test ever did that).

``USES`` holds one user-style call per name of ``nnscratch.__all__`` and per curve and
initialiser the articles use; a public name without an entry fails the first test, so a new
name cannot ship untried.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import activations, init

RNG = np.random.default_rng(0)
X = RNG.random((12, 4))
Y = np.arange(12) % 3
LOGITS = RNG.standard_normal((12, 3))


def trained(**options) -> ns.Sequential:
    net = ns.MLP([4, 6, 3], seed=0)
    net.fit(X, Y, loss="cross_entropy", epochs=2, batch_size=4, **options)
    return net


def call_layer(layer: ns.Layer, n_in: int = 4) -> bool:
    """A layer used alone: initialize, forward, backward, shapes kept."""
    layer.initialize(np.random.default_rng(0), np.float64)
    outputs = layer.forward(X[:, :n_in], training=True)
    return layer.backward(np.ones_like(outputs)).shape == X[:, :n_in].shape


def raises(error: type[BaseException], run: Callable[[], object]) -> bool:
    with pytest.raises(error):
        run()
    return True


class Counter(ns.Callback):
    def __init__(self) -> None:
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epochs += 1


def in_folder(use: Callable[[Path], bool]) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        return use(Path(folder))


def fits_with(callback: ns.Callback, **options) -> bool:
    net = ns.MLP([4, 6, 3], seed=0)
    history = net.fit(X, Y, loss="cross_entropy", epochs=3, batch_size=4, callbacks=[callback],
                      validation_split=0.25, seed=0, **options)
    return len(history.epoch) >= 1


USES: dict[str, Callable[[], bool]] = {
    "Sequential": lambda: ns.Sequential([ns.Dense(4, 3)], seed=0).predict_outputs(X).shape
    == (12, 3),
    "MLP": lambda: trained().predict(X).shape == (12,),
    "Dense": lambda: call_layer(ns.Dense(4, 4)),
    "Dropout": lambda: call_layer(ns.Dropout(0.5)),
    "Layer": lambda: raises(NotImplementedError, lambda: ns.Layer().forward(X)),
    "Sigmoid": lambda: call_layer(ns.Sigmoid()),
    "Tanh": lambda: call_layer(ns.Tanh()),
    "ReLU": lambda: call_layer(ns.ReLU()),
    "LeakyReLU": lambda: call_layer(ns.LeakyReLU(0.1)),
    "Softmax": lambda: call_layer(ns.Softmax()),
    "Identity": lambda: call_layer(ns.Identity()),
    "Loss": lambda: raises(NotImplementedError, lambda: ns.Loss()(LOGITS, LOGITS)),
    "MSE": lambda: ns.MSE()(LOGITS, np.zeros((12, 3))) == pytest.approx(np.mean(LOGITS**2)),
    "CrossEntropy": lambda: ns.CrossEntropy()(LOGITS, Y) > 0,
    "BinaryCrossEntropy": lambda: ns.BinaryCrossEntropy()(LOGITS, Y[:, None] == [0, 1, 2]) > 0,
    "SGD": lambda: trained(optimizer=ns.SGD(lr=0.1, momentum=0.9)).optimizer.steps == 6,
    "Adam": lambda: trained(optimizer=ns.Adam(lr=0.01)).optimizer.steps == 6,
    "AdamW": lambda: trained(optimizer=ns.AdamW(lr=0.01)).optimizer.steps == 6,
    "RMSProp": lambda: trained(optimizer=ns.RMSProp(lr=0.01)).optimizer.steps == 6,
    "Callback": lambda: fits_with(Counter()),
    "History": lambda: trained().history.history["loss"].__len__() == 2,
    "EarlyStopping": lambda: fits_with(ns.EarlyStopping(patience=1, restore_best_weights=True)),
    "GradientNormRecorder": lambda: fits_with(ns.GradientNormRecorder()),
    "LearningRateScheduler": lambda: fits_with(ns.LearningRateScheduler(ns.optim.StepDecay(1))),
    "ReduceLROnPlateau": lambda: fits_with(ns.ReduceLROnPlateau(patience=1)),
    "ProgressLogger": lambda: fits_with(ns.ProgressLogger(2, stream=_Sink())),
    "ModelCheckpoint": lambda: in_folder(lambda folder: fits_with(ns.ModelCheckpoint(
        str(folder / "best.npz"), save_best_only=True)) and ns.load(folder / "best.npz")
        .metadata["epoch"] >= 1),
    "save": lambda: in_folder(lambda folder: ns.save(trained(), folder / "m.npz").is_file()),
    "load": lambda: in_folder(lambda folder: (ns.load(trained().save(folder / "m.safetensors"))
                                              .predict(X) == trained().predict(X)).all()),
    "ModelFileError": lambda: issubclass(ns.ModelFileError, ValueError),
    "TrainingDivergedError": lambda: raises(ns.TrainingDivergedError, lambda: ns.MLP(
        [4, 3], seed=0).fit(X * 1e3, RNG.random((12, 3)) * 1e30, loss="mse",
                             optimizer=ns.SGD(lr=1.0), epochs=3)),
    "set_blas_threads": lambda: ns.set_blas_threads(1) is None and fits_with(Counter())
    and ns.set_blas_threads(None) is None,
    "check_gradients": lambda: ns.check_gradients(trained(), X[:4], Y[:4]) < 1e-6,
    "gradient_errors": lambda: max(ns.gradient_errors(trained(), X[:4], Y[:4]).values()) < 1e-6,
}


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_every_public_name_has_a_use():
    public = {name for name in ns.__all__ if callable(getattr(ns, name))}
    assert public == set(USES), f"add a use for {sorted(public - set(USES))}"


@pytest.mark.parametrize("name", sorted(USES))
def test_each_public_callable_works_as_users_call_it(name):
    assert USES[name]()


@pytest.mark.parametrize("name", sorted(activations.FUNCTIONS))
def test_each_curve_and_its_derivative_as_the_articles_plot_them(name):
    function, derivative = activations.FUNCTIONS[name]
    z = np.linspace(-2, 2, 401)
    step = 1e-6
    numerical = (function(z + step) - function(z - step)) / (2 * step)
    away_from_kinks = np.abs(z) > 1e-3
    np.testing.assert_allclose(derivative(z)[away_from_kinks], numerical[away_from_kinks],
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_each_initializer_as_a_user_calls_it(name):
    weights = init.INITIALIZERS[name]((300, 200), np.random.default_rng(0), np.float32)
    assert weights.shape == (300, 200) and weights.dtype == np.float32
    assert np.isfinite(weights).all()
    expected_std = {"he_normal": np.sqrt(2 / 300), "he_uniform": np.sqrt(2 / 300),
                    "glorot_normal": np.sqrt(2 / 500), "glorot_uniform": np.sqrt(2 / 500),
                    "standard_normal": 1.0, "uniform": np.sqrt(1 / 3), "zeros": 0.0}[name]
    assert weights.std() == pytest.approx(expected_std, rel=0.05, abs=1e-12)
