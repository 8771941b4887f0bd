from torchshape_lint.checks.derivation import summary
from torchshape_lint.checks.rules import Rule


class OutputTooSmall(Rule):
    """A conv or pool that would produce a spatial size below 1 from the size that reaches it."""

    code = "TSL003"
    name = "output-too-small"
    summary = "a layer's output size is 0 or less"
    why = "PyTorch raises `Output size is too small` (or `Kernel size can't be greater than actual input size`) at run time."
    fix = "Use a larger input, fewer downsampling layers, or padding."
    bad = '''
import torch.nn as nn

# torchshape: input=(1, 1, 4, 4)
model = nn.Sequential(
    nn.MaxPool2d(2),
    nn.MaxPool2d(2),
    nn.MaxPool2d(2),
)
'''
    good = bad.replace("(1, 1, 4, 4)", "(1, 1, 8, 8)")

    def message(self, v) -> str:
        return (f"{v.label} gets size {v.size} and makes {v.formula} = {v.arriving} "
                f"({summary(v.tensor)})")
