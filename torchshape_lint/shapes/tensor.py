"""An abstract tensor: its shape (or only its last dimension), and the steps that produced it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.dims import Dim
from torchshape_lint.unknown import UNKNOWN


MAX_TRACE = 256


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One operation a tensor went through: what it was, where, and the shapes before and after."""

    label: str
    where: Any = field(repr=False)  # an evaluator node reference (unit, node) or None
    before: tuple | None
    after: tuple | None
    # PyTorch's formula on each size it changed, as (the formula with {L} for the size, the size, the size it gave):
    # rendered only when a finding or an explanation shows it
    sized_formulas: tuple = ()

    @property
    def formulas(self) -> tuple:
        """Each formula with its numbers: `floor((32 + 2*0 - 1*(2-1) - 1) / 2) + 1 = 16`."""
        return tuple(text.format(L=size) + f" = {out}" for text, size, out in self.sized_formulas)

    @property
    def formula(self) -> str:
        return "; ".join(self.formulas)


class History:
    """The steps a tensor went through, as a chain each new tensor adds one link to: a step costs the same however
    long the chain (a 40 000-layer model), and the tensors it passed through share it."""

    __slots__ = ("step", "previous", "length", "first")

    def __init__(self, step: TraceStep, previous: "History | None") -> None:
        self.step, self.previous = step, previous
        self.length = 1 if previous is None else previous.length + 1
        self.first = step if previous is None else previous.first

    def kept(self) -> tuple:
        """The steps an explanation shows: all of them, or past MAX_TRACE the first (the input's) and the latest."""
        latest, link = [], self
        for _ in range(min(self.length, MAX_TRACE - 1)):
            latest.append(link.step)
            link = link.previous
        if link is not None:  # the first step, after the middle left out, or as the 256th
            latest.append(self.first)
        return tuple(reversed(latest))


@dataclass(frozen=True)
class Tensor:
    shape: tuple | None  # None: the rank is not known
    last: Dim = UNKNOWN  # the last dimension when only it is known
    history: History | None = None  # the steps that produced it
    flat_parts: tuple | None = None  # the dimensions a flatten multiplied into the last one
    pending: bool = False  # the model's input, before a layer fixed its rank
    hint: tuple | None = None  # the shape a pending input takes once its rank is known (see model_input)
    exact: bool = False  # the hint is the whole shape (pragma, usage), not a run-wide default
    origin: str = "symbolic"  # where the input came from: pragma, usage, option, symbolic
    # ops a pending input went through that read only its last sizes (F.pad), each a function of the tensor:
    # they apply, in order, once a layer fixes the rank (`defer`)
    deferred: tuple = ()
    family: int = 0  # of a pending input of symbolic sizes: what its sizes read before its rank is known are (`of_rank`)

    @property
    def trace(self) -> tuple:
        """The steps that produced it, the middle of a very long chain left out (`dropped`)."""
        return () if self.history is None else self.history.kept()

    @property
    def dropped(self) -> int:
        """How many steps `trace` leaves out."""
        return 0 if self.history is None else max(self.history.length - MAX_TRACE, 0)

    @property
    def steps_made(self) -> int:
        """How many steps produced it, those `trace` leaves out included."""
        return 0 if self.history is None else self.history.length

    @property
    def last_step(self) -> TraceStep | None:
        return None if self.history is None else self.history.step

    @property
    def first_step(self) -> TraceStep | None:
        return None if self.history is None else self.history.first

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def last_dim(self) -> Dim:
        if self.shape is None:
            return self.last
        return self.shape[-1] if self.shape else UNKNOWN

    def then(self, label: str, where: Any, shape: tuple | None, *, last: Dim = UNKNOWN,
             flat_parts: tuple | None = None, sized_formulas: tuple = ()) -> "Tensor":
        history = History(TraceStep(label, where, self.shape, shape, sized_formulas), self.history)
        return changed(self, shape=shape, last=last if shape is None else UNKNOWN, history=history,
                       flat_parts=flat_parts, pending=False, hint=None, deferred=())


def changed(x: Tensor, **fields: Any) -> Tensor:
    """`dataclasses.replace` without its walk over the fields and call of `__init__` (a tenth of the cost): every
    layer application makes a tensor this way."""
    made = object.__new__(Tensor)
    made.__dict__.update(x.__dict__, **fields)
    return made


def model_input(hint: tuple | None = None, exact: bool = False, origin: str = "symbolic") -> Tensor:
    """A model's input before a layer fixes its rank.

    `hint` is a shape from a pragma or usage (`exact`: taken as written, the batch may be left out) or a
    run-wide default (batch and sizes only: each model's first layer gives its channels).
    """
    return Tensor(shape=None, pending=True, hint=hint, exact=exact, origin=origin, family=dims.new_family())


def concrete_input(shape: tuple, origin: str) -> Tensor:
    """An input of a given shape; a None entry (the batch left out of a pragma) becomes the symbol N."""
    return Tensor(shape=tuple(dims.symbol("N") if d is None else d for d in shape), origin=origin)


