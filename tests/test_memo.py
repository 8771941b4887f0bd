"""Memoised construction (evaluate/memo.py): the same findings, checks, steps and counts as evaluating every time,
in less work; and never a result carried over to a module or a global that changed."""

import ast
import runpy
import sys

import pytest
from conftest import FIXTURES, cli, locate

from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate import memo
from torchshape_lint.evaluate.interpreter import Interpreter

RESNET = FIXTURES / "users" / "u08_residual.py"


def everything(report):
    checks = [(c.model, c.label, c.line, str(c.declared), c.arriving, c.agrees) for c in report.checks]

    def step(s):  # a layer by what it is: every analysis builds layers of its own
        layer = s.layer and (s.layer.spec.name, repr(s.layer.args), s.layer.where[1].lineno,
                             s.layer.where[1].col_offset)
        return dict(vars(s), layer=layer)

    builds = [(b.name, b.origin, b.input, b.stop, b.stop_line, b.loop_stop, [step(s) for s in b.steps])
              for b in report.builds]
    return ([f.as_dict() for f in report.findings], checks, builds, report.layers_checked, report.layers_unknown,
            report.skipped)


def analysed(path, monkeypatch, memoised, input_shape=None):
    evaluated = []
    real_eval = Interpreter.eval

    def counted(self, node, frame):
        evaluated.append(1)
        return real_eval(self, node, frame)

    with monkeypatch.context() as patch:
        patch.setattr(Interpreter, "eval", counted)
        if not memoised:
            patch.setattr(memo.Memo, "key", lambda *args: None)
        text = path.read_text()
        report = analyze_source(text, str(path), ast.parse(text), input_shape)
    return everything(report), len(evaluated)


def test_memoised_analysis_is_the_same_in_less_work(monkeypatch):
    import torchvision

    resnet = type(RESNET)(torchvision.__file__).parent / "models" / "resnet.py"
    for path, shape in ((resnet, None), (resnet, (1, 3, 224, 224)), (RESNET, None)):
        plain, plain_work = analysed(path, monkeypatch, memoised=False, input_shape=shape)
        fast, fast_work = analysed(path, monkeypatch, memoised=True, input_shape=shape)
        assert fast == plain, path
        assert fast_work < plain_work, (path, fast_work, plain_work)


@pytest.mark.parametrize("input_shape", [None, (1, 3, 224, 224)])
def test_every_fixture_is_analysed_alike_with_and_without_the_memo(monkeypatch, input_shape):
    """Findings, checks, every build's steps, counts and skipped builds, as shown (symbolic sizes made afresh are
    numbered apart, and show alike)."""
    for path in sorted(FIXTURES.rglob("*.py")):
        memoised = repr(analysed(path, monkeypatch, memoised=True, input_shape=input_shape)[0])
        assert memoised == repr(analysed(path, monkeypatch, memoised=False, input_shape=input_shape)[0]), path


CHANGED_AFTER_CONSTRUCTION = '''import torch.nn as nn

WIDTH = 16


class Block(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.fc = nn.Linear(width, WIDTH)

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 16)
def stack():
    return nn.Sequential(Block(), Block(), Block())


# torchshape: input=(1, 16)
def stack_with_a_wider_head():
    head = Block()
    head.fc = nn.Linear(32, 16)
    return nn.Sequential(Block(), Block(), head)


# torchshape: input=(1, 16)
def stack_after_widening():
    global WIDTH
    WIDTH = 32
    return nn.Sequential(Block(), Block())
'''


def test_a_changed_module_or_global_is_evaluated_again(tmp_path, monkeypatch):
    path = tmp_path / "blocks.py"
    path.write_text(CHANGED_AFTER_CONSTRUCTION)
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]
    result = cli(path.name, cwd=tmp_path)
    head = locate(path, "nn.Linear(32, 16)")
    block = locate(path, "nn.Linear(width, WIDTH)")
    # the replaced head declares 32 where Linear(16, 16) gives 16; after WIDTH = 32 the first Block gives 32
    # features to the second, which declares 16
    found = result.stdout.splitlines()
    assert [line.split(": ")[0] + ": " + line.split(": ")[1].split(":")[0] for line in found] == [
        f"blocks.py:{block[0]}:{block[1]}: TSL001 Linear(in_features=16) but 32 features arrive",
        f"blocks.py:{head[0]}:{head[1]}: TSL001 Linear(in_features=32) but 16 features arrive",
    ], result.stdout + result.stderr


