"""Tensor dimensions: a known int, a symbolic function of the input's sizes, or unknown.

A symbolic dimension is `coef * f1(S1) * f2(S2) * ...` where each `S` is one of the input's free sizes
(batch N, height H, width W, …) or a size parameter of a constructor built on its own (`planes`, any positive int),
and each `f` is a chain of PyTorch's shape formulas applied to it. Every
formula in the chain is a monotone non-decreasing integer function, which makes "can this dimension
ever equal 25088?" decidable by enumerating each size upwards until the value passes the target.
Sizes are independent: H and W are never assumed equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from itertools import count
from typing import Callable, Iterable, Union

from torchshape_lint.unknown import UNKNOWN, Unknown

# Input sizes are searched up to this bound; what only a larger input could make right is not claimed.
SEARCH_LIMIT = 1 << 31
# Targets above this are not factored: the question stays unknown and makes no finding.
MAX_DECIDED = 10**9
# A size computed through more formulas than this is unknown (a very deep stack of layers).
MAX_STEPS = 64
# The most evaluations of formula chains one question may cost; past it the answer stays unknown.
MAX_WORK = 400_000


@dataclass(frozen=True)
class Step:
    """One formula applied to a symbolic size; `label` names the layer for explanations.

    Steps compare by `key`, the formula's canonical form (formulas.canonical), so that two paths
    computing the same function of the input (a stride-2 3x3 conv with padding 1 and a stride-2 1x1
    conv, as in a residual block) give equal dimensions.
    """

    fn: Callable[[int], int] = field(compare=False)
    label: str = field(compare=False)
    key: tuple = ()


@dataclass(frozen=True)
class Factor:
    symbol: str
    steps: tuple = ()
    parameter: bool = False  # a constructor's parameter (`planes`), never the same size as the input's `H`
    fresh: int = 0  # a size of its own (`fresh`): never the same as another of the same name

    def at(self, size: int) -> int:
        """The value for an input size; 0 where some layer on the way gets a size below 1."""
        value = size
        for step in self.steps:
            value = step.fn(value)
            if value < 1:
                return 0
        return value

    def first_size_reaching(self, value: int) -> int | None:
        """The smallest input size whose value is at least `value` (binary search: the chain is monotone)."""
        if self.at(SEARCH_LIMIT) < value:
            return None
        low, high = 1, SEARCH_LIMIT
        while low < high:
            middle = (low + high) // 2
            if self.at(middle) >= value:
                high = middle
            else:
                low = middle + 1
        return low

    def reaches(self, value: int) -> bool:
        """Whether some input size gives exactly `value`."""
        first = self.first_size_reaching(value)
        return first is not None and self.at(first) == value

    def sizes_giving(self, value: int) -> range:
        """The input sizes for which this factor equals `value` (a range, empty if none)."""
        first = self.first_size_reaching(value)
        if first is None or self.at(first) != value:
            return range(0)
        after = self.first_size_reaching(value + 1)
        return range(first, after if after is not None else SEARCH_LIMIT + 1)

    def __str__(self) -> str:
        if self.parameter and all(step.label.startswith("//") for step in self.steps):
            return self.symbol + "".join(step.label for step in self.steps)  # `planes//16`
        if len(self.steps) == 1 and self.steps[0].key[0] == "add" and self.steps[0].label.startswith("+"):
            return f"{self.symbol}+{self.steps[0].key[1]}"  # `c + 1` in the code: C+1
        return self.symbol if not self.steps else f"{self.symbol.lower()}'"

    __repr__ = __str__


@dataclass(frozen=True)
class Sym:
    coef: int
    factors: tuple

    def __str__(self) -> str:
        parts = [str(f) for f in self.factors]
        if self.coef != 1 or not parts:
            parts.insert(0, str(self.coef))
        return "*".join(parts)

    __repr__ = __str__


Dim = Union[int, Sym, Unknown]


def symbol(name: str) -> Sym:
    return Sym(1, (Factor(name),))


def parameter(name: str) -> Sym:
    """A constructor's parameter as a size: every positive int."""
    return Sym(1, (Factor(name, parameter=True),))


_FRESH = count(1)


def fresh(name: str) -> Sym:
    """A size that nothing tells (`torch.randn(batch, 100)` where `batch` is not known): some positive int, of its
    own, never assumed equal to any other size; its name is only what messages show."""
    return Sym(1, (Factor(name, fresh=next(_FRESH)),))


def new_family() -> int:
    """An id for the sizes of one tensor whose rank is not known yet (`sizes_read`): reading the same size of it twice
    gives the same symbol, and no other tensor's."""
    return next(_FRESH)


# what messages call a size read from the end of an input of unknown rank, (..., C, L): names only
END_NAMES = {1: "L", 2: "C"}


