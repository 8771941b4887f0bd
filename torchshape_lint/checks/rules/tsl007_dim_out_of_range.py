from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes.tensor import show_shape


class DimOutOfRange(Rule):
    """A dimension index that the tensor's known rank does not have, in `permute`, `transpose`, `flatten`,
    `unsqueeze`, `squeeze`, `torch.cat`/`torch.stack`, `narrow`/`split`/`chunk`/`unbind`, `softmax`/`log_softmax`,
    `size(dim)`, reductions such as `mean(dim)`; or dims that cannot go together: `permute` given another count of dims than the rank, a dim given
    twice, a `flatten` whose start_dim comes after its end_dim."""

    code = "TSL007"
    name = "dim-out-of-range"
    summary = "a dim that the tensor's rank does not have"
    why = ("PyTorch raises `Dimension out of range (expected to be in range of [-4, 3], but got 7)` only when the "
           "line runs; a dim valid for an image batch is often written for the wrong tensor (after a flatten, for "
           "a sequence without its batch).")
    fix = ("Use a dim in the range PyTorch gives: from -rank to rank - 1 (unsqueeze and stack: -rank - 1 to rank), "
           "or reshape the tensor first.")
    bad = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        return x.permute(0, 2, 3, 4)


Net()(torch.zeros(1, 3, 16, 16))
'''
    good = bad.replace("x.permute(0, 2, 3, 4)", "x.permute(0, 2, 3, 1)")

    def message(self, v) -> str:
        shape = show_shape(v.tensor.shape) if v.tensor is not None and v.tensor.shape is not None else "its input"
        return f"{v.label} on {shape}: {v.problem}"
