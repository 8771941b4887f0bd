from torchshape_lint.checks.rules import Rule


class ConfirmRuntimeError(Rule):
    """Confirm mode only (`--confirm`): PyTorch raised while running the model, at a place where the static
    analysis predicted no problem — usually because it could not follow the code there (its sizes stayed
    unknown, so it stayed silent)."""

    code = "TSL902"
    name = "confirm-runtime-error"
    summary = "PyTorch raised where the static analysis predicted nothing"
    why = ("The static pass reports only what it can prove; running the model finds what it could not follow. "
           "The message is PyTorch's own, the same wording on every device.")
    fix = "Read PyTorch's message: the layer named at this line receives a tensor it cannot take."
    # Confirm-only: the bad example is silent statically (it does not follow `repeat_interleave`, so the channels
    # stay unknown); `--confirm` flags it. tests/test_confirm.py runs these examples in confirm mode.
    confirm_only = True
    bad = '''
import torch.nn as nn


# torchshape: input=(1, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, kernel_size=3)

    def forward(self, x):
        return self.conv(x.repeat_interleave(2, dim=1))
'''
    good = bad.replace("nn.Conv2d(3, 16", "nn.Conv2d(6, 16")

    def message(self, v) -> str:
        at = f" at {v.label}" if v.label else ""
        return f"PyTorch on {v.device} raised{at}, which the static analysis did not predict: {v.message}"
