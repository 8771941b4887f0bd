"""Jupyter notebooks (.ipynb, nbformat 4): the code cells as one Python module, and the way back from a line of
that module to its cell.

The kernel runs the cells in order, so a later cell may use an earlier cell's model: the module is every code cell,
concatenated in order. IPython's own syntax is not Python: a line magic (`%matplotlib inline`), a shell line
(`!pip install torchinfo`) or an assignment from either (`files = !ls`) at the start of a logical line (as IPython
reads them: `% b` continuing a bracket is Python's modulo) becomes a blank line, and a cell under a cell magic (`%%time`, `%%bash`: its body may be another language) becomes blank lines, so that every other line keeps its
place. Cells are numbered as ruff numbers them: 1-based, counting every cell (markdown and raw cells too).
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass

SUFFIX = ".ipynb"
# A line IPython rewrites before Python sees it: a line magic, a shell escape, or a name assigned from one.
IPYTHON_LINE = re.compile(r"\s*([%!]|[\w.]+\s*=\s*[%!])")
CELL_MAGIC = "%%"
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


def read_notebook(data: bytes) -> Notebook:
    """The notebook in `data`; raises ValueError (json's error among them) when it is not an nbformat 4 notebook."""
    document = json.loads(data)
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a Jupyter notebook: no list of cells")
    lines, places = [], []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            raise ValueError(f"cell {number}: its source is not text")
        cell_lines = NEWLINE.split(source.removesuffix("\n"))
        skipped = cell_lines[0].lstrip().startswith(CELL_MAGIC)
        lines.extend([""] * len(cell_lines) if skipped else python_lines(cell_lines))
        places.extend((number, line_number) for line_number in range(1, len(cell_lines) + 1))
    return Notebook("".join(f"{line}\n" for line in lines), tuple(places))


def python_lines(cell_lines: list) -> list:
    """The cell's lines with IPython's magic and shell lines blank."""
    blanked = ["" if IPYTHON_LINE.match(line) else line for line in cell_lines]
    if blanked == cell_lines:
        return cell_lines
    continued = continuation_lines(blanked)
    return [line if number in continued else blank
            for number, (line, blank) in enumerate(zip(cell_lines, blanked), 1)]


def continuation_lines(lines: list) -> set:
    """The 1-based lines that continue a logical line: inside brackets, inside a multi-line string, after a
    backslash. Where the tokenizer stops (a source that is not Python), those found before it (the analysis reports the rest)."""
    continued = {number + 1 for number, line in enumerate(lines, 1) if line.endswith("\\")}
    depth, last_line = 0, 1
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(f"{line}\n" for line in lines)).readline):
            start, end = token.start[0], token.end[0]
            if depth > 0:
                continued.update(range(last_line + 1, start + 1))
            continued.update(range(start + 1, end + 1))
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
            last_line = end
    except (tokenize.TokenError, SyntaxError):
        pass
    return continued
