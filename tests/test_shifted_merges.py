"""A residual add of two sizes of the same input that differ by a shift (a stride-1 conv whose kernel and padding do
not keep the size, against its shortcut): decided on symbolic sizes only where it fails for every input size,
which torch confirms over a range of sizes; where some size works (a size 1 broadcasts), nothing is reported."""

from functools import partial

import pytest

from conftest import cli, locate
from torchshape_lint.shapes import dims, formulas

BLOCK = '''import torch.nn as nn


class Block(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, stride=2, padding=1)
        self.conv = nn.Conv2d(channels, channels, kernel_size=KERNEL, padding=1)

    def forward(self, x):
        x = self.stem(x)
        out = self.conv(x)
        MERGE
        return out
'''


def block(tmp_path, kernel, merge):
    path = tmp_path / "block.py"
    path.write_text(BLOCK.replace("KERNEL", str(kernel)).replace("MERGE", merge))
    return path


def torch_fails(path, size):
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    try:
        namespace["Block"]()(torch.zeros(1, 3, size, size))
    except RuntimeError:
        return True
    return False


def test_an_in_place_add_of_a_shorter_branch_fails_for_every_size(tmp_path):
    path = block(tmp_path, 4, "out += x")  # H - 1 += H
    assert all(torch_fails(path, size) for size in range(1, 40))
    line, column = locate(path, "out += x")
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    assert result.stdout.startswith(f"{path.name}:{line}:{column}: TSL009 a += b: The size of tensor a (w') must "
                                    "match the size of tensor b (w' + 1) at non-singleton dimension 3"), result.stdout


@pytest.mark.parametrize("kernel, merge", [(4, "out = out + x"), (2, "out += x"), (3, "out += x")])
def test_a_merge_some_size_makes_work_is_not_reported(tmp_path, kernel, merge):
    """`out + x` with H - 1 and H works where H - 1 is 1; `out += x` with H + 1 and H where H is 1."""
    path = block(tmp_path, kernel, merge)
    assert not all(torch_fails(path, size) for size in range(1, 40))
    assert cli("--no-cache", "-q", path.name, cwd=tmp_path).stdout == ""


def test_shifts_are_read_past_the_common_formulas():
    h = dims.symbol("H")
    strided = dims.apply_formula(h, partial(formulas.conv, kernel=3, stride=2, padding=1, dilation=1), "Conv2d")
    shorter = dims.apply_formula(strided, partial(formulas.conv, kernel=4, stride=1, padding=1, dilation=1), "Conv2d")
    assert dims.shifts(shorter, strided) == (-1, 0) and dims.differ_by_a_shift(shorter, strided)
    assert dims.never_broadcasts_into(shorter, strided) and not dims.never_broadcasts_into(strided, shorter)
    assert dims.shifts(strided, h) is None  # a stride after the common part: they agree at H = 1
