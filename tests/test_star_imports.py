"""`from models import *` of a package that re-exports many model files, as kuangliu/pytorch-cifar's `models/`
does (eighteen `from .resnet import *` lines): the names a star import binds are read from the modules' sources, and
a module runs only when a name the file uses resolves there, so the bound on modules one file may use
(evaluate/project.py, MAX_MODULES_PER_FILE) counts the modules used, not those re-exported."""

import os
import subprocess
import sys

import pytest

from conftest import cli, flake8, locate

from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate.project import MAX_MODULES_PER_FILE, Project

BLOCKS = 16  # re-exported before the model a script uses: with the package itself, more than the bound
BLOCK = '''import torch.nn as nn


class Block{n:02d}(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
'''
WIDE = '''import torch
import torch.nn as nn


class Wide(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(16 * 16 * 16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))
'''
TRAIN = '''import torch

from models import *

net = Wide(num_classes=10)
out = net(torch.randn(2, 3, 32, 32))
'''
PLANTED = ("nn.MaxPool2d(2)", "nn.MaxPool2d(4)")


def project(tmp_path, planted=False):
    """models/ re-exporting BLOCKS block modules and then wide.py, and a train.py that uses only Wide."""
    models = tmp_path / "models"
    models.mkdir()
    names = [f"block{n:02d}" for n in range(1, BLOCKS + 1)] + ["wide"]
    (models / "__init__.py").write_text("".join(f"from .{name} import *\n" for name in names))
    for n in range(1, BLOCKS + 1):
        (models / f"block{n:02d}.py").write_text(BLOCK.format(n=n))
    (models / "wide.py").write_text(WIDE.replace(*PLANTED) if planted else WIDE)
    (tmp_path / "train.py").write_text(TRAIN)
    assert BLOCKS + 2 > MAX_MODULES_PER_FILE  # read as before, the package would stop before wide.py
    return tmp_path


def arriving_features(tmp_path):
    """What PyTorch says reaches the Linear of the planted Wide, run on train.py's input."""
    import torch

    result = subprocess.run([sys.executable, "-c", "import train"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert "mat1 and mat2 shapes cannot be multiplied (2x1024 and 4096x10)" in result.stderr, result.stderr
    features = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4))
    return torch.flatten(features(torch.zeros(2, 3, 32, 32)), 1).shape[1]


def test_flake8_on_the_script_follows_a_name_from_the_last_of_many_re_exported_modules(tmp_path):
    root = project(tmp_path, planted=True)
    pytest.importorskip("torch")
    arriving = arriving_features(root)
    line, column = locate(root / "train.py", "net(torch.randn")
    layer = locate(root / "models" / "wide.py", "nn.Linear(16 * 16 * 16")[0]
    [finding] = flake8("train.py", cwd=root).stdout.splitlines()
    assert finding.startswith(f"train.py:{line}:{column}: TSL001 Linear(in_features=4096) but {arriving} features "
                              "arrive"), finding
    assert finding.endswith(f"[layer at models/wide.py:{layer}]"), finding


def test_the_command_line_on_the_tree_reports_at_the_layer_and_at_the_using_line(tmp_path):
    root = project(tmp_path, planted=True)
    result = cli("--no-cache", "-q", ".", cwd=root)
    use = locate(root / "train.py", "net(torch.randn")
    layer = locate(root / "models" / "wide.py", "nn.Linear(16 * 16 * 16")
    # 32x32 through the 3x3 conv with padding 1 stays 32; MaxPool2d(4) makes it 8x8: 16 * 8 * 8 = 1024, not 4096
    finding = "TSL001 Linear(in_features=4096) but 1024 features arrive"
    out = [line.removeprefix("./") for line in result.stdout.splitlines()]
    at_layer, at_use = f"models/wide.py:{layer[0]}:{layer[1]}", f"train.py:{use[0]}:{use[1]}"
    assert sorted(line.split(": ")[0] for line in out) == [at_layer, at_use], out
    assert all(f": {finding}" in line for line in out), out
    assert next(line for line in out if line.startswith(at_layer)).endswith(f"[input from train.py:{use[0]}]"), out
    assert result.returncode == 1


