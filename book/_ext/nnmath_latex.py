"""What the PDF edition (``make pdf``, Sphinx's LaTeX builder with XeLaTeX) needs.

Jupyter Book's LaTeX class (``jupyterBook.cls`` from sphinx-jupyterbook-latex) loads the
``bbm`` package for a few blackboard-bold shorthands (``\\RR``, ``\\NN``, ...) that the book
never uses. ``bbm`` lives in Debian's ``texlive-fonts-extra``, several hundred megabytes
that the book would install for nothing, so a one-line stand-in that maps ``\\mathbbm`` to
``\\mathbb`` is written beside the ``.tex`` file.

sphinx-exercise labels an exercise in LaTeX as ``exercise:<label>`` only, which its own
``{numref}`` resolves, while a ``{ref}`` to an exercise in another chapter points at Sphinx's
usual ``<docname>:<label>``: the exercise's LaTeX visitor is wrapped to write Sphinx's labels
as well, so such a reference is not printed as "??".

And the book's structure, in the preamble: the parts of ``_toc.yml`` are captioned "Part I:
...", so LaTeX's own "Part II" before them goes (unnumbered parts, still in the contents);
the part "Appendices" starts LaTeX's appendix (chapters A, B); the root document's title
("Preface"), which sphinx-jupyterbook-latex drops, heads its text as an unnumbered chapter;
and the bibliography goes under the chapter "References" instead of opening a chapter
"Bibliography" of its own.

A long table (a LaTeX ``longtable``: the ledger, which a cell writes as Markdown) gets
column widths in proportion to its longest cells, so that its text wraps inside the page
instead of running off it, and its ``<br>`` line breaks (raw HTML, which LaTeX drops) become
LaTeX line breaks. Nothing changes for any other builder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.writers.latex import LaTeXTranslator
from sphinx_exercise import nodes as exercise

BBM_STANDIN = r"""\NeedsTeXFormat{LaTeX2e}
\ProvidesPackage{bbm}[2026/01/01 nnmath stand-in, mathbbm as mathbb]
\providecommand{\mathbbm}[1]{\mathbb{#1}}
\endinput
"""


PREAMBLE = r"""
% nnmath (book/_ext/nnmath_latex.py): unnumbered parts, with their entry in the contents;
% the part "Appendices" starts the appendix.
\makeatletter
\let\nnmath@part\part
\def\nnmath@appendices{Appendices}
\renewcommand{\part}[1]{%
  \if@openright\cleardoublepage\else\clearpage\fi
  \def\nnmath@title{#1}\ifx\nnmath@title\nnmath@appendices\appendix\fi
  \phantomsection\addcontentsline{toc}{part}{#1}\nnmath@part*{#1}}
% the bibliography inside the chapter "References": no page break, no heading, no entry
\renewenvironment{sphinxthebibliography}[1]{%
  \def\chapter*##1{}\let\@mkboth\@gobbletwo\begin{thebibliography}{#1}}%
  {\end{thebibliography}}
% the page head as tall as fancyhdr asks with 11pt type
\setlength{\headheight}{14pt}
\makeatother
"""


def root_title(app: Sphinx) -> str | None:
    """The title (first ``# `` line) of the root document, the preface."""
    source = Path(app.srcdir) / f"{app.config.root_doc}.md"
    if not source.is_file():
        return None
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def add_preamble(app: Sphinx, config: Any) -> None:
    elements = config.latex_elements
    elements["preamble"] = PREAMBLE + elements.get("preamble", "")


def add_preface_heading(app: Sphinx, config: Any) -> None:
    """After sphinx-external-toc has set the root document (config-inited, priority 500)."""
    title = root_title(app)
    if title and "tableofcontents" not in config.latex_elements:
        config.latex_elements["tableofcontents"] = (
            "\\sphinxtableofcontents\n"
            f"\\chapter*{{{title}}}\\addcontentsline{{toc}}{{chapter}}{{{title}}}"
            f"\\markboth{{{title}}}{{{title}}}\n"
        )


LONG_TABLE_ROWS = 30  # Sphinx's LaTeX writer uses longtable beyond this many body rows


def cell_width(entry: nodes.Element) -> float:
    """A column width in characters that this cell asks for: its longest word, unbroken
    (code is wider than text, and breaks at dots), and room for two lines of its text
    (up to eighty characters) when that is wider."""
    longest_word, length = 0.0, 0.0
    for text in entry.findall(nodes.Text):
        code = isinstance(text.parent, nodes.literal)
        scale = 1.3 if code else 1.0
        words = re.split(r"[\s.]+" if code else r"\s+", text.astext())
        longest_word = max([longest_word, *(scale * len(w) for w in words)])
        length += scale * len(text.astext())
    return max(1.2 * longest_word, min(length, 80.0) / 2) + 3.0  # + the column gap


class WrapLongTables(SphinxPostTransform):
    """Column widths for long tables, so that LaTeX wraps their cells (see the top)."""

    default_priority = 400
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for table in self.document.findall(nodes.table):
            if "colwidths-given" in table["classes"]:
                continue
            groups = list(table.findall(nodes.tgroup))
            bodies = list(table.findall(nodes.tbody))
            if len(groups) != 1 or not bodies:
                continue
            rows = list(bodies[0].findall(nodes.row))
            if len(rows) <= LONG_TABLE_ROWS and "longtable" not in table["classes"]:
                continue
            colspecs = [c for c in groups[0].children if isinstance(c, nodes.colspec)]
            widths = [0.0] * len(colspecs)
            for row in table.findall(nodes.row):
                for i, entry in enumerate(row.children[: len(colspecs)]):
                    widths[i] = max(widths[i], cell_width(entry))
            for colspec, width in zip(colspecs, widths, strict=True):
                colspec["colwidth"] = round(width)
            table["classes"].append("colwidths-given")
            for raw in list(table.findall(nodes.raw)):
                if raw.get("format") == "html" and raw.astext().strip() in ("<br>", "<br/>"):
                    raw.replace_self(nodes.raw("", r"\newline{}", format="latex"))


def write_latex_support(app: Sphinx) -> None:
    if app.builder.format != "latex":
        return
    outdir = Path(app.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bbm.sty").write_text(BBM_STANDIN, encoding="utf-8")


def exercise_number(env: Any, node: nodes.Element) -> str:
    """The exercise's number as its title shows it ("1.10.3"), or "" if it has none."""
    numbers = env.toc_fignumbers.get(node.get("docname", ""), {}).get("exercise", {})
    return ".".join(map(str, numbers.get(node["ids"][0], ()))) if node["ids"] else ""


def with_sphinx_labels(visit: Callable[[Any, nodes.Element], None]) -> Callable[..., None]:
    """The visitor, writing Sphinx's labels first; ``\\ref`` to them gives the number."""

    def visit_with_labels(self: Any, node: nodes.Element) -> None:
        if isinstance(self, LaTeXTranslator) and node["ids"]:
            number = exercise_number(self.builder.env, node)
            current = r"\expandafter\def\csname @currentlabel\endcsname{" + number + "}"
            self.body.append(
                "{\\phantomsection" + (current if number else "")
                + self.hypertarget_to(node) + "}\n"
            )
        visit(self, node)

    return visit_with_labels


def setup(app: Sphinx) -> dict[str, object]:
    app.setup_extension("sphinx_exercise")  # its visitors first, then ours over them
    for node, visit, depart in (
        (exercise.exercise_node, exercise.visit_exercise_node,
         exercise.depart_exercise_node),
        (exercise.exercise_enumerable_node, exercise.visit_exercise_enumerable_node,
         exercise.depart_exercise_enumerable_node),
    ):
        app.add_node(node, override=True, latex=(with_sphinx_labels(visit), depart))
    app.add_post_transform(WrapLongTables)
    app.connect("config-inited", add_preamble)
    app.connect("config-inited", add_preface_heading, priority=900)
    app.connect("builder-inited", write_latex_support)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
