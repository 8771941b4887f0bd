"""The flake8 plugin. Loading it imports nothing heavy: the analysis is imported when a file needs it."""

from __future__ import annotations

import ast
import os
import sys
from typing import Any, Iterator

from torchshape_lint import __version__
from torchshape_lint.options import OPTIONS, OptionError, Settings, parse_values
from torchshape_lint.source.reader import (  # light: the standard library's ast, re, tokenize
    may_build_models, rarer_full_collections, without_cyclic_gc,
)

# select, ignore and extend-select are flake8's own: flake8 applies them to the plugin's codes itself.
PLUGIN_OPTIONS = tuple(option for option in OPTIONS if not option.flake8_own)


class TorchShapePlugin:
    name = "torchshape-lint"
    version = __version__
    settings = Settings()
    project = None  # the evaluate.project.Project of this flake8 process, made for the first file that needs it

    def __init__(self, tree: ast.AST, filename: str = "<stdin>", lines: list | None = None) -> None:
        self.tree, self.filename, self.lines = tree, filename, lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        for option in PLUGIN_OPTIONS:
            shape = {"action": "store_true"} if option.flag else {"metavar": option.metavar}
            manager.add_option(option.flake8_flag, default=None, parse_from_config=True, help=option.help,
                               dest=f"torchshape_{option.dest}", **shape)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        given = {option.name: getattr(options, f"torchshape_{option.dest}", None) for option in PLUGIN_OPTIONS}
        try:
            cls.settings = Settings(**parse_values(given, source_of))
        except OptionError as error:
            print(f"flake8: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple]:
        text = "".join(self.lines) if self.lines is not None else None
        if text is None:
            from torchshape_lint.source.reader import UNREADABLE, SourceFile

            try:
                with open(self.filename, "rb") as handle:
                    text = SourceFile.from_bytes(handle.read(), self.filename).text
            except (OSError, *UNREADABLE):  # flake8 reports a file it cannot read or parse itself (E902, E999)
                return
        if not may_build_models(text):  # the pre-filter: most files stop here, before the analysis is imported
            return
        for line, column, message in self.findings(text):
            yield line, column, message, type(self)

    def findings(self, text: str) -> list:
        """(line, column, text) of each finding, noqa not applied (flake8 applies it); from the result cache while
        the file and every project file its analysis read are unchanged (never with --confirm, which runs code)."""
        from torchshape_lint.frontends import cache

        input_shape = self.settings.input_shape_for(self.filename)
        use_cache = not (self.settings.no_cache or self.settings.confirm)
        options = {"front": "flake8", "path": self.filename, "input_shape": input_shape, "cwd": os.getcwd()}
        entry = cache.key(text.encode(), options) if use_cache else None
        cached = cache.fresh(entry) if entry else None
        if cached is not None:
            return [tuple(finding) for finding in cached["findings"]]
        # the collector waits until the analysis is done and its report dropped: it then walks only what outlives
        # them (the modules the project read), not every object the analysis made
        with without_cyclic_gc():
            found, read = self.analysed(text, input_shape)
        if entry:
            cache.store(entry, {"findings": found, "read": read})
        return found

    def analysed(self, text: str, input_shape: tuple | None) -> tuple[list, list]:
        """(line, column, text) of each finding, and the project files the analysis read (as the cache stores
        them)."""
        from dataclasses import asdict

        from torchshape_lint.checks.analyze import analyze_source
        from torchshape_lint.evaluate.project import Project

        if TorchShapePlugin.project is None:  # one per flake8 process: siblings read for one file serve the next
            TorchShapePlugin.project = Project()
            rarer_full_collections()
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        report = analyze_source(text, self.filename, tree, input_shape, TorchShapePlugin.project)
        if self.settings.confirm:
            from torchshape_lint.confirm.driver import confirm_in_flake8

            confirm_in_flake8(report, text, self.settings)
        return [(f.line, f.column, f.text) for f in report.findings], [asdict(file) for file in report.read]


def source_of(key: str) -> str:
    """Where a bad value came from, for the error message: the flag, or the key in flake8's config file."""
    if any(arg.startswith(f"--torchshape-{key}") for arg in sys.argv):
        return f"--torchshape-{key}"
    try:  # only on the error path; flake8 does not tell plugins which file it read
        from flake8.options.config import _find_config_file

        found = _find_config_file(".")
    except Exception:
        found = None
    return f"{os.path.relpath(found) if found else 'flake8 configuration'} [flake8] torchshape-{key}"
