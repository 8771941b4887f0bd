"""`# torchshape: input=(N, C, H, W)` comments: the input shape of the model defined just below."""

from __future__ import annotations

import ast
import re

INPUT = re.compile(r"^input\s*=\s*(?P<shape>.+?)\s*$")


def input_pragma(text: str) -> tuple | None:
    """The shape a pragma gives, or None when it is not a well-formed input pragma."""
    match = INPUT.match(text)
    if not match:
        return None
    try:
        value = ast.literal_eval(match.group("shape"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, int):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        return None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
        return None
    return tuple(value)
