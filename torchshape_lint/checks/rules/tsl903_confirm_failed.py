from torchshape_lint.checks.rules import Rule


class ConfirmFailed(Rule):
    """Confirm mode only (`--confirm`): a model could not be tried in PyTorch — importing the file or building
    the model raised, it ran past the time limit, memory ran out, or the meta device cannot run its code. The
    message says which and where; the other models of the run are confirmed all the same."""

    code = "TSL903"
    name = "confirm-failed"
    summary = "confirm mode could not build or run this model"
    why = "A finding that was not tried is not confirmed; saying so beats a silent gap."
    fix = ("Make the file importable and the model buildable without arguments (or give it a pragma), raise "
           "--confirm-timeout, or use --device cpu where the meta device cannot run data-dependent code.")
    # Confirm-only: the bad example's constructor raises; the static analysis stops there without a finding.
    confirm_only = True
    bad = '''
import os

import torch.nn as nn


# torchshape: input=(1, 3, 32, 32)
class Backbone(nn.Module):
    def __init__(self, checkpoint="backbone.pt"):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())
        if not os.path.exists(checkpoint):
            raise FileNotFoundError(checkpoint)

    def forward(self, x):
        return self.body(x)
'''
    good = bad.replace('''        if not os.path.exists(checkpoint):
            raise FileNotFoundError(checkpoint)
''', "")

    def message(self, v) -> str:
        what = {"import": "importing the file", "build": "building it", "run": "running it"}[v.phase]
        on = f" on {v.device}" if v.device else ""
        return f"could not confirm{on}: " + (f"{what} raised {v.message}" if v.raised else v.message)
