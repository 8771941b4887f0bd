import torch
import torch.nn as nn
from dataclasses import dataclass, field


@dataclass
class Config:
    in_dim: int = 64
    hidden: int = 128
    classes: int = 10
    extra: list = field(default_factory=list)


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.fc1 = nn.Linear(cfg.in_dim, cfg.hidden)
        self.fc2 = nn.Linear(128, cfg.classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


model = MLP(Config(hidden=256))
out = model(torch.randn(8, 64))
ok = MLP(Config())
out = ok(torch.randn(8, 64))
