"""The small recipes run fully and reproduce their articles' results; explain and trace."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.recipes import RECIPES, run_recipe


def test_xor_all_four_points_correct_as_in_the_article():
    result = run_recipe("xor")
    assert result.measured == 1.0  # the network shown solves XOR
    solved = int(result.extra["seeds solving XOR, of 0..9"].split("/")[0])
    assert 1 <= solved <= 10
    X, y = ns.datasets.load_xor()
    assert (result.network.predict(X) == y).all()


def test_digits_minibatch_as_ch295_sets_it_up_and_shows_held_out():
    result = run_recipe("digits-minibatch")
    recipe = result.recipe
    assert (recipe.init, recipe.hidden, recipe.lr, recipe.batch_size, recipe.epochs) == (
        "he_normal", (128, 64), 0.01, 64, 100)
    assert result.network.n_inputs == 64 and "all 1797 images" in result.extra["trained on"]
    # the article: 0.98 training accuracy (two digits); seeds 0-3 give 0.975-0.982
    assert result.train_accuracy >= 0.97 and result.measured == result.train_accuracy
    assert 0.9 < result.test_accuracy < result.train_accuracy  # what the article did not show
    assert np.isfinite(result.history.history["loss"]).all()


def test_digits_fullbatch_as_the_articles_code_with_its_inf_explained():
    result = run_recipe("digits-fullbatch")
    recipe = result.recipe
    assert (recipe.init, recipe.lr, recipe.batch_size, recipe.epochs, recipe.hidden) == (
        "uniform", 0.01, None, 400, (100,))
    assert result.measured >= 0.988  # the article: 0.988 training accuracy by epoch 380
    assert np.isfinite(result.loss_max)  # the article: loss inf at epoch 0
    # the article's inf, reproduced from the same start: raw pixels times U(-1, 1) weights
    assert result.extra["textbook -log softmax at the start"] == "inf"
    assert float(result.extra["largest |logit| at the start"]) > 100
    assert np.isfinite(float(result.extra["nnscratch's loss at the start"]))
    report = result.report()
    log_lines = [line.split() for line in report.splitlines() if line.startswith("    ")]
    assert [int(line[0]) for line in log_lines if line[0].isdigit()] == list(range(0, 400, 20))
    # the article's log beside ours: the shipped numbers, then ours from the history
    at_380 = next(line for line in log_lines if line[0] == "380")
    assert float(at_380[1]) == 0.9881
    assert float(at_380[3]) == pytest.approx(result.history.history["accuracy"][380], abs=1e-4)


def test_the_shipped_article_log_is_what_the_articles_code_prints():
    """The full-batch article's log ships in the recipe; replaying the code it adapts (its seed,
    its draws, its epoch-0 activations in backprop) prints those very numbers."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import replay_fullbatch_article

    shipped = RECIPES["digits-fullbatch"].article_log
    replayed = replay_fullbatch_article.replay()
    assert [epoch for epoch, _, _ in shipped] == [epoch for epoch, _, _ in replayed]
    for (_, accuracy, loss), (_, accuracy_now, loss_now) in zip(shipped, replayed, strict=True):
        assert accuracy == round(accuracy_now, 4)
        assert loss == round(loss_now, 4)  # inf == inf at epoch 0
    assert shipped[0][2] == np.inf and shipped[-1][:2] == (380, 0.9881)


