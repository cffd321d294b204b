"""Data sets, each returned as NumPy arrays ready for a network.

Loaders of data sets with a test split return ``(X_train, y_train, X_test, y_test)``: X as
float32 in [0, 1], one row per sample; y as int64 labels.

    load_xor()             the four XOR points (X, y)
    load_digits()          1,797 8x8 handwritten digits, shipped inside the package
    load_digits_as_the_article()   the same, split and scaled as the full-batch article does
    load_mnist()           70,000 28x28 handwritten digits (downloaded once, checksummed)
    load_fashion_mnist()   70,000 28x28 clothing images (likewise)
"""

from .builtin import load_digits, load_digits_as_the_article, load_xor
from .download import DataError, data_root
from .mnist import DATA_SETS, download_dataset, load_fashion_mnist, load_mnist

__all__ = ["DATA_SETS", "DataError", "data_root", "download_dataset", "load_digits",
           "load_digits_as_the_article",
           "load_fashion_mnist", "load_mnist", "load_xor"]
