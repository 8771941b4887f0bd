import torch
import torch.nn as nn


def _test():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 6 * 6, 2))
    x = torch.randn(1, 3, 8, 8)
    y = net(x)
    y.sum().backward()


if __name__ == "__main__":
    _test()
