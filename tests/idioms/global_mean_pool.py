import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 128, 3, stride=2))
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = self.body(x)
        x = x.mean(dim=(2, 3))
        return self.head(x)
