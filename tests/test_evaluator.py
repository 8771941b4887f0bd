"""The evaluator: idioms it must follow, things it must not guess, inputs that must not hang it."""

import time

import pytest

from torchshape_lint.checks.analyze import analyze_source


def codes(source, **kwargs):
    return [f.code for f in analyze_source(source, "m.py", **kwargs).findings]


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def test_unknown_branch_stays_silent():
    source = HEAD + """
import sys
use_big = len(sys.argv) > 1

# torchshape: input=(1, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        features = 8 * 32 * 32
        if use_big:
            features = 8 * 16 * 16
            self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(features, 10)

    def forward(self, x):
        x = self.conv(x)
        if use_big:
            x = self.pool(x)
        return self.fc(torch.flatten(x, 1))
"""
    assert codes(source) == []


def test_list_given_to_unknown_code_is_not_trusted():
    source = HEAD + """
from mylib import add_blocks

def build():
    layers = [nn.Conv2d(3, 8, 3, padding=1)]
    add_blocks(layers)
    layers += [nn.Flatten(), nn.Linear(8 * 32 * 32, 10)]
    return nn.Sequential(*layers)

model = build()
model(torch.zeros(1, 3, 32, 32))
"""
    assert codes(source) == []


def test_dataclass_config_is_not_read_from_class_defaults():
    source = HEAD + """
from dataclasses import dataclass

@dataclass
class Config:
    hidden: int = 128

def build(cfg):
    return nn.Sequential(nn.Linear(64, cfg.hidden), nn.Linear(256, 10))

model = build(Config(hidden=256))
"""
    assert codes(source) == []


def test_channel_mismatch_and_view_rebatch():
    source = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(64, 64, 3)
        self.fc = nn.Linear(400, 10)

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        x = x.view(-1, 400)
        return self.fc(x)

Net()(torch.randn(8, 1, 8, 8))
"""
    # conv1 gives 32 channels, conv2 declares 64; then 64 * 4 * 4 = 1024 values per sample, not 400
    assert codes(source) == ["TSL002", "TSL005"]


def test_a_zero_beside_the_wildcard_of_a_view_is_reported_not_divided_by():
    # torch: "shape '[-1, 0]' is invalid for input of size 9" (the differential run found it as a ZeroDivisionError)
    source = HEAD + "model = nn.Sequential(nn.MaxPool1d(1, stride=3))\nx = model(torch.zeros(3, 1, 8)).view(-1, 0)\n"
    assert codes(source) == ["TSL005"]


def test_pathological_inputs_end_quickly():
    cases = [
        HEAD + "cfg = [64] * 100000\nlayers = []\nfor v in cfg:\n    layers.append(nn.Conv2d(v, v, 3))\nm = nn.Sequential(*layers)\n",
        HEAD + "def f(n=1):\n    while True:\n        n += 1\n    return n\nx = f()\n",
        HEAD + "def f(n=0):\n    return g(n)\ndef g(n=0):\n    return f(n)\nx = f()\n",
        HEAD + "x = 2 ** 10 ** 10\ny = 'a' * 10 ** 12\n",
        HEAD + "x = " + "(" * 80 + "1" + ")" * 80 + "\n",
        HEAD + "def f():\n    yield nn.Linear(3, 4)\nm = nn.Sequential(*f())\n",
    ]
    for source in cases:
        start = time.monotonic()
        result = codes(source)
        assert result == [], (source[:80], result)
        assert time.monotonic() - start < 20


def test_not_python_and_bad_bytes_give_no_traceback():
    assert codes("import torch\nthis is not python(\n") == []
    assert codes("import torch\nx = '\udcff'\n") == []


CLEAN_USER_MODELS = ["clean_seq_view.py", "clean_tencrop.py", "clean_pragma_flatten.py", "clean_option_vs_usage.py"]


def test_correct_user_idioms_are_not_flagged():
    """Each of these runs in torch on its input (tests/test_fixtures_in_torch.py); none may be flagged,
    with or without a run-wide default input."""
    from conftest import FIXTURES

    for name in CLEAN_USER_MODELS:
        text = (FIXTURES / name).read_text()
        assert codes(text) == [], name
        assert codes(text, input_shape=(1, 3, 224, 224)) == [], name


def test_leading_minus_one_that_splits_a_sample_evenly_is_not_flagged():
    source = HEAD + "m = nn.Linear(10, 800)\ny = m(torch.zeros(4, 10)).view(-1, 400)\n"
    assert codes(source) == []


def test_pragma_reaches_a_first_linear():
    source = HEAD + """
