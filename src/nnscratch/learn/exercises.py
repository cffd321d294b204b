"""The ladder of exercises: what each function computes, in the learner's notation.

Two notations, as the articles and nnscratch write them:

    rows      one sample per row (nnscratch's): x (n, in), W (in, out), b (out,), z = x W + b
    columns   one sample per column (the articles'): a (in, n), W (out, in), b (out, 1),
              z = W a + b

``write_ladder(folder, notation)`` writes one file per exercise, each function a stub with the
equation, the shapes, a hint and the section of the docs to read, and a README; it never
overwrites a file that is there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NOTATIONS = ("rows", "columns")


@dataclass(frozen=True)
class Function:
    """One function the learner writes: its parameters, what it computes in each notation
    (equation and shapes), a hint, and where nnscratch computes the same."""

    name: str
    parameters: tuple[str, ...]
    equation: dict[str, str]
    hint: str
    lives_in: str

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.parameters)})"


@dataclass(frozen=True)
class Exercise:
    """One file of the ladder: a numbered step, its functions and the docs section to read."""

    number: int
    stem: str
    title: str
    docs: str
    functions: tuple[Function, ...]

    @property
    def file_name(self) -> str:
        return f"ex{self.number:02d}_{self.stem}.py"


def _both(text: str) -> dict[str, str]:
    return {"rows": text, "columns": text}


EXERCISES = (
    Exercise(1, "neuron", "One neuron", "docs/walkthrough.md, section 1", (
        Function("neuron", ("x", "w", "b"), _both(
            "z = sum_i w_i x_i + b\n    x: (in,), w: (in,), b: a number; returns a number"),
            "One dot product, then the bias.", "nnscratch.layers.Dense.forward"),
    )),
    Exercise(2, "activations", "Activations and their derivatives",
             "docs/walkthrough.md, section 3", (
        Function("sigmoid", ("z",), _both(
            "sigma(z) = 1 / (1 + exp(-z)), entry by entry; any shape\n"
            "    it must stay finite, without overflow warnings, for z = -1000 or 1000"),
            "exp(-z) overflows for large negative z: use exp(min(z, 0)) / (1 + exp(-|z|)).",
            "nnscratch.activations.sigmoid"),
        Function("sigmoid_derivative", ("z",), _both(
            "sigma'(z) = sigma(z) (1 - sigma(z)), evaluated at z (not at sigma(z))"),
            "Compute s = sigmoid(z) first.", "nnscratch.activations.sigmoid_derivative"),
        Function("tanh_derivative", ("z",), _both(
            "tanh'(z) = 1 - tanh(z)^2, evaluated at z"), "np.tanh gives tanh(z).",
            "nnscratch.activations.tanh_derivative"),
        Function("relu", ("z",), _both("relu(z) = max(z, 0), entry by entry"),
                 "np.maximum compares entry by entry.", "nnscratch.activations.relu"),
        Function("relu_derivative", ("z",), _both(
            "relu'(z) = 1 where z > 0, else 0 (at exactly 0 either is accepted)"),
            "A comparison gives booleans; turn them into floats.",
            "nnscratch.activations.relu_derivative"),
    )),
    Exercise(3, "softmax", "Softmax", "docs/softmax-cross-entropy.md", (
        Function("softmax", ("z",), {
            "rows": "p_k = exp(z_k) / sum_j exp(z_j), for each row of z (n, k); returns (n, k)\n"
                    "    finite for entries up to 1e4 in size",
            "columns": "p_k = exp(z_k) / sum_j exp(z_j), for each column of z (k, n); returns "
                       "(k, n)\n    finite for entries up to 1e4 in size"},
            "Subtract each sample's largest entry first: the result is the same, and no exp "
            "overflows.", "nnscratch.activations.softmax"),
    )),
    Exercise(4, "losses", "Losses and their gradients", "docs/softmax-cross-entropy.md", (
        Function("mse", ("y_pred", "y"), _both(
            "L = mean of (y_pred - y)^2 over every entry; returns a number"),
            "The mean over the batch and the outputs both.", "nnscratch.losses.MSE.forward"),
        Function("mse_gradient", ("y_pred", "y"), _both(
            "dL/dy_pred = 2 (y_pred - y) / (the number of entries); the shape of y_pred"),
            "Every entry of the mean has its own share.", "nnscratch.losses.MSE.backward"),
        Function("cross_entropy", ("logits", "labels"), {
            "rows": "L = mean over samples of -log softmax(logits)[label]\n"
                    "    logits: (n, k), labels: (n,) whole numbers; returns a number",
            "columns": "L = mean over samples of -log softmax(logits)[label]\n"
                       "    logits: (k, n), labels: (n,) whole numbers; returns a number"},
            "log softmax(z)_y = z_y - max(z) - log(sum_j exp(z_j - max(z))): never log(0).",
            "nnscratch.losses.CrossEntropy.forward"),
        Function("cross_entropy_gradient", ("logits", "labels"), {
            "rows": "dL/dlogits = (softmax(logits) - onehot(labels)) / n; (n, k)",
            "columns": "dL/dlogits = (softmax(logits) - onehot(labels)) / n; (k, n)"},
            "p - y, for the mean: divided by the batch size.",
            "nnscratch.losses.CrossEntropy.backward"),
    )),
    Exercise(5, "dense", "A dense layer, forward and backward", "docs/walkthrough.md, section 6", (
        Function("dense_forward", ("x", "W", "b"), {
            "rows": "z = x W + b;  x: (n, in), W: (in, out), b: (out,); returns (n, out)",
            "columns": "z = W a + b;  a: (in, n), W: (out, in), b: (out, 1); returns (out, n)"},
            "One matrix product and the bias, broadcast over the samples.",
            "nnscratch.layers.Dense.forward"),
        Function("dense_backward", ("x", "W", "grad_z"), {
            "rows": "grad_W = x^T g (in, out);  grad_b = sum of g over the samples (out,);\n"
                    "    grad_x = g W^T (n, in);  returns (grad_W, grad_b, grad_x)",
            "columns": "grad_W = g a^T (out, in);  grad_b = sum of g over the samples (out, 1);"
                       "\n    grad_a = W^T g (in, n);  returns (grad_W, grad_b, grad_a)"},
            "Each gradient has the shape of what it is the gradient of.",
            "nnscratch.layers.Dense.backward"),
    )),
    Exercise(6, "sgd", "A gradient-descent step", "docs/walkthrough.md, section 7", (
        Function("sgd_step", ("param", "grad", "lr"), _both(
            "param <- param - lr grad; returns the new parameter (any shape)"),
            "Against the gradient: downhill.", "nnscratch.optim.SGD.update"),
    )),
    Exercise(7, "train_step", "One training step of a 2-layer network",
             "docs/walkthrough.md, sections 5 to 7", (
        Function("train_step", ("params", "x", "labels", "lr"), {
            "rows": "params: W1 (in, hidden), b1 (hidden,), W2 (hidden, k), b2 (k,); x: (n, in)"
                    "\n    h = relu(x W1 + b1); L = cross_entropy(h W2 + b2, labels); one SGD "
                    "step on\n    every parameter; returns (new params, L before the step)",
            "columns": "params: W1 (hidden, in), b1 (hidden, 1), W2 (k, hidden), b2 (k, 1); x:"
                       " (in, n)\n    h = relu(W1 x + b1); L = cross_entropy(W2 h + b2, labels);"
                       " one SGD step on\n    every parameter; returns (new params, L before "
                       "the step)"},
            "Use your functions of the exercises before: forward, the loss, backward, sgd_step.",
            "nnscratch.training.train_step"),
    )),
    Exercise(8, "train", "Train on the 8x8 digits", "docs/walkthrough.md", (
        Function("train", ("X", "y", "seed"), {
            "rows": "X: (n, 64) digits in [0, 1], y: (n,) labels 0-9; returns predict(X) -> "
                    "labels\n    checked on held-out digits: at least 0.90 accuracy",
            "columns": "X: (64, n) digits in [0, 1], y: (n,) labels 0-9; returns predict(X) "
                       "-> labels\n    checked on held-out digits: at least 0.90 accuracy"},
            "Your train_step in a loop over mini-batches; draw with "
            "np.random.default_rng(seed).", "nnscratch.network.Sequential.fit"),
    )),
)

FUNCTIONS = {function.name: function for exercise in EXERCISES
             for function in exercise.functions}


def stub(exercise: Exercise, notation: str) -> str:
    """The text of one exercise file: a docstring, then each function as a stub."""
    lines = [f'"""Exercise {exercise.number}: {exercise.title} ({notation} notation).',
             "", f"Read first: {exercise.docs}.",
             "Check your answers with:  nnscratch check .", '"""', "",
             "import numpy as np", "", f'NOTATION = "{notation}"', ""]
    for function in exercise.functions:
        lines += ["", f"def {function.signature()}:",
                  f'    """{function.equation[notation]}',
                  "", f"    Hint: {function.hint}", '    """',
                  "    raise NotImplementedError", ""]
    return "\n".join(lines)


