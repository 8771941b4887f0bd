"""The options, defined once for both the flake8 plugin and the standalone command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class OptionError(ValueError):
    """A bad option value; the message names the value and where it came from."""


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
    return shape


@dataclass(frozen=True)
class Option:
    name: str  # the key in [tool.torchshape-lint]; the CLI flag is --NAME, flake8's --torchshape-NAME
    help: str
    parse: Callable[[Any, str], Any]
    metavar: str = ""

    @property
    def cli_flag(self) -> str:
        return f"--{self.name}"

    @property
    def flake8_flag(self) -> str:
        return f"--torchshape-{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS = (
    Option("input-shape", "input shape for models without a pragma, e.g. 1,3,224,224 (batch and sizes; "
           "each model's first layer gives its channels)", parse_input_shape, "N,C,H,W"),
)
