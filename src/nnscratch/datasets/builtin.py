"""The data sets that ship with nnscratch and need neither a download nor scikit-learn.

``load_digits`` reads ``data/digits.npz``: the 1,797 8x8 digit images that scikit-learn also
ships (UCI "Optical Recognition of Handwritten Digits", CC BY 4.0; see data/DIGITS_README.md),
in scikit-learn's order. ``load_digits_as_the_article`` adds
``data/digits_split_random_state_123.npz``: the rows that scikit-learn's
``train_test_split(test_size=0.3, shuffle=True, random_state=123)`` picks, stored rather than
redrawn (they come from NumPy's legacy RandomState, which nnscratch does not use).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .._validation import check_float, check_int, fail


def load_xor(repeats: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: X = the four corners of the unit square, y = x1 XOR x2.

    ``repeats`` tiles the four points that many times (the article tiles them 100 times to make
    mini-batches). Returns X (4 * repeats, 2) float32 and y (4 * repeats,) int64.
    """
    repeats = check_int(repeats, "repeats")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    labels = np.array([0, 1, 1, 0], dtype=np.int64)
    return np.tile(corners, (repeats, 1)), np.tile(labels, repeats)


def load_digits(
    test_size: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits, split into training and test sets.

    Parameters
    ----------
    test_size : float
        The fraction of each class held out for testing (the split is stratified, so every digit
        is represented in proportion on both sides).
    seed : int
        Seeds the split.

    Returns
    -------
    X_train, y_train, X_test, y_test
        X: float32 (n, 64), pixels / 16 so in [0, 1], each row an 8x8 image read row by row;
        y: int64 digits 0..9. With the defaults, 1,257 training and 540 test images.
    """
    test_size = check_float(test_size, "test_size", 0.0, 1.0, high_inclusive=False)
    seed = check_int(seed, "seed", minimum=0)
    X, y = _digits()
    train_rows, test_rows = stratified_split(y, test_size, np.random.default_rng(seed))
    return X[train_rows], y[train_rows], X[test_rows], y[test_rows]


def load_digits_as_the_article(
    raw_pixels: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits split as the full-batch article splits them: scikit-learn's
    ``train_test_split(test_size=0.3, shuffle=True, random_state=123)``, 1,257 training and
    540 test images, in that function's order. With ``raw_pixels`` X holds the pixel values
    0..16 unscaled, as the article feeds them; else pixels / 16, as load_digits gives."""
    X_all, y_all = _digits()
    path = resources.files(__package__).joinpath("data", "digits_split_random_state_123.npz")
    with path.open("rb") as file, np.load(file, allow_pickle=False) as archive:
        train_rows, test_rows = archive["train"].astype(np.int64), archive["test"].astype(np.int64)
    X = X_all * np.float32(16) if raw_pixels else X_all
    return X[train_rows], y_all[train_rows], X[test_rows], y_all[test_rows]


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images (float32, pixels / 16) and their labels, in scikit-learn's order."""
    path = resources.files(__package__).joinpath("data", "digits.npz")
    with path.open("rb") as file, np.load(file, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    return images.astype(np.float32) / 16.0, labels.astype(np.int64)


def stratified_split(
    labels: np.ndarray, test_size: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) holding out ``test_size`` of each class, in shuffled order."""
    test_parts = []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        test_parts.append(rows[:round(len(rows) * test_size)])
    test_rows = rng.permutation(np.concatenate(test_parts))
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_rows] = True
    train_rows = rng.permutation(np.flatnonzero(~is_test))
    if len(train_rows) == 0 or len(test_rows) == 0:
        fail("test_size", "a fraction that leaves samples on both sides of the split", test_size)
    return train_rows, test_rows
