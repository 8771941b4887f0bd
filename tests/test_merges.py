"""Merges and pieces of tensors (shapes/merges.py, the evaluator's indexing, narrow/split/chunk/unbind), against
torch itself over random shapes: the same shape where torch gives one, PyTorch's own message where it raises
(small CPU tensors: the CPU's messages are the ones users read). Symbolic sizes by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

from conftest import outcome  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from torchshape_lint.evaluate.tensor_methods import tensor_index, tensor_method  # noqa: E402
from torchshape_lint.shapes import dims, formulas, merges  # noqa: E402
from torchshape_lint.shapes.tensor import Tensor  # noqa: E402
from torchshape_lint.shapes.violations import Collector  # noqa: E402
from torchshape_lint.unknown import UNKNOWN  # noqa: E402

SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)
SOME = settings(max_examples=300, deadline=None, derandomize=True, database=None)


@SOME
@given(SHAPES, SHAPES)
def test_broadcast_is_torchs(a, b):
    assert merges.broadcast(a, b) == outcome(lambda: torch.zeros(a) + torch.zeros(b))


@SOME
@given(SHAPES, SHAPES)
def test_in_place_broadcast_is_torchs(a, b):
    def add_in_place():
        x = torch.zeros(a)
        x += torch.zeros(b)
        return x

    assert merges.broadcast_into(a, b) == outcome(add_in_place)


@SOME
@given(SHAPES, SHAPES, SHAPES)
def test_where_broadcasts_its_three_operands(condition, a, b):
    shape, problem = merges.broadcast_all([condition, a, b])
    real, error = outcome(lambda: torch.where(torch.zeros(condition, dtype=torch.bool), torch.zeros(a), torch.zeros(b)))
    assert (shape, problem is None) == (real, error is None)


@SOME
@given(st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), min_size=1, max_size=3),
       st.integers(-3, 2))
def test_cat_and_stack_are_torchs(shapes, dim):
    rank = len(shapes[0])
    tensors = [torch.zeros(s) for s in shapes]
    if -rank <= dim < rank:
        assert merges.cat(shapes, dim % rank) == outcome(lambda: torch.cat(tensors, dim))
    if -rank - 1 <= dim <= rank:
        assert merges.stack(shapes, dim % (rank + 1)) == outcome(lambda: torch.stack(tensors, dim))


def test_symbolic_sizes_are_wrong_only_for_every_input():
    h = dims.symbol("H")
    half = dims.apply_formula(h, lambda s: formulas.conv(s, 3, 2, 1, 1), "Conv2d")
    n = dims.symbol("N")
    # 16 channels against 32, whatever the sizes: a proof
    shape, problem = merges.broadcast((n, 16, h), (n, 32, h))
    assert shape is None and problem.startswith("The size of tensor a (16) must match the size of tensor b (32)")
    # H against h' (a strided conv): both are 1 on a 1-pixel input, so nothing is proven
    assert merges.broadcast((n, 16, h), (n, 16, half)) == ((n, 16, UNKNOWN), None)
    # H can be 5: a cat along the channels is right for that input, and its width is then 5
    assert merges.cat([(n, 8, h), (n, 8, 5)], 1) == ((n, 16, 5), None)
    # 2 * h' is always even: it never equals 7, and it is never 1
    assert merges.broadcast((dims.multiply(2, half),), (7,))[1] is not None
    assert merges.cat([(n, 8, dims.multiply(2, half)), (n, 8, 7)], 1)[1] is not None


INDEXES = st.one_of(st.integers(-4, 3), st.none(), st.just(Ellipsis),
                    st.builds(slice, st.one_of(st.none(), st.integers(-5, 5)), st.one_of(st.none(), st.integers(-5, 5)),
                              st.one_of(st.none(), st.integers(1, 3))))


@SOME
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       st.lists(INDEXES, min_size=1, max_size=4).map(tuple))
def test_basic_indexing_is_torchs(shape, key):
    static = tensor_index(Tensor(shape=shape), key)
    real, error = outcome(lambda: torch.zeros(shape)[key])
    if static is UNKNOWN:
        assert error is not None or sum(k is Ellipsis for k in key) > 1, (shape, key, real)
    else:
        assert static.shape == real, (shape, key)


class Interp:
    def __init__(self) -> None:
        self.check = Collector()


@SOME
@given(st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple), st.integers(-3, 2),
       st.sampled_from(["chunk", "split", "split_list", "unbind", "narrow"]), st.integers(-6, 6), st.integers(0, 7))
def test_pieces_are_torchs(shape, dim, how, first, second):
    x = torch.zeros(shape)
    size = shape[dim] if -len(shape) <= dim < len(shape) else 1
    calls = {"chunk": ("chunk", [max(first, 1)], lambda: x.chunk(max(first, 1), dim)),
             "split": ("split", [max(first, 1)], lambda: x.split(max(first, 1), dim)),
             "split_list": ("split", [(second, size - second)], lambda: x.split([second, size - second], dim)),
             "unbind": ("unbind", [], lambda: x.unbind(dim)),
             "narrow": ("narrow", [first, second], lambda: x.narrow(dim, first, second))}
    name, args, run = calls[how]
    interp = Interp()
    static = tensor_method(interp, Tensor(shape=shape), name, [dim] + args if name in ("narrow", "unbind") else args,
                           {} if name in ("narrow", "unbind") else {"dim": dim}, None)
    try:
        real = run()
    except (RuntimeError, IndexError):
        assert static is UNKNOWN
        return
    if isinstance(real, torch.Tensor):
        assert static.shape == tuple(real.shape)
    else:
        assert [t.shape for t in static] == [tuple(t.shape) for t in real]
    assert not interp.check.violations


# ---- the evaluator's merges, as forward() spells them: the verdict, and torch's on the same input ----------------

BLOCK = """import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, stride={stride}, padding=1)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, {gate}, 1))

    def forward(self, x):
        {merge}
        return x
