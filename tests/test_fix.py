"""`--fix` and `--diff`: the suggested value written into the one argument, nothing else; checked in torch."""

import importlib.util
import subprocess
import sys

import pytest

from conftest import FIXTURES, cli
from torchshape_lint.checks.rules import by_code

VGG_LINE = "            nn.Linear(512 * 7 * 7, 4096),\n"
# By hand: five MaxPool2d(2, 2) take 32 to 1, after 512 channels.
VGG_FIXED = "            nn.Linear(512 * 1 * 1, 4096),\n"


def copy(tmp_path, fixture, name=None):
    target = tmp_path / (name or fixture)
    target.write_bytes((FIXTURES / fixture).read_bytes())
    return target


def test_diff_prints_the_change_and_writes_nothing(tmp_path):
    path = copy(tmp_path, "vgg_no_avgpool.py", "m.py")
    before = path.read_text()
    result = cli("--diff", "--quiet", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    line = before.splitlines(keepends=True).index(VGG_LINE) + 1
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"--- a/m.py\n+++ b/m.py\n@@ -{line - 3},7 +{line - 3},7 @@\n")
    changed = [line for line in result.stdout.splitlines(keepends=True) if line[0] in "+-"]
    assert changed[2:] == [
        "-" + VGG_LINE, "+" + VGG_FIXED]
    assert path.read_text() == before


