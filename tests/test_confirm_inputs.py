"""Confirm mode on models whose forward takes several tensors: one zero tensor per argument, from the pragma's
shapes (`input=[(2, 3, 32, 32), (2, 10)]`) or from a usage with several tensors (`net(x, y)`), never a call that
leaves an argument out (PyTorch's `missing 1 required positional argument` is the confirm run's mistake, not the
model's). The expected sizes come from PyTorch: each model is also run here in torch."""

import runpy

import pytest

from conftest import cli, locate

torch = pytest.importorskip("torch")

TWO_INPUTS = '''import torch
import torch.nn as nn


{pragma}class Cond(nn.Module):
    def __init__(self{classes}):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 30 * 30 + {width}, 5)
{bad}
    def forward(self, x, y):
        h = self.conv(x).flatten(1)
        z = self.fc(torch.cat([h, y], dim=1))
        return {last}
'''
PRAGMA = "# torchshape: input=[(2, 3, 32, 32), (2, 10)]\n"
BAD = "        self.bad = nn.Linear(11, 4)\n"
USAGE = "\n\nnet = Cond(10)\nout = net(torch.randn(2, 3, 32, 32), torch.randn(2, 10))\n"


def write(tmp_path, name, pragma=PRAGMA, bad=True, usage=""):
    text = TWO_INPUTS.format(pragma=pragma, classes=", classes" if usage else "", width="classes" if usage else "10",
                             bad=BAD if bad else "", last="self.bad(z)" if bad else "z") + usage
    (tmp_path / name).write_text(text)
    return tmp_path / name


def features_reaching_bad(path, *args):
    """What arrives at `self.bad`, and PyTorch's error there: the model run in torch on one tensor per argument."""
    namespace: dict = {}
    exec(path.read_text().partition(USAGE)[0], namespace)  # the class, not the usage (which raises)
    model = namespace["Cond"](*args)
    arriving = model.fc(torch.cat([model.conv(torch.zeros(2, 3, 32, 32)).flatten(1), torch.zeros(2, 10)], 1))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        model(torch.zeros(2, 3, 32, 32), torch.zeros(2, 10))
    return arriving.shape[1]


def confirm(tmp_path, *args):
    return cli("--no-cache", "-q", "--confirm", "--device", "cpu", *args, cwd=tmp_path)


def test_a_two_input_pragma_feeds_both_tensors_and_confirms_the_finding(tmp_path):
    path = write(tmp_path, "two.py")
    arriving = features_reaching_bad(path)
    result = confirm(tmp_path, "two.py")
    line, col = locate(path, "nn.Linear(11, 4)")
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"two.py:{line}:{col}: TSL001 Linear(in_features=11) but {arriving} features arrive")
    assert finding.endswith("[confirmed on cpu]") and result.returncode == 1, result.stdout + result.stderr


def test_a_correct_two_input_model_is_clean_under_confirm(tmp_path):
    path = write(tmp_path, "clean.py", bad=False)
    model = runpy.run_path(str(path))["Cond"]()
    assert model(torch.zeros(2, 3, 32, 32), torch.zeros(2, 10)).shape == (2, 5)  # it runs in PyTorch
    result = cli("--no-cache", "--verbose", "--confirm", "--device", "cpu", "clean.py", cwd=tmp_path)
    assert result.returncode == 0 and " TSL" not in result.stdout, result.stdout + result.stderr
    assert "clean.py: confirm Cond on cpu: 4/4 layers agree" in result.stdout  # conv, flatten, cat, fc: it ran


def test_a_usage_with_two_tensors_is_run_with_both(tmp_path):
    path = write(tmp_path, "use.py", pragma="", usage=USAGE)
    arriving = features_reaching_bad(path, 10)
    result = confirm(tmp_path, "use.py")
    line, col = locate(path, "nn.Linear(11, 4)")
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"use.py:{line}:{col}: TSL001 Linear(in_features=11) but {arriving} features arrive")
    assert finding.endswith("[confirmed on cpu]"), result.stdout + result.stderr


def test_a_forward_given_fewer_tensors_than_it_needs_is_not_run(tmp_path):
    """`--input-shape` gives the first argument only: the finding on its path stands, confirm says why it did not
    run the model, and reports no PyTorch error of its own making."""
    path = tmp_path / "short.py"
    path.write_text("import torch.nn as nn\n\n\nclass Two(nn.Module):\n    def __init__(self):\n"
                    "        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n"
                    "        self.fc = nn.Linear(8 * 29 * 29, 5)\n\n    def forward(self, x, y):\n"
                    "        return self.fc(self.conv(x).flatten(1)) + y\n")
    result = confirm(tmp_path, "--input-shape", "2,3,32,32", "short.py")
    line, col = locate(path, "nn.Linear(8 * 29 * 29")
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"short.py:{line}:{col}: TSL001 ")
    assert finding.endswith("[not confirmed: its forward takes 2 tensors and the input gives 1 (give one shape per "
                            "argument: `# torchshape: input=[(1, 3, 32, 32), (1, 10)]`)]"), result.stdout


def test_a_forward_that_needs_a_keyword_argument_is_not_run(tmp_path):
    """`forward(self, x, *, mask)` on the pragma's one tensor: PyTorch would raise for want of `mask`, which is the
    confirm run's doing, not the model's: no TSL902."""
    (tmp_path / "kw.py").write_text("import torch.nn as nn\n\n\n# torchshape: input=(2, 3, 8, 8)\n"
                                    "class Masked(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                    "        self.conv = nn.Conv2d(3, 4, 3)\n\n    def forward(self, x, *, mask):\n"
                                    "        return self.conv(x) * mask\n")
    result = cli("--no-cache", "--verbose", "--confirm", "--device", "cpu", "kw.py", cwd=tmp_path)
    assert result.returncode == 0 and " TSL" not in result.stdout, result.stdout
    assert "kw.py: confirm Masked: its forward needs the keyword argument mask, which the input does not give" in \
        result.stdout.splitlines()
