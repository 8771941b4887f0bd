"""A model's input from wherever the project gives it: a test file's dummy forward, a training script that builds it
with its arguments. fixtures/projects/cifar_zoo is laid out as such projects are (a `models/` package whose
`__init__.py` re-exports `from .resnet import *`, a package file with `from .parts import *` and no torch import of
its own, `test_model.py`, `train.py` with `import models`). Each planted mistake is reported at the using line
through flake8 on that file alone, and by the command line on the tree both there and at the layer."""

import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from conftest import FIXTURES, cli, flake8, locate

ZOO = FIXTURES / "projects" / "cifar_zoo"


@dataclass
class Mistake:
    file: str
    correct: str
    planted: str
    layer: str  # what the layer's line holds, as the user wrote it
    uses: list  # (file, what its using line holds)
    finding: str  # the finding's start, by hand from PyTorch's formulas
    torch_says: str  # what PyTorch's own error says when test_model.py runs


MISTAKES = {
    # 32x32 through conv1 (3x3, stride 1, padding 1) stays 32; the stride-2 stages give floor((32 + 2 - 3) / 2) + 1
    # = 16, then 8, then 4; avg_pool2d(out, 2) gives 2x2: 512 * 2 * 2 = 2048 features, not 512.
    "pool in resnet.py": Mistake(
        "models/resnet.py", "F.avg_pool2d(out, 4)", "F.avg_pool2d(out, 2)", "nn.Linear(512 * block.expansion",
        [("test_model.py", "net(torch.randn(2, 3, 32, 32))")],
        "TSL001 Linear(in_features=512) but 2048 features arrive", "2x2048 and 512x10"),
    # layer2's first block has in_planes 64 and planes 128: its 1x1 shortcut conv declared with planes reads 128
    # channels where the block's input has 64. Channels are known for every input size, so train.py, which only
    # builds the model (with the num_classes it needs), proves it too.
    "shortcut in resnet.py": Mistake(
        "models/resnet.py", "nn.Conv2d(in_planes, planes, kernel_size=1", "nn.Conv2d(planes, planes, kernel_size=1",
        "nn.Conv2d(planes, planes, kernel_size=1",
        [("test_model.py", "net(torch.randn(2, 3, 32, 32))"), ("train.py", "models.ResNet18(num_classes=10)")],
        "TSL002 Conv2d(in_channels=128) but 64 arrive", "expected input[2, 64, 32, 32] to have 128 channels"),
    # the generator's first block gets noise (100) and the one-hot label (10) joined: 110 features, not 100
    "first block in cgan.py": Mistake(
        "models/cgan.py", "*block(latent_dim + n_classes, 128", "*block(latent_dim, 128", "nn.Linear(in_features",
        [("test_model.py", "generator(z, labels)")],
        "TSL001 Linear(in_features=100) but 110 features arrive", "4x110 and 100x128"),
    # 4 images of 2 * 28 * 28 values each cannot be viewed as 4 x 1 x 28 x 28
    "output size in cgan.py": Mistake(
        "models/cgan.py", "nn.Linear(256, img_size * img_size)", "nn.Linear(256, 2 * img_size * img_size)",
        "img.view(img.size(0)", [("test_model.py", "generator(z, labels)")],
        "TSL005 view(4, 1, 28, 28) on (4, 1568)", "shape '[4, 1, 28, 28]' is invalid for input of size 6272"),
}


def zoo(tmp_path, mistake=None):
    project = tmp_path / "cifar_zoo"
    shutil.copytree(ZOO, project)
    if mistake is not None:
        path = project / mistake.file
        text = path.read_text()
        assert mistake.correct in text
        path.write_text(text.replace(mistake.correct, mistake.planted))
    return project


def layer_file(mistake):
    """The file of the layer that is wrong: the generator's blocks are built by models/parts.py's block()."""
    return "models/parts.py" if mistake.layer == "nn.Linear(in_features" else mistake.file


def at(project, file, needle):
    line, column = locate(project / file, needle)
    return f"{file}:{line}:{column}"


@pytest.mark.parametrize("name", MISTAKES)
def test_flake8_on_the_using_file_alone_reports_at_the_using_line(tmp_path, name):
    mistake = MISTAKES[name]
    project = zoo(tmp_path, mistake)
    layer_line = locate(project / layer_file(mistake), mistake.layer)[0]
    for file, needle in mistake.uses:
        out = flake8(file, cwd=project).stdout.splitlines()
        assert out and all(f"[layer at {layer_file(mistake)}:{layer_line}]" in entry for entry in out), out
        assert out[0].startswith(f"{at(project, file, needle)}: {mistake.finding}"), out


@pytest.mark.parametrize("name", MISTAKES)
def test_flake8_on_the_layer_file_alone_cannot_know(tmp_path, name):
    mistake = MISTAKES[name]
    project = zoo(tmp_path, mistake)
    assert flake8(layer_file(mistake), cwd=project).stdout == ""


