"""Replay the code the full-batch digits article adapts, to get back the article's training log.

    python tools/replay_fullbatch_article.py            # the article's log, every 20 epochs
    python tools/replay_fullbatch_article.py --fresh    # the same start, backprop corrected

The article ("Neural Networks II: The Math of NNs", 2025) adapts the `Network` class of
j0sephsasson's numpy-NN (`model/model.py`). This script is that algorithm written out again in
a few lines, with the same set-up:

- weights U(-1, 1) of shape (out, in), drawn with `np.random.seed(99)` as that code does (the
  legacy generator, here a local `RandomState(99)`: its draws are the article's), biases 0;
- raw pixels (0..16), scikit-learn's `train_test_split(test_size=0.3, random_state=123)`
  (nnscratch ships those indices: `load_digits_as_the_article`), [64, 100, 10];
- full-batch gradient descent, lr 0.01, 400 epochs; the accuracy and loss logged every 20
  epochs are those of the forward pass before that epoch's update;
- softmax without subtracting the largest logit, and loss = mean(-log p[true class]);
- the backward pass reads its activations from a list that grows every epoch but is always
  indexed from the start, so every epoch's gradients use the hidden activations and ReLU masks
  of epoch 0 with the current weights (`--fresh` uses the current epoch's, as backprop should).

Replayed, it reports 0.9881 training accuracy at epoch 380 and a loss of inf at epoch 0: the
article's figures. nnscratch's recipe ships this log (`recipes.ARTICLE_LOGS`) and a test checks
the shipped numbers against this replay.
"""

from __future__ import annotations

import argparse

import numpy as np

from nnscratch.datasets import load_digits_as_the_article

LAYER_SIZES = (64, 100, 10)


def replay(epochs: int = 400, every: int = 20, fresh: bool = False
           ) -> list[tuple[int, float, float]]:
    """(epoch, training accuracy, loss) every ``every`` epochs, as the article's code logs."""
    X, y, _, _ = load_digits_as_the_article(raw_pixels=True)
    X = X.astype(np.float64)
    legacy = np.random.RandomState(99)  # noqa: NPY002 - the article's own draws
    weights = [legacy.uniform(-1, 1, size=(n_out, n_in))
               for n_in, n_out in zip(LAYER_SIZES[:-1], LAYER_SIZES[1:], strict=True)]
    biases = [np.zeros((1, n_out)) for n_out in LAYER_SIZES[1:]]
    rows = np.arange(len(y))
    log = []
    cached = None
    for epoch in range(epochs):
        hidden_z = X @ weights[0].T + biases[0]
        hidden = np.maximum(0, hidden_z)
        logits = hidden @ weights[1].T + biases[1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            exp = np.exp(logits)
            probabilities = exp / exp.sum(axis=1, keepdims=True)
            loss = float(np.mean(-np.log(probabilities[rows, y])))
        if epoch % every == 0:
            log.append((epoch, float(np.mean(probabilities.argmax(axis=1) == y)), loss))
        if cached is None or fresh:
            cached = hidden, hidden_z
        cached_hidden, cached_z = cached
        grad_logits = probabilities.copy()
        grad_logits[rows, y] -= 1
        grad_logits /= len(y)
        grad_hidden = grad_logits @ weights[1]
        grad_hidden_z = np.where(cached_z <= 0, 0.0, grad_hidden)
        grads = [(grad_hidden_z.T @ X, grad_hidden_z.sum(axis=0, keepdims=True)),
                 (grad_logits.T @ cached_hidden, grad_logits.sum(axis=0, keepdims=True))]
        for W, b, (grad_W, grad_b) in zip(weights, biases, grads, strict=True):
            W -= 0.01 * grad_W
            b -= 0.01 * grad_b
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true",
                        help="use the current epoch's activations in backprop")
    args = parser.parse_args()
    print("EPOCH  ACCURACY  LOSS")
    for epoch, accuracy, loss in replay(fresh=args.fresh):
        print(f"{epoch:5d}  {accuracy:.4f}    {loss:.4f}")


if __name__ == "__main__":
    main()