def test_nothing_on_the_correct_project(tmp_path):
    root = project(tmp_path)
    result = cli("--no-cache", ".", cwd=root)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
    assert flake8(".", cwd=root).stdout == ""


def test_only_the_modules_a_used_name_comes_from_run_and_every_re_exported_one_is_a_dependency(tmp_path):
    root = project(tmp_path)
    path = str(root / "train.py")
    used = Project()
    analyze_source(TRAIN, path, project=used)
    ran = sorted(os.path.relpath(key[0], root) for key in used.used_by_file)
    assert ran == [os.path.join("models", "__init__.py"), os.path.join("models", "wide.py")]
    # which names the star import binds depends on every re-exported module: editing one checks train.py again
    read = {os.path.relpath(f.path, root) for f in used.files_read(path) if f.digest is not None}
    assert read == {os.path.join("models", name) for name in os.listdir(root / "models") if name.endswith(".py")}


def test_the_bound_still_counts_the_modules_used(tmp_path):
    """A script that uses a class from each of many re-exported modules: the first MAX_MODULES_PER_FILE modules it
    uses are read (the package counts as one), the rest stay unknown."""
    root = project(tmp_path)
    uses = "".join(f"Block{n:02d}()(torch.randn(1, 3, 8, 8))\n" for n in range(1, BLOCKS + 1))
    used = Project()
    analyze_source("import torch\n\nfrom models import *\n\n" + uses, str(root / "many.py"), project=used)
    assert len(used.used_by_file) == MAX_MODULES_PER_FILE


STAR_FORMS = {
    "plain": "import torch.nn as nn\nfrom torch.nn import functional as F\n\nclass A: pass\n\ndef b(): pass\n\n"
             "_hidden = 1\nc = d = 2\n(e, [f]) = 3, [4]\nfor g in range(1): pass\n",
    "literal all": "__all__ = ['A', 'c']\n__all__ += ['e']\n\nclass A: pass\n\nclass B: pass\n\nc = 1\ne = 2\n",
    "branches": "try:\n    import json as j\nexcept ImportError:\n    j = None\nif True:\n    class K: pass\n"
                "else:\n    class L: pass\nwith open(__file__) as handle:\n    m = 1\n",
    "re-export": "from .plain import *\nfrom .literal_all import *\nfrom os.path import *\n",
}


@pytest.mark.parametrize("name", STAR_FORMS)
def test_the_names_read_from_the_source_are_those_python_binds(tmp_path, name):
    """Against Python itself: what `from pkg.<module> import *` binds, but for what a star import of a module outside
    the project brings (the evaluator reads none of those), and names a branch not taken would bind (the source
    alone cannot tell which branch runs: such a name, unbound, is unknown when used)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for form, text in STAR_FORMS.items():
        (package / f"{form.replace(' ', '_').replace('-', '_')}.py").write_text(text)
    module = name.replace(" ", "_").replace("-", "_")
    script = f"import os.path\nfrom pkg.{module} import *\nprint(sorted(n for n in dir() if not n.startswith('_')))\n"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    python = set(eval(result.stdout)) - {"os"} - {n for n in dir(os.path) if not n.startswith("_")}
    read = Project().exported_names(str(package / f"{module}.py"))
    assert read - {"L"} == python  # `L` only: its branch is not taken


def test_a_computed_all_is_left_to_running_the_module(tmp_path):
    (tmp_path / "m.py").write_text("from os import path\n__all__ = ['A'] + ['B']\n\nclass A: pass\n\nclass B: pass\n")
    (tmp_path / "n.py").write_text("__all__ = ['A']\n__all__.append('B')\n")
    assert Project().exported_names(str(tmp_path / "m.py")) is None
    assert Project().exported_names(str(tmp_path / "n.py")) is None
