"""What the evaluator knows of NumPy: the arrays scripts make to feed a model — a GAN's noise
(`np.random.normal(0, 1, (batch, latent_dim))`), or a data set a script generates
(`np.sin(np.arange(n_length) / scale)`, lists of arrays made into one with `np.array(...)` / `np.concatenate(...)`,
shuffled with `all_X[np.random.permutation(n)]`) — handed to `torch.FloatTensor(...)`, `torch.from_numpy(...)` or
read as `data.shape[1]`. An array is a Tensor value: only its shape matters here, and torch's conversions keep it.
NumPy broadcasts as PyTorch does, so arithmetic on arrays (`x / scale + offset`) is the tensors' (tensor_ops), and
so is `.reshape`; a NumPy mismatch is not reported (PyTorch's words would not be NumPy's), its result is unknown."""

from __future__ import annotations

import math
from typing import Any

from torchshape_lint.evaluate.python_library import Builtin, int_like
from torchshape_lint.evaluate.tensor_factories import data_shape, sized_by_numbers, tensor_of_sizes
from torchshape_lint.evaluate.tensor_ops import as_operand, reshape
from torchshape_lint.evaluate.values import External, ListV, readable
from torchshape_lint.shapes import dims, merges
from torchshape_lint.shapes.tensor import Tensor, concrete_input, settle
from torchshape_lint.unknown import UNKNOWN

# NumPy's numbers, read as `np.pi`; the same as the math module's
NUMPY_CONSTANTS = {"numpy.pi": math.pi, "numpy.e": math.e, "numpy.inf": math.inf, "numpy.nan": math.nan,
                   "numpy.newaxis": None}


def array(shape: Any) -> Any:
    """An array of `shape` (an int or a sequence of ints; None: a scalar, read as an array of shape ());
    UNKNOWN for anything else."""
    sizes = () if shape is None else (shape,) if int_like(shape) else tuple(shape) \
        if isinstance(shape, (tuple, ListV)) else None
    return UNKNOWN if sizes is None else tensor_of_sizes(sizes)


def sized_by(position: int, keyword: str = "size", scalar: bool = False):
    """A function whose shape is one argument: `np.random.normal(loc, scale, size)`, `np.zeros(shape)`. `scalar`:
    without it, one number (`np.random.random()`), where the other arguments are numbers (an array `loc` of
    `np.random.normal(loc)` gives its own shape)."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        size = args[position] if len(args) > position else kwargs.get(keyword)
        if size is None and not (scalar and all(isinstance(readable(v), (int, float)) for v in
                                                list(args) + [v for k, v in kwargs.items() if k != keyword])):
            return UNKNOWN
        return array(size)

    return call


def sized_by_arguments(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """`np.random.randn(64, 100)`, `np.random.rand(3, 4)`: the sizes as arguments (none: one number)."""
    return array(tuple(args)) if not kwargs else UNKNOWN


def operand(value: Any) -> Any:
    """A value as an operand of an element-wise function: an array, or a number (shape ()); UNKNOWN otherwise."""
    value = readable(value)
    if isinstance(value, Tensor):
        return value
    return concrete_input((), "usage") if isinstance(value, (int, float)) else UNKNOWN


def holds_an_array(args: list) -> bool:
    """Whether an element-wise function gets an array: on numbers alone (`np.power(2, repeat_num)` in a
    constructor) it gives a NumPy number, whose value is not followed, and which is no array fed to a model."""
    return any(isinstance(readable(v), Tensor) for v in args)


def unary(name: str):
    """`np.sin(x)`, `np.exp(x)`, `np.abs(x)`, …: an element-wise function keeps its operand's shape."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        if len(args) != 1 or not set(kwargs) <= {"dtype"} or not holds_an_array(args):
            return UNKNOWN
        return operand(args[0])

    return call


def binary(name: str):
    """`np.add(a, b)`, `np.maximum(a, b)`, …: the operands broadcast together, as `a + b` does."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        operands = [operand(v) for v in args]
        if len(operands) != 2 or kwargs or UNKNOWN in operands or not holds_an_array(args):
            return UNKNOWN
        return merged(interp, f"np.{name}(a, b)", operands, where)

    return call


def merged(interp: Any, label: str, operands: list, where: Any) -> Any:
    """Element-wise over arrays: their broadcast (shapes/merges.py), unknown where they cannot broadcast, which is
    not reported in PyTorch's words. Not a step of a model: data made for it."""
    shapes = [as_operand(t).shape for t in operands]
    if any(s is None for s in shapes):
        return UNKNOWN
    shape, problem = merges.broadcast_all(shapes)
    widest = max(operands, key=lambda t: len(as_operand(t).shape))
    return UNKNOWN if problem is not None else widest.then(label, where, shape)