@pytest.mark.parametrize("name", MISTAKES)
def test_the_command_line_on_the_tree_reports_at_the_layer_and_at_each_using_line(tmp_path, name):
    mistake = MISTAKES[name]
    project = zoo(tmp_path, mistake)
    result = cli("--no-cache", "-q", ".", cwd=project)
    out = [entry.removeprefix("./") for entry in result.stdout.splitlines()]
    layer = at(project, layer_file(mistake), mistake.layer)
    first_use = mistake.uses[0]
    use_line = locate(project / first_use[0], first_use[1])[0]
    assert f"{layer}: {mistake.finding}" in "\n".join(out), out
    assert any(entry.startswith(f"{layer}: ") and entry.endswith(f"[input from {first_use[0]}:{use_line}]")
               for entry in out), out
    for file, needle in mistake.uses:
        assert any(entry.startswith(f"{at(project, file, needle)}: {mistake.finding}") for entry in out), out
    assert {entry.split(":")[0] for entry in out} == {layer_file(mistake)} | {file for file, _ in mistake.uses}
    assert result.returncode == 1


def test_nothing_on_the_correct_project(tmp_path):
    project = zoo(tmp_path)
    result = cli("--no-cache", ".", cwd=project)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr
    # every model is reached by a concrete input from test_model.py, the ones built only in train.py included, and
    # resnet.py's BasicBlock and ResNet, which their own file builds on their parameters (checks/models.py)
    assert "6 models (6 on a concrete input, 0 symbolic only)" in result.stderr, result.stderr
    assert flake8(".", cwd=project).stdout == ""


def test_verbose_names_the_file_that_gave_a_model_its_input(tmp_path):
    project = zoo(tmp_path)
    out = cli("--no-cache", "--verbose", ".", cwd=project).stdout.splitlines()
    generator = locate(project / "models/cgan.py", "class Generator")[0]
    assert f"./models/cgan.py:{generator}: Generator checked on a concrete input from ./test_model.py" in out, out


def test_the_planted_mistakes_are_mistakes_in_torch_and_the_project_is_right(tmp_path):
    """The fixture's own test file run by pytest: it passes as written, and each planted mistake fails it with
    PyTorch's error naming the numbers the finding names."""
    def run_tests(project):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_model.py"],
                              cwd=project, capture_output=True, text=True, timeout=300)

    assert run_tests(zoo(tmp_path / "right")).returncode == 0
    for number, mistake in enumerate(MISTAKES.values()):
        ran = run_tests(zoo(tmp_path / str(number), mistake))
        assert ran.returncode == 1 and mistake.torch_says in ran.stdout, ran.stdout[-2000:]


# ---- models that need arguments, and several inputs, by pragma -------------------------------------------------

CONDITIONAL = textwrap.dedent("""
    import torch
    import torch.nn as nn


    # torchshape: input=[(4, 100), (4, 10)]
    class Generator(nn.Module):
        def __init__(self, latent_dim=100, n_classes=10):
            super().__init__()
            self.fc = nn.Linear(latent_dim, 784)

        def forward(self, z, labels):
            return self.fc(torch.cat((z, labels), -1))


    # torchshape: input=(2, 3, 32, 32) kwargs={"num_classes": 10}
    class Classifier(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.fc = nn.Linear(8 * 16 * 16, num_classes)

        def forward(self, x):
            return self.fc(torch.flatten(self.conv(x), 1))
""")


def test_a_pragma_gives_one_shape_per_forward_argument_and_the_constructor_arguments(tmp_path):
    (tmp_path / "m.py").write_text(CONDITIONAL)
    generator = locate(tmp_path / "m.py", "nn.Linear(latent_dim")
    classifier = locate(tmp_path / "m.py", "nn.Linear(8 * 16 * 16")
    out = flake8("m.py", cwd=tmp_path).stdout.splitlines()
    # 100 noise features and 10 label features joined: 110; the 3x3 conv with padding 1 keeps 32x32: 8 * 32 * 32
    assert [entry.split(":", 4)[:3] + [entry.split(": ", 1)[1].split(":")[0]] for entry in out] == [
        ["m.py", str(generator[0]), str(generator[1]), "TSL001 Linear(in_features=100) but 110 features arrive"],
        ["m.py", str(classifier[0]), str(classifier[1]), "TSL001 Linear(in_features=2048) but 8192 features arrive"],
    ]


def test_usage_with_two_tensors_feeds_both_forward_arguments(tmp_path):
    source = CONDITIONAL.replace("# torchshape: input=[(4, 100), (4, 10)]\n", "")
    (tmp_path / "m.py").write_text(source + "\n\nGenerator()(torch.randn(4, 100), torch.zeros(4, 10))\n")
    line, column = locate(tmp_path / "m.py", "nn.Linear(latent_dim")
    out = flake8("m.py", cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith(f"m.py:{line}:{column}: TSL001 Linear(in_features=100) but 110 features arrive"), out


def test_a_rerun_from_the_cache_reports_the_same_at_the_layer_and_the_using_line(tmp_path):
    project = zoo(tmp_path, MISTAKES["pool in resnet.py"])
    cold = cli("-q", ".", cwd=project)
    warm = cli("-q", ".", cwd=project)
    assert "[input from test_model.py:" in cold.stdout and "[layer at models/resnet.py:" in cold.stdout
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    (project / "models/resnet.py").write_text((project / "models/resnet.py").read_text().replace(
        "F.avg_pool2d(out, 2)", "F.avg_pool2d(out, 4)"))  # fixed: test_model.py's cached result is stale
    assert cli("-q", ".", cwd=project).stdout == ""
