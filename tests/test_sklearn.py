"""nnscratch.sklearn: the estimators pass scikit-learn's own checks and work with its tools."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nnscratch.sklearn import NNClassifier, NNRegressor, expected_failed_checks  # noqa: E402


@parametrize_with_checks([NNClassifier(random_state=0), NNRegressor(random_state=0)],
                         expected_failed_checks=lambda estimator: expected_failed_checks)
def test_scikit_learns_own_estimator_checks(estimator, check, monkeypatch):
    # scikit-learn skips its array-API input check unless this is set: run it
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def test_check_estimator_in_one_call_with_the_mapping_of_expected_failures(monkeypatch):
    """The mapping is in the form check_estimator takes; it is empty: every check passes."""
    from sklearn.utils.estimator_checks import check_estimator

    monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # run, not skip, the array-API input check
    assert expected_failed_checks == {}
    for estimator in (NNClassifier(random_state=0), NNRegressor(random_state=0)):
        results = check_estimator(estimator, expected_failed_checks=expected_failed_checks,
                                  on_fail=None)
        assert len(results) >= 55
        assert [r["check_name"] for r in results if r["status"] == "failed"] == []


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_in_a_pipeline_with_a_scaler(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(),
                          NNClassifier(hidden_layer_sizes=(64,), epochs=100, random_state=0))
    assert model.fit(X_train, y_train).score(X_test, y_test) > 0.95


def test_grid_search_and_cross_validation(digits):
    X_train, _, y_train, _ = digits
    search = GridSearchCV(NNClassifier(epochs=10, batch_size=32, random_state=0),
                          {"hidden_layer_sizes": [(8,), (64,)], "lr": [1e-3, 1e-2]}, cv=3)
    search.fit(X_train / 16, y_train)
    assert search.best_params_["hidden_layer_sizes"] == (64,)
    assert search.best_score_ > 0.9
    scores = cross_val_score(NNClassifier(hidden_layer_sizes=(32,), epochs=20, batch_size=32,
                                          random_state=0),
                             X_train / 16, y_train, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_string_labels_come_back_as_strings(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    model = NNClassifier(hidden_layer_sizes=(32,), epochs=30, random_state=0)
    model.fit(X_train / 16, names[y_train])
    assert list(model.classes_) == sorted(names)
    predicted = model.predict(X_test / 16)
    assert predicted.dtype.kind == "U" and np.mean(predicted == names[y_test]) > 0.9
    probabilities = model.predict_proba(X_test / 16)
    assert probabilities.shape == (len(X_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], predicted)


def test_integer_weight_counts_as_repeated_rows():
    """sample_weight=k is k copies of the row (full batch, where the two are the same steps)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    weights = rng.integers(0, 4, size=40)
    weighted = NNClassifier(hidden_layer_sizes=(5,), batch_size=None, epochs=20, random_state=1,
                            optimizer="sgd", lr=0.1).fit(X, y, sample_weight=weights)
    repeated = NNClassifier(hidden_layer_sizes=(5,), batch_size=None, epochs=20, random_state=1,
                            optimizer="sgd", lr=0.1).fit(np.repeat(X, weights, axis=0),
                                                         np.repeat(y, weights))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)
    ignored = NNClassifier(hidden_layer_sizes=(5,), batch_size=None, epochs=20, random_state=1,
                           optimizer="sgd", lr=0.1).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), ignored.predict_proba(X))


def test_partial_fit_learns_epoch_by_epoch(digits):
    X_train, X_test, y_train, y_test = digits
    model = NNClassifier(hidden_layer_sizes=(32,), random_state=0)
    with pytest.raises(ValueError, match="classes must be given to the first partial_fit"):
        model.partial_fit(X_train / 16, y_train)
    scores = []
    for _ in range(5):
        model.partial_fit(X_train / 16, y_train, classes=np.arange(10))
        scores.append(model.score(X_test / 16, y_test))
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 5
    assert model.loss_curve_[-1] < model.loss_curve_[0] and scores[-1] > scores[0]
    with pytest.raises(ValueError, match=r"labels \[10\] not among the classes"):
        model.partial_fit(X_train[:3] / 16, [1, 2, 10])


