from torchshape_lint.checks.rules import Rule


class RecurrentState(Rule):
    """An RNN, GRU or LSTM given an initial state (`self.lstm(x, (h0, c0))`, `self.gru(x, h0)`) of a shape it cannot
    take: the state must have the input's rank, and the shape `(num_layers * num_directions, N, hidden_size)`
    (`proj_size` for an LSTM's h where it has one; unbatched 2-D input: no N), with N the input's batch, its first
    dimension under `batch_first=True`, else its second. Reported at the call that passes the state."""

    code = "TSL011"
    name = "recurrent-state"
    summary = "an RNN/GRU/LSTM's initial state does not have the shape the layer checks for"
    why = "PyTorch raises `Expected hidden[0] size (2, 4, 20), got [1, 4, 20]` (or `hx and cx should also be 3-D`) " \
          "when the model runs."
    fix = "Build the state from the layer's own sizes: `torch.zeros(self.num_layers * directions, x.size(0), " \
          "self.hidden_size)` for a batch_first input."
    bad = '''
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), 20)
        c0 = torch.zeros(1, x.size(0), 20)
        return self.lstm(x, (h0, c0))


Encoder()(torch.zeros(4, 7, 10))
'''
    good = bad.replace("torch.zeros(1, x.size(0)", "torch.zeros(2, x.size(0)")

    def message(self, v) -> str:
        return f"{v.label}: {v.problem}"
