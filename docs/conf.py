"""Sphinx configuration: MyST Markdown pages, API pages from the NumPy-style docstrings."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "nnscratch"
author = "The nnscratch developers"
copyright = "2026, The nnscratch developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "mathml",  # _ext/mathml.py: equations as MathML at build time, no script, no CDN
    "figures",  # _ext/figures.py: the figures drawn by nnscratch at build time
]
html_math_renderer = "mathml"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_numpy_docstring = True
html_theme = "alabaster"