def size_from_end(family: int, count: int) -> Sym:
    """The size `count` places from the end (`x.shape[-count]`) of the tensor of sizes `family`: some positive int
    of its own, the same symbol whenever it is read and when an op later fixes the rank."""
    return Sym(1, (Factor(END_NAMES.get(count, f"S{-count}"), fresh=family),))


def sizes_of_rank(family: int, rank: int) -> tuple:
    """(N, ..., C, L): the sizes of the tensor of sizes `family` once its rank is known, its batch and each size the
    symbol a read from the end gave (`size_from_end`)."""
    return (symbol("N"),) + tuple(size_from_end(family, rank - i) for i in range(1, rank))


def plus(dim: Dim, offset: int) -> Dim:
    """`size + n` for a positive int n: a symbolic size shifted as a padding shifts it (a step `L + n`, never 1 or
    below), so that `can_equal(c + 1, 1)` is False; ints add; anything else is unknown (a negative offset may give 0,
    a size no formula here reads)."""
    if isinstance(dim, int):
        return dim + offset
    if not isinstance(dim, Sym) or isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
        return UNKNOWN
    from torchshape_lint.shapes.formulas import pad

    return apply_formula(dim, partial(pad, before=offset, after=0), f"+{offset}")


def parameters_in(*values: Dim) -> tuple:
    """The names of the constructor parameters the dimensions are functions of, in order of appearance."""
    names: dict = {}
    for value in values:
        for factor in value.factors if isinstance(value, Sym) else ():
            if factor.parameter:
                names[factor.symbol] = None
    return tuple(names)


def apply_formula(dim: Dim, fn: Callable[[int], int], label: str) -> Dim:
    """Apply a size formula to one dimension: exact for ints, recorded for a single symbolic size."""
    if isinstance(dim, int):
        return fn(dim)
    if not (isinstance(dim, Sym) and dim.coef == 1 and len(dim.factors) == 1):
        return UNKNOWN
    from torchshape_lint.shapes.formulas import canonical, pad

    factor = dim.factors[0]
    steps = factor.steps
    if len(steps) >= MAX_STEPS:
        return UNKNOWN  # keeps every later comparison and search on this size cheap
    key = canonical(fn) or ("call", id(fn))
    if key[0] == "add":  # L + n: merged with an addition before it, dropped when it adds nothing
        if steps and steps[-1].key[0] == "add":
            key = ("add", steps[-1].key[1] + key[1])
            steps = steps[:-1]
        if key[1] == 0:
            return Sym(1, (replace(factor, steps=steps),))
        fn = partial(pad, before=key[1], after=0)
    return Sym(1, (replace(factor, steps=steps + (Step(fn, label, key),)),))


def multiply(a: Dim, b: Dim) -> Dim:
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return UNKNOWN
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int):
        a, b = b, a
    if isinstance(b, int):
        return Sym(a.coef * b, a.factors) if b else 0
    return Sym(a.coef * b.coef, a.factors + b.factors)


def product(dims: Iterable[Dim]) -> Dim:
    result: Dim = 1
    for dim in dims:
        result = multiply(result, dim)
    return result


