import torch
import torch.nn as nn


class Net(nn.Module):
    width = 16

    def __init__(self):
        super().__init__()
        self.conv = self.block(3, self.width)
        self.head = self.make_head(10)
        self.fc = nn.Linear(self.features, 10)

    @staticmethod
    def block(cin, cout):
        return nn.Conv2d(cin, cout, 3, padding=1)

    @classmethod
    def make_head(cls, n):
        return nn.Linear(cls.width, n)

    @property
    def features(self):
        return self.width * 8 * 8  # adaptive pool to 4x4: 16 * 4 * 4 arrive

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.conv(x), 4)
        return self.fc(x.flatten(1))


Net()(torch.zeros(1, 3, 32, 32))
