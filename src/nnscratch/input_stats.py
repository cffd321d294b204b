"""How far an input lies from the data a network was trained on.

A run saves these statistics of its training rows with the model (every run: the built-in data
sets and the user's own tables alike), and ``nnscratch predict`` reports each new row's distance
beside them, with a warning when a row is unlike anything the network has seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class InputStats:
    """How far a row is from the training rows: the root-mean-square z-score over features,

        distance(x) = sqrt(mean_j ((x_j - mean_j) / s_j)^2),   s_j = max(std_j, 0.1 mean(std)),

    (the floor keeps a feature that never varied in training, such as an MNIST border pixel,
    from making any change in it look infinitely far), beside ``typical``: the distance that
    99% of the training rows stay within. A new row much farther than that is unlike anything
    the network was trained on, and its prediction deserves little trust."""

    mean: np.ndarray
    spread: np.ndarray
    typical: float

    @classmethod
    def fit(cls, X: np.ndarray, chunk: int = 4096) -> InputStats:
        """mean and std per feature in two passes of ``chunk`` rows (float64 sums; memory
        bounded for any X), then the 99th percentile of the training rows' distances."""
        X = np.asarray(X)
        mean = sum(X[start:start + chunk].sum(axis=0, dtype=np.float64)
                   for start in range(0, len(X), chunk)) / len(X)
        variance = sum(((X[start:start + chunk] - mean) ** 2).sum(axis=0)
                       for start in range(0, len(X), chunk)) / len(X)
        std = np.sqrt(variance)
        spread = np.maximum(std, 0.1 * std.mean() if std.mean() > 0 else 1.0)
        stats = cls(mean, spread, 0.0)
        stats.typical = float(np.percentile(stats.distance(X, chunk), 99))
        return stats

    def distance(self, X: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """One distance per row, ``chunk`` rows at a time (memory bounded for any X)."""
        X = np.asarray(X)
        distances = np.empty(len(X))
        for start in range(0, len(X), chunk):
            z = (X[start:start + chunk].astype(np.float64) - self.mean) / self.spread
            distances[start:start + chunk] = np.sqrt(np.mean(z ** 2, axis=1))
        return distances

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "spread": self.spread.tolist(),
                "typical": self.typical}

    @classmethod
    def from_dict(cls, record: Any, n_features: int) -> InputStats | None:
        """The statistics saved with a model, or None if absent or malformed."""
        try:
            mean = np.asarray(record["mean"], dtype=np.float64)
            spread = np.asarray(record["spread"], dtype=np.float64)
            typical = float(record["typical"])
        except (KeyError, TypeError, ValueError):
            return None
        if mean.shape != (n_features,) or spread.shape != mean.shape or \
                not (np.isfinite(spread) & (spread > 0)).all() or not np.isfinite(mean).all() \
                or not np.isfinite(typical):
            return None
        return cls(mean, spread, typical)
