"""The bridge from the articles' notation to nnscratch's: the same step, both ways, same numbers.

The articles keep one sample as a column vector and W of shape (out, in):
    z^l = W^l a^(l-1) + b^l,   a^l = phi(z^l)
and article 001 (after j0sephsasson's numpy-NN) backpropagates with
    grad_z = (layer.weights.T @ grad_z) * (prev_layer.preactivation > 0)
nnscratch keeps one sample per row and W of shape (in, out): z = x @ W + b, and splits that line
between Dense (g @ W.T) and ReLU (* [z > 0]). With W_nnscratch = W_article.T the two agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as ns


def article_step(weights, biases, x, label, lr):
    """One per-sample SGD step in the articles' notation: column vectors, W (out, in)."""
    a = x.reshape(-1, 1)
    activations, preactivations = [a], []
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = W @ a + b                                   # z^l = W^l a^(l-1) + b^l
        preactivations.append(z)
        if layer < len(weights) - 1:
            a = np.maximum(z, 0)                        # a^l = relu(z^l)
        else:
            a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()   # softmax
        activations.append(a)
    y = np.zeros_like(a)
    y[label] = 1.0
    grad_z = a - y                                      # softmax + cross-entropy: p - y
    new_weights, new_biases = [W.copy() for W in weights], [b.copy() for b in biases]
    for layer in range(len(weights) - 1, -1, -1):
        grad_W = grad_z @ activations[layer].T          # dC/dW^l = grad_z a^(l-1)^T
        new_weights[layer] -= lr * grad_W
        new_biases[layer] -= lr * grad_z
        if layer > 0:                                   # article 001's line:
            grad_z = (weights[layer].T @ grad_z) * (preactivations[layer - 1] > 0)
    return new_weights, new_biases, activations[-1]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sparse_input", [False, True])
def test_one_per_sample_sgd_step_agrees_with_the_articles_code(seed, sparse_input):
    rng = np.random.default_rng(seed)
    sizes = [6, 5, 4, 3]
    net = ns.MLP(sizes, seed=seed, dtype="float64", loss="cross_entropy")
    x = rng.standard_normal(6)
    if sparse_input:  # like an MNIST image: mostly zeros (nnscratch's one-sample fast form)
        x[rng.random(6) < 0.8] = 0.0
    label = int(rng.integers(0, 3))
    dense = [layer for layer in net.layers if isinstance(layer, ns.Dense)]
    weights = [layer.params["W"].T.copy() for layer in dense]          # (out, in)
    biases = [layer.params["b"].reshape(-1, 1).copy() for layer in dense]
    new_weights, new_biases, probabilities = article_step(weights, biases, x, label, lr=0.1)
    np.testing.assert_allclose(net.predict_proba(x[None, :])[0], probabilities[:, 0],
                               rtol=1e-12)
    net.fit(x[None, :], [label], loss="cross_entropy", optimizer=ns.SGD(lr=0.1), epochs=1,
            batch_size=1)
    for layer, W, b in zip(dense, new_weights, new_biases, strict=True):
        np.testing.assert_allclose(layer.params["W"], W.T, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.params["b"], b[:, 0], rtol=1e-12, atol=1e-15)


def test_the_articles_backward_line_is_denses_and_relus_backward_in_a_row():
    """grad_z(l-1) = (W^l.T @ grad_z(l)) * (z^(l-1) > 0), column form, equals
    ReLU.backward(Dense.backward(g)) in row form, with W_nnscratch = W^l.T."""
    rng = np.random.default_rng(0)
    W_article = rng.standard_normal((3, 5))                  # layer l: 5 inputs, 3 outputs
    z_previous = rng.standard_normal((5, 1))                 # pre-activation of layer l-1
    grad_z = rng.standard_normal((3, 1))
    article = (W_article.T @ grad_z) * (z_previous > 0)
    dense, relu = ns.Dense(5, 3), ns.ReLU()
    dense.initialize(rng, np.float64)
    dense.params["W"] = W_article.T.copy()
    relu.forward(z_previous.T)
    dense.forward(np.maximum(z_previous.T, 0))
    ours = relu.backward(dense.backward(grad_z.T))
    np.testing.assert_allclose(ours, article.T, rtol=1e-12)
