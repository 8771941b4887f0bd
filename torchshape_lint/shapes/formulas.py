"""PyTorch's output-size formulas, one function each, as the PyTorch docs and ATen write them.

Each returns the output size for one spatial dimension; a result below 1 means PyTorch rejects the input.
Every one is monotone non-decreasing in the input size (tests check it), which `dims` relies on.
"""

from __future__ import annotations

from functools import partial
from typing import Callable


def conv(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Conv{1,2,3}d: floor((L + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose(size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int) -> int:
    """ConvTranspose{1,2,3}d: (L - 1)s - 2p + d(k-1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def unpool(size: int, kernel: int, stride: int, padding: int) -> int:
    """MaxUnpool{1,2,3}d: (L - 1)s - 2p + k."""
    return (size - 1) * stride - 2 * padding + kernel


def pool(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Max/Avg pooling (ATen's pooling_output_shape): with ceil_mode the last window must start
    inside the input or its left padding."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def avg_pool3d(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """AvgPool3d: as `pool`, but ATen's avg_pool3d also rejects an input smaller than the kernel, padding aside."""
    return pool(size, kernel, stride, padding, 1, ceil_mode) if size >= kernel else 0


def scale(size: int, factor: float) -> int:
    """Upsample / interpolate with scale_factor: floor(L * scale)."""
    return int(size * factor // 1)


def pad(size: int, before: int, after: int) -> int:
    """Padding layers: L + left + right."""
    return size + before + after


def floor_divide(size: int, by: int) -> int:
    """Python's `size // by` on a symbolic size (`planes // 16`), for a positive `by`."""
    return size // by


def multiply_by(size: int, factor: int) -> int:
    """PixelShuffle's spatial growth: L * r."""
    return size * factor


def canonical(fn: Callable[[int], int]) -> tuple | None:
    """A formula's canonical form, equal for formulas that compute the same function of the size.

    floor((L + c) / s) + 1 covers convs, floor-mode pools and padding; with s = 1 it is L + (c + 1).
    """
    if not isinstance(fn, partial):
        return None
    k = fn.keywords
    if fn.func is conv or (fn.func is pool and k["ceil_mode"] is False):
        c, s = 2 * k["padding"] - k["dilation"] * (k["kernel"] - 1) - 1, k["stride"]
        return ("add", c + 1) if s == 1 else ("floor", c, s)
    if fn.func is pad:
        return ("add", k["before"] + k["after"])
    return (fn.func.__name__,) + tuple(sorted(k.items()))
