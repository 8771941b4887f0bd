"""What every command that analyses files shares: the options of the one schema (options.py) as flags, the
settings they give over the nearest pyproject.toml, and how a usage error is reported (exit 2)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from torchshape_lint.options import OPTIONS, Settings, find_pyproject, load_pyproject, parse_values


def option_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared options (read back by `configured`), for every command that analyses files."""
    for option in OPTIONS:
        if option.flag:
            parser.add_argument(option.cli_flag, dest=option.dest, action="store_const", const=True, help=option.help)
            continue
        parser.add_argument(option.cli_flag, dest=option.dest, metavar=option.metavar, help=option.help,
                            action="append" if option.repeatable else "store")


def configured(args: argparse.Namespace) -> Settings:
    """[tool.torchshape-lint] of the nearest pyproject.toml, overridden by the command line."""
    from_file = load_pyproject(find_pyproject(os.getcwd()))
    given = {option.name: getattr(args, option.dest) for option in OPTIONS if getattr(args, option.dest) is not None}
    return dataclasses.replace(from_file, **parse_values(given, lambda key: f"--{key}"))


def usage_error(*messages: str) -> int:
    for message in messages:
        print(f"torchshape-lint: {message}", file=sys.stderr)
    return 2
