"""The lengths of tensors PyTorch makes from numbers: `torch.arange`, `torch.linspace` / `logspace`, `torch.eye`.

Each returns the shape, or None where PyTorch raises or the arguments are not plain numbers (nothing decided).
"""

from __future__ import annotations

import math


def number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def arange(start, end, step) -> tuple | None:
    """torch.arange(end), arange(start, end, step=1): ceil((end - start) / step) values, computed in double as
    ATen computes it; a step of 0, or one pointing away from `end`, raises."""
    if not (number(start) and number(end) and number(step)) or step == 0 \
            or not all(math.isfinite(v) for v in (start, end, step)):
        return None
    if step > 0 and end < start or step < 0 and end > start:
        return None  # PyTorch: "upper bound and lower bound inconsistent with step sign"
    return (math.ceil((float(end) - float(start)) / float(step)),)


def spaced(steps) -> tuple | None:
    """torch.linspace(start, end, steps) / logspace: `steps` values; a negative count raises."""
    return (steps,) if isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0 else None


def eye(n, m=None) -> tuple | None:
    """torch.eye(n, m=n): an n x m matrix; a negative size raises."""
    m = n if m is None else m
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (n, m)):
        return None
    return (n, m)
