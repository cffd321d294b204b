"""nnscratch: neural networks from scratch in NumPy, readable next to the equations.

    import nnscratch as ns
    X_train, y_train, X_test, y_test = ns.datasets.load_digits()
    net = ns.MLP([64, 128, 10], activation="relu", seed=0)
    history = net.fit(X_train, y_train, loss="cross_entropy", optimizer=ns.optim.Adam(),
                      epochs=20, batch_size=32, validation_data=(X_test, y_test))
    net.evaluate(X_test, y_test)       # {"loss": ..., "accuracy": ...}
"""

from . import activations, callbacks, datasets, init, losses, metrics, optim
from ._threads import set_blas_threads
from ._version import __version__
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .callbacks import (
    Callback,
    EarlyStopping,
    GradientNormRecorder,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressLogger,
    ReduceLROnPlateau,
)
from .gradcheck import check_gradients, gradient_errors
from .layers import Dense, Dropout, Layer
from .losses import MSE, BinaryCrossEntropy, CrossEntropy, Loss
from .network import MLP, Sequential, load
from .optim import SGD, Adam, AdamW, RMSProp
from .serialization import ModelFileError, save
from .training import TrainingDivergedError

__all__ = [
    "Adam", "AdamW", "BinaryCrossEntropy", "Callback", "CrossEntropy", "Dense", "Dropout",
    "EarlyStopping", "GradientNormRecorder", "History", "Identity", "Layer", "LeakyReLU",
    "LearningRateScheduler", "Loss", "MLP", "MSE", "ModelCheckpoint", "ModelFileError",
    "ProgressLogger", "RMSProp", "ReLU", "ReduceLROnPlateau", "SGD", "Sequential", "Sigmoid",
    "Softmax", "Tanh", "TrainingDivergedError", "activations", "callbacks", "check_gradients",
    "datasets", "gradient_errors", "init", "load", "losses", "metrics", "optim", "save",
    "set_blas_threads",
    "__version__",
]
