"""One planted mistake gives one finding: after a wrong layer the analysis goes on with what the layer gives once
fixed the way the finding says (a norm layer passes its input through; a Linear or Conv gives its declared output)."""

import pytest

from conftest import flake8, locate

CONV_BN_CONV = '''import torch.nn as nn

# torchshape: input=(1, 3, 32, 32)
model = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1),
    nn.Conv2d(64, 128, 3, padding=1),
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.Conv2d(128, 256, 3, padding=1),
    nn.Flatten(),
    nn.Linear(256 * 32 * 32, 10),
)
'''

MLP_BN = '''import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Linear(20, 512),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Linear(512, 10),
)
out = model(torch.randn(64, 20))
'''

MLP_BN_PRAGMA = '''import torch.nn as nn

# torchshape: input=(64, 20)
model = nn.Sequential(
    nn.Linear(20, 512),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Linear(512, 10),
)
'''

GROUP_LAYER_NORM = '''import torch.nn as nn

# torchshape: input=(2, 3, 8, 8)
model = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1),
    nn.GroupNorm(4, 16),
    nn.InstanceNorm2d(8, affine=True),
    nn.Conv2d(32, 8, 1),
    nn.Flatten(),
    nn.LayerNorm(100),
    nn.Linear(8 * 8 * 8, 10),
)
'''


@pytest.mark.parametrize("source, wrong", [
    (CONV_BN_CONV, ["nn.BatchNorm2d(64)"]),
    (MLP_BN, ["nn.BatchNorm1d(256)"]),
    (MLP_BN_PRAGMA, ["nn.BatchNorm1d(256)"]),
    (GROUP_LAYER_NORM, ["nn.GroupNorm(4, 16)", "nn.InstanceNorm2d(8", "nn.LayerNorm(100)"]),
])
def test_a_wrong_norm_layer_is_the_only_finding(tmp_path, source, wrong):
    path = tmp_path / "model.py"
    path.write_text(source)
    result = flake8("model.py", cwd=tmp_path)
    found = [line.split(": ")[0] + ": " + line.split(": ")[1][:6] for line in result.stdout.splitlines()]
    expected = ["model.py:%d:%d: TSL002" % locate(path, needle) for needle in wrong]
    assert found == expected, result.stdout


@pytest.mark.parametrize("source, wrong, right", [
    (CONV_BN_CONV, "nn.BatchNorm2d(64)", "nn.BatchNorm2d(128)"),
    (MLP_BN, "nn.BatchNorm1d(256)", "nn.BatchNorm1d(512)"),
    (MLP_BN_PRAGMA, "nn.BatchNorm1d(256)", "nn.BatchNorm1d(512)"),
])
def test_the_model_fails_in_torch_only_at_the_norm_layer(source, wrong, right):
    """The layers after the norm layer are right: with the norm layer fixed, torch runs the whole model."""
    torch = pytest.importorskip("torch")
    shape = (1, 3, 32, 32) if "input=(1, 3, 32, 32)" in source else (64, 20)

    def build(text):
        namespace = {}
        exec(text.replace("out = model(", "out = (lambda x: x)("), namespace)  # built, not run
        return namespace["model"]

    with pytest.raises(RuntimeError):
        build(source).eval()(torch.zeros(shape))
    assert build(source.replace(wrong, right)).eval()(torch.zeros(shape)).shape[-1] == 10
