"""Correct answers to every exercise, rows notation (tests/test_learn.py writes each function
into the learner's file it belongs to)."""

import numpy as np

NOTATION = "rows"


def neuron(x, w, b):
    return float(np.dot(x, w) + b)


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.exp(np.minimum(z, 0)) / (1 + np.exp(-np.abs(z)))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)


def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0)


def relu_derivative(z):
    return (np.asarray(z) > 0).astype(float)


def softmax(z):
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def mse(y_pred, y):
    return float(np.mean((y_pred - y) ** 2))


def mse_gradient(y_pred, y):
    return 2 * (y_pred - y) / y_pred.size


def cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(labels)), labels]))


def cross_entropy_gradient(logits, labels):
    p = softmax(logits)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def dense_forward(x, W, b):
    return x @ W + b


def dense_backward(x, W, grad_z):
    return x.T @ grad_z, grad_z.sum(axis=0), grad_z @ W.T


def sgd_step(param, grad, lr):
    return param - lr * grad


def train_step(params, x, labels, lr):
    h_in = dense_forward(x, params["W1"], params["b1"])
    h = relu(h_in)
    logits = dense_forward(h, params["W2"], params["b2"])
    loss = cross_entropy(logits, labels)
    grad_logits = cross_entropy_gradient(logits, labels)
    grad_W2, grad_b2, grad_h = dense_backward(h, params["W2"], grad_logits)
    grad_W1, grad_b1, _ = dense_backward(x, params["W1"], grad_h * relu_derivative(h_in))
    grads = {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
    return {key: sgd_step(params[key], grads[key], lr) for key in params}, loss


def train(X, y, seed):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(0, np.sqrt(2 / 64), (64, 64)), "b1": np.zeros(64),
              "W2": rng.normal(0, np.sqrt(1 / 64), (64, 10)), "b2": np.zeros(10)}
    for _ in range(30):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 32):
            rows = order[start:start + 32]
            params, _ = train_step(params, X[rows], y[rows], 0.1)

    def predict(X_new):
        h = relu(dense_forward(X_new, params["W1"], params["b1"]))
        return dense_forward(h, params["W2"], params["b2"]).argmax(axis=1)

    return predict
