"""Data sets, each returned as NumPy arrays ready for a network.

Loaders of data sets with a test split return ``(X_train, y_train, X_test, y_test)``: X as
float32 in [0, 1], one row per sample; y as int64 labels.

    load_xor()       the four XOR points (X, y)
    load_digits()    1,797 8x8 handwritten digits, shipped inside the package
"""

from .builtin import load_digits, load_xor

__all__ = ["load_digits", "load_xor"]