HOLDS_ITSELF = '''import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.block = self

    def forward(self, x):
        return self.conv(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.one = Block(8)
        self.two = Block(8)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.two(self.one(x))
        return self.fc(torch.flatten(x, 1))


if __name__ == "__main__":
    Net()(torch.zeros(1, 8, 8, 8))
'''


def test_a_module_that_holds_itself_is_kept_and_copied(tmp_path, monkeypatch):
    """The second Block(8) is the memo's copy of the first, which holds itself (a cycle the copy reproduces): the
    file is analysed, and torch's own error is found, as when every Block is evaluated."""
    path = tmp_path / "holds_itself.py"
    result = raises_in_torch_and_memoised_alike(path, HOLDS_ITSELF, monkeypatch, "(1x512 and 128x10)", "self.fc(")
    at = locate(path, "nn.Linear(8 * 4 * 4, 10)")
    assert result.stdout.splitlines() == [
        f"holds_itself.py:{at[0]}:{at[1]}: TSL001 Linear(in_features=128) but 512 features arrive: input (1, 8, 8, 8); "
        "flattened 8*8*8 = 512; use 8 * 8 * 8"], result.stdout + result.stderr


def raises_in_torch_and_memoised_alike(path, source, monkeypatch, message, raised_at, less_work=False):
    """Torch raises `message` at the line holding `raised_at` when the file runs as a script; the memoised analysis
    is the plain one (in less work, where `less_work`); the command line's run on the file."""
    from conftest import torch_error

    path.write_text(source)
    found, line = torch_error(path)
    assert message in found and line == locate(path, raised_at)[0], (found, line)
    fast, fast_work = analysed(path, monkeypatch, memoised=True)
    plain, plain_work = analysed(path, monkeypatch, memoised=False)
    assert fast == plain, path
    assert fast_work < plain_work or not less_work, (fast_work, plain_work)
    return cli("--no-cache", "-q", path.name, cwd=path.parent)


ROUNDED_TWICE = '''import torch
import torch.nn as nn


def make_divisible(value, divisor=8):
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class Net(nn.Module):
    def __init__(self, width_mult=1.3):
        super().__init__()
        self.conv = nn.Conv2d(3, make_divisible(32 * width_mult), 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(make_divisible(32 * width_mult) * 2, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.conv(x)), 1))


if __name__ == "__main__":
    Net()(torch.zeros(1, 3, 16, 16))
'''


def functions_evaluated(monkeypatch):
    """The names of the project's functions evaluated from now on, one per call evaluated (not replayed)."""
    from torchshape_lint.evaluate.calls import Calls

    evaluated = []
    real_call_function = Calls.call_function

    def counted(self, func, args, kwargs):
        evaluated.append(func.name)
        return real_call_function(self, func, args, kwargs)

    monkeypatch.setattr(Calls, "call_function", counted)
    return evaluated


def test_a_function_called_again_with_the_same_arguments_is_replayed(tmp_path, monkeypatch):
    """The second make_divisible(41.6) is the memo's: less work, the same analysis, and torch's own error found
    (40 channels, the Linear declares 80)."""
    path = tmp_path / "rounded.py"
    result = raises_in_torch_and_memoised_alike(path, ROUNDED_TWICE, monkeypatch, "(1x40 and 80x10)", "self.fc(")
    evaluated = functions_evaluated(monkeypatch)
    analysed(path, monkeypatch, memoised=True)
    assert evaluated.count("make_divisible") == 1, evaluated  # Net's later builds are copies of the first
    at = locate(path, "nn.Linear(make_divisible")
    (only,) = result.stdout.splitlines()
    assert only.startswith(f"rounded.py:{at[0]}:{at[1]}: TSL001 Linear(in_features=80) but 40 features arrive"), \
        result.stdout + result.stderr


