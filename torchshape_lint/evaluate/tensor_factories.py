"""Tensors made from sizes or data: torch.randn / zeros / full / ..., arange, linspace, logspace, eye, torch.tensor and
as_tensor, and the `x.new_*` spellings (torch.zeros_like(x) and the others, x's shape, are registered tensor ops:
tensor_op_table). Sizes of which only some are known (`torch.randn(batch, 100)` with `batch` not known) give a
tensor of that rank, each unknown size one of its own (`tensor_of_sizes`, which NumPy's arrays share)."""

from __future__ import annotations

from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.values import ListV, readable
from torchshape_lint.shapes import dims, factories
from torchshape_lint.shapes.tensor import Tensor, concrete_input, settle
from torchshape_lint.unknown import UNKNOWN, Unknown


TENSOR_FACTORIES = frozenset("randn rand zeros ones empty randint full".split())

# x.new_zeros(2, 3), x.new_full((2, 3), 0.5): a new tensor of the sizes given, as torch.zeros / torch.full
NEW_FACTORIES = {"new_zeros": "zeros", "new_ones": "ones", "new_empty": "empty", "new_full": "full"}


def sized_by_numbers(name: str, args: list, kwargs: dict) -> tuple | None:
    """torch.arange(end) / arange(start, end, step=1), linspace(start, end, steps), logspace(start, end, steps),
    eye(n, m=None): the shape (shapes/factories.py), None where it is not known or PyTorch raises."""
    params = {"arange": ("start", "end", "step"), "linspace": ("start", "end", "steps"),
              "logspace": ("start", "end", "steps"), "eye": ("n", "m")}[name]
    if name == "arange" and len(args) == 1:
        args = [0] + list(args)  # arange(end) counts from 0
    positional = dict(zip(params, args))
    if len(args) > len(params) or any(k in positional for k in kwargs):
        return None
    bound = {**positional, **{k: v for k, v in kwargs.items() if k in params}}  # dtype, device: no shape
    if name == "arange":
        return factories.arange(bound.get("start", 0), bound.get("end"), bound.get("step", 1))
    if name == "eye":
        return factories.eye(bound.get("n"), bound.get("m"))
    return factories.spaced(bound.get("steps"))


def tensor_from_data(args: list) -> Any:
    """torch.tensor([[3.0], [4.0]]) / torch.as_tensor(data) / torch.Tensor(data): the nesting of the data gives the
    shape (a usage input, as torch.randn's); a ragged or unknown one gives UNKNOWN."""
    shape = data_shape(args[0], 0) if len(args) == 1 else UNKNOWN
    return UNKNOWN if shape is UNKNOWN else concrete_input(shape, "usage")


def data_shape(data: Any, depth: int) -> Any:
    data = readable(data)
    if isinstance(data, (int, float, bool)):
        return ()
    if isinstance(data, Tensor):  # a NumPy array (numpy_library), or a tensor: torch.tensor copies its shape
        settled = settle(data)
        known = settled.shape is not None and not settled.pending and \
            all(isinstance(d, (int, dims.Sym)) for d in settled.shape)
        return tuple(settled.shape) if known else UNKNOWN
    if not isinstance(data, (ListV, tuple)) or depth > MAX_DATA_NESTING:
        return UNKNOWN
    inner = {data_shape(item, depth + 1) for item in data}
    if len(inner) > 1 or UNKNOWN in inner:
        return UNKNOWN
    return (len(data),) + (inner.pop() if inner else ())


MAX_DATA_NESTING = 32  # a list that holds itself has no shape


def tensor_factory(name: str, args: list, kwargs: dict) -> Any:
    """torch.randn(1, 3, 32, 32) / torch.zeros((1, 3, 32, 32)) / torch.ones(size=(...)): a usage input; in a
    forward(), sizes read from its input (`torch.zeros(x.size(0), 10)`) may be symbolic."""
    sizes = args
    if name == "randint":
        sizes = [kwargs["size"]] if "size" in kwargs else args[-1:] if len(args) >= 2 else []
    elif name == "full":
        sizes = args[:1] if args else [kwargs.get("size", UNKNOWN)]
    elif not sizes and "size" in kwargs:
        sizes = [kwargs["size"]]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, ListV)):
        sizes = list(sizes[0])
    elif len(sizes) == 1 and isinstance(sizes[0], Unknown):
        return UNKNOWN  # torch.randn(size): one size, or a tuple of them — the rank is not known
    return tensor_of_sizes(sizes) if sizes else UNKNOWN


def sizes_as_arguments(args: list) -> bool:
    """`torch.Tensor(2, 3)` / `torch.FloatTensor(batch, 1)` give sizes, not data: ints, or two arguments or more
    (data is one argument)."""
    return bool(args) and (len(args) > 1 or int_like(args[0]))


def tensor_of_sizes(sizes: Any) -> Any:
    """A tensor made with these sizes (`torch.randn(batch, 100)`, `np.random.normal(0, 1, (batch, latent_dim))`): a
    usage input of that rank. A size that is not known is some positive int of its own (dims.fresh), never assumed
    equal to another, so that what is wrong whatever it is (a view of `s * 8192` elements as `s * 9216`) is still
    found; UNKNOWN where a size is neither an int >= 0, a symbolic size nor unknown (PyTorch raises)."""
    if not all(int_like(s) and s >= 0 or isinstance(s, (dims.Sym, Unknown)) for s in sizes):
        return UNKNOWN
    return concrete_input(tuple(dims.fresh("s") if isinstance(s, Unknown) else s for s in sizes), "usage")
