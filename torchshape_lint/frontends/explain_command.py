"""`torchshape-lint explain FILE[::MODEL]`: the command that prints report/explain.py's tables.

Exit 0: nothing breaks, 1: some step breaks, 2: usage or internal error.
"""

from __future__ import annotations

import argparse
import sys

from torchshape_lint.options import OptionError
from torchshape_lint.report.explain import FORMATS, tables

def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="FILE[::MODEL]",
                        help="a file, optionally with the model to show (a class, or a builder such as vgg16)")
    from torchshape_lint.frontends.arguments import option_arguments

    option_arguments(parser)
    parser.add_argument("--format", choices=tuple(FORMATS), default="text",
                        help="text (default), markdown or json; svg, html (one self-contained page) or mermaid: "
                             "the steps drawn as a graph")


def run(args: argparse.Namespace) -> int:
    from torchshape_lint.checks.analyze import analyze_source, unreadable_file
    from torchshape_lint.frontends.arguments import configured, usage_error
    from torchshape_lint.source.reader import UNREADABLE, SourceFile

    try:
        settings = configured(args)
    except OptionError as error:
        return usage_error(str(error))
    shown: list = []
    for target in args.targets:
        path, _, model = target.partition("::")
        try:
            with open(path, "rb") as handle:
                text = SourceFile.from_bytes(handle.read(), path).text
        except (OSError, *UNREADABLE) as error:  # no table to show: as for a file that is not there
            finding = unreadable_file(path, error)
            return usage_error(f"{path}:{finding.line}:{finding.column + 1}: {finding.text}")
        report = analyze_source(text, path, None, settings.input_shape_for(path))
        failed = [f for f in report.findings if f.code == "TSL900"]
        if failed:
            return usage_error(f"{path}:{failed[0].line}:{failed[0].column + 1}: {failed[0].text}")
        report.findings = [f for f in report.findings if settings.wanted(f.code)]
        found = tables(report, model or None)
        if not found:
            names = ", ".join(b.name for b in report.builds if b.steps) or "none"
            return usage_error(f"{target}: no model {'named ' + model + ' ' if model else ''}with known steps "
                               f"(models with steps: {names})")
        shown += found
    sys.stdout.write(FORMATS[args.format](shown))
    return 1 if any(r.broken for t in shown for r in t.rows) or any(t.elsewhere for t in shown) else 0