def divide(a: Dim, b: Dim) -> Dim:
    """Exact division, or unknown where the quotient is not an expressible dimension."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return UNKNOWN
    if isinstance(b, int):
        if b == 0:
            return UNKNOWN
        if isinstance(a, int):
            return a // b if a % b == 0 else UNKNOWN
        return Sym(a.coef // b, a.factors) if a.coef % b == 0 else UNKNOWN
    if isinstance(a, int) or a.coef % b.coef:
        return UNKNOWN
    rest = list(a.factors)
    for factor in b.factors:
        if factor not in rest:
            return UNKNOWN
        rest.remove(factor)
    coef = a.coef // b.coef
    if not rest:
        return coef
    return Sym(coef, tuple(rest))


def can_equal(dim: Dim, target: Dim) -> bool | None:
    """True/False when decided for every input size, None when it cannot be decided."""
    if isinstance(target, Sym) and not isinstance(dim, Unknown):
        return _can_equal_symbolic(dim, target)
    if isinstance(dim, Unknown) or not isinstance(target, int) or isinstance(target, bool):
        return None
    if isinstance(dim, int):
        return dim == target
    if target < 1 or target % dim.coef:
        return False
    rest = target // dim.coef
    if rest > MAX_DECIDED:
        return None
    divisors = _divisors(rest)
    work = len(divisors) * sum(32 * max(len(f.steps), 1) for f in dim.factors)
    if work > MAX_WORK:
        return None
    candidate_sets = [{d for d in divisors if factor.reaches(d)} for factor in dim.factors]
    return _splits(rest, candidate_sets)


def _can_equal_symbolic(dim: Dim, target: Sym) -> bool | None:
    """A symbolic target (a declared `planes * 4`): the same function agrees for every value; else the factors both
    share are divided out (each is at least 1), and what is left is decided where one side is then a number."""
    if dim == target:
        return True
    if isinstance(dim, int):
        return None if isinstance(dim, bool) else can_equal(target, dim)
    rest, wanted = list(dim.factors), list(target.factors)
    for factor in dim.factors:
        if factor in wanted:
            wanted.remove(factor)
            rest.remove(factor)
    if rest and wanted:
        return None
    if not wanted:
        return can_equal(Sym(dim.coef, tuple(rest)) if rest else dim.coef, target.coef)
    return can_equal(Sym(target.coef, tuple(wanted)), dim.coef)


def shifts(a: Dim, b: Dim) -> tuple | None:
    """Two symbolic sizes of one input size through the same formulas, then each shifted (`L + n`: a stride-1 conv,
    pool or padding; no shift: 0): the two shifts. None for any other pair (a stride or an upsampling after the
    sizes part: H and floor((H - 1) / 2) + 1 agree at 1, so nothing follows from them)."""
    if not (isinstance(a, Sym) and isinstance(b, Sym) and a.coef == b.coef == 1
            and len(a.factors) == len(b.factors) == 1
            and replace(a.factors[0], steps=()) == replace(b.factors[0], steps=())):
        return None
    steps_a, steps_b = a.factors[0].steps, b.factors[0].steps
    common = 0
    while common < min(len(steps_a), len(steps_b)) and steps_a[common] == steps_b[common]:
        common += 1
    found = []
    for rest in (steps_a[common:], steps_b[common:]):
        if len(rest) > 1 or rest and rest[0].key[0] != "add":
            return None
        found.append(rest[0].key[1] if rest else 0)
    return tuple(found)


def differ_by_a_shift(a: Dim, b: Dim) -> bool:
    """Whether two symbolic sizes differ for every input: `shifts` by different amounts (a residual branch's 4x4
    conv with padding 1 gives H - 1 where its shortcut gives H)."""
    found = shifts(a, b)
    return found is not None and found[0] != found[1]


def never_broadcasts_into(target: Dim, other: Dim) -> bool:
    """Whether `target op= other` fails for every input in this dimension: the sizes always differ, and `other` is
    never 1 where `target` is a size (it is 1 only where `target` is 1 + shift_target - shift_other, below 1 when
    the target is shifted less: a layer on the way would have raised)."""
    found = shifts(target, other)
    if found is None or found[0] == found[1]:
        return False
    return found[0] < found[1] or can_equal(other, 1) is False


def fitting_sizes(dim: Dim, target: int, most: int = 3) -> str:
    """Which input sizes make a symbolic dimension equal `target`, in words: "H in 32..35, W in 32..35"."""
    if not isinstance(dim, Sym) or not isinstance(target, int) or target % dim.coef or \
            target // dim.coef > MAX_DECIDED or parameters_in(dim) or any(f.fresh for f in dim.factors):
        # a constructor's parameter, or a size of its own, is no input size
        return ""
    rest = target // dim.coef
    shaped = [f for f in dim.factors if f.steps]
    if len(shaped) != len(dim.factors) or not 1 <= len(shaped) <= 2:
        return ""  # a bare batch symbol fits anything; more than two sizes is too much to say in a line
    ways = []
    for value in sorted(_divisors(rest), key=lambda v: abs(v - rest // v)):  # the squarest inputs first
        other = rest // value
        sizes = [shaped[0].sizes_giving(value)] + ([shaped[1].sizes_giving(other)] if len(shaped) == 2 else [])
        if (len(shaped) == 1 and other != 1) or not all(sizes):
            continue
        ways.append(", ".join(f"{f.symbol} in {r.start}..{r.stop - 1}" for f, r in zip(shaped, sizes)))
    shown = "; or ".join(ways[:most])
    return shown + ("; or …" if len(ways) > most else "")


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _splits(target: int, candidate_sets: list) -> bool:
    """Whether target is a product of one value from each set."""
    if not candidate_sets:
        return target == 1
    first, others = candidate_sets[0], candidate_sets[1:]
    return any(target % v == 0 and _splits(target // v, others) for v in first)


def wrap_dim(dim: int, rank: int) -> int | None:
    """PyTorch's maybe_wrap_dim: the index that `dim` names in a tensor of `rank` dimensions, for dim in
    [-rank, rank - 1]; a scalar wraps as if it had one dimension. None out of range (PyTorch raises IndexError).
    Ops that insert a dimension (unsqueeze, stack) pass rank + 1."""
    rank = max(rank, 1)
    return dim % rank if -rank <= dim < rank else None


def dim_out_of_range(dim: int, rank: int) -> str:
    """PyTorch's own words for a dim `wrap_dim` rejects."""
    rank = max(rank, 1)
    return f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"


def show(dim: Dim) -> str:
    return str(dim)
