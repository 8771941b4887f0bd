"""A model built with arguments under `if __name__ == "__main__":` and run on data the analysis cannot know (a file,
a download) is still checked on symbolic sizes: what its layers declare against what their neighbours give. And a
"same" padding computed from the input's size pads by an amount not known, which leaves the batch and channels
known. Each model here is run in torch too: the planted mistake raises, the correct version runs."""

import textwrap

import pytest

from conftest import cli, lint, locate

MODEL = textwrap.dedent('''
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class SamePadConv(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super().__init__()
            self.kernel_size, self.stride = kernel_size, stride
            self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            in_dim = x.shape[-1]
            out_dim = (in_dim + self.stride - 1) // self.stride
            p = max(0, (out_dim - 1) * self.stride + self.kernel_size - in_dim)
            x = F.pad(x, (p // 2, p - p // 2), "constant", 0)
            return self.conv(x)


    class ECGNet(nn.Module):
        def __init__(self, in_channels, width, n_classes):
            super().__init__()
            self.stem = nn.Conv1d(in_channels, width, kernel_size=7)
            self.block = SamePadConv(width, width * 2, kernel_size=16, stride=2)
            self.bn = nn.BatchNorm1d(width * 2)
            self.fc = nn.Linear(width * 2, n_classes)

        def forward(self, x):
            x = F.relu(self.bn(self.block(self.stem(x))))
            return self.fc(x.mean(-1))


    if __name__ == "__main__":
        signals = np.load("signals.npy")
        model = ECGNet(in_channels=1, width=32, n_classes=4)
        print(model(torch.tensor(signals, dtype=torch.float)).shape)
''')
WRONG = ("self.bn = nn.BatchNorm1d(width * 2)", "self.bn = nn.BatchNorm1d(width)")


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_the_mistake_is_reported_at_the_norm_layer(tmp_path, front):
    (tmp_path / "ecg.py").write_text(MODEL.replace(*WRONG))
    result = lint(front, "ecg.py", cwd=tmp_path)
    line, column = locate(tmp_path / "ecg.py", "nn.BatchNorm1d(width)")
    # by hand: the block's conv gives width * 2 = 64 channels, the norm declares width = 32
    (only,) = result.stdout.splitlines()
    assert only.removeprefix("./").startswith(f"ecg.py:{line}:{column}: TSL002 BatchNorm1d(num_features=32) but 64 "
                                              "arrive"), result.stdout
    assert result.returncode == 1


def test_the_correct_model_is_clean(tmp_path):
    (tmp_path / "ecg.py").write_text(MODEL)
    result = cli("--no-cache", "--verbose", "ecg.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    # the four layers that declare a size are decided, though the signals' length is not known: the stem fixes the
    # input's rank, and the block's padding, computed from the length, leaves the channels known
    assert sum("agrees" in line for line in result.stdout.splitlines()) == 4, result.stdout


@pytest.mark.parametrize("wrong", [False, True])
def test_torch_agrees(wrong):
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(MODEL.replace(*WRONG) if wrong else MODEL, "ecg.py", "exec"), namespace)
    model = namespace["ECGNet"](in_channels=1, width=32, n_classes=4).eval()
    signals = torch.zeros(2, 1, 3000)
    if wrong:
        with pytest.raises(RuntimeError, match="running_mean should contain 64 elements not 32"):
            model(signals)
    else:
        assert tuple(model(signals).shape) == (2, 4)
