"""report.html: one self-contained page per run, with nothing fetched from anywhere."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import numpy as np
import pytest

from nnscratch.cli import main
from nnscratch.report import png_data_uri, render_report

FETCHED = re.compile(r"<(?:script|link|img|iframe|source|audio|video|embed|object|image)\b"
                     r"[^>]*?\b(?:src|href|data)\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


def decode_png(uri: str) -> np.ndarray:
    """The grey levels of an 8-bit greyscale PNG data URI (our own encoder's kind)."""
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    position, idat = 8, b""
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        crc = struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0]
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    assert (raw[:, 0] == 0).all()  # filter type 0
    return raw[:, 1:]


def test_png_encoder_round_trips_the_grey_levels():
    image = np.linspace(0, 1, 12).reshape(3, 4)
    np.testing.assert_array_equal(decode_png(png_data_uri(image)),
                                  np.round(image * 255).astype(np.uint8))


@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["train", "--epochs", "2", "--layers", "16", "--verbose", "0", "--no-plots",
                 "--out", str(folder)]) == 0
    return folder, (folder / "report.html").read_text(encoding="utf-8")


def test_every_run_writes_its_report_with_each_section(digits_report):
    folder, page = digits_report
    for heading in ("Settings and scores", "Loss per epoch", "Accuracy per epoch",
                    "Confusion matrix", "Mistakes:", "Gradient norm per layer"):
        assert f"<h2>{heading}" in page, heading
    assert page.count("<svg") == 3 and "val_loss" in page
    wrong = int(re.search(r"Mistakes: (\d+) of 539", page).group(1))
    assert page.count("<figure>") == min(wrong, 24) > 0
    confusion = re.search(r'<table class="confusion">(.*?)</table>', page).group(1)
    counts = [int(cell) for cell in re.findall(r">(\d+)</td>", confusion)]
    assert len(counts) == 100 and sum(counts) == 539
    assert sum(counts[i * 11] for i in range(10)) == 539 - wrong  # the diagonal


def test_the_report_loads_nothing_from_anywhere(digits_report):
    _, page = digits_report
    fetched = FETCHED.findall(page)
    assert len(fetched) >= 1  # the mistakes' images, which are data: URIs
    assert all(address.startswith("data:image/png;base64,") for address in fetched)
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page


def test_the_mistakes_shown_are_images_of_the_wrong_predictions(digits_report):
    _, page = digits_report
    captions = re.findall(r"true (\d), predicted (\d) \(([\d.]+)\)</figcaption>", page)
    assert captions and all(true != predicted for true, predicted, _ in captions)
    confidences = [float(value) for _, _, value in captions]
    assert confidences == sorted(confidences, reverse=True)  # the most confident first
    first = re.search(r'src="(data:image/png;base64,[^"]+)"', page).group(1)
    assert decode_png(first).shape == (8, 8)


def test_text_from_the_run_is_escaped():
    page = render_report({"data": "<script>alert(1)</script>", "note": 'a "quoted" & <b>'},
                         {"loss": [1.0, 0.5]}, title="<i>run</i>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;quoted&quot; &amp; &lt;b&gt;" in page and "&lt;i&gt;run&lt;/i&gt;" in page


def test_a_regression_report_has_curves_and_no_confusion_matrix():
    page = render_report({"task": "regression"}, {"loss": [3.0, 2.0, 1.5],
                                                  "val_loss": [3.5, 2.5, float("nan")]})
    assert "Loss per epoch" in page and "Confusion" not in page and "Mistakes" not in page
    points = re.findall(r'points="([^"]*)"', page)
    assert [len(line.split()) for line in points] == [3, 2]  # NaN is left out of the line
