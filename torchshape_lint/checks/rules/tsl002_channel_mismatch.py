from torchshape_lint.checks.derivation import summary
from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes import dims


class ChannelMismatch(Rule):
    """A conv or normalization layer whose declared input size (`in_channels`, `num_features`,
    `num_channels`, `normalized_shape`) differs from what the layer before it produces."""

    code = "TSL002"
    name = "channel-mismatch"
    summary = "a layer's declared input channels differ from the channels that arrive"
    why = "PyTorch raises `expected input to have 64 channels, but got 32 channels` only when the model runs."
    fix = "Make the declared size equal the previous layer's output channels (or fix that layer)."
    fix_safety = ("`--fix` (and the language server's quick fix) writes the arriving size into a conv's `in_channels`, "
                  "a BatchNorm's or InstanceNorm's `num_features`, a GroupNorm's `num_channels`, where it is proven: "
                  "a concrete input, and every build of the line agreeing. Not a LayerNorm's `normalized_shape`, nor "
                  "a layer made through a name of the user's (`norm_layer(planes)`). Unsafe: the layer before may be "
                  "what is wrong, and pretrained weights will no longer load.")
    bad = '''
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 32, kernel_size=3),
    nn.ReLU(),
    nn.Conv2d(64, 128, kernel_size=3),
)
'''
    good = bad.replace("nn.Conv2d(64, 128", "nn.Conv2d(32, 128")

    def message(self, v) -> str:
        return (f"{v.label} but {dims.show(v.arriving)} arrive ({summary(v.tensor)}){self.use(v)}"
                if isinstance(v.arriving, int) else
                f"{v.label} but {dims.show(v.arriving)} arrive for every input ({summary(v.tensor)})")
