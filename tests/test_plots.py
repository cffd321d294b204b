"""Plots: each figure is drawn with the right content, and saves as a non-empty PNG."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("matplotlib")

import nnscratch as ns  # noqa: E402
from nnscratch import plots  # noqa: E402
from nnscratch.datasets import load_digits  # noqa: E402
from nnscratch.metrics import confusion_matrix  # noqa: E402

X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = load_digits(seed=0)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained():
    net = ns.MLP([64, 32, 10], seed=0)
    recorder = ns.GradientNormRecorder()
    history = net.fit(X_TRAIN, Y_TRAIN, loss="cross_entropy", optimizer="adam", epochs=3,
                      validation_data=(X_TEST, Y_TEST), callbacks=[recorder])
    return net, history, recorder


def saves_a_png(figure, tmp_path) -> bool:
    path = tmp_path / "figure.png"
    figure.savefig(path)
    data = path.read_bytes()
    return data.startswith(PNG_MAGIC) and len(data) > 5000


def test_activation_functions_and_derivatives(tmp_path):
    ax = plots.plot_activations()
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] \
        == ["sigmoid", "tanh", "relu", "leaky_relu"]
    derivative_ax = plots.plot_activations(["sigmoid"], derivatives=True)
    curve = derivative_ax.get_lines()[0].get_ydata()
    assert curve.max() == pytest.approx(0.25, abs=1e-4)  # sigma'(0) = 1/4
    assert saves_a_png(ax.figure, tmp_path)


def test_plots_draw_on_a_given_axes():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert plots.plot_activations(["tanh"], ax=ax) is ax
    assert plots.plot_confusion_matrix(np.eye(3, dtype=int), ax=ax) is ax


def test_training_curves_have_loss_and_accuracy_panels(trained, tmp_path):
    _, history, _ = trained
    figure = plots.plot_history(history)
    loss_ax, accuracy_ax = figure.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training loss",
                                                                 "validation loss"]
    np.testing.assert_allclose(accuracy_ax.get_lines()[1].get_ydata(),
                               history.history["val_accuracy"])
    assert saves_a_png(figure, tmp_path)
    regression = plots.plot_history({"loss": [3.0, 2.0, 1.0]})
    assert len(regression.axes) == 1


def test_one_prediction_beside_its_image(trained, tmp_path):
    net, _, _ = trained
    probabilities = net.predict_proba(X_TEST[:1])[0]
    figure = plots.plot_prediction(X_TEST[0], probabilities, true_label=int(Y_TEST[0]))
    image_ax, bars_ax = figure.axes
    heights = [bar.get_height() for bar in bars_ax.patches]
    np.testing.assert_allclose(heights, probabilities, rtol=1e-6)
    assert image_ax.get_images()[0].get_array().shape == (8, 8)
    assert saves_a_png(figure, tmp_path)


def test_prediction_grid_puts_the_misclassified_first(tmp_path):
    y_true = np.array([0, 1, 2, 3, 4, 5])
    y_pred = np.array([0, 1, 9, 3, 7, 5])
    figure = plots.plot_prediction_grid(X_TEST[:6], y_true, y_pred)
    labels = figure.axes[0].texts
    assert [label.get_text() for label in labels[:3]] == ["9 (2)", "7 (4)", "0 (0)"]
    assert [label.get_color() for label in labels[:3]] == ["tab:red", "tab:red", "black"]
    mosaic = figure.axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(mosaic[4:12, 0:8], X_TEST[2].reshape(8, 8))  # "9 (2)" first
    assert "2 of 6 misclassified" in figure.get_suptitle()
    assert saves_a_png(figure, tmp_path)


def test_confusion_matrix_writes_every_count(trained, tmp_path):
    net, _, _ = trained
    matrix = confusion_matrix(Y_TEST, net.predict(X_TEST), n_classes=10)
    ax = plots.plot_confusion_matrix(matrix)
    cell_texts = [int(text.get_text()) for text in ax.texts]
    assert cell_texts == matrix.ravel().tolist()
    assert saves_a_png(ax.figure, tmp_path)


def test_confusion_matrix_of_weighted_counts():
    """Counts need not be integers (sample weights): each cell shows its value."""
    ax = plots.plot_confusion_matrix(np.array([[2.0, 0.5], [1.25, 3.0]]))
    assert [text.get_text() for text in ax.texts] == ["2", "0.5", "1.25", "3"]


def test_first_layer_weights_as_images(trained, tmp_path):
    net, _, _ = trained
    figure = plots.plot_first_layer_weights(net, n_units=16)
    mosaic = figure.axes[0].get_images()[0].get_array()
    assert mosaic.shape == (4 * 9 - 1, 4 * 9 - 1)  # 16 units of 8x8, 4 to a row, 1 apart
    unit = net.layers[0].params["W"][:, 3]
    np.testing.assert_allclose(mosaic[0:8, 27:35], (unit / np.abs(unit).max()).reshape(8, 8),
                               rtol=1e-6)
    assert saves_a_png(figure, tmp_path)


def test_gradient_norms_per_layer(trained, tmp_path):
    _, _, recorder = trained
    assert set(recorder.norms) == {"0.W", "2.W"}
    assert len(recorder.norms["0.W"]) == 3 * int(np.ceil(len(X_TRAIN) / 32))
    ax = plots.plot_gradient_norms(recorder.norms)
    assert len(ax.get_lines()) == 2
    assert saves_a_png(ax.figure, tmp_path)


def test_activation_histograms_count_dead_relus(tmp_path):
    net = ns.MLP([64, 4, 10], seed=0)
    net.layers[0].params["b"][:2] = -100.0  # two of the four units can never fire
    figure = plots.plot_activation_histograms(net, X_TEST)
    assert "50% dead units" in figure.axes[0].get_title()
    assert saves_a_png(figure, tmp_path)


@pytest.mark.parametrize("call, message", [
    (lambda: plots.plot_activations(["swish"]), "names must be activation names"),
    (lambda: plots.plot_history({"accuracy": [1.0]}), "history must be a History"),
    (lambda: plots.plot_confusion_matrix(np.ones((2, 3))), "matrix must be a square"),
    (lambda: plots.plot_confusion_matrix(-np.eye(2)), "finite counts >= 0"),
    (lambda: plots.plot_confusion_matrix(np.full((2, 2), np.nan)), "finite counts >= 0"),
    (lambda: plots.plot_confusion_matrix(np.array([["a"]])), "finite counts >= 0"),
    (lambda: plots.plot_gradient_norms({}), "norms must be a non-empty dict"),
    (lambda: plots.plot_prediction(np.ones(10), np.ones(3) / 3), "not a square image"),
])
def test_bad_plot_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