def to_array(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """`np.array(data)` / `np.asarray(data)`: an array's own shape, or the nesting of regular (nested) lists of
    numbers and arrays; a ragged one, or one made of objects (`dtype=object`), is unknown."""
    dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
    if not args or len(args) > 2 or not set(kwargs) <= {"dtype", "copy"} or not numeric_dtype(dtype):
        return UNKNOWN
    shape = data_shape(args[0], 0)
    return UNKNOWN if shape is UNKNOWN else concrete_input(shape, "usage")


def numeric_dtype(dtype: Any) -> bool:
    """A dtype that keeps data's nesting as the array's shape: none, a number type (`np.float32`, `float`,
    `"int64"`); not `object`, which makes an array of the outer list."""
    dtype = readable(dtype)
    if dtype is None:
        return True
    name = dtype if isinstance(dtype, str) else dtype.name if isinstance(dtype, (External, Builtin)) else None
    return name is not None and name.split(".")[-1] not in ("object", "object_", "O")


def arrays_of(value: Any) -> Any:
    """The items of a sequence of arrays (a list, a tuple), each an array or UNKNOWN; UNKNOWN where the sequence is
    not known or holds something that is no array (a number, a list: not followed)."""
    value = readable(value)
    if not isinstance(value, (ListV, tuple)) or not value:
        return UNKNOWN
    items = [readable(v) for v in value]
    if not all(v is UNKNOWN or isinstance(v, Tensor) and settle(v).shape is not None for v in items):
        return UNKNOWN
    return [v if v is UNKNOWN else settle(v) for v in items]


def joined(interp: Any, items: Any, axis: Any, where: Any, stack: bool) -> Any:
    """np.concatenate (sizes add up along `axis`) and np.stack (a new dimension at `axis`, as long as the list).
    An array not known among them does not make the result unknown: if the call runs, it has the known arrays' rank
    and their sizes off `axis` (NumPy raises otherwise), so only the sizes it adds to are unknown."""
    if items is UNKNOWN or not int_like(axis):
        return UNKNOWN
    known = [t for t in items if t is not UNKNOWN]
    if not known:
        return UNKNOWN
    rank = len(known[0].shape)
    index = dims.wrap_dim(axis, rank + stack)
    if index is None or rank == 0 and not stack:
        return UNKNOWN
    merge = merges.stack if stack else merges.cat
    shape, problem = merge([t.shape for t in known], index)
    if problem is not None:
        return UNKNOWN
    if stack:
        shape = shape[:index] + (len(items),) + shape[index + 1:]
    elif len(known) < len(items):
        shape = shape[:index] + (UNKNOWN,) + shape[index + 1:]
    return known[0].then("np.stack" if stack else "np.concatenate", where, shape)


def joining(stack: bool):
    """np.concatenate(arrays, axis=0) and np.stack(arrays, axis=0): `joined`."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        axis = args[1] if len(args) > 1 else kwargs.get("axis", 0)
        return joined(interp, arrays_of(args[0]) if args else UNKNOWN, axis, where, stack=stack)

    return call


def stacked_along(axis: int, least_rank: int):
    """np.vstack (axis 0, each array at least 2-D: a 1-D one of n is a row (1, n)) and np.hstack (axis 1, or 0 for
    1-D arrays)."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        items = arrays_of(args[0]) if len(args) == 1 and not kwargs else UNKNOWN
        if items is UNKNOWN or any(t is UNKNOWN for t in items):
            return UNKNOWN
        label = f"np.atleast_{least_rank}d"
        items = [t if len(t.shape) >= least_rank else t.then(label, where, (1,) * (least_rank - len(t.shape)) + t.shape)
                 for t in items]
        along = axis if len(items[0].shape) > 1 else 0
        return joined(interp, items, along, where, stack=False)

    return call


def expand_dims(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """np.expand_dims(a, axis): a 1 inserted at `axis` (an int, or a tuple of them), counted in the result."""
    a = operand(args[0]) if args else UNKNOWN
    axis = args[1] if len(args) > 1 else kwargs.get("axis")
    axes = tuple(axis) if isinstance(axis, (tuple, ListV)) else (axis,)
    if a is UNKNOWN or a.shape is None or not all(int_like(x) for x in axes):
        return UNKNOWN
    rank = len(a.shape) + len(axes)
    wrapped = [dims.wrap_dim(x, rank) for x in axes]
    if None in wrapped or len(set(wrapped)) < len(wrapped):  # NumPy: out of range, or repeated
        return UNKNOWN
    sizes = iter(a.shape)
    return a.then("np.expand_dims", where, tuple(1 if i in wrapped else next(sizes) for i in range(rank)))


def transpose(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """np.transpose(a, axes=None): the dimensions reversed, or in the order `axes` gives (a permutation)."""
    a = operand(args[0]) if args else UNKNOWN
    axes = args[1] if len(args) > 1 else kwargs.get("axes")
    if a is UNKNOWN or a.shape is None:
        return UNKNOWN
    rank = len(a.shape)
    if axes is None:
        return a.then("np.transpose", where, tuple(reversed(a.shape)))
    if not isinstance(axes, (tuple, ListV)) or not all(int_like(x) for x in axes) or len(axes) != rank:
        return UNKNOWN
    order = [dims.wrap_dim(x, rank) for x in axes]
    if None in order or sorted(order) != list(range(rank)):
        return UNKNOWN
    return a.then("np.transpose", where, tuple(a.shape[i] for i in order))


def np_reshape(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """np.reshape(a, newshape): as `a.reshape(newshape)`."""
    a = operand(args[0]) if args else UNKNOWN
    sizes = args[1] if len(args) == 2 and not kwargs else UNKNOWN
    if a is UNKNOWN or sizes is UNKNOWN:
        return UNKNOWN
    return reshape(interp, a, [sizes], where, "np.reshape")


def arange(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """np.arange(stop), arange(start, stop, step): as torch.arange counts them (shapes/factories.py)."""
    renamed = {("end" if k == "stop" else k): v for k, v in kwargs.items() if k != "dtype"}
    shape = sized_by_numbers("arange", list(args), renamed)
    return UNKNOWN if shape is None else concrete_input(shape, "usage")


def permutation(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """np.random.permutation(n): the n numbers shuffled, shape (n,); of an array, the array shuffled (its shape)."""
    if len(args) != 1 or kwargs:
        return UNKNOWN
    given = readable(args[0])
    if isinstance(given, Tensor):
        return given
    return array((given,)) if int_like(given) and given >= 0 else UNKNOWN


def array_method(interp: Any, x: Tensor, name: str, args: list, kwargs: dict) -> Any:
    """The methods only arrays have: `.astype(dtype)` keeps the shape; `.copy()` too."""
    if name in ("astype", "copy"):
        return x
    return UNKNOWN


ARRAY_METHODS = frozenset({"astype", "copy"})

UNARY = ("sin cos tan arcsin arccos arctan sinh cosh tanh exp expm1 exp2 log log2 log10 log1p sqrt square abs "
         "absolute fabs sign negative floor ceil rint round around trunc reciprocal").split()
BINARY = "add subtract multiply divide true_divide power maximum minimum fmax fmin".split()

NUMPY_EXTERNALS = {
    "numpy.random.normal": sized_by(2, scalar=True),
    "numpy.random.uniform": sized_by(2, scalar=True),
    "numpy.random.randint": sized_by(2),
    "numpy.random.standard_normal": sized_by(0, scalar=True),
    "numpy.random.random": sized_by(0, scalar=True),
    "numpy.random.random_sample": sized_by(0, scalar=True),
    "numpy.random.randn": sized_by_arguments,
    "numpy.random.rand": sized_by_arguments,
    "numpy.random.permutation": permutation,
    "numpy.zeros": sized_by(0, "shape"),
    "numpy.ones": sized_by(0, "shape"),
    "numpy.empty": sized_by(0, "shape"),
    "numpy.full": sized_by(0, "shape"),
    "numpy.arange": arange,
    "numpy.array": to_array,
    "numpy.asarray": to_array,
    "numpy.concatenate": joining(stack=False),
    "numpy.stack": joining(stack=True),
    "numpy.vstack": stacked_along(0, 2),
    "numpy.hstack": stacked_along(1, 1),
    "numpy.expand_dims": expand_dims,
    "numpy.transpose": transpose,
    "numpy.reshape": np_reshape,
    **{f"numpy.{name}": unary(name) for name in UNARY},
    **{f"numpy.{name}": binary(name) for name in BINARY},
}
