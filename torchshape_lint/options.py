"""The options, defined once for the flake8 plugin, the command line, the language server and pyproject.toml.

Each option has one key: `input-shape` in `[tool.torchshape-lint]`, `--input-shape` on the command line,
`torchshape-input-shape` / `--torchshape-input-shape` for flake8. `select`, `ignore` and `extend-select` are
flake8's own options under the same keys, so the plugin leaves them to flake8.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

PYPROJECT_TABLE = "tool.torchshape-lint"
MIN_DEFAULT_RANK, MAX_DEFAULT_RANK = 2, 5  # (C, L) … (N, C, D, H, W): what the first conv, pool or norm reads
CODE_PREFIX = re.compile(r"^[A-Z]{1,3}[0-9]{0,3}$")  # what flake8 accepts in --select / --ignore


class OptionError(ValueError):
    """A bad option value; the message names the key, the value and where it came from."""


def parse_input_shape(text: Any, where: str = "--input-shape") -> tuple | None:
    """`1,3,224,224` or `(1, 3, 224, 224)` → (1, 3, 224, 224); every dimension a positive integer."""
    if text is None or text == "":
        return None
    if isinstance(text, (list, tuple)):
        parts = list(text)
    else:
        parts = [p for p in str(text).strip().strip("()[]").split(",") if p.strip()]
    try:
        shape = tuple(int(str(p).strip()) for p in parts)
    except ValueError:
        raise OptionError(f"{where}: {text!r} is not a list of integers such as 1,3,224,224") from None
    if not shape or any(d < 1 for d in shape):
        raise OptionError(f"{where}: {text!r} must have dimensions of at least 1")
    if not MIN_DEFAULT_RANK <= len(shape) <= MAX_DEFAULT_RANK:  # it would fit no model: say so, never ignore it
        raise OptionError(f"{where}: {text!r} has {len(shape)} dimension{'s' * (len(shape) != 1)}; a default input "
                          f"has {MIN_DEFAULT_RANK} to {MAX_DEFAULT_RANK}: (N, C, *sizes) for a conv or pool over 1 to "
                          "3 sizes, or one sample (C, *sizes)")
    return shape


def parse_per_path_input_shapes(value: Any, where: str = "--per-path-input-shape") -> tuple:
    """Glob → shape pairs, in order: a table `{"mnist/*.py" = "1,1,28,28"}` (pyproject.toml), or lines
    `mnist/*.py: 1,1,28,28` (a flake8 config value, or repeated command-line flags)."""
    if value is None or value == "":
        return ()
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        lines = value.splitlines() if isinstance(value, str) else list(value)
        pairs = []
        for line in (str(item).strip() for item in lines):
            if not line:
                continue
            glob, colon, shape = line.rpartition(":")
            if not colon or not glob.strip():
                raise OptionError(f"{where}: {line!r} is not GLOB:SHAPE such as mnist/*.py:1,1,28,28")
            pairs.append((glob.strip(), shape))
    return tuple((str(glob), parse_input_shape(shape, f"{where}: {glob}")) for glob, shape in pairs)


def parse_codes(value: Any, where: str = "--select") -> tuple:
    """`TSL001,TSL5` or a list of them → ('TSL001', 'TSL5'): code prefixes, as flake8 writes them."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,\s]+", str(value))
    codes = tuple(str(item).strip().upper() for item in items if str(item).strip())
    for code in codes:
        if not CODE_PREFIX.match(code):
            raise OptionError(f"{where}: {code!r} is not a code or code prefix such as TSL001 or TSL")
    return codes


def parse_flag(value: Any, where: str = "--confirm") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise OptionError(f"{where}: {value!r} is not true or false")
    return text in ("true", "1", "yes", "on")


DEVICES = ("cuda", "cpu", "meta")


def parse_device(value: Any, where: str = "--device") -> str:
    if str(value) not in DEVICES:
        raise OptionError(f"{where}: {value!r} is not one of {', '.join(DEVICES)}")
    return str(value)


def parse_seconds(value: Any, where: str = "--confirm-timeout") -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not seconds > 0:
        raise OptionError(f"{where}: {value!r} is not a positive number of seconds")
    return seconds


