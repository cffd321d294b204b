"""report.html: a run on one page that opens anywhere, offline.

The page holds everything itself: the settings and scores, the training curves and the
per-layer gradient norms as inline SVG, the confusion matrix as a table, and the test images
the network got wrong as inline PNGs (encoded here with zlib; no plotting library needed).
It loads nothing: no script, no font, no stylesheet from elsewhere. Every piece of text from
the run (settings, class names, file paths) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import confusion_matrix

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f")
MAX_MISTAKES = 24  # the wrong predictions shown, most confident first

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.8em; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.6em; text-align: left; }
table.settings td:first-child { color: #555; } table.settings td { border-bottom: 1px solid #eee; }
table.confusion td { text-align: right; min-width: 2.2em; border: 1px solid #ddd; }
figure { display: inline-block; margin: 0.3em; text-align: center; font-size: 0.8em; }
figure img { width: 64px; height: 64px; image-rendering: pixelated; border: 1px solid #ccc; }
svg text { font-size: 11px; fill: #333; }
"""


def render_report(config: dict[str, Any], history: dict[str, list[float]],
                  predicted_probabilities: np.ndarray | None = None,
                  X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                  class_names: Sequence[str] | None = None,
                  gradient_norms: dict[str, list[float]] | None = None,
                  images: bool = False, title: str = "nnscratch run") -> str:
    """The page as a string. ``predicted_probabilities`` (n_test, k) of a classifier give the
    confusion matrix and the mistakes; with ``images``, the mistakes are shown as pictures."""
    sections = [f"<h1>{_text(title)}</h1>", "<h2>Settings and scores</h2>",
                _settings_table(config), *_curves(history)]
    if predicted_probabilities is not None and y_test is not None and len(y_test):
        sections += _scored(predicted_probabilities, y_test, class_names,
                            X_test if images else None)
    if gradient_norms:
        sections += ["<h2>Gradient norm per layer, across training</h2>",
                     line_chart_svg(gradient_norms, "recorded step", "norm of the gradient",
                                    log_y=_all_positive(gradient_norms))]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_text(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _curves(history: dict[str, list[float]]) -> list[str]:
    """The loss and accuracy per epoch, training and validation in one chart each."""
    curves = {name: values for name, values in history.items() if name != "lr"}
    sections = []
    for measure in ("loss", "accuracy"):
        series = {name: curves[name] for name in (measure, f"val_{measure}") if name in curves}
        if series:
            sections += [f"<h2>{measure.capitalize()} per epoch</h2>",
                         line_chart_svg(series, "epoch", measure,
                                        log_y=measure == "loss" and _all_positive(series))]
    return sections


def _scored(probabilities: np.ndarray, y_test: np.ndarray, class_names: Sequence[str] | None,
            images: np.ndarray | None) -> list[str]:
    """A classifier's confusion matrix and its mistakes (as pictures, given ``images``)."""
    names = list(class_names or range(probabilities.shape[1]))
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, n_classes=len(names))
    wrong = np.flatnonzero(predicted != y_test)
    sections = ["<h2>Confusion matrix (rows: true class, columns: predicted)</h2>",
                _confusion_table(matrix, names),
                f"<h2>Mistakes: {len(wrong)} of {len(y_test)} test samples</h2>"]
    if images is not None and len(wrong):
        sections.append(_mistakes(images, y_test, probabilities, wrong, names))
    return sections


# ----------------------------------------------------------------------------------------------
# The pieces


@dataclass
class _Frame:
    """Where a chart's values land: the plot area inside the margins, x = 0 .. n_points - 1 and
    y = low .. high (log10 of the values for a log scale)."""

    width: int
    height: int
    low: float
    high: float
    n_points: int
    log_y: bool
    left: int = 60
    right: int = 150
    top: int = 15
    bottom: int = 40

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def x_at(self, index: float) -> float:
        return self.left + self.plot_width * (index / max(self.n_points - 1, 1))

    def y_at(self, value: float) -> float:
        return self.top + self.plot_height * (1 - (value - self.low) / (self.high - self.low))

    def scaled(self, value: float) -> float:
        return math.log10(value) if self.log_y else value


def line_chart_svg(series: dict[str, list[float]], x_label: str, y_label: str,
                   log_y: bool = False, width: int = 640, height: int = 300) -> str:
    """Lines (one per series, x = 1, 2, ...) with axes, ticks and a legend, as inline SVG."""
    finite = {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}
    every = np.concatenate([values[np.isfinite(values)] for values in finite.values()] or
                           [np.zeros(0)])
    if log_y:
        every = np.log10(every[every > 0])
    if every.size == 0:
        return "<p>(no finite values to draw)</p>"
    low, high = float(every.min()), float(every.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    frame = _Frame(width, height, low, high, max(len(values) for values in finite.values()),
                   log_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_text(y_label)} per {_text(x_label)}">',
             f'<rect x="{frame.left}" y="{frame.top}" width="{frame.plot_width}" '
             f'height="{frame.plot_height}" fill="none" stroke="#999"/>',
             *_axes(frame, x_label, y_label), *_lines(frame, finite), "</svg>"]
    return "\n".join(parts)