# a Head of the width of a global
HEAD_OF_WIDTH = '''class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(WIDTH, 10)

    def forward(self, x):
        return self.fc(x)
'''

ABORTED_REBINDING = '''import torch
import torch.nn as nn

WIDTH = 8


''' + HEAD_OF_WIDTH + '''

def make_head():
    return Head()


make_head()
for WIDTH in [16] * 60_000 + [16] * 60_000:
    pass
# torchshape: input=(1, 16)
head = Head()

if __name__ == "__main__":
    head(torch.zeros(1, 16))
'''


def test_a_global_an_aborted_statement_leaves_unknown_is_not_replayed(tmp_path):
    """The loop's list is longer than the evaluator holds, so the statement stops and WIDTH becomes unknown: the
    Head built before it by make_head(), when WIDTH was 8, is no longer the one `head = Head()` builds (16 there,
    which fits the (1, 16) input, as torch runs it). Replaying it would report Linear(in_features=8)."""
    runs_and_lints_clean(tmp_path / "rebound.py", ABORTED_REBINDING)


def runs_and_lints_clean(path, source):
    """Torch runs the file as a script (no shape mistake to report; its folder first on the path, as `python
    file.py` has it), and the command line reports nothing."""
    pytest.importorskip("torch")
    path.write_text(source)
    before = set(sys.modules)
    sys.path.insert(0, str(path.parent))
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.path.remove(str(path.parent))
        for name in set(sys.modules) - before:  # the folder's modules (`blocks`), which another test's may share
            if str(path.parent) in str(getattr(sys.modules[name], "__file__", "")):
                del sys.modules[name]
    result = cli("--no-cache", "-q", path.name, cwd=path.parent)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


LIST_ARGUMENTS = '''import torch
import torch.nn as nn


class Stack(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.widths = widths
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths, widths[1:])])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x.view(-1, self.widths[-1])


# torchshape: input=(1, 16)
def build():
    Stack([16, 32])
    widths = [16, 32]
    stack = Stack(widths)
    widths.append(64)
    return stack


if __name__ == "__main__":
    build()(torch.zeros(1, 16))
'''


def test_a_list_argument_is_keyed_by_content_and_the_copy_holds_the_callers_list(tmp_path, monkeypatch):
    """The second Stack is the memo's copy of the first (an equal list, another object): it holds the caller's list,
    as Python's would, so the width appended after it is built reaches its forward, where torch raises."""
    path = tmp_path / "stack.py"
    result = raises_in_torch_and_memoised_alike(path, LIST_ARGUMENTS, monkeypatch,
                                                "shape '[-1, 64]' is invalid for input of size 32", "x.view(", True)
    at = locate(path, "x.view(")
    assert result.stdout.splitlines() == [
        f"stack.py:{at[0]}:{at[1]}: TSL005 view(-1, 64) on (1, 32): one sample has 32 values, not 64; -1 "
        "re-batches or fails [in 2 builds]"], result.stdout + result.stderr


CHANGES_ITS_LIST = '''import torch
import torch.nn as nn


class Grow(nn.Module):
    def __init__(self, widths):
        super().__init__()
        widths.append(32)
        self.fc = nn.Linear(widths[0], widths[-1])

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 16)
def build():
    Grow([16])
    widths = [16]
    grow = Grow(widths)
    return nn.Sequential(grow, nn.Linear(widths[-1], 10))


if __name__ == "__main__":
    build()(torch.zeros(1, 16))
'''


def test_a_construction_that_changes_its_argument_list_is_not_replayed(tmp_path, monkeypatch):
    """Grow appends to the list it is given: a copy of the first Grow would leave the caller's list as it was, and
    the Linear after it would read 16 where Python's list holds 32 (torch runs the model)."""
    path = tmp_path / "grow.py"
    runs_and_lints_clean(path, CHANGES_ITS_LIST)
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]


