"""The standalone command: `torchshape-lint PATH...`. Exit 0: clean, 1: findings, 2: usage or internal error."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

from torchshape_lint import __version__
from torchshape_lint.options import OPTIONS, OptionError

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+[A-Z][0-9]+)*))?", re.IGNORECASE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torchshape-lint", description="Find tensor shape mismatches in PyTorch "
                                     "model code without running it.")
    parser.add_argument("paths", nargs="*", help="files or folders to check")
    for option in OPTIONS:
        parser.add_argument(option.cli_flag, dest=option.dest, metavar=option.metavar, help=option.help)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--verbose", action="store_true",
                        help="also list every decided check (declared vs arriving) and the counts per file")
    parser.add_argument("--select", default="", help="comma-separated code prefixes to report (default: all)")
    parser.add_argument("--ignore", default="", help="comma-separated code prefixes not to report")
    parser.add_argument("--rule", metavar="CODE", help="print the documentation of a rule and exit")
    parser.add_argument("--version", action="version", version=f"torchshape-lint {__version__}")
    return parser


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rule:
        return print_rule(args.rule)
    try:
        settings = configured(args)
    except OptionError as error:
        print(f"torchshape-lint: {error}", file=sys.stderr)
        return 2
    if not args.paths:
        print("torchshape-lint: no paths given", file=sys.stderr)
        return 2
    files, missing = python_files(args.paths)
    for path in missing:
        print(f"torchshape-lint: {path}: no such file or directory", file=sys.stderr)
    if missing:
        return 2
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.source.reader import SourceFile

    select = [c.strip() for c in args.select.split(",") if c.strip()]
    ignore = [c.strip() for c in args.ignore.split(",") if c.strip()]
    shown, errors, results = 0, 0, []
    for path in files:
        try:
            with open(path, "rb") as handle:
                source_text = SourceFile.from_bytes(handle.read(), path).text
        except (OSError, UnicodeDecodeError, SyntaxError) as error:
            print(f"{path}:1:1: TSL900 torchshape-lint could not read this file: {error}", file=sys.stderr)
            errors += 1
            continue
        report = analyze_source(source_text, path, None, settings["input_shape"])
        lines = source_text.splitlines()
        for finding in report.findings:
            if not wanted(finding.code, select, ignore) or suppressed(finding, lines):
                continue
            shown += 1
            errors += finding.code == "TSL900"
            results.append(finding)
            if args.format == "text":
                print(f"{finding.path}:{finding.line}:{finding.column + 1}: {finding.text}")
        if args.verbose and args.format == "text":
            print_verbose(report)
    if args.format == "json":
        print(json.dumps([f.as_dict() for f in results], indent=2))
    if errors:
        return 2
    return 1 if shown else 0


def configured(args: argparse.Namespace) -> dict:
    """Command-line values, else [tool.torchshape-lint] in ./pyproject.toml."""
    table = pyproject_table("pyproject.toml")
    settings = {}
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if value is not None:
            settings[option.dest] = option.parse(value, option.cli_flag)
        else:
            settings[option.dest] = option.parse(table.get(option.name), f"pyproject.toml [tool.torchshape-lint] {option.name}")
    return settings


def pyproject_table(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    import tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle).get("tool", {}).get("torchshape-lint", {})
    except tomllib.TOMLDecodeError as error:
        raise OptionError(f"{path}: {error}") from None


def python_files(paths: list) -> tuple[list, list]:
    files, missing = [], []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".py"))
        elif os.path.isfile(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def wanted(code: str, select: list, ignore: list) -> bool:
    if select and not any(code.startswith(s) for s in select):
        return False
    return not any(code.startswith(i) for i in ignore)


def suppressed(finding: Any, lines: list) -> bool:
    """`# noqa` or `# noqa: TSL001` on the finding's line, as flake8 reads it."""
    line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    match = NOQA.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or any(finding.code.startswith(c) for c in re.split(r"[,\s]+", codes.upper()))


def print_verbose(report: Any) -> None:
    for check in report.checks:
        verdict = "agrees" if check.agrees else "DIFFERS"
        print(f"{report.path}:{check.line}: checked {check.label}: {check.arriving} arrive in {check.model} — {verdict}")
    for model, reason in report.skipped:
        print(f"{report.path}: skipped {model}: {reason}")
    print(f"{report.path}: {len(report.models)} builds, {report.layers_checked} layer checks decided, "
          f"{report.layers_unknown} left unknown")


def print_rule(code: str) -> int:
    from torchshape_lint.checks.rules import by_code

    rule = by_code().get(code.upper())
    if rule is None:
        print(f"torchshape-lint: no rule {code}", file=sys.stderr)
        return 2
    print(rule_text(rule))
    return 0


def rule_text(rule: Any) -> str:
    import inspect

    parts = [f"{rule.code} ({rule.name}): {rule.summary}", "", "What it does: " + inspect.getdoc(rule),
             "", "Why: " + rule.why, "", "Fix: " + rule.fix, "", "Fix safety: " + rule.fix_safety]
    if rule.bad:
        parts += ["", "Example (flagged):", rule.bad.strip("\n"), "", "Instead:", rule.good.strip("\n")]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
