"""Blocks imported from the user's own modules are followed; a wrong layer of another file is reported in the file
being checked at the call that reached it."""

import textwrap

from conftest import flake8, locate

BLOCKS = """
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, pool=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x):
        return self.pool(self.conv(x).relu())


WIDTH = 64
"""

NET = """
import torch
import torch.nn as nn

from .blocks import WIDTH, ConvBlock


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(ConvBlock(3, WIDTH), ConvBlock(WIDTH, 128))
        self.fc = nn.Linear(128 * 7 * 7, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


if __name__ == "__main__":
    Net()(torch.randn(2, 3, 32, 32))
"""


def write_project(root, blocks=BLOCKS, net=NET):
    package = root / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "blocks.py").write_text(textwrap.dedent(blocks))
    (package / "net.py").write_text(textwrap.dedent(net))
    return package


def test_a_block_from_a_sibling_module_is_followed(tmp_path):
    package = write_project(tmp_path)
    line, col = locate(package / "net.py", "nn.Linear(128 * 7 * 7")
    out = flake8("models/net.py", cwd=tmp_path).stdout
    # 32 → 16 → 8 through the two blocks' pools: 128 * 8 * 8 = 8192
    assert out.startswith(f"models/net.py:{line}:{col}: TSL001 Linear(in_features=6272) but 8192 features arrive")


def test_absolute_import_of_the_project_package(tmp_path):
    write_project(tmp_path, net=NET.replace("from .blocks import", "from models.blocks import"))
    assert "but 8192 features arrive" in flake8("models/net.py", cwd=tmp_path).stdout


def test_a_wrong_layer_of_the_imported_module_is_reported_at_the_call_that_reaches_it(tmp_path):
    broken = BLOCKS.replace("nn.Conv2d(cin, cout, 3, padding=1)", "nn.Conv2d(cin + 1, cout, 3, padding=1)")
    package = write_project(tmp_path, blocks=broken, net=NET.replace("128 * 7 * 7", "128 * 8 * 8"))
    line, col = locate(package / "net.py", "self.features(x)")
    layer, _ = locate(package / "blocks.py", "nn.Conv2d(cin + 1")
    out = flake8("models/net.py", cwd=tmp_path).stdout.splitlines()
    # the first block gets the image's 3 channels, the second the first's 64: each declares one more
    assert [entry.split(" (")[0] for entry in out] == [
        f"models/net.py:{line}:{col}: TSL002 Conv2d(in_channels=4) but 3 arrive",
        f"models/net.py:{line}:{col}: TSL002 Conv2d(in_channels=65) but 64 arrive"]
    assert all(entry.endswith(f"[layer at models/blocks.py:{layer}]") for entry in out), out


def test_circular_and_missing_imports_stay_silent(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("import torch.nn as nn\nfrom .b import make\nmodel = make()\nWIDTH = 8\n")
    (package / "b.py").write_text("import torch.nn as nn\nfrom .a import WIDTH\nfrom .nowhere import thing\n\n"
                                  "def make():\n    return nn.Sequential(nn.Linear(WIDTH, 4), thing, nn.Linear(5, 2))\n")
    result = flake8("pkg/a.py", "pkg/b.py", cwd=tmp_path)
    assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr


def test_a_star_import_is_followed_only_into_modules_that_name_torch(tmp_path):
    """A file that names no torch builds models only with what its star imports bring: from a sibling that names
    torch it is analysed (its Linear checked), from one that does not (the standard library's packages re-export
    their parts so) it is not, and its result depends on that sibling, which may come to name torch."""
    from torchshape_lint.checks.analyze import analyze_source

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "parts.py").write_text("def helper():\n    return 1\n")
    user = package / "model.py"
    user.write_text("from .parts import *\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                    "        self.fc = nn.Linear(10, 2)\n\n    def forward(self, x):\n        return self.fc(x)\n\n\n"
                    "out = Net()(torch.randn(4, 12))\n")
    quiet = analyze_source(user.read_text(), str(user))
    assert (quiet.models, quiet.findings) == ([], [])
    assert [read.path for read in quiet.read] == [str(package / "parts.py")]
    (package / "parts.py").write_text("import torch\nimport torch.nn as nn\n")
    [finding] = analyze_source(user.read_text(), str(user)).findings
    # by hand: 12 features arrive at a Linear that declares 10
    assert (finding.code, finding.line) == ("TSL001", 7) and "but 12 features arrive" in finding.message


def test_a_module_two_checked_files_import_is_read_for_writes_once(tmp_path, monkeypatch):
    """What a block of the imported module may write, read from its syntax, serves every checked file of the run
    (flake8 hands over one file at a time to one process): its `if` is walked once, not once per importing file; and
    each file's findings are those of a run that checks it alone."""
    import ast

    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.evaluate.project import Project
    from torchshape_lint.source.writes import WriteCollector

    (tmp_path / "blocks.py").write_text(textwrap.dedent('''\
        import os
        import torch.nn as nn


        class Block(nn.Module):
            def __init__(self, width):
                super().__init__()
                if os.environ.get("WIDE"):
                    width = width * 2
                self.fc = nn.Linear(width, 10)

            def forward(self, x):
                return self.fc(x)
        '''))
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent('''\
            import torch
            from blocks import Block

            Block(8)(torch.zeros(1, 8))
            '''))
    walked = []
    real_walk = WriteCollector.walk
    monkeypatch.setattr(WriteCollector, "walk", lambda self, node: walked.append(node) or real_walk(self, node))
    project = Project()
    found = {}
    for name in ("one", "two"):
        path = tmp_path / f"{name}.py"
        text = path.read_text()
        found[name] = [f.text for f in analyze_source(text, str(path), ast.parse(text), None, project).findings]
    branches = [node for node in walked if isinstance(node, ast.If)]
    assert len(branches) == 1, walked
    for name in ("one", "two"):
        path = tmp_path / f"{name}.py"
        alone = analyze_source(path.read_text(), str(path), ast.parse(path.read_text()), None, Project()).findings
        assert found[name] == [f.text for f in alone]
