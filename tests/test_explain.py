"""explain and trace: the printed step can be redone by hand. A test reads only the printout,
recomputes every number from the printed inputs, targets and weights with the equations, and
checks each printed array against it."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import main

PRINTED_PRECISION = 4


def parse(printout: str) -> dict[str, np.ndarray]:
    """name -> array for every "name =" block of the printout, and "L" for the loss."""
    arrays: dict[str, np.ndarray] = {}
    blocks = re.split(r"\n(?=\S[^\n]* =\n)", printout)
    for block in blocks:
        header, _, body = block.partition(" =\n")
        name = header.strip().splitlines()[-1].split("  (")[0].strip()
        rows = [[float(number) for number in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", line)]
                for line in body.splitlines() if line.startswith("    ")]
        if rows:
            array = np.array(rows)
            arrays[name] = array[0] if body.strip().startswith("[") and \
                not body.strip().startswith("[[") else array
    arrays["L"] = np.array(float(re.search(r"^L = (\S+)", printout, re.M).group(1)))
    return arrays


def test_cli_trace_default_is_tiny_and_complete(capsys):
    assert main(["explain", "--trace"]) == 0
    printout = capsys.readouterr().out
    assert "..." not in printout and printout.startswith("One training step on 2 samples")
    for name in ("x =", "y =", "W0 =", "b0 =", "W2 =", "p = softmax(h2) =", "L = ",
                 "dW0 =", "db2 =", "W0 after =", "b2 after ="):
        assert name in printout


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_printed_number_can_be_recomputed_from_the_printout(seed, capsys):
    assert main(["explain", "--trace", "--seed", str(seed), "--layers", "3", "4", "3",
                 "--batch", "3"]) == 0
    printed = parse(capsys.readouterr().out)
    x, labels, lr = printed["x"], printed["y"].astype(int), 0.1
    W0, b0, W2, b2 = printed["W0"], printed["b0"], printed["W2"], printed["b2"]
    n = len(x)
    # forward: z = x W + b, ReLU, z = a W + b, softmax, cross-entropy
    h0 = x @ W0 + b0
    h1 = np.maximum(h0, 0)
    h2 = h1 @ W2 + b2
    p = np.exp(h2 - h2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.eye(3)[labels]
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    # backward: dz = (p - y) / n, then the chain rule layer by layer
    dh2 = (p - y) / n
    dW2, db2, dh1 = h1.T @ dh2, dh2.sum(axis=0), dh2 @ W2.T
    dh0 = dh1 * (h0 > 0)
    dW0, db0, dx = x.T @ dh0, dh0.sum(axis=0), dh0 @ W0.T
    expected = {"h0": h0, "h1": h1, "h2": h2, "p = softmax(h2)": p, "L": loss, "dh2": dh2,
                "dW2": dW2, "db2": db2, "dh1": dh1, "dh0": dh0, "dW0": dW0, "db0": db0,
                "dx": dx, "W0 after": W0 - lr * dW0, "b0 after": b0 - lr * db0,
                "W2 after": W2 - lr * dW2, "b2 after": b2 - lr * db2}
    tolerance = 3 * 10.0 ** -PRINTED_PRECISION  # the printout rounds every input it shows
    for name, value in expected.items():
        assert name in printed, name
        np.testing.assert_allclose(printed[name], value, atol=tolerance, err_msg=name)


def test_trace_leaves_the_network_unchanged():
    net = ns.MLP([3, 4, 3], seed=0, loss="cross_entropy")
    before = net.get_weights()
    net.trace(np.ones((2, 3)), [0, 2])
    for old, new in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
