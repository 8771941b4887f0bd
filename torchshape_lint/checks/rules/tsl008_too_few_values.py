from torchshape_lint.checks.derivation import summary
from torchshape_lint.checks.rules import Rule


class TooFewValues(Rule):
    """A normalization layer that would compute its statistics over a single value: an `InstanceNorm` without
    running statistics given a 1x1 map (after global pooling, or too many downsamplings), or `F.instance_norm`
    normalizing by the input's own statistics (its default)."""

    code = "TSL008"
    name = "too-few-values"
    summary = "a norm layer computes statistics over a single value"
    why = ("PyTorch raises `Expected more than 1 spatial element when training` when the model runs; an "
           "InstanceNorm with `track_running_stats=False` (the default) normalizes by the input's own statistics "
           "in eval mode as well, so it raises there too. With running statistics it raises in training only, "
           "which is not reported: the analysis takes the model as confirm runs it, in eval mode.")
    fix = "Normalize before the map shrinks to 1x1, use a larger input, or a norm layer that does not need it."
    bad = '''
import torch.nn as nn

# torchshape: input=(1, 3, 8, 8)
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1),
    nn.AdaptiveAvgPool2d(1),
    nn.InstanceNorm2d(16),
)
'''
    good = bad.replace("nn.AdaptiveAvgPool2d(1)", "nn.AdaptiveAvgPool2d(2)")

    def message(self, v) -> str:
        return f"{v.label}: {v.problem} ({summary(v.tensor)})"
