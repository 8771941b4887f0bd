from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes.tensor import show_shape


class InputRank(Rule):
    """A layer that receives a tensor of a rank it cannot read (a Conv2d given a flattened tensor,
    a pragma's shape that does not fit the model's first layer)."""

    code = "TSL004"
    name = "input-rank"
    summary = "a layer receives a tensor with the wrong number of dimensions"
    why = "PyTorch raises `Expected 3D (unbatched) or 4D (batched) input to conv2d` at run time."
    fix = "Reshape before the layer (`unsqueeze`, `view`), or use the layer of the right dimensionality."
    bad = '''
import torch.nn as nn

# torchshape: input=(1, 3, 32, 32)
model = nn.Sequential(
    nn.Flatten(),
    nn.Conv2d(3, 8, kernel_size=3),
)
'''
    good = bad.replace("    nn.Flatten(),\n", "")

    def message(self, v) -> str:
        shape = show_shape(v.tensor.shape) if v.tensor is not None and v.tensor.shape is not None else ""
        origin = " from the pragma" if v.origin == "pragma" else ""
        return f"{v.label} takes a {v.declared} input but gets a {v.arriving}-D one{origin} {shape}".rstrip()
