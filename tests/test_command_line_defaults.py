"""Sizes from a script's command line, configs and namespaces: argparse as Python's own parses it (each case run
through the real argparse too), attribute dicts, and findings that say which command-line defaults they assumed."""

import argparse
import contextlib
import io
import sys

import pytest

from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.values import CommandLineDefault, ListV, Sourced
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN


def module_globals(text):
    interp = Interpreter(SourceFile(text, "m.py"))
    interp.run_module()
    return interp.globals.vars


def plain(value):
    if isinstance(value, ListV):
        return [plain(v) for v in value]
    return int(value) if isinstance(value, Sourced) else value


PARSERS = {
    "gan": """
parser.add_argument("--n_epochs", type=int, default=200)
parser.add_argument("--img_size", type=int, default=28)
parser.add_argument("--lr", type=float, default=0.0002)
parser.add_argument("--b1", type=float, default="0.5")
parser.add_argument("--name", default="run")
""",
    "flags": """
parser.add_argument("-n", "--n-epochs", type=int, default=5)
parser.add_argument("--no_cuda", action="store_true")
parser.add_argument("--keep", action="store_false")
parser.add_argument("--width", dest="hidden", type=int, default=64)
parser.add_argument("-v", action="count")
""",
    "groups": """
group = parser.add_argument_group("model")
group.add_argument("--channels", type=int, nargs="+", default=[64, 128])
group.add_argument("--arch", choices=["resnet", "vgg"], default="vgg")
exclusive = parser.add_mutually_exclusive_group()
exclusive.add_argument("--adam", action="store_true")
parser.set_defaults(depth=18)
""",
    "positional": """
parser.add_argument("data")
parser.add_argument("--size", type=int, default=32)
""",
}
ARGVS = [None, ["--img_size", "64"], ["--img_size=64", "--lr", "0.1"], ["--img", "32"], ["--unknown", "1"],
         ["-n", "3", "--no_cuda", "-v", "-v"], ["--n-epochs", "7", "--width", "8", "--keep"],
         ["--channels", "8", "16", "32", "--arch", "resnet"], ["--arch", "alexnet"], ["--channels"],
         ["train/", "--size", "8"], ["--size", "8"], ["--img_size", "big"]]


def real_argparse(declarations, argv):
    """What Python's argparse makes of it: the namespace's dict, or None where it exits (a usage error)."""
    scope = {"argparse": argparse, "parser": argparse.ArgumentParser()}
    exec(declarations, scope)
    saved = sys.argv
    sys.argv = ["train.py"]
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return vars(scope["parser"].parse_args(argv))
    except SystemExit:
        return None
    finally:
        sys.argv = saved


@pytest.mark.parametrize("argv", ARGVS, ids=repr)
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parse_args_as_argparse_parses(name, argv):
    call = "parser.parse_args()" if argv is None else f"parser.parse_args({argv!r})"
    text = f"import argparse\nparser = argparse.ArgumentParser()\n{PARSERS[name]}opt = {call}\n"
    expected = real_argparse(PARSERS[name], argv)
    found = module_globals(text)["opt"]
    if expected is None:
        assert found is UNKNOWN
    else:
        assert {k: plain(v) for k, v in found.items()} == expected


def test_defaults_say_where_they_come_from_and_given_values_do_not():
    text = ("import argparse\np = argparse.ArgumentParser()\np.add_argument('-s', '--img_size', type=int, default=32)\n"
            "opt = p.parse_args()\ngiven = p.parse_args(['--img_size', '32'])\nside = opt.img_size // 4\n"
            "known, rest = p.parse_known_args()\n")
    names = module_globals(text)
    assert names["opt"]["img_size"].sources == (CommandLineDefault("--img_size", 32),)
    assert names["side"] == 8 and names["side"].sources == (CommandLineDefault("--img_size", 32),)
    assert not isinstance(names["given"]["img_size"], Sourced)
    assert names["known"]["img_size"] == 32 and names["rest"] == []


@pytest.mark.parametrize("config, read", [
    ("cfg = {'ngf': 16}", "cfg['ngf']"),
    ("class Config:\n    ngf = 16\ncfg = Config()", "cfg.ngf"),
    ("import types\ncfg = types.SimpleNamespace(**{'ngf': 16})", "cfg.ngf"),
    ("from types import SimpleNamespace\ncfg = SimpleNamespace(ngf=8)\ncfg.ngf = 16", "cfg.ngf"),
    ("import argparse\ncfg = argparse.Namespace(ngf=16)", "vars(cfg)['ngf']"),
    ("from easydict import EasyDict as edict\ncfg = edict({'MODEL': {'WIDTH': 16}})", "cfg.MODEL.WIDTH"),
    ("from easydict import EasyDict\ncfg = EasyDict()\ncfg.MODEL = EasyDict()\ncfg.MODEL.WIDTH = 16",
     "cfg['MODEL'].WIDTH"),
    ("from yacs.config import CfgNode as CN\n_C = CN()\n_C.MODEL = CN()\n_C.MODEL.WIDTH = 16\ncfg = _C",
     "cfg.MODEL.WIDTH"),
    ("from omegaconf import OmegaConf\ncfg = OmegaConf.create({'model': {'width': 16}})", "cfg.model.width"),
])
def test_configs_size_the_model(config, read):
    """A Linear sized from a config is checked: 16 channels * 4 * 4 arrive, 10 * 4 * 4 = 160 declared."""
    text = f"""import torch
import torch.nn as nn
{config}
model = nn.Sequential(nn.Conv2d(3, {read}, 3, padding=1), nn.Flatten(), nn.Linear(10 * 4 * 4, 2))
model(torch.zeros(1, 3, 4, 4))
"""
    [finding] = analyze_source(text, "m.py").findings
    assert finding.code == "TSL001" and "but 256 features arrive" in finding.message


