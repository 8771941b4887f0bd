import torch
import torch.nn as nn

conv = nn.Conv2d(3, 3, 1)
a = conv(torch.roll(torch.randn(1, 3, 8, 8), 1, 2))
b = conv(torch.randn(1, 3, 4, 4))