BUFFER_FROM_OPS = '''import torch
import torch.nn as nn


class PositionBias(nn.Module):
    def __init__(self, size):
        super().__init__()
        coords = torch.arange(size)
        self.register_buffer("table", torch.stack([coords, coords]).flatten())

    def forward(self, x):
        return x + self.table


# torchshape: input=(1, 16)
def build():
    return nn.Sequential(PositionBias(8), nn.Linear(16, 12), PositionBias(8))


if __name__ == "__main__":
    build()(torch.zeros(1, 16))
'''


def test_a_construction_that_applies_ops_is_kept(tmp_path, monkeypatch):
    """PositionBias makes its buffer with tensor ops in __init__ (as Swin's attention makes its position index): the
    ops' records name no layer of the instance, so the second PositionBias(8) is the memo's copy, and the buffer it
    holds meets the Linear's 12 features where torch raises."""
    path = tmp_path / "bias.py"
    expected = "The size of tensor a (12) must match the size of tensor b (16) at non-singleton dimension 1"
    result = raises_in_torch_and_memoised_alike(path, BUFFER_FROM_OPS, monkeypatch, expected, "x + self.table", True)
    at, linear, flatten = locate(path, "x + self.table"), locate(path, "nn.Linear("), locate(path, ".flatten()")
    assert result.stdout.splitlines() == [
        f"bias.py:{at[0]}:{at[1]}: TSL009 a + b: {expected}; a (1, 12) from Linear (line {linear[0]}), b (16) from "
        f"flatten (line {flatten[0]}) [in 2 builds]"], result.stdout + result.stderr


# Head's Linear is built with a float: torch raises TypeError in its constructor
HEAD_WITH_A_FLOAT = '''import torch.nn as nn


class Head(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width / 2, 10)

    def forward(self, x):
        return self.fc(x)
'''


def head_with_floor_division(width):
    """Head(width) as the TSL006 finding's fix writes it (`//` for `/`), built by torch."""
    namespace: dict = {}
    fixed = HEAD_WITH_A_FLOAT.replace("nn.Linear(width / 2, 10)", "nn.Linear(width // 2, 10)")
    assert fixed != HEAD_WITH_A_FLOAT
    exec(compile(fixed, "fixed.py", "exec"), namespace)
    return namespace["Head"](width)


TWO_BUILDS_OF_IT = '''import torch.nn as nn

from blocks import Head


# torchshape: input=(1, 16)
def first():
    return nn.Sequential(
        nn.Linear(16, 16),
        Head(16),
    )


# torchshape: input=(1, 16)
def second():
    return nn.Sequential(
        nn.Linear(16, 16),
        nn.ReLU(),
        Head(16),
    )
'''


def test_a_replayed_construction_reports_its_mistake_at_this_call(tmp_path, monkeypatch):
    """Head's Linear is built with a float (torch raises TypeError in Head's constructor). Each build of model.py
    reaches it through its own `Head(16)`, where a layer of another file is reported: the second build's Head is the
    memo's copy of the first, and its mistake is reported at the second call too."""
    pytest.importorskip("torch")
    (tmp_path / "blocks.py").write_text(HEAD_WITH_A_FLOAT)
    path = tmp_path / "model.py"
    path.write_text(TWO_BUILDS_OF_IT)
    with pytest.raises(TypeError):
        runpy.run_path(str(tmp_path / "blocks.py"))["Head"](16)
    assert head_with_floor_division(16).fc.in_features == 8  # the fix the finding names builds
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]
    result = cli("--no-cache", "-q", "model.py", cwd=tmp_path)
    message = ("TSL006 Linear: in_features=8.0 is a float: building the layer raises TypeError, PyTorch needs an int "
               "here (write // rather than /, or int(...)) [layer at blocks.py:7]")
    calls = [locate(path, "Head(16)", n) for n in (0, 1)]
    assert result.stdout.splitlines() == [f"model.py:{line}:{column}: {message}" for line, column in calls], \
        result.stdout + result.stderr


