"""TSL006 for a float where PyTorch needs an int (`mid_planes = out_planes / 4`): building the layer raises
TypeError. Which arguments raise is decided by torch itself in the test."""

import pytest

from conftest import cli

# Each built by its own builder function (one build each), with the size computed as users compute it.
LAYERS = [
    "nn.Conv2d(3, planes / 4, 3)",
    "nn.Conv2d(planes / 4, 8, 3)",
    "nn.Conv1d(3, 8, planes / 16)",
    "nn.Conv3d(3, 8, (3, 3, planes / 16))",
    "nn.ConvTranspose2d(4, 8, 3, groups=planes / 32)",
    "nn.Linear(planes * 0.5, 10)",
    "nn.Linear(10, planes / 2)",
    "nn.BatchNorm2d(planes / 4)",
    "nn.BatchNorm1d(planes / 4, affine=False)",
    "nn.InstanceNorm2d(planes / 4, affine=True)",
    "nn.GroupNorm(4, planes / 4)",
    "nn.LayerNorm(planes / 4)",
    "nn.Embedding(100, planes / 4)",
    "nn.LSTM(planes / 4, 32)",
    "nn.GRU(16, planes / 4)",
    # where torch takes a float: no per-channel tensors, or an argument it does not size a tensor with
    "nn.BatchNorm2d(planes / 4, affine=False, track_running_stats=False)",
    "nn.InstanceNorm2d(planes / 4)",
    "nn.GroupNorm(planes / 16, 64, affine=True)",
    "nn.GroupNorm(4, planes / 4, affine=False)",
    "nn.Conv2d(3, planes // 4, 3)",
    "nn.Linear(int(planes / 2), 10)",
]


def source():
    lines = ["import torch.nn as nn", "", ""]
    for i, layer in enumerate(LAYERS):
        lines += [f"def make{i}(planes=64):", f"    return {layer}", "", ""]
    return "\n".join(lines)


def raises_in_torch(layer):
    pytest.importorskip("torch")
    from torch import nn

    try:
        eval(layer, {"nn": nn, "planes": 64})
    except TypeError:
        return True
    return False


def test_a_float_size_is_reported_where_torch_cannot_build_the_layer(tmp_path):
    (tmp_path / "layers.py").write_text(source())
    result = cli("--no-cache", "--format", "json", "layers.py", cwd=tmp_path)
    import json

    found = {(f["line"], f["column"]): f["message"] for f in json.loads(result.stdout)}
    expected = {(5 + 4 * i, len("    return ") + 1) for i, layer in enumerate(LAYERS) if raises_in_torch(layer)}
    assert len(expected) == 15  # the first fifteen raise: the test's own premise, from torch
    assert set(found) == expected, result.stdout
    for (line, _), message in found.items():
        layer = LAYERS[(line - 5) // 4]
        assert message.startswith(f"TSL006 {layer.split('(')[0][3:]}: ") and "is a float" in message, message


def test_one_float_size_is_one_finding(tmp_path):
    """torch stops at the first layer it cannot build; the layers after it, from the same size, are not reached."""
    (tmp_path / "block.py").write_text('''import torch.nn as nn


class Bottleneck(nn.Module):
    def __init__(self, in_planes=64, out_planes=64):
        super().__init__()
        mid_planes = out_planes / 4
        self.conv1 = nn.Conv2d(in_planes, mid_planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_planes)
        self.conv2 = nn.Conv2d(mid_planes, out_planes, kernel_size=3, padding=1, bias=False)
''')
    result = cli("--no-cache", "block.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ("block.py:8:22: TSL006 Conv2d: out_channels=16.0 is a float: building the layer raises "
                             "TypeError, PyTorch needs an int here (write // rather than /, or int(...))\n")
