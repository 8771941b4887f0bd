"""A finding: one proven problem at one place. Every output (flake8, text, JSON, SARIF) is a view of it."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from torchshape_lint.shapes.violations import Suggestion


@dataclass(frozen=True)
class TraceLine:
    """One step of the shapes that led to a finding: the layer or op, its shapes before and after as they print,
    and its formula where one applies."""

    label: str
    before: str
    after: str
    formula: str = ""

    def __str__(self) -> str:
        return f"{self.label}: {self.before} → {self.after}" + (f"  [{self.formula}]" if self.formula else "")


@dataclass(frozen=True)
class Verdict:
    """What running the model in PyTorch (--confirm) said of a finding: `outcome` is confirmed, not reproduced or
    not confirmed (then `why`); `models`, the builds it holds for where the builds disagree."""

    outcome: str
    device: str
    models: tuple = ()
    why: str = ""

    def __str__(self) -> str:
        on = f" on {self.device}" if self.device and self.outcome != "not confirmed" else ""
        models = f" in {', '.join(self.models)}" if self.models else ""
        return f"{self.outcome}{on}{models}{': ' + self.why if self.why else ''}"


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
    suggestion: Suggestion | None = None
    trace: list = field(default_factory=list)  # a TraceLine per step; an internal error's, its traceback's last lines
    models: list = field(default_factory=list)  # the builds that reach it, in the order they did
    origin: str = ""  # where the input shape came from: pragma, usage, option, symbolic
    cell: int | None = None  # in a notebook: the 1-based cell, and `line`, `end_line` are lines within it
    # A layer of one file reached from another (a model in model.py run by test_model.py) is reported in both: at the
    # call in the using file, naming the layer's `path:line` (`layer_at`), and at the layer, naming the using call's
    # `path:line` (`input_from`).
    layer_at: str = ""
    input_from: str = ""
    verdicts: list = field(default_factory=list)  # Verdict: confirm mode's, one per group of builds that agree

    @property
    def builds(self) -> int:
        return max(len(self.models), 1)

    @property
    def key(self) -> str:
        """Names the finding within its file: the key of its edit in `--fix`'s, the LSP's and SARIF's fixes."""
        return f"{self.code}:{self.line}:{self.column}"

    @property
    def location(self) -> str:
        """`path:line:column` with a 1-based column, as flake8 prints it; in a notebook, as ruff prints it:
        `path:cell 3:2:5`."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column + 1}"

    @property
    def text(self) -> str:
        """The one-line message as flake8 and the CLI print it: code first, then confirm's verdict."""
        verdict = f" [{'; '.join(map(str, self.verdicts))}]" if self.verdicts else ""
        shared = f" [in {self.builds} builds]" if self.builds > 1 else ""
        layer = f" [layer at {self.layer_at}]" if self.layer_at else ""
        used = f" [input from {self.input_from}]" if self.input_from else ""
        return f"{self.code} {self.message}{verdict}{shared}{layer}{used}"

    def as_dict(self) -> dict:
        """As the JSON output shows it: the message with its code and verdict, the suggestion and trace as they
        print, the builds by name (`model`, comma-separated) and by count."""
        return {"code": self.code, "name": self.name, "path": self.path, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column, "message": self.text,
                "suggestion": None if self.suggestion is None else str(self.suggestion),
                "trace": [str(line) for line in self.trace], "model": ", ".join(self.models), "origin": self.origin,
                "builds": self.builds, "cell": self.cell, "layer_at": self.layer_at, "input_from": self.input_from}

    def stored(self) -> dict:
        """Every field, as JSON holds it (the result cache); `restored` reads it back."""
        return asdict(self)

    @classmethod
    def restored(cls, data: dict) -> "Finding":
        suggestion = data["suggestion"]
        return cls(**{
            **data,
            "suggestion": None if suggestion is None else Suggestion(
                tuple(suggestion["factors"]), suggestion["name"], tuple(suggestion["others"])),
            "trace": [TraceLine(**line) if isinstance(line, dict) else line for line in data["trace"]],
            "verdicts": [Verdict(v["outcome"], v["device"], tuple(v["models"]), v["why"]) for v in data["verdicts"]],
        })


def shown_path(path: str) -> str:
    """A path as a message names it: relative to the working folder when it is under it, as flake8 shows paths."""
    relative = os.path.relpath(os.path.abspath(path))
    return path if relative.startswith(os.pardir) else relative