# torchshape: input=(64, 784)
good = nn.Sequential(nn.Linear(28 * 28, 256), nn.ReLU(), nn.Linear(256, 10))

# torchshape: input=(64, 3072)
bad = nn.Sequential(nn.Linear(28 * 28, 256), nn.ReLU(), nn.Linear(256, 10))
"""
    found = analyze_source(source, "m.py").findings
    assert [(f.code, f.line) for f in found] == [("TSL001", 9)]
    assert "but 3072 features arrive: input (64, 3072)" in found[0].message


def test_functional_pad_shares_the_padding_layers_rules():
    source = HEAD + """
# torchshape: input=(1, 3, 4, 4)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 6 * 8, 10)

    def forward(self, x):
        x = F.pad(x, (2, 2, 1, 1))
        x = F.pad(x, (0, 0, -3, -4))
        return self.fc(x.flatten(1))
"""
    # the first pad makes 4x4 into 6x8; the second crops 7 rows from 6: PyTorch refuses
    found = analyze_source(source, "m.py").findings
    assert [(f.code, f.line) for f in found] == [("TSL003", 13)]


def test_functional_pad_shapes_agree_with_torch():
    torch = pytest.importorskip("torch")
    source = HEAD + "x = F.pad(torch.zeros(1, 3, 4, 4), (2, 2, 1, 1))\n"
    build = analyze_source(source, "m.py").builds[0]
    assert [s.after for s in build.steps if s.label == "pad"] == [
        tuple(torch.nn.functional.pad(torch.zeros(1, 3, 4, 4), (2, 2, 1, 1)).shape)]
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(1, 3, 6, 8), (0, 0, -3, -4))


def test_standard_abstract_classes_decide_plain_values_only():
    """`isinstance(v, collections.abc.Sequence)` or `numbers.Integral` has Python's answer for a number, a string, a
    tuple, a list or a dict; for an instance of the user's own class (which may define `__iter__`) it stays unknown."""
    model = HEAD + """
import collections.abc
import numbers


class Widths:
    def __iter__(self):
        return iter([8, 8])


def first_width(widths):
    if isinstance(widths, collections.abc.Sequence):
        return widths[0]
    if isinstance(widths, numbers.Integral):
        return widths
    return 16


# torchshape: input=(1, 3, 32, 32)
class Net(nn.Module):
    def __init__(self, widths={widths}):
        super().__init__()
        width = first_width(widths)
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(16 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))
"""
    assert codes(model.replace("{widths}", "(8, 8)")) == ["TSL001"]  # a tuple is a Sequence: width 8, 8 * 32 * 32 arrive
    assert codes(model.replace("{widths}", "8")) == ["TSL001"]  # an int is Integral
    assert codes(model.replace("{widths}", "{'a': 8}")) == []  # a dict is no Sequence, nor Integral: 16, as declared
    assert codes(model.replace("{widths}", "Widths()")) == []  # not known: silent


def test_itertools_repeat_of_a_known_count():
    model = HEAD + """
from itertools import repeat

# torchshape: input=(1, 3, 32, 32)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(*[nn.Conv2d(3, 3, 3, stride=s, padding=1) for s in {strides}])
        self.fc = nn.Linear(3 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.blocks(x), 1))
"""
    assert codes(model.replace("{strides}", "repeat(2, 2)")) == []  # 32 -> 16 -> 8, as declared
    assert codes(model.replace("{strides}", "repeat(2, times=3)")) == ["TSL001"]  # 32 -> 4: 3 * 4 * 4 arrive
    assert codes(model.replace("{strides}", "repeat(2)")) == []  # endless: not known