README = """# Exercises: a network you write yourself

Each file is one step of the ladder; fill in each function (they raise NotImplementedError
until you do), then run

    nnscratch check .

It checks each function against nnscratch's own equations on random inputs (a batch of one,
larger batches, entries large enough to overflow a naive form) and says, for each: passed, not
started, or wrong, with the first mismatch and, when your answer matches a known slip (a
transposed result, a sum instead of a mean, a wrong sign, a derivative taken at the activation,
an overflow, log(0)), what it looks like. When a function passes, it shows where nnscratch
computes the same, to compare. `nnscratch check ex02_activations.py` checks one file.

Notation: {notation} ({meaning}).

{ladder}
"""


def write_ladder(folder: str | os.PathLike, notation: str = "rows") -> list[Path]:
    """Write the exercise files and a README into ``folder`` (created if needed); refuse,
    naming them, if any of those files is already there. Returns the files written."""
    if notation not in NOTATIONS:
        raise ValueError(f"notation must be rows or columns; got {notation!r}.")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder: give a folder for the "
                              "exercises.")
    texts = {exercise.file_name: stub(exercise, notation) for exercise in EXERCISES}
    meaning = ("one sample per row: x (n, in), W (in, out), z = x W + b" if notation == "rows"
               else "one sample per column: a (in, n), W (out, in), z = W a + b")
    ladder = "\n".join(f"{exercise.number}. `{exercise.file_name}`: {exercise.title} "
                       f"({', '.join(f.name for f in exercise.functions)})"
                       for exercise in EXERCISES)
    texts["README.md"] = README.format(notation=notation, meaning=meaning, ladder=ladder)
    there = sorted(name for name in texts if (folder / name).exists())
    if there:
        raise FileExistsError(f"{folder} already holds {', '.join(there)}: your work is not "
                              "overwritten. Give another folder, or move those files away.")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        with open(folder / name, "x", encoding="utf-8") as file:  # never replaces a file
            file.write(text)
        written.append(folder / name)
    return written
