"""The flake8 plugin. Loading it imports nothing heavy: the analysis is imported when a file needs it."""

from __future__ import annotations

import ast
from typing import Any, Iterator

from torchshape_lint import __version__
from torchshape_lint.options import OPTIONS, OptionError


class TorchShapePlugin:
    name = "torchshape-lint"
    version = __version__
    settings: dict = {}

    def __init__(self, tree: ast.AST, filename: str = "<stdin>", lines: list | None = None) -> None:
        self.tree, self.filename, self.lines = tree, filename, lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        for option in OPTIONS:
            manager.add_option(option.flake8_flag, default=None, parse_from_config=True, metavar=option.metavar,
                               help=option.help, dest=f"torchshape_{option.dest}")

    @classmethod
    def parse_options(cls, options: Any) -> None:
        settings = {}
        for option in OPTIONS:
            try:
                settings[option.dest] = option.parse(getattr(options, f"torchshape_{option.dest}", None),
                                                     option.flake8_flag)
            except OptionError as error:
                raise SystemExit(f"flake8: {error}") from None
        cls.settings = settings

    def run(self) -> Iterator[tuple]:
        text = "".join(self.lines) if self.lines is not None else None
        if text is None:
            with open(self.filename, "rb") as handle:
                data = handle.read()
            from torchshape_lint.source.reader import SourceFile

            text = SourceFile.from_bytes(data, self.filename).text
        if "torch" not in text:  # the pre-filter: most files stop here, before any import
            return
        from torchshape_lint.checks.analyze import analyze_source

        tree = self.tree if isinstance(self.tree, ast.Module) else None
        report = analyze_source(text, self.filename, tree, self.settings.get("input_shape"))
        for finding in report.findings:
            yield finding.line, finding.column, finding.text, type(self)