def test_fix_changes_only_the_argument_and_a_second_run_finds_nothing(tmp_path):
    path = copy(tmp_path, "vgg_no_avgpool.py", "m.py")
    before = path.read_text()
    first = cli("--fix", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    assert (first.returncode, first.stdout) == (0, "")
    assert path.read_text() == before.replace(VGG_LINE, VGG_FIXED) != before
    again = cli("--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")
    assert cli("--fix", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path).returncode == 0
    assert path.read_text() == before.replace(VGG_LINE, VGG_FIXED)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixed_vgg_runs_in_torch_on_the_stated_input(tmp_path):
    torch = pytest.importorskip("torch")
    path = copy(tmp_path, "vgg_no_avgpool.py", "m.py")
    original = load(path, "vgg_unfixed")
    assert cli("--fix", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path).returncode == 0
    fixed = load(path, "vgg_fixed")
    x = torch.zeros(1, 3, 32, 32, device="meta")
    with torch.device("meta"):
        with pytest.raises(RuntimeError):
            original.vgg16()(x)
        assert tuple(fixed.vgg16()(x).shape) == (1, 1000)


def test_fixed_lenet_runs_its_own_main_block(tmp_path):
    """The input comes from the file's own usage; after the fix the file runs as the user would run it."""
    pytest.importorskip("torch")
    path = copy(tmp_path, "lenet_mnist.py")  # as written it fails in torch: tests/test_explain.py
    result = cli("--fix", "lenet_mnist.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert "self.fc1 = nn.Linear(16 * 4 * 4, 120)\n" in path.read_text()  # 28 -> 24 -> 12 -> 8 -> 4, by hand
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert (run.returncode, run.stdout) == (0, "torch.Size([64, 10])\n")


KEYWORD = '''import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1),  # keeps 32x32
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(
        out_features=10,
        in_features=(16*8*8),   # pooled twice?  no: once
    ),
)
model(torch.zeros(2, 3, 32, 32))
'''


def test_keyword_argument_comments_and_layout_are_kept(tmp_path):
    (tmp_path / "k.py").write_text(KEYWORD)
    result = cli("--fix", "k.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert (tmp_path / "k.py").read_text() == KEYWORD.replace("(16*8*8)", "(16 * 16 * 16)")


# The rule's own flagged example: x.view(-1, 400) after a conv, then nn.Linear(400, 10), fed (8, 1, 8, 8).
VIEW = by_code()["TSL005"].bad


def test_view_then_the_linear_it_uncovers(tmp_path):
    """8x8 -conv5-> 4x4 with 16 channels: one sample has 256 values; the view's fix lets the Linear be checked."""
    assert VIEW.count("x.view(-1, 400)") == VIEW.count("nn.Linear(400, 10)") == 1
    (tmp_path / "v.py").write_text(VIEW)
    result = cli("--fix", "v.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert (tmp_path / "v.py").read_text() == VIEW.replace("x.view(-1, 400)", "x.view(-1, 16 * 4 * 4)").replace(
        "nn.Linear(400, 10)", "nn.Linear(16 * 4 * 4, 10)")


TWO_INPUTS = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 5)
        self.fc = nn.Linear(6 * 28 * 28, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


net = Net()
net(torch.zeros(1, 1, 32, 32))
net(torch.zeros(1, 1, 28, 28))
'''

SYMBOLIC = '''import torch.nn as nn

model = nn.Sequential(
    nn.Conv2d(3, 16, 3),
    nn.AdaptiveAvgPool2d((2, 2)),
    nn.Flatten(),
    nn.Linear(16 * 3 * 3, 10),
)
'''

SILENCED = '''import torch
import torch.nn as nn

model = nn.Sequential(nn.Flatten(), nn.Linear(10, 10))  # noqa: TSL001
model(torch.zeros(1, 3, 2, 2))
'''


@pytest.mark.parametrize("source", [TWO_INPUTS, SYMBOLIC, SILENCED],
                         ids=["right-for-another-usage", "symbolic-input", "noqa"])
def test_left_alone(tmp_path, source):
    (tmp_path / "m.py").write_text(source)
    result = cli("--fix", "m.py", cwd=tmp_path)
    assert (tmp_path / "m.py").read_text() == source
    assert result.returncode == (0 if source is SILENCED else 1)


def test_fix_edits_positions_for_sarif():
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.frontends.fix import apply_edits, fix_edits

    text = (FIXTURES / "vgg_no_avgpool.py").read_text()
    edits = fix_edits(text, analyze_source(text, "vgg_no_avgpool.py", None, (1, 3, 32, 32)))
    line = text.splitlines(keepends=True).index(VGG_LINE) + 1
    column = VGG_LINE.index("512")
    assert [(e.start, e.end, e.replacement) for e in edits] == [((line, column), (line, column + 11), "512 * 1 * 1")]
    assert text[edits[0].start_offset:edits[0].end_offset] == "512 * 7 * 7"
    assert edits[0].finding.code == "TSL001"
    assert apply_edits(text, edits) == text.replace(VGG_LINE, VGG_FIXED)


def test_fix_with_diff_only_shows_the_diff(tmp_path):
    """--diff writes nothing, also when --fix is given with it."""
    path = copy(tmp_path, "vgg_no_avgpool.py", "m.py")
    before = path.read_text()
    alone = cli("--diff", "--quiet", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    both = cli("--fix", "--diff", "--quiet", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    assert both.returncode == 0 and both.stdout == alone.stdout and "+" + VGG_FIXED in both.stdout
    assert (both.stderr, path.read_text()) == ("", before)


def test_fix_says_what_it_changed_on_stderr(tmp_path):
    path = copy(tmp_path, "vgg_no_avgpool.py", "m.py")
    line = path.read_text().splitlines(keepends=True).index(VGG_LINE) + 1
    result = cli("--fix", "--quiet", "--input-shape", "1,3,32,32", "m.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    column = VGG_LINE.index("512") + 1
    assert result.stderr == f"fixed m.py:{line}:{column}: TSL001 in_features 512 * 7 * 7 → 512 * 1 * 1\n"


# One wrong declared channel count in each layer TSL002 fixes; by hand: 3 → 16 → 32 channels, 8x8 → 4x4 at the pool.
CHANNELS = '''import torch.nn as nn

# torchshape: input=(2, 3, 8, 8)
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1),
    nn.BatchNorm2d({bn}),
    nn.ReLU(),
    nn.Conv2d({conv}, 32, kernel_size=3, padding=1),
    nn.GroupNorm(4, {gn}),
    nn.MaxPool2d(2),
    nn.InstanceNorm2d({inorm}, affine=True),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 10),
)
'''
RIGHT = {"bn": 16, "conv": 16, "gn": 32, "inorm": 32}


@pytest.mark.parametrize("wrong", sorted(RIGHT))
def test_channel_mismatch_is_fixed_and_the_model_runs(tmp_path, wrong):
    torch = pytest.importorskip("torch")
    written = {**RIGHT, wrong: RIGHT[wrong] * 2}
    path = tmp_path / "m.py"
    path.write_text(CHANNELS.format(**written))
    result = cli("--fix", "m.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert path.read_text() == CHANNELS.format(**RIGHT)
    assert result.stderr.startswith("fixed m.py:") and f" {RIGHT[wrong] * 2} → {RIGHT[wrong]}\n" in result.stderr
    with pytest.raises((RuntimeError, ValueError)):  # InstanceNorm raises a ValueError
        load_model(CHANNELS.format(**written))(torch.zeros(2, 3, 8, 8))
    assert tuple(load_model(path.read_text())(torch.zeros(2, 3, 8, 8)).shape) == (2, 10)
    assert cli("m.py", cwd=tmp_path).returncode == 0


def load_model(source):
    namespace = {}
    exec(source, namespace)
    return namespace["model"].eval()


WIDTHS = '''import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, in_planes, planes):
        super().__init__()
        self.conv = nn.Conv2d(in_planes, planes, 3, padding=1)
        self.bn = nn.BatchNorm2d(in_planes)

    def forward(self, x):
        return self.bn(self.conv(x))


