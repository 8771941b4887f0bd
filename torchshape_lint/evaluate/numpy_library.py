"""What the evaluator knows of NumPy: the arrays scripts make to feed a model (a GAN's noise,
`np.random.normal(0, 1, (batch, latent_dim))`, handed to `torch.FloatTensor(...)` or `torch.from_numpy(...)`).
An array is a Tensor value: only its shape matters here, and torch's conversions keep it."""

from __future__ import annotations

from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.values import ListV
from torchshape_lint.evaluate.tensor_factories import tensor_of_sizes
from torchshape_lint.unknown import UNKNOWN


def array(shape: Any) -> Any:
    """An array of `shape` (an int or a sequence of ints); UNKNOWN for anything else, or None (a scalar)."""
    sizes = (shape,) if int_like(shape) else tuple(shape) if isinstance(shape, (tuple, ListV)) else None
    return UNKNOWN if sizes is None else tensor_of_sizes(sizes)


def sized_by(position: int, keyword: str = "size"):
    """A function whose shape is one argument: `np.random.normal(loc, scale, size)`, `np.zeros(shape)`."""

    def call(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
        return array(args[position] if len(args) > position else kwargs.get(keyword))

    return call


def sized_by_arguments(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    """`np.random.randn(64, 100)`, `np.random.rand(3, 4)`: the sizes as arguments (none: a scalar)."""
    return array(tuple(args)) if args and not kwargs else UNKNOWN


NUMPY_EXTERNALS = {
    "numpy.random.normal": sized_by(2),
    "numpy.random.uniform": sized_by(2),
    "numpy.random.randint": sized_by(2),
    "numpy.random.standard_normal": sized_by(0),
    "numpy.random.random": sized_by(0),
    "numpy.random.random_sample": sized_by(0),
    "numpy.random.randn": sized_by_arguments,
    "numpy.random.rand": sized_by_arguments,
    "numpy.zeros": sized_by(0, "shape"),
    "numpy.ones": sized_by(0, "shape"),
    "numpy.empty": sized_by(0, "shape"),
    "numpy.full": sized_by(0, "shape"),
}