def test_the_articles_backprop_slip_costs_about_100_epochs():
    """What the recipe's note claims: from the article's start, the epoch-0 activations delay
    0.988 training accuracy from epoch 270 to 376."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import replay_fullbatch_article

    first = {}
    for fresh in (False, True):
        log = replay_fullbatch_article.replay(every=1, fresh=fresh)
        first[fresh] = next(epoch for epoch, accuracy, _ in log if accuracy >= 0.988)
    assert (first[False], first[True]) == (376, 270)


def test_the_article_split_is_scikit_learns_with_random_state_123():
    model_selection = pytest.importorskip("sklearn.model_selection")
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = sklearn_datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=0.3, shuffle=True, random_state=123)
    ours = ns.datasets.load_digits_as_the_article(raw_pixels=True)
    np.testing.assert_array_equal(ours[0], X_train)
    np.testing.assert_array_equal(ours[1], y_train)
    np.testing.assert_array_equal(ours[2], X_test)
    np.testing.assert_array_equal(ours[3], y_test)
    scaled = ns.datasets.load_digits_as_the_article(raw_pixels=False)
    np.testing.assert_array_equal(scaled[0] * 16, X_train)


def test_every_recipe_states_its_setup_and_its_articles_claim():
    assert set(RECIPES) == {"xor", "digits-minibatch", "digits-fullbatch", "mnist-per-sample",
                            "mnist-best", "fashion-mnist"}
    for recipe in RECIPES.values():
        assert recipe.article and recipe.describe().startswith(recipe.data)
        assert recipe.deviations  # "none", or each deviation with its reason


def test_recipe_list_shows_init_split_preprocessing_and_deviations(capsys):
    assert main(["recipe", "--list"]) == 0
    listed = capsys.readouterr().out
    for recipe in RECIPES.values():
        assert f"init {recipe.init or 'He normal'}" in listed
        assert recipe.preprocessing in listed and f"split: {recipe.split}" in listed
        assert f"deviations: {recipe.deviations}" in listed


def test_recipe_command_prints_the_comparison_and_saves_the_run(tmp_path, capsys):
    assert main(["recipe", "digits-fullbatch", "--verbose", "0", "--out",
                 str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "training accuracy at epoch 380" in out and "0.9880" in out
    assert (tmp_path / "run" / "model.npz").is_file()
    assert (tmp_path / "run" / "history.json").is_file()
    assert main(["recipe", "--list"]) == 0
    assert "mnist-per-sample" in capsys.readouterr().out
    assert main(["recipe", "nope"]) == 2


def test_explain_gives_each_equation_with_its_shapes_in_backprop_order():
    text = ns.MLP([64, 100, 10], seed=0, loss="cross_entropy").explain(n_samples=32)
    for line in ["h0 = x @ W0 + b0", "(32, 100) = (32, 64) @ (64, 100) + (100,)",
                 "h1 = max(h0, 0)", "dh2 = (softmax(h2) - Y) / n",
                 "dW2 = h1.T @ dh2", "(100, 10) = (100, 32) @ (32, 10)",
                 "dh0 = dh1 * [h0 > 0]", "dW0 = x.T @ dh0"]:
        assert line in text, line
    backward = text[text.index("Backward"):]
    assert backward.index("dW2") < backward.index("dh0 =") < backward.index("dW0")


def test_trace_shows_the_values_backprop_computes_and_leaves_the_network_alone():
    net = ns.MLP([2, 3, 2], activation="tanh", seed=0, loss="cross_entropy")
    before = net.get_weights()
    X, y = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32), np.array([1, 0])
    text = net.trace(X, y, lr=0.1)
    expected_loss = ns.CrossEntropy().forward(net.forward(X), y)
    assert f"L = {expected_loss:.4f}" in text
    net.forward(X)
    loss = ns.CrossEntropy()
    loss.forward(net.forward(X), y)
    net.backward(loss.backward())
    grad_b2 = np.array2string(net.layers[2].grads["b"], precision=4, suppress_small=True)
    assert f"db2 =\n    {grad_b2}" in text
    for mine, theirs in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("arguments, expected", [
    (["explain", "--layers", "64", "100", "10"], "dW0 = x.T @ dh0"),
    (["explain", "--layers", "2", "3", "2", "--trace", "--batch", "2"], "Update (P <- P - lr * dP)"),
    (["explain", "--layers", "4", "3", "--loss", "mse"], "dh0 = 2 (h0 - y) / (n k)"),
])
def test_explain_command(arguments, expected, capsys):
    assert main(arguments) == 0
    assert expected in capsys.readouterr().out
