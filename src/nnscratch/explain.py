"""Explaining a network to a learner: its equations with their shapes, and one step's numbers.

    explain(network, n_samples)   each layer's forward equation, then the backward equations in
                                  the order backpropagation runs them, with the array shapes
    trace(network, X, y)          one training step on a small batch: every intermediate array,
                                  the loss, every gradient and the update, with their values

The names follow the layers' positions: x is the input, h<i> the output of layer i, W<i> and
b<i> its parameters (network.named_parameters() calls them "<i>.W" and "<i>.b"), and d<name>
the gradient of the loss with respect to <name>. Both functions return text; nothing prints.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ._validation import check_int
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid
from .fit_data import prepare_data
from .layers import Dense, Dropout, Layer
from .losses import MSE, BinaryCrossEntropy, CrossEntropy, Loss
from .training import resolve_loss

#: forward and backward equation of each parameter-free layer: {a} is its input, {h} its output
ELEMENTWISE = {
    ReLU: ("{h} = max({a}, 0)", "d{a} = d{h} * [{a} > 0]"),
    LeakyReLU: ("{h} = max({a}, alpha {a})", "d{a} = d{h} * (1 where {a} > 0, else alpha)"),
    Sigmoid: ("{h} = 1 / (1 + exp(-{a}))", "d{a} = d{h} * {h} * (1 - {h})"),
    Tanh: ("{h} = tanh({a})", "d{a} = d{h} * (1 - {h}^2)"),
    Softmax: ("{h} = exp({a}) / sum_k exp({a}_k), per row",
              "d{a} = {h} * (d{h} - sum_k d{h}_k {h}_k), per row"),
    Identity: ("{h} = {a}", "d{a} = d{h}"),
    Dropout: ("{h} = {a} * mask / (1 - rate)   (training only)",
              "d{a} = d{h} * mask / (1 - rate)"),
}

LOSS_EQUATIONS = {
    CrossEntropy: ("L = mean_i [ logsumexp({z}_i) - {z}_i,y_i ]",
                   "d{z} = (softmax({z}) - Y) / n        (Y: one-hot targets)"),
    BinaryCrossEntropy: ("L = mean [ max({z}, 0) - {z} y + log(1 + exp(-|{z}|)) ]",
                         "d{z} = (sigmoid({z}) - y) / (n k)"),
    MSE: ("L = mean (({z} - y)^2)", "d{z} = 2 ({z} - y) / (n k)"),
}


def explain(network: Any, n_samples: int = 32, loss: Loss | None = None) -> str:
    """Every forward and backward equation of ``network`` for a batch of ``n_samples``."""
    n_samples = check_int(n_samples, "n_samples")
    loss = loss if loss is not None else network.loss
    names = _names(network)
    widths = _widths(network)
    lines = [f"{type(network).__name__} of {len(network.layers)} layers, "
             f"batch of n = {n_samples}; dX means dL/dX", "", "Forward, from the input:"]
    for index, layer in enumerate(network.layers):
        equation, shape = _forward(layer, names[index], names[index + 1], n_samples,
                                   widths[index])
        lines.append(_row(f"layer {index} {type(layer).__name__}", equation, shape))
    output = names[-1]
    if loss is not None:
        forward, _ = LOSS_EQUATIONS.get(type(loss), ("L = loss({z}, y)", ""))
        lines.append(_row(f"loss {type(loss).__name__}", forward.format(z=output), "scalar"))
    lines += ["", "Backward, from the loss (the order backpropagation runs):"]
    if loss is not None:
        _, backward = LOSS_EQUATIONS.get(type(loss), ("", "d{z} = loss.backward()"))
        lines.append(_row(f"loss {type(loss).__name__}", backward.format(z=output),
                          f"({n_samples}, {widths[-1]})"))
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        for number, (equation, shape) in enumerate(
                _backward(layer, index, names[index], names[index + 1], n_samples,
                          widths[index])):
            label = f"layer {index} {type(layer).__name__}" if number == 0 else ""
            lines.append(_row(label, equation, shape))
    lines += ["", "Update, for every parameter P (plain SGD): P <- P - lr * dP"]
    return "\n".join(lines)


def trace(network: Any, X: Any, y: Any, loss: Loss | str | None = None, lr: float = 0.1,
          precision: int = 4) -> str:
    """One SGD step of a copy of ``network`` on (X, y), with every number, to redo by hand.

    Prints the inputs and the targets, every parameter before the step, each layer's output,
    the probabilities the loss computes (softmax or sigmoid), the loss, every gradient, and
    each parameter after the update, in full (no "..." however large). Keep the batch tiny
    (two to four samples of a few features) so that it fits on a page. The network itself is
    not changed.
    """
    loss = resolve_loss(network, loss)
    copy = network.copy()
    X, targets = prepare_data(copy, loss, X, y)
    names = _names(copy)

    def show(name: str, array: Any) -> str:
        text = np.array2string(np.asarray(array), precision=precision, suppress_small=True,
                               max_line_width=100, threshold=sys.maxsize)
        return f"{name} =\n" + "\n".join(f"    {line}" for line in text.splitlines())

    lines = [f"One training step on {len(X)} samples (SGD, lr = {lr:g})", "",
             "Data:", show("x", X), show("y", targets), "", "Parameters before the step:"]
    for index, layer in enumerate(copy.layers):
        lines += [show(f"{key}{index}", param) for key, param in layer.params.items()]
    lines += ["", "Forward:"]
    outputs = X
    for index, layer in enumerate(copy.layers):
        outputs = layer.forward(outputs, training=False)
        lines.append(show(f"{names[index + 1]}  (layer {index} {type(layer).__name__})",
                          outputs))
    value = loss.forward(outputs, targets)
    probabilities = getattr(loss, "probs", None)
    if isinstance(loss, CrossEntropy) and probabilities is not None:
        lines.append(show(f"p = softmax({names[-1]})", probabilities))
    elif isinstance(loss, BinaryCrossEntropy):
        lines.append(show(f"p = sigmoid({names[-1]})", sigmoid(outputs)))
    lines += [f"L = {value:.{precision}f}   ({type(loss).__name__}, the mean over the batch)",
              "", "Backward:"]
    grad = loss.backward()
    lines.append(show(f"d{names[-1]}", grad))
    for index in range(len(copy.layers) - 1, -1, -1):
        layer = copy.layers[index]
        grad = layer.backward(grad)
        for key, param_grad in layer.grads.items():
            lines.append(show(f"d{key}{index}", param_grad))
        lines.append(show(f"d{names[index]}", grad))
    lines += ["", "Update (P <- P - lr * dP):"]
    for index, layer in enumerate(copy.layers):
        for key, param in layer.params.items():
            lines.append(show(f"{key}{index} after", param - lr * layer.grads[key]))
    return "\n".join(lines)


def _names(network: Any) -> list[str]:
    """x for the input, h<i> for the output of layer i."""
    return ["x"] + [f"h{index}" for index in range(len(network.layers))]


def _widths(network: Any) -> list[int]:
    widths = [network.n_inputs]
    for layer in network.layers:
        widths.append(layer.output_features(widths[-1]))
    return widths


def _forward(layer: Layer, a: str, h: str, n: int, width: int) -> tuple[str, str]:
    if isinstance(layer, Dense):
        i = h[1:]
        return (f"{h} = {a} @ W{i} + b{i}",
                f"({n}, {layer.out_features}) = ({n}, {layer.in_features}) @ "
                f"({layer.in_features}, {layer.out_features}) + ({layer.out_features},)")
    template = ELEMENTWISE.get(type(layer), ("{h} = " + type(layer).__name__ + "({a})", ""))[0]
    return template.format(a=a, h=h), f"({n}, {width})"


def _backward(layer: Layer, index: int, a: str, h: str, n: int,
              width: int) -> list[tuple[str, str]]:
    if isinstance(layer, Dense):
        fan_in, fan_out = layer.in_features, layer.out_features
        rows = [(f"dW{index} = {a}.T @ d{h}",
                 f"({fan_in}, {fan_out}) = ({fan_in}, {n}) @ ({n}, {fan_out})"),
                (f"db{index} = sum of d{h} over the batch", f"({fan_out},)")]
        if index == 0:
            rows.append(("(dx = dh0 @ W0.T is not needed: x is the data)", ""))
        else:
            rows.append((f"d{a} = d{h} @ W{index}.T",
                         f"({n}, {fan_in}) = ({n}, {fan_out}) @ ({fan_out}, {fan_in})"))
        return rows
    if index == 0:
        return [("(dx is not needed: x is the data)", "")]
    template = ELEMENTWISE.get(type(layer),
                               ("", "d{a} = " + type(layer).__name__ + ".backward(d{h})"))[1]
    return [(template.format(a=a, h=h), f"({n}, {width})")]


def _row(label: str, equation: str, shape: str) -> str:
    return f"  {label:<22} {equation:<44} {shape}".rstrip()
