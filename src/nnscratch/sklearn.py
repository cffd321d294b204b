"""scikit-learn estimators over nnscratch's network: NNClassifier and NNRegressor.

They take their hyperparameters in the constructor and learn in ``fit``, as every scikit-learn
estimator does, so they drop into a ``Pipeline``, ``GridSearchCV``, ``cross_val_score``,
``clone`` and joblib::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from nnscratch.sklearn import NNClassifier

    model = make_pipeline(StandardScaler(), NNClassifier(hidden_layer_sizes=(64,), random_state=0))
    model.fit(X_train, y_train).score(X_test, y_test)

Underneath is an ``MLP`` (``self.network_``) trained by nnscratch's own ``fit``: the same
equations, the same checks. Classes may be any labels (strings, integers); they are kept in
``classes_`` and the network learns their indices with softmax cross-entropy. The regressor
minimises the mean squared error on its targets as given.

scikit-learn is an optional dependency: ``pip install 'nnscratch[sklearn]'``. The checks of
scikit-learn's ``check_estimator`` pass, except those listed, with the reason, in
``expected_failed_checks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("nnscratch.sklearn needs scikit-learn >= 1.6: "
                      "pip install 'nnscratch[sklearn]'") from error

from .callbacks import EarlyStopping
from .network import MLP
from .optim import OPTIMIZERS, Optimizer

__all__ = ["NNClassifier", "NNRegressor", "expected_failed_checks"]

#: The scikit-learn checks that NNClassifier and NNRegressor fail by design, as {check name:
#: reason}, the form ``check_estimator(estimator, expected_failed_checks=...)`` takes. Empty:
#: both pass every check of scikit-learn 1.9 (tests/test_sklearn.py runs them all).
expected_failed_checks: dict[str, str] = {}


class _NNEstimator(BaseEstimator):
    """What the classifier and the regressor share: the hyperparameters, building the MLP,
    and training it with nnscratch's fit."""

    _loss = ""  # set by the subclasses

    def __init__(self, hidden_layer_sizes: Sequence[int] | int = (100,), activation: str = "relu",
                 optimizer: str = "adam", lr: float = 1e-3, batch_size: int | None = 200,
                 epochs: int = 200, dropout: float = 0.0, weight_decay: float = 0.0,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, random_state: Any = None, verbose: int = 0,
                 warm_start: bool = False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # -- the parts the subclasses fill in ----------------------------------------------------

    def _targets(self, y: np.ndarray, first: bool, classes: Any = None) -> np.ndarray:
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    # -- training --------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, sample_weight: Any, epochs: int, first: bool,
             classes: Any = None) -> Any:
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32),
                             multi_output=self._loss == "mse", y_numeric=self._loss == "mse")
        targets = self._targets(y, first, classes)
        sample_weight = _mean_one(sample_weight, len(X))
        if first:
            self.network_ = MLP([X.shape[1], *self._hidden_sizes(), self._n_outputs()],
                                activation=self.activation, dropout=self.dropout,
                                seed=self._seed(), dtype=X.dtype, loss=self._loss)
            self.loss_curve_: list[float] = []
            self.validation_scores_: list[float] = []
        early = self.early_stopping and epochs > 1
        callbacks = ([EarlyStopping("val_loss", patience=self.n_iter_no_change,
                                    restore_best_weights=True)] if early else [])
        history = self.network_.fit(
            X, targets, optimizer=self._make_optimizer() if first else None, epochs=epochs,
            batch_size=self.batch_size, validation_split=self.validation_fraction if early
            else 0.0, seed=self._seed(len(self.loss_curve_)), callbacks=callbacks,
            sample_weight=sample_weight, verbose=self.verbose)
        self.loss_curve_ += [float(value) for value in history.history["loss"]]
        self.validation_scores_ += [float(value) for value in history.history.get("val_loss", [])]
        self.n_iter_ = len(self.loss_curve_)
        return self

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Train for ``epochs`` epochs (fewer with early stopping); with ``warm_start`` and a
        network already trained, continue from its weights."""
        first = not (self.warm_start and hasattr(self, "network_"))
        return self._fit(X, y, sample_weight, self.epochs, first)

    def _hidden_sizes(self) -> list[int]:
        given = self.hidden_layer_sizes
        sizes: list[Any] = [given] if isinstance(given, (int, np.integer)) else list(given)
        for size in sizes:
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
                raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                                 f"{self.hidden_layer_sizes!r}. For example (100,) or (64, 32).")
        return [int(size) for size in sizes]

    def _make_optimizer(self) -> Optimizer:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got "
                             f"{self.optimizer!r}.")
        arguments: dict[str, Any] = {"lr": self.lr, "weight_decay": self.weight_decay}
        if self.optimizer == "momentum":
            arguments["momentum"] = 0.9
        return OPTIMIZERS[self.optimizer](**arguments)

    def _seed(self, offset: int = 0) -> int | None:
        """An int seed for nnscratch's Generator from random_state (None, an int, or a
        NumPy Generator/RandomState, as scikit-learn allows); ``offset`` varies the shuffling
        of later fits (warm start, partial_fit) while keeping them reproducible."""
        state = self.random_state
        if state is None:
            return None
        if isinstance(state, (int, np.integer)) and not isinstance(state, bool):
            return int(state) + offset
        if isinstance(state, (np.random.Generator, np.random.RandomState)):
            if not hasattr(self, "_drawn_seed"):
                self._drawn_seed = int(state.integers(2**31) if isinstance(
                    state, np.random.Generator) else state.randint(2**31))
            return self._drawn_seed + offset
        raise ValueError(f"random_state must be None, an int or a NumPy random generator, got "
                         f"{state!r}.")

    def _checked_inputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return X


def _mean_one(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Sample weights scaled to average 1. nnscratch's loss is (1/n) sum_i w_i l_i; with
    weights of mean 1 that is (1/sum w) sum_i w_i l_i, so an integer weight k counts as k
    copies of the row, as scikit-learn defines sample_weight."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(f"sample_weight must hold one finite weight >= 0 per row of X "
                         f"({n_samples}), got shape {weights.shape}.")
    if weights.sum() <= 0:
        raise ValueError("sample_weight must not be all zero: no row would count.")
    return weights * (n_samples / weights.sum())


class NNClassifier(ClassifierMixin, _NNEstimator):
    """A multilayer perceptron classifier: softmax cross-entropy on nnscratch's MLP.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Units of each hidden layer.
    activation : str
        Hidden activation: "relu", "leaky_relu", "tanh", "sigmoid", ...
    optimizer : str
        "sgd", "momentum" (SGD with momentum 0.9), "rmsprop", "adam" or "adamw".
    lr : float
        The learning rate.
    batch_size : int or None
        Samples per step (1: per sample; None: the full batch).
    epochs : int
        Passes over the data in ``fit`` (the most, with early stopping).
    dropout : float
        Dropout rate after each hidden activation (0: none).
    weight_decay : float
        L2 penalty on the weights, applied by the optimizer.
    early_stopping : bool
        Hold out ``validation_fraction`` of the data and stop when its loss has not improved
        for ``n_iter_no_change`` epochs, keeping the best epoch's weights.
    random_state : None, int or NumPy generator
        Seeds the initial weights, the shuffling and the validation split.
    verbose : int
        0 silent, 1 a progress bar, 2 one line per epoch (on stderr).
    warm_start : bool
        ``fit`` continues from the current weights instead of starting anew.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (when X has column names), network_ (the
    trained MLP), loss_curve_ (training loss per epoch), validation_scores_ (validation loss
    per epoch, with early stopping), n_iter_ (epochs trained).
    """

    _loss = "cross_entropy"

    def _targets(self, y: np.ndarray, first: bool, classes: Any = None) -> np.ndarray:
        check_classification_targets(y)
        if first:
            self._encoder = LabelEncoder().fit(y if classes is None else np.asarray(classes))
            self.classes_ = self._encoder.classes_
            if classes is None and len(self.classes_) < 2:
                raise ValueError(f"y has only one class ({self.classes_[0]!r}); a classifier "
                                 f"needs at least 2. Check the labels passed to fit.")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y has labels {unknown.tolist()} not among the classes "
                             f"{self.classes_.tolist()} this classifier was first fitted with.")
        return self._encoder.transform(y)

    def _n_outputs(self) -> int:
        return max(len(self.classes_), 2)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
                    ) -> NNClassifier:
        """One epoch over (X, y), from the current weights. The first call needs ``classes``:
        every label the classifier will ever see."""
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError("classes must be given to the first partial_fit: every label the "
                             "classifier will see, e.g. classes=np.unique(y_all).")
        return self._fit(X, y, sample_weight, 1, first, classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class in ``classes_`` order, (n_samples, n_classes)."""
        X = self._checked_inputs(X)
        return self.network_.predict_proba(X)[:, :len(self.classes_)].astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as one of ``classes_``."""
        probabilities = self.predict_proba(X)
        return self.classes_[probabilities.argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class NNRegressor(RegressorMixin, _NNEstimator):
    """A multilayer perceptron regressor: mean squared error on nnscratch's MLP.

    The parameters and attributes are those of NNClassifier, less ``classes_``. ``y`` may be
    one target per row (n,) or several (n, k); ``predict`` gives back the same shape.
    Neural networks train best on targets of order 1: scale large targets (e.g. with
    ``sklearn.compose.TransformedTargetRegressor``).
    """

    _loss = "mse"

    def _targets(self, y: np.ndarray, first: bool, classes: Any = None) -> np.ndarray:
        targets = np.asarray(y, dtype=np.float64)
        if first:
            self._target_ndim = targets.ndim
            self._n_targets = 1 if targets.ndim == 1 else targets.shape[1]
        elif (1 if targets.ndim == 1 else targets.shape[1]) != self._n_targets:
            raise ValueError(f"y has {targets.shape[1] if targets.ndim > 1 else 1} targets per "
                             f"row; this regressor was fitted with {self._n_targets}.")
        return targets.reshape(len(targets), self._n_targets)

    def _n_outputs(self) -> int:
        return self._n_targets

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NNRegressor:
        """One epoch over (X, y), from the current weights."""
        return self._fit(X, y, sample_weight, 1, not hasattr(self, "network_"))

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets: (n_samples,) if fitted on one target per row, else (n, k)."""
        X = self._checked_inputs(X)
        outputs = self.network_.predict(X).astype(np.float64)
        return outputs.ravel() if self._target_ndim == 1 else outputs.reshape(len(X), -1)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