# what torch runs each of these files on
RUN_ON_32 = '''

if __name__ == "__main__":
    build()(torch.zeros(1, 32))
'''

# Each builds a Head, changes in place what Head's constructor reads from outside itself, and builds another: torch
# runs it, as the second Head reads the new width.
CHANGED_IN_PLACE = {
    "a global instance's attribute": '''import torch
import torch.nn as nn


class Config:
    def __init__(self):
        self.width = 16


cfg = Config()


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(cfg.width, 10)

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 32)
def build():
    Head()
    cfg.width = 32
    return Head()
''' + RUN_ON_32,
    "a list of the enclosing builder": '''import torch
import torch.nn as nn


# torchshape: input=(1, 32)
def build():
    widths = [16]

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(widths[-1], 10)

        def forward(self, x):
            return self.fc(x)

    Head()
    widths.append(32)
    return Head()
''' + RUN_ON_32,
    "a global list a default names": '''import torch
import torch.nn as nn

WIDTHS = [16]


class Head(nn.Module):
    def __init__(self, widths=WIDTHS):
        super().__init__()
        self.fc = nn.Linear(widths[-1], 10)

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 32)
def build():
    Head()
    WIDTHS.append(32)
    return Head()
''' + RUN_ON_32,
    "a global list a function of the file reads": '''import torch
import torch.nn as nn

WIDTHS = [16]


def width():
    return WIDTHS[-1]


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(width(), 10)

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 32)
def build():
    Head()
    WIDTHS.append(32)
    return Head()
''' + RUN_ON_32,
    "an item of a class attribute": '''import torch
import torch.nn as nn


class Head(nn.Module):
    sizes = {"width": 16}

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(self.sizes["width"], 10)

    def forward(self, x):
        return self.fc(x)


# torchshape: input=(1, 32)
def build():
    Head()
    Head.sizes["width"] = 32
    return Head()
''' + RUN_ON_32,
}


@pytest.mark.parametrize("changed", sorted(CHANGED_IN_PLACE))
def test_a_construction_that_read_what_code_changes_in_place_is_not_replayed(tmp_path, monkeypatch, changed):
    """No assignment to a global name happens between the two Heads, so the globals' version alone would let the
    first be replayed, with the old width: a false TSL001."""
    path = tmp_path / "head.py"
    runs_and_lints_clean(path, CHANGED_IN_PLACE[changed])
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]


BUILD_FAILS_IN_IT = HEAD_WITH_A_FLOAT + '''

def first():
    return nn.Sequential(Head(16))


def second():
    head = Head(16)
    return nn.Sequential(head, nn.Linear(10 / 2, 3))
'''


def test_a_replayed_construction_that_fails_the_build_fails_it_again(tmp_path, monkeypatch):
    """Head(16) cannot be built (torch raises TypeError at its Linear): in second(), PyTorch never reaches the
    Linear(10 / 2, 3) after it, which the analysis then does not report, also where that Head is the memo's copy."""
    pytest.importorskip("torch")
    path = tmp_path / "heads.py"
    path.write_text(BUILD_FAILS_IN_IT)
    with pytest.raises(TypeError):
        runpy.run_path(str(path))["second"]()
    assert head_with_floor_division(16).fc.in_features == 8  # the fix the finding names builds
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    at = locate(path, "nn.Linear(width / 2, 10)")
    assert result.stdout.splitlines() == [
        f"heads.py:{at[0]}:{at[1]}: TSL006 Linear: in_features=8.0 is a float: building the layer raises TypeError, "
        "PyTorch needs an int here (write // rather than /, or int(...)) [in 2 builds]"], result.stdout + result.stderr


FAILED_BEFORE_IT = HEAD_WITH_A_FLOAT + '''

def first():
    stem = nn.Linear(10 / 2, 3)
    return nn.Sequential(stem, Head(16))


def second():
    return nn.Sequential(Head(16))
'''


