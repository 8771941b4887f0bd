"""The standalone command. `torchshape-lint PATH...` checks files (the `check` command, named or not); the other
commands are listed in COMMANDS. Exit 0: clean, 1: findings, 2: usage or internal error."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Callable

from torchshape_lint import __version__
from torchshape_lint.confirm import ConfirmError
from torchshape_lint.options import OptionError
from torchshape_lint.frontends.arguments import configured, option_arguments, usage_error
from torchshape_lint.report.formats import FORMATS


@dataclass(frozen=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="files or folders to check")
    option_arguments(parser)
    parser.add_argument("--format", choices=tuple(FORMATS), default="text",
                        help="text (default), json, github (Actions annotations) or sarif (code scanning)")
    parser.add_argument("--verbose", action="store_true",
                        help="also list every decided check (declared vs arriving), the counts per file and what was "
                        "not checked (models with no concrete input, builds that stopped, and why)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no run summary and no progress line on stderr (findings and errors still print)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="check files in N processes (0: one per CPU; default 1)")
    parser.add_argument("--fix", action="store_true", help="write the suggested value into the argument of each "
                        "finding proven on a known input (unsafe: the layers before may be what is wrong)")
    parser.add_argument("--diff", action="store_true", help="print what --fix would change as a unified diff, "
                        "and nothing else; write nothing (also with --fix)")
    parser.add_argument("--rule", metavar="CODE", help="print the documentation of a rule and exit "
                        "(as `torchshape-lint rule CODE`)")
    parser.add_argument("--version", action="version", version=f"torchshape-lint {__version__}")


def check(args: argparse.Namespace) -> int:
    if args.rule:
        return rule(argparse.Namespace(codes=[args.rule], format="text"))
    try:
        settings = configured(args)
    except OptionError as error:
        return usage_error(str(error))
    if not args.paths:
        return usage_error("no paths given")
    from torchshape_lint.frontends.runner import check_files, python_files

    files, missing = python_files(args.paths)
    if missing:
        return usage_error(*(f"{path}: no such file or directory" for path in missing))
    jobs = args.jobs if args.jobs > 0 else os.cpu_count() or 1
    from torchshape_lint.frontends.summary import Progress, RunSummary

    summary = RunSummary()
    progress = Progress(sys.stderr, len(files)) if not args.quiet else None
    errors = 0

    def shown():
        nonlocal errors
        checked = (lambda done: progress.update(done)) if progress else None
        for result in check_files(files, settings, jobs, use_cache=not settings.no_cache, checked=checked):
            result.findings = [f for f in result.findings if settings.wanted(f.code)]
            if args.fix or args.diff:
                from torchshape_lint.frontends.fix import fix_result

                if progress:
                    progress.clear()  # --diff prints its diff as it fixes
                result = fix_result(result, settings, write=not args.diff)
            summary.add(result)
            errors += sum(f.code == "TSL900" for f in result.findings)
            yield result

    try:
        for chunk in FORMATS[args.format](shown(), args.verbose):
            if not args.diff and chunk:
                if progress:
                    progress.clear()
                sys.stdout.write(chunk)
                sys.stdout.flush()  # before the progress line comes back on the terminal they may share
    except ConfirmError as error:  # --confirm cannot run at all: no torch, or no CUDA for --device cuda
        sys.stdout.flush()
        return usage_error(str(error))
    finally:
        if progress:
            progress.clear()
    sys.stdout.flush()
    if not args.quiet:
        sys.stderr.write("".join(f"{line}\n" for line in summary.lines()))
    return 2 if errors else 1 if summary.findings else 0


def rule_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("codes", nargs="*", metavar="CODE", help="rule codes (default: every rule)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text",
                        help="markdown gives docs/rules.md (with every rule) or the rules' sections")


def rule(args: argparse.Namespace) -> int:
    from torchshape_lint.report import rule_docs

    if not args.codes and args.format == "markdown":
        sys.stdout.write(rule_docs.rules_markdown())
        return 0
    known = {r.code: r for r in rule_docs.rules()}
    unknown = [code for code in args.codes if code.upper() not in known]
    if unknown:
        return usage_error(*(f"no rule {code}" for code in unknown))
    chosen = [known[code.upper()] for code in args.codes] or list(known.values())
    render = rule_docs.rule_markdown if args.format == "markdown" else rule_docs.rule_text
    print("\n\n".join(render(r) for r in chosen))
    return 0


def lsp_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default, and the only way)")


def lsp(args: argparse.Namespace) -> int:
    try:
        from torchshape_lint.frontends.lsp import serve
    except ImportError as error:
        return usage_error(f"the language server needs pygls: pip install 'torchshape-lint[lsp]' ({error})")
    serve()
    return 0


COMMANDS = {
    "check": Command("check files (the default: `torchshape-lint PATH...`)", check_arguments, check),
    "rule": Command("print rule documentation (`--format markdown` gives docs/rules.md)", rule_arguments, rule),
    "lsp": Command("run the language server over stdio (needs the [lsp] extra)", lsp_arguments, lsp),
    "explain": Command("print each model's layers with static shapes and formulas: FILE[::MODEL]",
                       lambda parser: explain().arguments(parser), lambda args: explain().run(args)),
}


def explain():
    """The explain command's module, imported only for it: a check run does not pay for it."""
    from torchshape_lint.frontends import explain_command as explain

    return explain


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, with the terminal's width asked of `os`: argparse makes a formatter for every argument it adds
    (to check its metavar), and its own imports shutil to ask, a tenth of a check's start without bytecode."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_width() - 2 if width is None else width)


def terminal_width() -> int:
    """What shutil.get_terminal_size() says of the columns: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def command_parser(name: str) -> argparse.ArgumentParser:
    others = "; ".join(f"torchshape-lint {n}: {c.help}" for n, c in COMMANDS.items() if n != "check")
    parser = argparse.ArgumentParser(
        formatter_class=HelpFormatter,
        prog="torchshape-lint" if name == "check" else f"torchshape-lint {name}",
        description="Find tensor shape mismatches in PyTorch model code without running it."
        if name == "check" else COMMANDS[name].help,
        epilog=f"Other commands: {others}." if name == "check" else None)
    COMMANDS[name].arguments(parser)
    return parser


def main(argv: list | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "check"
    args = command_parser(name).parse_args(argv)
    try:
        return COMMANDS[name].run(args)
    except BrokenPipeError:  # `torchshape-lint ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # a crash must not exit 1, which means "findings"
        import traceback

        return usage_error(f"internal error, please report it:\n{traceback.format_exc()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
