"""Jupyter notebooks (.ipynb, nbformat 4): the code cells as one Python module, and the way back from a line of
that module to its cell.

The kernel runs the cells in order, so a later cell may use an earlier cell's model: the module is every code cell,
concatenated in order. IPython's own syntax is not Python: a line magic (`%matplotlib inline`), a shell line
(`!pip install torchinfo`) or an assignment from either (`files = !ls`) that starts a statement (as IPython reads
them: `% b` continuing a bracket is Python's modulo) becomes a `pass` at its indentation (a blank line would leave an
`if` whose body is only a magic without a body), and a cell under a cell magic (`%%time`, `%%bash`: its body may be
another language) becomes blank lines, so that every other line keeps its place.
Cells are numbered as ruff numbers them: 1-based, counting every cell (markdown and raw cells too).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

SUFFIX = ".ipynb"
# A line IPython rewrites before Python sees it: a line magic, a shell escape, or a name assigned from one.
IPYTHON_LINE = re.compile(r"\s*([%!]|[\w.]+\s*=\s*[%!])")
CELL_MAGIC = "%%"
# Lines tokenized per cell to tell a magic from a continuation line (a cell of magics inside one long bracket would
# otherwise cost lines squared); past it, each magic-looking line is taken as a magic.
TOKENIZE_BUDGET = 100_000
NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends of Python's tokenizer (str.splitlines knows more)


def is_notebook(path: str) -> bool:
    return path.endswith(SUFFIX)


@dataclass(frozen=True)
class Notebook:
    """`text`: the code cells as one module; `places[i]`: (cell, line in that cell) of the module's line i + 1."""

    text: str
    places: tuple

    def place(self, line: int) -> tuple[int, int]:
        """(cell, line within the cell), both 1-based, of a 1-based line of `text`."""
        return self.places[min(max(line, 1), len(self.places)) - 1] if self.places else (1, 1)

    def place_findings(self, findings: list) -> None:
        """Each finding of the module moved to its cell, and to its lines within the cell."""
        for finding in findings:
            (finding.cell, finding.line), (_, finding.end_line) = self.place(finding.line), self.place(finding.end_line)


def read_notebook(data: bytes) -> Notebook:
    """The notebook in `data`; raises ValueError (json's error among them) when it is not an nbformat 4 notebook."""
    import json  # here: most runs read no notebook

    try:
        document = json.loads(data)
    except RecursionError:  # json's parser recurses on nesting
        raise ValueError("nested too deeply for Python's JSON parser") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a Jupyter notebook: no list of cells")
    sources = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            sources.append(None)
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError(f"cell {number}: its source is not text")
        sources.append(source)
    return notebook_module(sources)


def notebook_module(sources: list) -> Notebook:
    """The module of a notebook's cells, given as each cell's source (None: a markdown or raw cell)."""
    lines, places = [], []
    for number, source in enumerate(sources, 1):
        if source is None:
            continue
        cell_lines = NEWLINE.split(source.removesuffix("\n"))
        skipped = cell_lines[0].lstrip().startswith(CELL_MAGIC)
        lines.extend([""] * len(cell_lines) if skipped else python_lines(cell_lines))
        places.extend((number, line_number) for line_number in range(1, len(cell_lines) + 1))
    return Notebook("".join(f"{line}\n" for line in lines), tuple(places))


def python_lines(cell_lines: list) -> list:
    """The cell's lines with IPython's magic and shell lines as `pass`: those that start a statement (a `%` or `!`
    inside brackets, a multi-line string or after a backslash belongs to the Python around it)."""
    lines, statement, budget = list(cell_lines), 0, TOKENIZE_BUDGET
    for index, line in enumerate(cell_lines):
        if not IPYTHON_LINE.match(line):
            continue
        budget -= index - statement
        if budget < 0 or starts_statement(lines[statement:index]):
            lines[index], statement = line[:len(line) - len(line.lstrip())] + "pass", index + 1
    return lines


def starts_statement(lines: list) -> bool:
    """Whether the line after `lines` (which begin a statement) begins one too: the tokenizer ends them cleanly.
    Lines the tokenizer rejects for another reason (not Python at all) leave it to the analysis to report."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(f"{line}\n" for line in lines)).readline):
            pass
    except tokenize.TokenError:  # EOF in a multi-line statement or string
        return False
    except SyntaxError:
        return True
    return True