@dataclass(frozen=True)
class Option:
    name: str  # the key in [tool.torchshape-lint]; the CLI flag is --NAME, flake8's --torchshape-NAME
    help: str
    parse: Callable[[Any, str], Any]
    metavar: str = ""
    repeatable: bool = False  # on the command line, the flag may be given several times
    flake8_own: bool = False  # flake8 has this option itself, under the same key
    flag: bool = False  # a switch without a value on the command line (`true` in a config file)

    @property
    def cli_flag(self) -> str:
        return f"--{self.name}"

    @property
    def flake8_flag(self) -> str:
        return self.cli_flag if self.flake8_own else f"--torchshape-{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS = (
    Option("input-shape", "input shape for models without a pragma, e.g. 1,3,224,224 (batch and sizes; "
           "each model's first layer gives its channels)", parse_input_shape, "N,C,H,W"),
    Option("per-path-input-shape", "input shape for files matching a glob, e.g. 'mnist/*.py:1,1,28,28' "
           "(the first matching glob wins over input-shape)", parse_per_path_input_shapes, "GLOB:SHAPE",
           repeatable=True),
    Option("select", "comma-separated codes or prefixes to report (default: all)", parse_codes, "CODES",
           flake8_own=True),
    Option("extend-select", "codes or prefixes to report in addition to select", parse_codes, "CODES",
           flake8_own=True),
    Option("ignore", "codes or prefixes not to report", parse_codes, "CODES", flake8_own=True),
    Option("confirm", "run each model in PyTorch (in a child process) and mark every finding confirmed or not "
           "reproduced; needs the [confirm] extra", parse_flag, flag=True),
    Option("device", "device for --confirm: cuda (the default when available), cpu, or meta (no memory)",
           parse_device, "DEVICE"),
    Option("confirm-timeout", "seconds --confirm allows each model: import, build and run (default 60)",
           parse_seconds, "SECONDS"),
    Option("no-cache", "neither read nor write the result cache (kept in the user's cache folder, keyed by the bytes "
           "of every project file an analysis read, the options and the tool)", parse_flag, flag=True),
)
BY_NAME = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """The options in force, and where relative globs start (the config file's folder, or the current one)."""

    input_shape: tuple | None = None
    per_path_input_shape: tuple = ()
    select: tuple = ()
    extend_select: tuple = ()
    ignore: tuple = ()
    confirm: bool = False
    device: str | None = None
    confirm_timeout: float | None = None
    no_cache: bool = False
    base: str = "."

    def input_shape_for(self, path: str) -> tuple | None:
        """The first glob matching the path (relative to `base`, or its file name) gives the shape."""
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.base)).replace(os.sep, "/")
        for glob, shape in self.per_path_input_shape:
            if fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(os.path.basename(path), glob):
                return shape
        return self.input_shape

    def wanted(self, code: str) -> bool:
        """As flake8 decides: the longest matching prefix of select (plus extend-select) or ignore wins;
        ignore wins a tie; with no select, every code is selected."""
        select = self.select + self.extend_select if self.select else ("",) + self.extend_select
        selected = max((len(s) for s in select if code.startswith(s)), default=-1)
        ignored = max((len(i) for i in self.ignore if code.startswith(i)), default=-1)
        return selected >= 0 and selected > ignored


def parse_values(values: dict, where: Callable[[str], str]) -> dict:
    """Raw values by key (`input-shape`, or `input_shape` from argparse) → parsed values by dest, for the keys
    given; `where(key)` names the source in error messages."""
    known = {option.name for option in OPTIONS} | {option.dest for option in OPTIONS}
    for key in values:
        if key not in known:
            raise OptionError(f"{where(str(key))}: unknown key; the keys are {', '.join(BY_NAME)}")
    parsed = {}
    for option in OPTIONS:
        value = values.get(option.name, values.get(option.dest))
        if value is not None:
            parsed[option.dest] = option.parse(value, where(option.name))
    return parsed


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml at or above `start` (a folder)."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_pyproject(path: str | None) -> Settings:
    """`[tool.torchshape-lint]` of a pyproject.toml (none: the defaults); a bad value raises OptionError
    naming the file and the key."""
    if path is None:
        return Settings()
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        raise OptionError(f"{shown}: {error}") from None
    if b"torchshape-lint" not in text:  # no table of ours, however quoted: not worth the TOML parser and what it
        return Settings(base=os.path.dirname(path))  # imports (a twentieth of a start without bytecode)
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, the same parser before it joined the standard library
        import tomli as tomllib

    try:
        table = tomllib.loads(text.decode("utf-8")).get("tool", {}).get("torchshape-lint", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise OptionError(f"{shown}: {error}") from None
    if not isinstance(table, dict):
        raise OptionError(f"{shown}: [{PYPROJECT_TABLE}] must be a table")
    return Settings(**parse_values(table, lambda key: f"{shown} [{PYPROJECT_TABLE}] {key}"),
                    base=os.path.dirname(path))
