"""Merging tensors: PyTorch's broadcasting (element-wise ops, `torch.where`), `torch.cat` and `torch.stack`.

Each function takes shapes (tuples of dims.Dim) and returns `(shape, problem)`: the merged shape (with UNKNOWN
where a size is not decided) and None, or None and PyTorch's own words for why it raises. A problem is a proof:
on symbolic sizes it is reported only where the sizes differ for every input (dims.can_equal; two sizes of one input
through the same formulas, then shifted by different amounts: dims.differ_by_a_shift); other symbolic sizes that
are not the same function of the input are not decided (a residual block's `H` and `h'` agree at 1).
"""

from __future__ import annotations

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.dims import Dim
from torchshape_lint.unknown import UNKNOWN, Unknown


def never_equal(a: Dim, b: Dim) -> bool:
    """Whether two sizes differ for every input."""
    if isinstance(a, Unknown) or isinstance(b, Unknown) or a == b:
        return False
    if isinstance(a, int) and isinstance(b, int):
        return True
    if isinstance(a, dims.Sym) and isinstance(b, dims.Sym):
        return dims.differ_by_a_shift(a, b)
    if isinstance(a, int):
        a, b = b, a
    return isinstance(b, int) and dims.can_equal(a, b) is False


def always_one(d: Dim) -> bool:
    return isinstance(d, int) and d == 1


def broadcast_dim(a: Dim, b: Dim) -> tuple[Dim, bool]:
    """The broadcast of two sizes, and whether they are proven incompatible (neither 1, never equal)."""
    if not isinstance(a, Unknown) and a == b or always_one(b):
        return a, False
    if always_one(a):
        return b, False
    if never_equal(a, b) and never_equal(a, 1) and never_equal(b, 1):
        return UNKNOWN, True
    # Where they agree, the result is the size that is not 1: a known size other than 1 is it.
    known = [d for d in (a, b) if isinstance(d, int) and d != 1]
    return (known[0] if known else UNKNOWN), False


def broadcast(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """PyTorch's broadcasting of two shapes (`a + b`, `torch.mul(a, b)`): trailing dimensions aligned, a size 1
    stretched. PyTorch names the first mismatch from the right, by its index in the result."""
    rank = max(len(a), len(b))
    out: list = []
    for i in range(1, rank + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        merged, clash = broadcast_dim(da, db)
        if clash:
            return None, mismatch(da, db, rank - i)
        out.append(merged)
    return tuple(reversed(out)), None


def mismatch(a: Dim, b: Dim, dim: int) -> str:
    shown_a, shown_b = dims.show(a), dims.show(b)
    found = dims.shifts(a, b)
    if found is not None and found[0] != found[1]:  # both show as w': the larger is said as the smaller plus the gap
        gap = found[1] - found[0]
        shown_a, shown_b = (shown_a, f"{shown_a} + {gap}") if gap > 0 else (f"{shown_b} + {-gap}", shown_b)
    return f"The size of tensor a ({shown_a}) must match the size of tensor b ({shown_b}) at non-singleton " \
           f"dimension {dim}"


def broadcast_all(shapes: list) -> tuple[tuple | None, str | None]:
    """Several shapes broadcast together (`torch.where(condition, a, b)`), left to right."""
    merged = shapes[0]
    for shape in shapes[1:]:
        merged, problem = broadcast(merged, shape)
        if problem is not None:
            return None, problem
    return merged, None


def broadcast_into(target: tuple, other: tuple) -> tuple[tuple | None, str | None]:
    """An in-place op (`a += b`, `a.mul_(b)`): the broadcast of both must be `a`'s shape (no dimension added, even
    of size 1)."""
    merged, problem = broadcast(target, other)
    if problem is not None:
        return None, problem
    rank = max(len(target), len(other))
    for i in range(1, min(len(target), len(other)) + 1):
        if dims.never_broadcasts_into(target[-i], other[-i]):
            return None, mismatch(target[-i], other[-i], rank - i)
    if len(merged) > len(target) or any(never_equal(m, t) for m, t in zip(merged, target)):
        shown = ", ".join(dims.show(d) for d in merged)
        return None, (f"output with shape [{', '.join(dims.show(d) for d in target)}] doesn't match the broadcast "
                      f"shape [{shown}]")
    return tuple(target), None


def cat(shapes: list, dim: int) -> tuple[tuple | None, str | None]:
    """torch.cat: the same rank, every size equal to the first tensor's but along `dim` (already wrapped), where
    they add up."""
    first = shapes[0]
    for number, shape in enumerate(shapes[1:], start=1):
        if len(shape) != len(first):
            return None, f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
        for i, (expected, got) in enumerate(zip(first, shape)):
            if i != dim and never_equal(expected, got):
                return None, (f"Sizes of tensors must match except in dimension {dim}. Expected size "
                              f"{dims.show(expected)} but got size {dims.show(got)} for tensor number {number} "
                              "in the list.")
    total: Dim = 0
    for shape in shapes:
        total = total + shape[dim] if isinstance(total, int) and isinstance(shape[dim], int) else UNKNOWN
    same = tuple(agreed([shape[i] for shape in shapes]) for i in range(len(first)))
    return same[:dim] + (total,) + same[dim + 1:], None


def stack(shapes: list, dim: int) -> tuple[tuple | None, str | None]:
    """torch.stack: every shape equal; a new dimension at `dim` (already wrapped for rank + 1), as long as the list."""
    first = shapes[0]
    for entry, shape in enumerate(shapes[1:], start=1):
        if len(shape) != len(first) or any(never_equal(a, b) for a, b in zip(first, shape)):
            return None, (f"stack expects each tensor to be equal size, but got {listed(first)} at entry 0 and "
                          f"{listed(shape)} at entry {entry}")
    same = tuple(agreed([shape[i] for shape in shapes]) for i in range(len(first)))
    return same[:dim] + (len(shapes),) + same[dim:], None


def agreed(sizes: list) -> Dim:
    """The one size that sizes proven compatible share: the first where all are the same, a known one otherwise."""
    if all(not isinstance(s, Unknown) and s == sizes[0] for s in sizes):
        return sizes[0]
    return next((s for s in sizes if isinstance(s, int)), UNKNOWN)


def listed(shape: tuple) -> str:
    return "[" + ", ".join(dims.show(d) for d in shape) + "]"
