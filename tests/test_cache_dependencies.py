"""The result cache covers every project file an analysis read: a cached result is stale when a sibling module
it imports (directly or through another module) changes, or appears where an import found nothing. The command
line and the flake8 plugin keep their results in the same cache, each under its own key; both are run here."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import locate

BLOCKS = """
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, x):
        return self.pool(self.relu(self.conv(x)))
"""

MODEL = """
import torch
import torch.nn as nn

from blocks import ConvBlock


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = ConvBlock(3, 16)
        self.classifier = nn.Linear(16 * 16 * 16, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# torchshape: input=(1, 3, 32, 32)
model = Net()
"""

# By hand from PyTorch's formulas: the 3x3 conv with padding 1 keeps 32x32; a 2x2 pool halves it to 16x16, so
# 16 * 16 * 16 = 4096 features arrive (right); a 4x4 pool gives 8x8: 16 * 8 * 8 = 1024 (wrong).
WRONG_POOL = ("nn.MaxPool2d(kernel_size=2, stride=2)", "nn.MaxPool2d(kernel_size=4, stride=4)")
FINDING = "TSL001 Linear(in_features=4096) but 1024 features arrive"


FRONT_ENDS = {
    "cli": ([sys.executable, "-m", "torchshape_lint.frontends.cli"], "--no-cache"),
    "flake8": ([sys.executable, "-m", "flake8", "--isolated", "--select", "TSL"], "--torchshape-no-cache"),
}


@pytest.fixture(params=sorted(FRONT_ENDS))
def cli_in(request):
    """Run the front end in `work` with its cache under `cache`; "--no-cache" is given as that front end spells it."""
    command, no_cache = FRONT_ENDS[request.param]

    def run(cache, work, *args):
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        args = [no_cache if arg == "--no-cache" else arg for arg in args]
        return subprocess.run([*command, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture
def project(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "blocks.py").write_text(textwrap.dedent(BLOCKS))
    (work / "model.py").write_text(textwrap.dedent(MODEL))
    return work


def reports_the_finding(result, work):
    """Exit 1 and exactly the one finding, at the Linear of model.py."""
    line, column = locate(work / "model.py", "nn.Linear(16 * 16 * 16")
    lines = result.stdout.splitlines()
    return result.returncode == 1 and len(lines) == 1 and \
        lines[0].removeprefix("./").startswith(f"model.py:{line}:{column}: {FINDING}:")


def test_a_sibling_made_wrong_makes_the_cached_result_stale(tmp_path, project, cli_in):
    cache = tmp_path / "cache"
    assert (cli_in(cache, project, "model.py").returncode, cli_in(cache, project, "model.py").stdout) == (0, "")
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS).replace(*WRONG_POOL))
    cached = cli_in(cache, project, "model.py")
    fresh = cli_in(cache, project, "--no-cache", "model.py")
    assert reports_the_finding(fresh, project), fresh.stdout
    assert (cached.returncode, cached.stdout) == (fresh.returncode, fresh.stdout)


def test_a_sibling_fixed_makes_the_cached_finding_stale(tmp_path, project, cli_in):
    cache = tmp_path / "cache"
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS).replace(*WRONG_POOL))
    wrong = cli_in(cache, project, "model.py")
    assert reports_the_finding(wrong, project), wrong.stdout
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS))
    assert (cli_in(cache, project, "model.py").returncode, cli_in(cache, project, "model.py").stdout) == (0, "")


def test_a_module_imported_through_a_sibling_is_covered_too(tmp_path, project, cli_in):
    """model.py imports blocks.py, which takes its pool from layers.py: a change there reaches model.py's result."""
    cache = tmp_path / "cache"
    (project / "layers.py").write_text("import torch.nn as nn\n\n\ndef pool():\n"
                                       "    return nn.MaxPool2d(kernel_size=2, stride=2)\n")
    blocks = textwrap.dedent(BLOCKS).replace("import torch.nn as nn\n",
                                             "import torch.nn as nn\n\nfrom layers import pool\n")
    (project / "blocks.py").write_text(blocks.replace(WRONG_POOL[0], "pool()"))
    assert cli_in(cache, project, "model.py").returncode == 0
    (project / "layers.py").write_text((project / "layers.py").read_text().replace(*WRONG_POOL))
    result = cli_in(cache, project, "model.py")
    assert reports_the_finding(result, project), result.stdout


def test_a_module_that_appears_where_the_import_found_nothing(tmp_path, project, cli_in):
    """Without blocks.py the block is unknown and nothing is proven; once it is there, its pool is."""
    cache = tmp_path / "cache"
    (project / "blocks.py").unlink()
    assert (cli_in(cache, project, "model.py").returncode, cli_in(cache, project, "model.py").stdout) == (0, "")
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS).replace(*WRONG_POOL))
    result = cli_in(cache, project, "model.py")
    assert reports_the_finding(result, project), result.stdout


def test_unchanged_siblings_keep_the_result_cached(tmp_path, project, cli_in):
    """Poison the stored finding: a rerun that shows it has read the cache rather than analysed again."""
    cache = tmp_path / "cache"
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS).replace(*WRONG_POOL))
    assert cli_in(cache, project, "model.py").returncode == 1
    (entry,) = (cache / "torchshape-lint").rglob("*.json")
    data = json.loads(entry.read_text())
    assert [os.path.basename(read["path"]) for read in data["read"]] == ["blocks.py"]
    finding = data["findings"][0]
    if isinstance(finding, dict):  # the command line's FileResult
        finding["message"] = "FROM THE CACHE"
    else:  # the plugin's (line, column, text)
        finding[2] = "TSL001 FROM THE CACHE"
    entry.write_text(json.dumps(data))
    assert "TSL001 FROM THE CACHE" in cli_in(cache, project, "model.py").stdout
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS))
    assert cli_in(cache, project, "model.py").stdout == ""


def test_no_cache_neither_reads_nor_writes(tmp_path, project, cli_in):
    cache = tmp_path / "cache"
    (project / "blocks.py").write_text(textwrap.dedent(BLOCKS).replace(*WRONG_POOL))
    result = cli_in(cache, project, "--no-cache", "model.py")
    assert reports_the_finding(result, project), result.stdout
    assert not list(cache.rglob("*.json"))
