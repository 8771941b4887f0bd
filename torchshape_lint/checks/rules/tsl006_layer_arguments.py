from torchshape_lint.checks.rules import Rule


class LayerArguments(Rule):
    """Layer arguments that PyTorch rejects whatever the input: `groups` not dividing the channels,
    `num_groups` not dividing `num_channels`, pool padding above half the kernel, `padding='same'`
    with a stride, a float where PyTorch sizes a tensor with the argument (`mid_planes = out_planes / 4` as the
    channels, features, kernel size, groups, hidden size of a layer; of a norm layer only where it has affine
    parameters or running statistics). A build stops at the first layer PyTorch cannot build, so only that one
    is reported."""

    code = "TSL006"
    name = "layer-arguments"
    summary = "layer arguments PyTorch rejects for every input"
    why = "These raise when the model is built or first run, whatever the data."
    fix = "Choose arguments that divide evenly (or the padding the layer allows)."
    bad = '''
import torch.nn as nn

block = nn.Sequential(
    nn.Conv2d(30, 64, kernel_size=3, groups=4),
)
'''
    good = bad.replace("nn.Conv2d(30, 64", "nn.Conv2d(32, 64")

    def message(self, v) -> str:
        return f"{v.label}: {v.problem}"
