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


def test_the_html_documentation_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", str(ROOT / "docs"), str(tmp_path / "html")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "html" / "walkthrough.html").is_file()
