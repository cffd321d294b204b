"""Equations rendered when the docs are built, as MathML: a page needs no script and no network.

Sphinx hands every ``$...$`` and ``$$...$$`` of the pages to a math renderer. MathJax (Sphinx's
default) typesets them in the reader's browser with a script fetched from a CDN, so offline the
reader sees raw LaTeX. This renderer converts the LaTeX to MathML while building (with
latex2mathml), and browsers draw MathML themselves.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.application import Sphinx
from sphinx.util.math import get_node_equation_number


def visit_inline_math(translator: Any, node: nodes.math) -> None:
    translator.body.append(translator.starttag(node, "span", "", CLASS="math"))
    translator.body.append(convert(node.astext()))
    translator.body.append("</span>")
    raise nodes.SkipNode


def visit_display_math(translator: Any, node: nodes.math_block) -> None:
    translator.body.append(translator.starttag(node, "div", CLASS="math"))
    if node["number"]:
        number = get_node_equation_number(translator, node)
        translator.body.append(f'<span class="eqno">({number})')
        translator.add_permalink_ref(node, "Link to this equation")
        translator.body.append("</span>")
    # Blank lines separate equations within one block, unless the block is one environment.
    parts = [node.astext()] if node["nowrap"] else node.astext().split("\n\n")
    for part in parts:
        if part.strip():
            translator.body.append(convert(part, display="block"))
    translator.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_html_math_renderer("mathml", (visit_inline_math, None), (visit_display_math, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