"""
MERGES = [  # (merge, stride, gate channels, the input's size); torch decides whether it raises
    ("x = self.conv(x) + x", 1, 8, 9), ("x = self.conv(x) + x", 2, 8, 9), ("x = self.conv(x) + x", 2, 8, 1),
    ("x += self.conv(x)", 2, 8, 4), ("x = x + self.gate(x)", 1, 8, 5), ("x = x + self.gate(x)", 1, 1, 5),
    ("x = x * self.gate(x)", 1, 3, 5), ("x += self.gate(x)", 1, 8, 5),
    ("x = torch.where(x.bool(), x, self.gate(x))", 1, 4, 5),
    ("x.add_(self.gate(x))", 1, 8, 4), ("x = self.gate(x).add_(x)", 1, 8, 4),
    ("x = torch.maximum(x, self.conv(x))", 2, 8, 6),
    ("x = torch.stack([x, self.conv(x)], dim=1)", 1, 8, 6), ("x = torch.stack([x, self.conv(x)], dim=1)", 2, 8, 6),
    ("x = torch.cat([x, self.gate(x)], dim=1)", 1, 8, 6), ("x = torch.cat([x, self.gate(x)], dim=1)", 1, 8, 1),
    ("a, b = x.chunk(2, dim=1)\n        x = a - self.gate(x)[:, :4]", 1, 8, 3),
    ("a, b = x.chunk(2, dim=1)\n        x = a - self.gate(x)[:, 4:]", 1, 6, 3),
]


@pytest.mark.parametrize("merge, stride, gate, size", MERGES)
def test_a_merge_is_reported_exactly_where_torch_raises(merge, stride, gate, size):
    from torchshape_lint.checks.analyze import analyze_source

    source = BLOCK.format(merge=merge, stride=stride, gate=gate)
    namespace: dict = {}
    exec(compile(source, "block.py", "exec"), namespace)
    try:
        namespace["Block"]().eval()(torch.zeros(1, 8, size, size))
        raised = False
    except RuntimeError:
        raised = True
    usage = source + f"\n\nBlock()(torch.zeros(1, 8, {size}, {size}))\n"
    found = analyze_source(usage, "block.py").findings
    merged_at = 12 + merge.count("\n")  # the merge is the block's last statement
    assert [(f.code, f.line) for f in found] == ([("TSL009", merged_at)] if raised else []), [f.text for f in found]


SYMBOLIC = """import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.gate = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem(x)
        return {merge}
"""


@pytest.mark.parametrize("merge, wrong", [
    ("x + self.gate(x)", True),  # 8 channels against 4, whatever the input
    ("torch.cat([x, self.gate(self.down(x))], dim=1)", False),  # H against h': both 1 on a one-pixel input
    ("x + self.down(x)", False),
    ("self.down(x) * torch.sigmoid(self.gate(x))", True),
])
def test_symbolic_sizes_report_only_what_no_input_fixes(merge, wrong):
    from torchshape_lint.checks.analyze import analyze_source

    found = analyze_source(SYMBOLIC.format(merge=merge), "b.py").findings
    assert [(f.code, f.line) for f in found] == ([("TSL009", 14)] if wrong else []), [f.text for f in found]
    if wrong:
        assert "(N, 8, " in found[0].message and "(N, 4, " in found[0].message
    namespace: dict = {}
    exec(compile(SYMBOLIC.format(merge=merge), "b.py", "exec"), namespace)
    raises = []
    for size in (1, 2, 5, 8):  # wrong for every input: torch raises on each; otherwise some input runs
        try:
            namespace["Block"]()(torch.zeros(1, 3, size, size))
            raises.append(False)
        except RuntimeError:
            raises.append(True)
    assert all(raises) if wrong else not all(raises)
