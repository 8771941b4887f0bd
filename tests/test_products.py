"""Matrix products (shapes/products.py) against torch itself over random shapes: the same shape where torch gives
one, PyTorch's own message where it raises (small CPU tensors). Symbolic sizes by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

from conftest import outcome  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from torchshape_lint.shapes import dims, formulas, products  # noqa: E402

SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)
SOME = settings(max_examples=400, deadline=None, derandomize=True, database=None)


@SOME
@given(SHAPES, SHAPES)
def test_matmul_is_torchs(a, b):
    assert products.matmul(a, b) == outcome(lambda: torch.zeros(a) @ torch.zeros(b))


@SOME
@given(SHAPES, SHAPES)
def test_mm_bmm_mv_dot_are_torchs(a, b):
    for product, torch_product in ((products.mm, torch.mm), (products.bmm, torch.bmm), (products.mv, torch.mv),
                                   (products.dot, torch.dot)):
        assert product(a, b) == outcome(lambda: torch_product(torch.zeros(a), torch.zeros(b))), product.__name__


LETTERS = "ijkIJ"


@st.composite
def einsum_cases(draw):
    """An equation over a few letters, maybe with an ellipsis and an explicit output, and shapes that mostly fit it
    (the letters' sizes drawn once, some replaced by 1 or by another size, a dimension sometimes added or dropped)."""
    size_of = {letter: draw(st.integers(1, 3)) for letter in LETTERS}
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = draw(st.lists(st.sampled_from(LETTERS), max_size=3))
        ellipsis = draw(st.booleans())
        at = draw(st.integers(0, len(letters)))
        term = "".join(letters[:at]) + ("..." if ellipsis else "") + "".join(letters[at:])
        shape = [draw(st.sampled_from([size_of[c], size_of[c], 1, draw(st.integers(1, 3))])) for c in letters]
        if ellipsis:
            shape[at:at] = draw(st.lists(st.integers(1, 3), max_size=2))
        if draw(st.integers(0, 9)) == 0:
            shape.append(2)
        terms.append(term)
        shapes.append(tuple(shape))
    equation = ",".join(terms)
    if draw(st.booleans()):
        used = sorted(set("".join(terms)) - {"."})
        output = draw(st.lists(st.sampled_from(used or ["i"]), max_size=3, unique=draw(st.booleans())))
        equation += "->" + ("..." if "..." in equation and draw(st.booleans()) else "") + "".join(output)
    return equation, shapes


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(einsum_cases())
def test_einsum_is_torchs(case):
    equation, shapes = case
    assert products.einsum(equation, shapes) == outcome(
        lambda: torch.einsum(equation, *[torch.zeros(s) for s in shapes]))


@pytest.mark.parametrize("equation, shapes", [
    ("bJ,ai", [(2, 3), (4, 5)]),  # implicit output: the letters used once, capitals first (ASCII order)
    ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("ij,jk->ik", [(2, 3)]),
    ("ij", [(2, 3), (3, 5)]),
    ("...ijk", [(2, 3)]),
    ("i...j,j...k", [(2, 7, 3), (3, 5, 4)]),
    ("ij,jk->iz", [(2, 3), (3, 5)]),
])
def test_einsum_equations_and_their_errors(equation, shapes):
    assert products.einsum(equation, shapes) == outcome(
        lambda: torch.einsum(equation, *[torch.zeros(s) for s in shapes]))


def test_an_equation_it_does_not_read_decides_nothing():
    assert products.einsum("i..j", [(2, 3)]) == (None, None)


def test_symbolic_sizes_are_wrong_only_for_every_input():
    n, h = dims.symbol("N"), dims.symbol("H")
    half = dims.apply_formula(h, lambda s: formulas.conv(s, 3, 2, 1, 1), "Conv2d")
    # 64 features against a weight of 32 rows, whatever the batch: a proof, in mm's words (the batch folded)
    assert products.matmul((n, 64), (32, 10)) == (None, "mat1 and mat2 shapes cannot be multiplied (Nx64 and 32x10)")
    assert products.matmul((n, 5, 64), (32, 10)) == (
        None, "mat1 and mat2 shapes cannot be multiplied (5*Nx64 and 32x10)")
    # H can be 64: nothing proven, and the output keeps the batch
    assert products.matmul((n, 8, h), (64, 10)) == ((n, 8, 10), None)
    # h' (a strided conv) against H: equal on a 1-pixel input, so not a proof either
    assert products.bmm((n, 4, h), (n, half, 7)) == ((n, 4, 7), None)
    assert products.einsum("bij,bjk->bik", [(n, 4, h), (n, 5, 7)]) == ((n, 4, 7), None)
    assert products.einsum("bij,bjk->bik", [(n, 4, 6), (n, 5, 7)])[1] == (
        "einsum(): subscript j has size 5 for operand 1 which does not broadcast with previously seen size 6")


@pytest.mark.parametrize("arguments", [
    "a, [0, 1], b, [1, 2], [0, 2]",
    "a, [0, 1], b, [1, 2]",
    "a, [..., 27], b, [27, 30]",
    "a, [0, 1], b, [2, 2], [0, 2]",
    "a, [0, 1], b, [1, 2], [0, 5]",
])
def test_einsum_sublists_are_read_as_their_equation(arguments):
    """torch.einsum(a, [0, 1], b, [1, 2], [0, 2]) is "Ab,bC->AC": the evaluator's shape or problem is torch's."""
    from torchshape_lint.evaluate.interpreter import Interpreter
    from torchshape_lint.shapes.violations import Collector
    from torchshape_lint.source.reader import SourceFile

    text = f"import torch\na = torch.zeros(2, 3)\nb = torch.zeros(3, 4)\nvalue = torch.einsum({arguments})\n"
    interpreter = Interpreter(SourceFile(text, "e.py"))
    interpreter.check = Collector()
    interpreter.run_module()
    value = interpreter.globals.vars["value"]
    problems = [v.problem for v in interpreter.check.violations]
    shape, error = outcome(lambda: eval(f"torch.einsum({arguments})",
                                        {"torch": torch, "a": torch.zeros(2, 3), "b": torch.zeros(3, 4)}))
    assert (getattr(value, "shape", None), problems) == (shape, [error] if error else [])