def _axes(frame: _Frame, x_label: str, y_label: str) -> list[str]:
    """Five ticks on y, about six on x (numbered from 1), and the two axis labels."""
    parts = []
    for tick in np.linspace(frame.low, frame.high, 5):
        label = f"{10 ** tick:.3g}" if frame.log_y else f"{tick:.3g}"
        parts.append(f'<text x="{frame.left - 5}" y="{frame.y_at(tick) + 4:.1f}" '
                     f'text-anchor="end">{label}</text>')
    for tick in sorted({round(value) for value in np.linspace(0, frame.n_points - 1, 6)}):
        parts.append(f'<text x="{frame.x_at(tick):.1f}" y="{frame.top + frame.plot_height + 15}" '
                     f'text-anchor="middle">{tick + 1}</text>')
    middle = frame.top + frame.plot_height / 2
    parts.append(f'<text x="{frame.left + frame.plot_width / 2:.0f}" y="{frame.height - 5}" '
                 f'text-anchor="middle">{_text(x_label)}</text>')
    parts.append(f'<text x="12" y="{middle:.0f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {middle:.0f})">'
                 f"{_text(y_label)}{' (log)' if frame.log_y else ''}</text>")
    return parts


def _lines(frame: _Frame, series: dict[str, np.ndarray]) -> list[str]:
    """One polyline per series (its finite values; positive ones on a log scale), and its
    entry in the legend."""
    parts = []
    legend_x = frame.width - frame.right
    for number, (name, values) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(f"{frame.x_at(index):.1f},{frame.y_at(frame.scaled(value)):.1f}"
                          for index, value in enumerate(values)
                          if math.isfinite(value) and (value > 0 or not frame.log_y))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{points}"/>')
        legend_y = frame.top + 12 + 16 * number
        parts.append(f'<line x1="{legend_x + 10}" y1="{legend_y - 4}" x2="{legend_x + 30}" '
                     f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{legend_x + 35}" y="{legend_y}">{_text(name)}</text>')
    return parts


def png_data_uri(image: np.ndarray) -> str:
    """A 2-D array of grey levels in [0, 1] as a data: URI of an 8-bit greyscale PNG."""
    pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)), 0.0, 1.0)
    rows = np.round(pixels * 255).astype(np.uint8)
    height, width = rows.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 on each row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _settings_table(config: dict[str, Any]) -> str:
    rows = []
    for name, value in flatten(config).items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        rows.append(f"<tr><td>{_text(name)}</td><td>{_text(shown)}</td></tr>")
    return '<table class="settings">' + "".join(rows) + "</table>"


def _confusion_table(matrix: np.ndarray, names: list[Any]) -> str:
    largest = max(int(matrix.max()), 1)
    header = "<tr><th></th>" + "".join(f"<th>{_text(name)}</th>" for name in names) + "</tr>"
    rows = [header]
    for true_class, row in enumerate(matrix):
        cells = []
        for predicted_class, count in enumerate(row):
            share = 85 * count / largest  # percent of the colour mixed into white
            colour = "#c0392b" if predicted_class != true_class and count else "#1f77b4"
            cells.append(f'<td style="background: color-mix(in srgb, {colour} '
                         f'{share:.0f}%, white)">{int(count)}</td>')
        rows.append(f"<tr><th>{_text(names[true_class])}</th>{''.join(cells)}</tr>")
    return '<table class="confusion">' + "".join(rows) + "</table>"


def _mistakes(X: np.ndarray, y: np.ndarray, probabilities: np.ndarray, wrong: np.ndarray,
              names: list[Any]) -> str:
    side = math.isqrt(X.shape[1])
    confidence = probabilities[wrong].max(axis=1)
    shown = wrong[np.argsort(-confidence)][:MAX_MISTAKES]
    figures = []
    for index in shown:
        image = X[index].reshape(side, side)
        span = float(image.max() - image.min()) or 1.0
        predicted = int(probabilities[index].argmax())
        caption = (f"true {names[int(y[index])]}, predicted {names[predicted]} "
                   f"({probabilities[index, predicted]:.2f})")
        figures.append(f'<figure><img alt="{_text(caption)}" '
                       f'src="{png_data_uri(1 - (image - image.min()) / span)}">'
                       f"<figcaption>{_text(caption)}</figcaption></figure>")
    more = f"<p>and {len(wrong) - len(shown)} more</p>" if len(wrong) > len(shown) else ""
    return "<div>" + "".join(figures) + "</div>" + more


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as one level: {"test_scores": {"loss": 1}} -> {"test_scores.loss": 1}."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _all_positive(series: dict[str, list[float]]) -> bool:
    values = [value for values in series.values() for value in values if math.isfinite(value)]
    return bool(values) and min(values) > 0


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)