def test_warm_start_continues_and_cold_start_restarts(digits):
    X_train, _, y_train, _ = digits
    model = NNClassifier(hidden_layer_sizes=(16,), epochs=3, warm_start=True, random_state=0)
    model.fit(X_train / 16, y_train)
    network = model.network_
    model.fit(X_train / 16, y_train)
    assert model.network_ is network and model.n_iter_ == 6
    assert model.loss_curve_[3] < model.loss_curve_[2] * 1.05  # went on, not back to the start
    cold = NNClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0)
    cold.fit(X_train / 16, y_train)
    first = cold.network_
    cold.fit(X_train / 16, y_train)
    assert cold.network_ is not first and cold.n_iter_ == 3


def test_early_stopping_holds_out_data_and_stops(digits):
    X_train, _, y_train, _ = digits
    model = NNClassifier(hidden_layer_sizes=(64,), lr=1e-2, epochs=300, early_stopping=True,
                         n_iter_no_change=3, validation_fraction=0.2, random_state=0)
    model.fit(X_train / 16, y_train)
    assert model.n_iter_ < 300 and len(model.validation_scores_) == model.n_iter_
    best = int(np.argmin(model.validation_scores_))
    assert model.n_iter_ - 1 - best == 3  # stopped 3 epochs after the best, as asked


def test_dropout_and_weight_decay_reach_the_network():
    model = NNClassifier(hidden_layer_sizes=(8,), dropout=0.25, weight_decay=1e-3,
                         optimizer="adamw", epochs=2, random_state=0)
    model.fit(np.eye(4), [0, 1, 0, 1])
    assert any(type(layer).__name__ == "Dropout" and layer.rate == 0.25
               for layer in model.network_.layers)
    assert model.network_.optimizer.weight_decay == 1e-3


def test_pickle_joblib_and_clone_keep_the_model(digits):
    joblib = pytest.importorskip("joblib")
    X_train, X_test, y_train, _ = digits
    model = NNClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0)
    model.fit(X_train / 16, y_train)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X_test), model.predict_proba(X_test))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(X_test), model.predict(X_test))
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "network_")
    fresh.set_params(hidden_layer_sizes=(4,))
    assert fresh.fit(X_train / 16, y_train).network_.sizes == [64, 4, 10]


def test_regressor_one_and_several_targets():
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    model = NNRegressor(hidden_layer_sizes=(32,), lr=1e-2, epochs=100, random_state=0)
    assert model.fit(X, y).score(X, y) > 0.95
    assert model.predict(X).shape == (300,)
    two = np.column_stack([y, -2 * y])
    assert model.fit(X, two).predict(X).shape == (300, 2)
    assert model.score(X, two) > 0.9


def test_feature_names_are_kept_and_checked():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"height": [1.0, 2.0, 3.0, 4.0], "width": [0.0, 1.0, 0.0, 1.0]})
    model = NNClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    model.fit(frame, ["a", "b", "a", "b"])
    assert list(model.feature_names_in_) == ["height", "width"] and model.n_features_in_ == 2
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[["width", "height"]])


@pytest.mark.parametrize("parameters, message", [
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be positive integers"),
    ({"hidden_layer_sizes": (2.5,)}, "hidden_layer_sizes must be positive integers"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"random_state": "seven"}, "random_state must be None, an int"),
    ({"activation": "swish"}, "activation"),
    ({"lr": -1.0}, "lr"),
])
def test_bad_hyperparameters_are_named_at_fit(parameters, message):
    with pytest.raises((ValueError, TypeError), match=message):
        NNClassifier(**parameters).fit(np.eye(4), [0, 1, 0, 1])


def test_bad_targets_and_weights():
    with pytest.raises(ValueError, match="only one class"):
        NNClassifier().fit(np.eye(3), ["a", "a", "a"])
    with pytest.raises(ValueError, match="Unknown label type"):
        NNClassifier().fit(np.eye(3), [0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match="sample_weight must hold one finite weight"):
        NNClassifier().fit(np.eye(3), [0, 1, 0], sample_weight=[1.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        NNClassifier().fit(np.eye(3), [0, 1, 0], sample_weight=[0, 0, 0])


def test_random_state_makes_fits_identical_and_accepts_a_generator(digits):
    X_train, X_test, y_train, _ = digits
    first = NNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=3).fit(X_train, y_train)
    again = NNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=3).fit(X_train, y_train)
    np.testing.assert_array_equal(first.predict_proba(X_test), again.predict_proba(X_test))
    generator = NNClassifier(hidden_layer_sizes=(8,), epochs=2,
                             random_state=np.random.default_rng(3)).fit(X_train, y_train)
    assert generator.predict_proba(X_test).shape == (len(X_test), 10)
