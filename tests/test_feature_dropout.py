"""F.dropout2d runs in training by default and then raises on a 1-D input ("Feature dropout requires at least 2
dimensions in the input"); nn.Dropout2d in eval mode, `training=self.training` and other ranks only warn in torch."""

import warnings

import pytest

from conftest import cli, flake8

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.drop = nn.Dropout2d(0.2)

    def forward(self, x):
        x = self.drop(self.fc(x))
        x = F.dropout2d(x, 0.2, training=self.training)
        return F.dropout2d(x[0], 0.2)


model = Head()
model(torch.zeros(2, 8))
'''


def torch_error(source):
    torch = pytest.importorskip("torch")
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(source.replace("model(torch.zeros(2, 8))", ""), namespace)
        try:
            namespace["model"].eval()(torch.zeros(2, 8))
        except RuntimeError as error:
            return str(error)
    return None


def test_a_functional_feature_dropout_of_a_1d_tensor_is_reported_where_torch_raises(tmp_path):
    assert "at least 2 dimensions" in torch_error(SOURCE)
    (tmp_path / "m.py").write_text(SOURCE)
    line = 15
    column = SOURCE.splitlines()[line - 1].index("F.dropout2d") + 1
    expected = (f"m.py:{line}:{column}: TSL004 Dropout2d takes a 2-D or higher (it runs in training) input but gets a "
                "1-D one (4)")
    assert cli("--no-cache", "-q", "m.py", cwd=tmp_path).stdout.splitlines() == [expected]
    assert flake8("m.py", cwd=tmp_path).stdout.splitlines() == [expected]


@pytest.mark.parametrize("call", ["F.dropout2d(x[0], 0.2, training=False)", "F.dropout2d(x, 0.2)",
                                  "F.dropout2d(x[0], 0.2, training=self.training)", "self.drop(x[0])"])
def test_what_torch_runs_is_clean(tmp_path, call):
    source = SOURCE.replace("F.dropout2d(x[0], 0.2)", call)
    assert torch_error(source) is None
    (tmp_path / "m.py").write_text(source)
    assert cli("--no-cache", "-q", "m.py", cwd=tmp_path).stdout == ""
