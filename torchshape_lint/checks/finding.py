"""A finding: one proven problem at one place. Every output (flake8, text, JSON, SARIF) is a view of it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field


@dataclass
class Finding:
    code: str
    name: str
    path: str
    line: int  # 1-based
    column: int  # 0-based, as flake8 expects from plugins
    end_line: int
    end_column: int
    message: str  # one line, without the code
    suggestion: str | None = None
    trace: list = field(default_factory=list)
    model: str = ""
    origin: str = ""  # where the input shape came from: pragma, usage, option, symbolic
    builds: int = 1
    cell: int | None = None  # in a notebook: the 1-based cell, and `line`, `end_line` are lines within it
    # A layer of one file reached from another (a model in model.py run by test_model.py) is reported in both: at the
    # call in the using file, naming the layer's `path:line` (`layer_at`), and at the layer, naming the using call's
    # `path:line` (`input_from`).
    layer_at: str = ""
    input_from: str = ""

    @property
    def location(self) -> str:
        """`path:line:column` with a 1-based column, as flake8 prints it; in a notebook, as ruff prints it:
        `path:cell 3:2:5`."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column + 1}"

    @property
    def text(self) -> str:
        """The one-line message as flake8 and the CLI print it: code first."""
        shared = f" [in {self.builds} builds]" if self.builds > 1 else ""
        layer = f" [layer at {self.layer_at}]" if self.layer_at else ""
        used = f" [input from {self.input_from}]" if self.input_from else ""
        return f"{self.code} {self.message}{shared}{layer}{used}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["message"] = self.text
        return data


def shown_path(path: str) -> str:
    """A path as a message names it: relative to the working folder when it is under it, as flake8 shows paths."""
    relative = os.path.relpath(os.path.abspath(path))
    return path if relative.startswith(os.pardir) else relative
