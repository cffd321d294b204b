"""The documentation: every Python snippet in docs/ and the README runs, and the HTML builds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_snippet_runs(page, tmp_path, monkeypatch):
    """The snippets of a page run in order, in one namespace, as a reader would run them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = PYTHON_BLOCK.findall(page.read_text())
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(blocks):
        code = compile(block, f"{page.name} snippet {number + 1}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples


def test_the_pages_have_snippets_to_run():
    counts = {page.name: len(PYTHON_BLOCK.findall(page.read_text())) for page in PAGES}
    assert sum(counts.values()) >= 12, counts


@pytest.fixture(scope="module")
def built_html(tmp_path_factory) -> Path:
    """The HTML docs, built once as `make -C docs html` builds them (warnings are errors)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("latex2mathml")
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("docs") / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", str(ROOT / "docs"), str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    return out


def test_the_html_documentation_builds_without_warnings(built_html):
    assert (built_html / "walkthrough.html").is_file()
    assert (built_html / "recipes.html").is_file()


# What a page fetches by itself: scripts, styles, images, frames, fonts (links a reader may
# follow, <a href=...>, are not fetched).
FETCHED = re.compile(r"<(script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
                     r"\b(?:src|href|data)\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
CSS_URL = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])([^\"')\s]+)", re.IGNORECASE)


def _is_external(address: str) -> bool:
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:)?//", address, re.IGNORECASE))


def test_the_built_pages_load_nothing_from_the_network(built_html):
    fetched = [(page.name, address)
               for page in built_html.rglob("*.html")
               for _, address in FETCHED.findall(page.read_text(errors="replace"))]
    fetched += [(sheet.name, address)
                for sheet in built_html.rglob("*.css")
                for address in CSS_URL.findall(sheet.read_text(errors="replace"))]
    assert len(fetched) > 50  # the scan sees the pages' scripts, styles and figures
    external = [(name, address) for name, address in fetched if _is_external(address)]
    assert external == []
    assert not [address for _, address in fetched if "mathjax" in address.lower()]


def test_the_scan_would_catch_an_external_script():
    page = '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
    assert [_is_external(address) for _, address in FETCHED.findall(page)] == [True]
    assert [_is_external(address) for address in CSS_URL.findall(
        "@import url(//fonts.googleapis.com/css?family=X);")] == [True]
    assert not _is_external("_static/doctools.js?v=1")


def test_equations_are_mathml_in_the_page_not_latex_for_a_script(built_html):
    walkthrough = (built_html / "walkthrough.html").read_text()
    source = (ROOT / "docs" / "walkthrough.md").read_text()
    n_equations = len(re.findall(r"\$\$.+?\$\$|\$[^$\n]+?\$", source, re.DOTALL))
    assert walkthrough.count("<math") >= n_equations > 20  # a $$ block may hold several
    assert "<mfrac>" in walkthrough  # e.g. dL/dz = (p - y) / n, drawn as a fraction
    body = walkthrough[walkthrough.index("<body"):]
    assert "\\frac" not in re.sub(r"<math.*?</math>", "", body, flags=re.DOTALL)


def test_the_figures_are_drawn_at_build_time_and_shown(built_html):
    images = {page.name: re.findall(r'<img[^>]*src="([^"]+)"', page.read_text())
              for page in built_html.glob("*.html")}
    shown = {Path(address).name for addresses in images.values() for address in addresses}
    assert {"activations.png", "prediction.png", "fullbatch-vs-article.png",
            "digits-minibatch.png", "xor-loss.png"} <= shown
    figures = [address for addresses in images.values() for address in addresses
               if "_images/" in address]
    assert len(figures) >= 5
    for address in figures:
        assert (built_html / address).stat().st_size > 10_000, address
    assert not (ROOT / "docs" / "_static").exists()  # nothing pre-rendered is shipped
