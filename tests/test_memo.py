"""Memoised construction (evaluate/memo.py): the same findings, checks, steps and counts as evaluating every time,
in less work; and never a result carried over to a module or a global that changed."""

import ast

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

    builds = [(b.name, b.origin, b.input, [step(s) for s in b.steps]) for b in report.builds]
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
            patch.setattr(memo.Memo, "construction_key", lambda *args: None)
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
