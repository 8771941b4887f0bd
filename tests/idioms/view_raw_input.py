import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """Flat MNIST rows reshaped in forward: 28 -conv5-> 24 -pool2-> 12, so 10 * 12 * 12 arrive."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 10, 5)
        self.fc = nn.Linear(10 * 14 * 14, 10)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))
