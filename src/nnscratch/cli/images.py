"""Image input for ``nnscratch predict``: a picture read as a model's row of pixels.

Any image Pillow reads, in any mode, becomes grey levels in [0, 1], resized to the model's
square input and inverted when it is dark on light (the data sets are light digits on dark).
A file too large to be a digit is refused unread.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from ..datasets import DataError
from .common import UsageError

MAX_IMAGE_PIXELS = 50_000_000  # a 7,000 x 7,000 photo; a larger one is refused unread


def read_image(path: Path, n_features: int, invert: str) -> tuple[np.ndarray, tuple[int, int]]:
    """A grey image resized to the model's square input, scaled to [0, 1], light on dark,
    and the image's own (width, height).

    16-bit greyscale is scaled by its full range, and a drawing on a transparent background
    is laid on a background that contrasts with its strokes before it is turned grey.
    """
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise UsageError(f"this model takes {n_features} features, which is not a square "
                         "image: give .npy rows instead.")
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("reading images needs Pillow: pip install 'nnscratch[plot]'") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DataError(f"{path} is {width} x {height} pixels, more than the "
                                    f"{MAX_IMAGE_PIXELS:,} read for a prediction. Shrink it "
                                    "first.")
                grey = _grey_pixels(image)
            resized = Image.fromarray(grey, mode="F").resize((side, side),
                                                             Image.Resampling.LANCZOS)
            pixels = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    except DataError:
        raise
    except (Exception, Image.DecompressionBombWarning) as error:  # Pillow raises many kinds
        raise DataError(f"{path} is not an image Pillow can read ({type(error).__name__}: "
                        f"{error}). Give a PNG or JPEG, or .npy rows.") from None
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        pixels = 1.0 - pixels
    return pixels.ravel(), (width, height)


def _grey_pixels(image: object) -> np.ndarray:
    """The image as float32 grey levels in [0, 1]."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit grey: 0..65535
        return np.clip(np.asarray(image, dtype=np.float64) / 65535.0, 0, 1).astype(np.float32)
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        return np.clip(values / max(1.0, float(values.max(initial=0))), 0, 1)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha > 0.5
    ink = float(luminance[opaque].mean()) if opaque.any() else 0.0
    background = 1.0 if ink < 0.5 else 0.0  # dark strokes on white, light strokes on black
    return (alpha * luminance + (1.0 - alpha) * background).astype(np.float32)