def defer(x: Tensor, op: Callable[[Tensor], Any]) -> Tensor:
    """A pending input after an op that reads only its last sizes, whatever its rank (`F.pad(x, (1, 1))`): still
    pending; `op` applies to the tensor a layer later reads it as."""
    return replace(x, deferred=x.deferred + (op,))


def _replayed(x: Tensor, read: Tensor) -> Tensor:
    """`read` (the pending `x` given a rank) after the ops deferred on `x`; a tensor of unknown shape where one of
    them gives no tensor (PyTorch raises there: that op reported it)."""
    for op in x.deferred:
        read = op(read)
        if not isinstance(read, Tensor):
            return Tensor(shape=None, origin=x.origin)
    return read


SETTLED_RANK = 4  # an exact shape of this rank or more is read as written, the batch first


def settle(x: Tensor) -> Tensor:
    """A pending input with an exact shape of rank 4 or more becomes that shape; any other tensor stays as it is.

    A shorter exact shape may have left the batch out — (C, H, W) — or not — (N, C, L): only a layer that
    reads a known rank (`materialize`, `as_written`) can tell, so until one does the input stays pending
    (and `readings` gives both, for what is wrong under each).
    """
    if x.pending and x.exact and x.hint is not None and len(x.hint) >= SETTLED_RANK:
        return _replayed(x, concrete_input(x.hint, x.origin))
    return x


def readings(x: Tensor) -> tuple:
    """The inputs a pending input of an exact shape that `settle` leaves undecided may be: the shape as written
    (a batch: `(3, 8, 10)` is 3 samples of (8, 10)), and one sample with its batch left out, `(N, 3, 8, 10)`;
    () for any other tensor."""
    if not (x.pending and x.exact and x.hint is not None and len(x.hint) < SETTLED_RANK):
        return ()
    return concrete_input(tuple(x.hint), x.origin), concrete_input((None,) + tuple(x.hint), x.origin)


def as_written(x: Tensor, ranks: tuple | None = None) -> Tensor | None:
    """A pending input with an exact shape, as a layer that reads `ranks` (None: any) takes it: the shape as
    written where the layer reads that rank — it is the tensor's shape, `(64, 20)` is 64 samples of 20 — else
    with the batch left out, (N, *shape), where the layer reads that rank; None when it reads neither."""
    hint = tuple(x.hint)
    if ranks is None or len(hint) in ranks:
        return _replayed(x, concrete_input(hint, x.origin))
    return _replayed(x, concrete_input((None,) + hint, x.origin)) if len(hint) + 1 in ranks else None


SPATIAL_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def flattened(x: Tensor) -> Tensor | None:
    """A model's input of symbolic sizes flattened after its batch (`torch.flatten(x, 1)`, `x.view(x.size(0), -1)`):
    (N, F), F the product of whatever its other sizes are, any positive int; None for any other tensor."""
    if not (x.pending and x.hint is None and not x.deferred):
        return None
    return Tensor(shape=(dims.symbol("N"), dims.symbol("F")), origin=x.origin)


def symbolic_pending(x: Tensor) -> bool:
    """A model's input that nothing tells the sizes or rank of ("any batch and size")."""
    return x.pending and x.hint is None and not x.exact


def of_rank(x: Tensor, rank: int) -> Tensor | None:
    """A pending input of symbolic sizes given the rank an op fixes exactly (`x.permute(0, 2, 1)`: 3), at least 2:
    (N, ..., C, L), its sizes the very symbols its reads gave before (`x.shape[0]` is N, `x.shape[-1]` is L); None
    for any other tensor."""
    if not symbolic_pending(x) or rank < 2:
        return None
    return _replayed(x, Tensor(shape=dims.sizes_of_rank(x.family, rank), origin=x.origin))


def materialize(x: Tensor, spatial: int, channels: Dim) -> Tensor | None:
    """Give a pending input the rank a layer with `spatial` dimensions reads: (N, C, *spatial).

    An exact shape one dimension short is one sample, (C, *spatial): the batch left out, as PyTorch reads an
    unbatched input. None when an exact shape cannot be read by such a layer (the caller reports the rank).
    """
    rank = spatial + 2
    hint = x.hint
    if hint is not None and x.exact:
        if len(hint) == rank - 1:
            hint = (None,) + tuple(hint)
        return _replayed(x, concrete_input(tuple(hint), x.origin)) if len(hint) == rank else None
    if hint is not None and len(hint) == rank:
        return _replayed(x, Tensor(shape=(hint[0], channels) + tuple(hint[2:]), origin=x.origin))
    if hint is not None and len(hint) == rank - 1:  # a run-wide default read as a pragma is: the batch left out
        return _replayed(x, Tensor(shape=(dims.symbol("N"), channels) + tuple(hint[1:]), origin=x.origin))
    shape = (dims.symbol("N"), channels) + tuple(dims.symbol(s) for s in SPATIAL_SYMBOLS[spatial])
    return _replayed(x, Tensor(shape=shape, origin="symbolic"))


def show_shape(shape: tuple | None, last: Dim = UNKNOWN) -> str:
    if shape is None:
        return f"(..., {dims.show(last)})"
    return "(" + ", ".join(dims.show(d) for d in shape) + ")"
