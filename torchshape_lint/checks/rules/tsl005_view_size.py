from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import show_shape


class ViewSize(Rule):
    """A `view`/`reshape` whose hard-coded sizes do not fit the tensor: it fails, or with `-1` first
    it silently moves values between samples of the batch."""

    code = "TSL005"
    name = "view-size"
    summary = "view/reshape sizes do not fit the tensor"
    why = ("`x.view(-1, 400)` on a (N, 16, 4, 4) tensor does not always fail: for some batch sizes it "
           "re-batches the data, and the error shows up later in the loss, far from its cause.")
    fix = "Use `x.view(x.size(0), -1)` or `torch.flatten(x, 1)`, or the right per-sample size."
    fix_safety = ("`--fix` (and the language server's quick fix) writes the per-sample size into `view(-1, N)` or "
                  "`reshape(-1, N)` where it is proven on a concrete input; other forms are left alone. Unsafe: the "
                  "layers before may be what is wrong, and the layer after it must then take that size.")
    bad = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.fc = nn.Linear(400, 10)

    def forward(self, x):
        x = self.conv(x)
        x = x.view(-1, 400)
        return self.fc(x)


Net()(torch.zeros(8, 1, 8, 8))
'''
    good = bad.replace("x.view(-1, 400)", "x.view(-1, 256)").replace("nn.Linear(400, 10)", "nn.Linear(256, 10)")

    def message(self, v) -> str:
        shape = show_shape(v.tensor.shape)
        if v.batch_wildcard:
            hint = self.use(v)
            return (f"{v.label} on {shape}: one sample has {dims.show(v.arriving)} values, not {v.declared}; "
                    f"-1 re-batches or fails{hint}")
        if v.whole:  # no -1: the shape holds a number of values of its own
            return f"{v.label} on {shape}: the shape holds {v.declared} values, but {dims.show(v.arriving)} arrive"
        return f"{v.label} on {shape}: {dims.show(v.arriving)} values cannot take the shape ({v.declared} per -1 slot)"
