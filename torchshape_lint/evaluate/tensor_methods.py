"""What the evaluator knows of a tensor's own attributes, methods and indexing: `x.shape`, `x.size(i)`, `x[:, -1]`,
in-place reshapes, the methods that spell registered tensor ops (tensor_op_table: `x.view(...)`, `x.sum(1)`) and
factories (`x.new_zeros`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape_lint.evaluate.python_library import Method, int_like
from torchshape_lint.evaluate.tensor_factories import NEW_FACTORIES, tensor_factory, tensor_from_data
from torchshape_lint.evaluate.tensor_op_table import METHOD, NOT_FOLLOWED, OpCall, apply, registered
from torchshape_lint.evaluate.tensor_ops import as_operand
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import Tensor, settle, symbolic_pending
from torchshape_lint.unknown import UNKNOWN


@dataclass(frozen=True)
class PendingSizes:
    """`x.shape` / `x.size()` of a model's input that no layer has given a rank yet. Of an exact shape, `(1, 3000)`
    may be one sample or a batch (`settle`), so only the sizes counted from the end are known, the same for both;
    of symbolic sizes, the batch (a symbolic input is taken batched) and each size counted from the end, a symbol of
    its own that an op fixing the rank keeps (`of_rank`)."""

    written: tuple  # the shape as the pragma or usage gives it
    batch: Any = UNKNOWN
    family: int = 0  # of symbolic sizes: the input's `family`

    def item(self, key: Any) -> Any:
        if int_like(key) and -len(self.written) <= key < 0 and int_like(self.written[key]):
            return self.written[key]
        if int_like(key) and key < 0 and self.family:
            return dims.size_from_end(self.family, -key)
        return self.batch if int_like(key) and key == 0 else UNKNOWN

    def unpacked(self, count: int) -> Any:
        """`b, c, l = x.shape`: it succeeds only where the rank is `count`, so the sizes are those `of_rank` gives;
        UNKNOWN where they are not known."""
        if not self.family or count < 2:
            return UNKNOWN
        return list(dims.sizes_of_rank(self.family, count))  # its batch is N: that of symbolic sizes


def pending_sizes(x: Tensor) -> Any:
    """The sizes of a pending input that both readings of its exact shape agree on, or its batch where its sizes
    are symbolic; UNKNOWN for any other."""
    if x.pending and x.hint is None and not x.deferred:
        return PendingSizes((), dims.symbol("N"), x.family if symbolic_pending(x) else 0)
    return PendingSizes(tuple(x.hint)) if x.pending and x.exact and x.hint and not x.deferred else UNKNOWN


def tensor_attribute(x: Tensor, name: str, where: Any) -> Any:
    if name == "shape":
        x = settle(x)
        return tuple(x.shape) if x.shape is not None else pending_sizes(x)
    if name == "ndim":
        x = settle(x)
        return len(x.shape) if x.shape is not None else UNKNOWN
    if name in ("T", "mT", "data", "real"):
        return UNKNOWN if name != "data" else x
    return Method(x, name)


def tensor_index(x: Tensor, key: Any, where: Any = None) -> Any:
    """Basic indexing: an int drops its dimension, a slice keeps it with the length Python's slice gives (bounds
    clamped, as PyTorch clamps them), `None` inserts a 1, `...` stands for the dimensions no other part names.
    A 1-D tensor or array as the index: `indexed_by_array`. Anything else (a list or another tensor as index, a step
    below 1, an int out of a known size) is unknown."""
    x = as_operand(x)
    if isinstance(key, Tensor):
        return indexed_by_array(x, as_operand(key), where)
    keys = key if isinstance(key, tuple) else (key,)
    if x.shape is None or sum(k is Ellipsis for k in keys) > 1:
        return UNKNOWN
    named = sum(1 for k in keys if k is not None and k is not Ellipsis)
    if named > len(x.shape):
        return UNKNOWN
    if Ellipsis not in keys:
        keys = keys + (Ellipsis,)
    shape, position = [], 0
    for k in keys:
        if k is Ellipsis:
            skipped = len(x.shape) - named
            shape.extend(x.shape[position:position + skipped])
            position += skipped
        elif k is None:
            shape.append(1)
        elif int_like(k):
            size = x.shape[position]
            if isinstance(size, int) and not -size <= k < size:  # PyTorch raises IndexError
                return UNKNOWN
            position += 1
        elif isinstance(k, slice):
            length = sliced_length(x.shape[position], k)
            if length is None:
                return UNKNOWN
            shape.append(length)
            position += 1
        else:
            return UNKNOWN
    return x.then("index", where, tuple(shape))


def indexed_by_array(x: Tensor, index: Tensor, where: Any) -> Any:
    """`x[idx]` with a 1-D tensor or array as the index (`all_X[np.random.permutation(n)]`): integers pick rows, a
    bool mask the rows it marks; either way the sizes after the first stay. The first is the index's length where the
    index cannot be a mask (a mask is as long as x's first size: NumPy and PyTorch raise otherwise), else unknown."""
    if not x.shape or index.shape is None or len(index.shape) != 1:
        return UNKNOWN
    length, first = index.shape[0], x.shape[0]
    picked = length if isinstance(length, int) and isinstance(first, int) and length != first else UNKNOWN
    return x.then("index", where, (picked,) + tuple(x.shape[1:]))


def sliced_length(size: Any, part: slice) -> Any:
    """The length of `size` items sliced by `part`; None where PyTorch raises (a step below 1) or it is not known."""
    if any(b is not None and not int_like(b) for b in (part.start, part.stop, part.step)):
        return UNKNOWN if part.step is None or int_like(part.step) and part.step > 0 else None
    if part.step is not None and part.step < 1:
        return None
    if part.start is None and part.stop is None and part.step in (None, 1):
        return size
    return len(range(*part.indices(size))) if isinstance(size, int) else UNKNOWN


def size_of(interp: Any, x: Tensor, args: list, where: Any) -> Any:
    x = settle(x)
    if x.shape is None:
        sizes = pending_sizes(x)
        if not args or sizes is UNKNOWN:
            return sizes
        return sizes.item(args[0]) if len(args) == 1 else UNKNOWN
    if not args:
        return tuple(x.shape)
    if len(args) == 1 and int_like(args[0]) and x.shape:  # a scalar has no size to give, whatever the dim
        wrapped = interp.check.wrap_dims(where, f"size({args[0]})", x, args, len(x.shape))
        return x.shape[wrapped[0]] if wrapped is not None else UNKNOWN
    return UNKNOWN


# in-place methods that change the shape of the tensor they are called on: the name bound to it sees the new shape
# (not explain steps: what torch's hooks see as their input is the tensor already changed). Those registered
# (x.unsqueeze_(1)) give the new shape; the others leave it unknown.
IN_PLACE_RESHAPES = frozenset("unsqueeze_ squeeze_ transpose_ t_ swapaxes_ swapdims_ resize_ resize_as_ "
                              "as_strided_ set_".split())


def tensor_method(interp: Any, x: Tensor, name: str, args: list, kwargs: dict, where: Any) -> Any:
    op = registered(METHOD, name)
    if op is not None:
        out = apply(interp, op, OpCall(op, name, METHOD, where), [x] + list(args), kwargs)
        return UNKNOWN if out is NOT_FOLLOWED else out
    if name == "type" and (args or kwargs):  # x.type(Tensor) casts; x.type() names the type
        return x
    if name == "size":
        return size_of(interp, x, args, where) if not kwargs else UNKNOWN
    if name == "dim" and not args:
        x = settle(x)
        return len(x.shape) if x.shape is not None else UNKNOWN
    if name == "numel" and not args:
        x = settle(x)
        return dims.product(x.shape) if x.shape is not None else UNKNOWN
    if name in NEW_FACTORIES:
        return tensor_factory(NEW_FACTORIES[name], args, {k: v for k, v in kwargs.items() if k == "size"})
    if name == "new_tensor" and len(args) == 1:
        return tensor_from_data(args)
    return UNKNOWN
