"""Tensors made from numbers and from other tensors' shapes (torch.arange, linspace, eye, zeros_like, x.new_zeros,
...): the evaluator's shape against torch's for the same source line, over random arguments; shapes/factories.py
against torch where it raises."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from torchshape_lint.evaluate.interpreter import Interpreter  # noqa: E402
from torchshape_lint.shapes import factories  # noqa: E402
from torchshape_lint.shapes.tensor import Tensor  # noqa: E402
from torchshape_lint.source.reader import SourceFile  # noqa: E402

SOME = settings(max_examples=300, deadline=None, derandomize=True, database=None)
NUMBERS = st.one_of(st.integers(-20, 20), st.floats(-20, 20, allow_nan=False).map(lambda v: round(v, 2)))


def evaluated(expression: str):
    """The shape the evaluator gives `expression`, with `x` a (2, 3, 4) tensor; None where it gives none."""
    interpreter = Interpreter(SourceFile(f"import torch\nx = torch.zeros(2, 3, 4)\nvalue = {expression}\n", "f.py"))
    interpreter.run_module()
    value = interpreter.globals.vars["value"]
    return value.shape if isinstance(value, Tensor) else None


def torch_shape(expression: str):
    try:
        return tuple(eval(expression, {"torch": torch, "x": torch.zeros(2, 3, 4)}).shape)
    except RuntimeError:
        return None


@SOME
@given(NUMBERS, NUMBERS, NUMBERS.filter(lambda v: v != 0))
def test_arange_is_torchs(start, end, step):
    for expression in (f"torch.arange({end})", f"torch.arange({start}, {end})", f"torch.arange({start}, {end}, {step})",
                       f"torch.arange(start={start}, end={end}, step={step})"):
        assert evaluated(expression) == torch_shape(expression), expression


def test_arange_raises_where_torch_does():
    assert factories.arange(5, 0, 1) is None and torch_shape("torch.arange(5, 0, 1)") is None
    assert factories.arange(0, 5, 0) is None and torch_shape("torch.arange(0, 5, 0)") is None


@SOME
@given(NUMBERS, NUMBERS, st.integers(-2, 30), st.integers(-2, 6), st.one_of(st.none(), st.integers(-2, 6)))
def test_linspace_logspace_eye_are_torchs(start, end, steps, n, m):
    for expression in (f"torch.linspace({start}, {end}, {steps})", f"torch.logspace({start}, {end}, steps={steps})",
                       f"torch.eye({n})" if m is None else f"torch.eye({n}, {m})"):
        assert evaluated(expression) == torch_shape(expression), expression


@pytest.mark.parametrize("expression", [
    "torch.zeros_like(x)", "torch.ones_like(x)", "torch.empty_like(x)", "torch.randn_like(x)", "torch.rand_like(x)",
    "torch.full_like(x, 7.0)", "torch.randint_like(x, 10)",
    "x.new_zeros(5, 6)", "x.new_ones((5,))", "x.new_empty(size=(2, 2))", "x.new_full((3, 1), 0.5)",
    "x.new_tensor([[1.0], [2.0]])", "torch.FloatTensor(3, 2)", "torch.LongTensor([[1, 2, 3]])", "torch.ones(4)",
])
def test_tensors_shaped_after_others_are_torchs(expression):
    assert evaluated(expression) == torch_shape(expression) is not None


def test_sizes_read_from_a_symbolic_input_shape_a_new_tensor(tmp_path):
    """No input is given: the batch stays the symbol N, and the mask's 4 channels against the conv's 8 are wrong
    for every input (torch: `The size of tensor a (8) must match the size of tensor b (4) at non-singleton
    dimension 1`)."""
    from conftest import flake8, locate

    path = tmp_path / "gate.py"
    path.write_text("""import torch
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=3)

    def forward(self, x):
        x = self.conv(x)
        mask = torch.ones(x.size(0), 4, 1, 1)
        return x * mask
""")
    line, column = locate(path, "x * mask")
    result = flake8(path.name, cwd=tmp_path)
    assert result.stdout.startswith(f"gate.py:{line}:{column}: TSL009 a * b: The size of tensor a (8) must match the "
                                    "size of tensor b (4) at non-singleton dimension 1"), result.stdout + result.stderr
    path.write_text(path.read_text().replace("x.size(0), 4", "x.size(0), 8"))
    fixed = flake8(path.name, cwd=tmp_path)
    assert (fixed.stdout, fixed.returncode) == ("", 0)