@pytest.mark.parametrize("config", [
    "import yaml\ncfg = yaml.safe_load(open('config.yaml'))\nwidth = cfg['ngf']",
    "import json\nwidth = json.load(open('config.json'))['ngf']",
    "from yacs.config import CfgNode as CN\ncfg = CN({'ngf': 10})\ncfg.merge_from_file('exp.yaml')\nwidth = cfg.ngf",
    "import sys\nfrom types import SimpleNamespace\ncfg = SimpleNamespace(ngf=10)\n"
    "if len(sys.argv) > 1:\n    cfg.ngf = 16\nwidth = cfg.ngf",
    "import argparse, sys\np = argparse.ArgumentParser()\np.add_argument('--ngf', type=int, default=10)\n"
    "if len(sys.argv) > 2:\n    p.set_defaults(ngf=16)\nwidth = p.parse_args().ngf",
    "import argparse\np = argparse.ArgumentParser()\np.add_argument('--ngf', type=int, required=True)\n"
    "width = p.parse_args().ngf",
])
def test_what_is_not_known_stays_silent(config):
    text = f"""import torch
import torch.nn as nn
{config}
model = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.Flatten(), nn.Linear(10 * 4 * 4, 2))
model(torch.zeros(1, 3, 4, 4))
"""
    assert analyze_source(text, "m.py").findings == []


GAN = """import argparse
import numpy as np
import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--latent_dim", type=int, default=100)
parser.add_argument("--img_size", type=int, default=28)
parser.add_argument("--channels", type=int, default=1)
parser.add_argument("--batch_size", type=int, default=64)
opt = parser.parse_args()
img_shape = (opt.channels, opt.img_size, opt.img_size)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(int(np.prod(img_shape)), 512), nn.LeakyReLU(0.2), nn.Linear(512, 1))

    def forward(self, img):
        return self.model(img.view(img.size(0), -1))


Discriminator()(torch.randn(opt.batch_size, 3, opt.img_size, opt.img_size))
"""


def test_a_finding_says_which_defaults_it_assumed():
    torch = pytest.importorskip("torch")
    [finding] = analyze_source(GAN, "gan.py").findings
    # torch, on the defaults: the flattened image has 3 * 28 * 28 values, the Linear takes 1 * 28 * 28
    linear = torch.nn.Linear(1 * 28 * 28, 512)
    with pytest.raises(RuntimeError, match=r"64x2352 and 784x512"):
        linear(torch.randn(64, 3, 28, 28).view(64, -1))
    assert finding.message.startswith("Linear(in_features=784) but 2352 features arrive")
    assert finding.message.endswith("(with the defaults `--channels 1`, `--img_size 28`)")  # not the batch's
    assert finding.suggestion is None  # the default is what to change: --fix writes no number over it


def test_a_finding_from_literal_arguments_assumes_nothing():
    """parse_args(list) does not read the command line: every value, given or default, is the code's own."""
    text = GAN.replace("parser.parse_args()", "parser.parse_args(['--channels', '1'])")
    [finding] = analyze_source(text, "gan.py").findings
    assert "with the default" not in finding.message and finding.suggestion.factors == (3, 28, 28)


@pytest.mark.parametrize("move", ["model = model.cuda()", "model = model.to(device).eval()", "model.cuda()",
                                  "model = model.float()", "model = torch.nn.DataParallel(model)",
                                  "model = nn.DataParallel(model, device_ids=[0, 1]).to(device)"])
def test_a_module_moved_under_an_undecided_branch_stays_known(move):
    text = f"""import torch
import torch.nn as nn

use_gpu = torch.cuda.is_available()
device = torch.device("cuda" if use_gpu else "cpu")
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
if use_gpu:
    {move}
model(torch.zeros(1, 3, 8, 8))
"""
    [finding] = analyze_source(text, "m.py").findings
    assert "but 288 features arrive" in finding.message  # 8 * 6 * 6


def test_a_module_replaced_under_an_undecided_branch_is_unknown():
    text = """import torch
import torch.nn as nn

model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
if torch.cuda.is_available():
    model = nn.Sequential(nn.Conv2d(3, 8, 7), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
model(torch.zeros(1, 3, 8, 8))
"""
    assert analyze_source(text, "m.py").findings == []  # which model runs is not known


@pytest.mark.parametrize("wrap", ["model = make_parallel(model)", "model = nn.DataParallel(other)"])
def test_a_module_given_to_code_not_known_under_an_undecided_branch_is_unknown(wrap):
    """Only torch's own wrappers give back the same module's shapes; a function of the user's, or another module
    wrapped, may be anything."""
    text = f"""import torch
import torch.nn as nn
from helpers import make_parallel

other = nn.Sequential(nn.Conv2d(3, 8, 7), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
if torch.cuda.is_available():
    {wrap}
model(torch.zeros(1, 3, 8, 8))
"""
    assert analyze_source(text, "m.py").findings == []