def test_a_construction_made_after_the_build_failed_is_not_replayed_where_it_has_not(tmp_path, monkeypatch):
    """In first(), PyTorch stops at the stem, so Head(16)'s float is not reported there; second() builds Head(16)
    first, where torch raises in it: its mistake is reported, as when every Head is evaluated."""
    pytest.importorskip("torch")
    path = tmp_path / "heads.py"
    path.write_text(FAILED_BEFORE_IT)
    for builder in ("first", "second"):
        with pytest.raises(TypeError):
            runpy.run_path(str(path))[builder]()
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]
    result = cli("--no-cache", "-q", path.name, cwd=tmp_path)
    found = [line.split(" TSL006 Linear: ")[0] for line in result.stdout.splitlines()]
    head, stem = locate(path, "nn.Linear(width / 2, 10)"), locate(path, "nn.Linear(10 / 2, 3)")
    assert found == [f"heads.py:{head[0]}:{head[1]}:", f"heads.py:{stem[0]}:{stem[1]}:"], result.stdout + result.stderr


BUILDER_LOCAL_REBOUND = '''import torch
import torch.nn as nn


# torchshape: input=(1, 32)
def build():
    width = 16

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(width, 10)

        def forward(self, x):
            return self.fc(x)

    Head()
    width = 32
    return Head()
''' + RUN_ON_32

MODULE_GLOBAL_REBOUND = {"blocks.py": '''import torch.nn as nn

WIDTH = 16


def widen():
    global WIDTH
    WIDTH = 32


''' + HEAD_OF_WIDTH, "model.py": '''import torch

from blocks import Head, widen


# torchshape: input=(1, 32)
def build():
    Head()
    widen()
    return Head()
''' + RUN_ON_32}


@pytest.mark.parametrize("files", [{"model.py": BUILDER_LOCAL_REBOUND}, MODULE_GLOBAL_REBOUND],
                         ids=["a local of the enclosing builder", "a global of another module"])
def test_a_construction_that_read_a_name_bound_again_since_is_not_replayed(tmp_path, monkeypatch, files):
    """Between the two Heads, `width = 32` binds the builder's local again, or widen() the other module's global:
    neither is a global of the checked file, whose version the key holds; the second Head reads 32 (torch runs it)."""
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    path = tmp_path / "model.py"
    runs_and_lints_clean(path, files["model.py"])
    assert analysed(path, monkeypatch, memoised=True)[0] == analysed(path, monkeypatch, memoised=False)[0]


LARGE_VALUES = '''import torch.nn as nn


def stack(depth):
    return nn.Sequential(*[nn.Linear(4, 4) for _ in range(depth)])


def total(widths):
    return sum(widths)


def build():
    first, second = stack({depth}), stack({depth})
    width = total([1] * {items}) + total([1] * {items})
    return nn.Sequential(first, second, nn.Linear(4, width))
'''


@pytest.mark.parametrize("depth, items, evaluations", [
    (10, 10, {"stack": 1, "total": 1}),  # small: the second call of each is the first's copy
    (memo.MAX_KEPT_PARTS, 10, {"stack": 2, "total": 1}),  # a value of more parts is not kept
    (10, memo.MAX_KEYED_ITEMS + 1, {"stack": 1, "total": 2}),  # a longer list argument keys no call
])
def test_a_large_value_or_a_long_list_argument_is_not_kept(tmp_path, monkeypatch, depth, items, evaluations):
    """A call is not kept whose value holds MAX_KEPT_PARTS parts or more (a Sequential and its layers), nor one
    with a list argument of more than MAX_KEYED_ITEMS items: both are evaluated again, with the same analysis."""
    path = tmp_path / "large.py"
    path.write_text(LARGE_VALUES.format(depth=depth, items=items))
    evaluated = functions_evaluated(monkeypatch)
    fast, _ = analysed(path, monkeypatch, memoised=True)
    assert {name: evaluated.count(name) for name in evaluations} == evaluations, evaluated
    assert fast == analysed(path, monkeypatch, memoised=False)[0]