model = nn.Sequential(Block(3, 16), Block(16, 32), Block(32, 64))
model(torch.zeros(1, 3, 8, 8))
'''


def test_a_size_held_by_a_name_in_every_build_is_said_and_fixed_with_the_name(tmp_path):
    """Three widths reach the BatchNorm: 16, 32, 64 channels (by hand: each block's conv gives `planes`)."""
    path = tmp_path / "m.py"
    path.write_text(WIDTHS)
    found = cli("m.py", cwd=tmp_path)
    line, column = 9, WIDTHS.splitlines()[8].index("nn.BatchNorm2d") + 1
    assert [text.split(": ", 1)[0] for text in found.stdout.splitlines()] == [f"m.py:{line}:{column}"] * 3
    assert [text.rsplit("; ", 1)[1] for text in found.stdout.splitlines()] == [
        "use planes (16 here)", "use planes (32 here)", "use planes (64 here)"]
    result = cli("--fix", "--quiet", "m.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert path.read_text() == WIDTHS.replace("nn.BatchNorm2d(in_planes)", "nn.BatchNorm2d(planes)")
    argument = column + len("nn.BatchNorm2d(")
    assert result.stderr == f"fixed m.py:{line}:{argument}: TSL002 num_features in_planes → planes\n"
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(path.read_text(), namespace)
    assert tuple(namespace["model"].eval()(torch.zeros(1, 3, 8, 8)).shape) == (1, 64, 8, 8)


COINCIDENCE = '''import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.conv = nn.Conv1d(1, 2, 3)
        self.bn = nn.BatchNorm1d(4)
        self.fc = nn.Linear(2, n_classes)

    def forward(self, x):
        return self.bn(self.conv(x))


model = Head()
model(torch.zeros(1, 1, 16))
'''


def test_a_name_that_holds_the_size_in_one_build_only_is_not_suggested(tmp_path):
    """`n_classes` is 2 where 2 channels arrive: one value is no evidence that the name means that size, so the
    finding and --fix use the number (by hand: Conv1d(1, 2, 3) gives 2 channels)."""
    path = tmp_path / "m.py"
    path.write_text(COINCIDENCE)
    found = cli("m.py", cwd=tmp_path)
    assert found.stdout.splitlines()[0].endswith("; use 2"), found.stdout
    result = cli("--fix", "--quiet", "m.py", cwd=tmp_path)
    assert path.read_text() == COINCIDENCE.replace("nn.BatchNorm1d(4)", "nn.BatchNorm1d(2)")
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(path.read_text(), namespace)
    assert tuple(namespace["model"].eval()(torch.zeros(1, 1, 16)).shape) == (1, 2, 14)


def test_a_number_right_for_one_build_only_is_said_so_and_not_written(tmp_path):
    """make(8), make(16), make(32): 16, 32 and 64 channels reach the BatchNorm, and no name holds them."""
    source = '''import torch
import torch.nn as nn


def make(width):
    return nn.Sequential(nn.Conv2d(3, width * 2, 3), nn.BatchNorm2d(16))


make(8)(torch.zeros(1, 3, 8, 8))
make(16)(torch.zeros(1, 3, 8, 8))
make(32)(torch.zeros(1, 3, 8, 8))
'''
    (tmp_path / "m.py").write_text(source)
    result = cli("--fix", "--quiet", "m.py", cwd=tmp_path)
    assert (tmp_path / "m.py").read_text() == source
    assert result.returncode == 1 and result.stderr == ""
    assert [text.rsplit("; ", 1)[1] for text in result.stdout.splitlines()] == [
        "use 32 here (other uses of this line get 16, 64)", "use 64 here (other uses of this line get 16, 32)"]


# A call over two lines with non-ASCII text before the argument on each: `ast` counts those columns in UTF-8 bytes,
# an edit's position and offsets are in characters. By hand: 16 channels of 4x4 after the pool reach the Linear.
NON_ASCII = '''import torch.nn as nn

# torchshape: input=(1, 3, 8, 8)
model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(
    out_features=len("äö"), in_features=16 * 8 * 8))
'''


def test_positions_after_non_ascii_text_are_in_characters(tmp_path):
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.frontends.fix import fix_edits

    edits = fix_edits(NON_ASCII, analyze_source(NON_ASCII, "u.py", None, None))
    column = NON_ASCII.splitlines()[4].index("16 * 8 * 8")
    assert [(e.start, e.end, e.before, e.replacement) for e in edits] == [
        ((5, column), (5, column + 10), "16 * 8 * 8", "16 * 4 * 4")]
    (tmp_path / "u.py").write_text(NON_ASCII, encoding="utf-8")
    result = cli("--fix", "u.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert (tmp_path / "u.py").read_text(encoding="utf-8") == NON_ASCII.replace("16 * 8 * 8", "16 * 4 * 4")
