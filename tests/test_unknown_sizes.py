"""Tensors made with sizes of which only some are known: a training script fed by a loader another module makes
(so the batch is not known) still runs its models on tensors of the rank it wrote, `torch.randn(b_size, nz, 1, 1)`,
`Tensor(imgs.shape[0], 1)`, `np.random.normal(0, 1, (imgs.shape[0], latent_dim))`, each unknown size a positive
size of its own. What is wrong whatever the batch is reported (through the CLI and flake8, at the line), the correct
scripts are clean, and torch agrees; two unknown sizes are never taken as equal."""

import runpy
import sys
import textwrap
import traceback
from functools import partial

import pytest

from conftest import FIXTURES, cli, lint, locate
from torchshape_lint.shapes import dims, formulas

GAN, DCGAN = FIXTURES / "unknown_sizes" / "gan_training.py", FIXTURES / "unknown_sizes" / "dcgan_training.py"

# (fixture, original, planted, text of the line:col the finding is at, its message's start, torch's error)
MISTAKES = {
    "view-of-the-noise": (
        GAN, "out.view(out.shape[0], 128, self.init_size, self.init_size)",
        "out.view(out.shape[0], 128, self.init_size + 1, self.init_size)", "out.view(",
        # by hand: the Linear gives 128 * 8 * 8 = 8192 features per sample, the view asks for 128 * 9 * 8 = 9216
        "TSL005 view(s, 128, 9, 8) on (s, 8192): the shape holds 9216*s values, but 8192*s arrive",
        r"shape '\[2, 128, 9, 8\]' is invalid for input of size 16384"),
    "critic-features": (
        GAN, "nn.Linear(32 * ds_size ** 2, 1)", "nn.Linear(64 * ds_size ** 2, 1)", "nn.Linear(64",
        # by hand: 32x32 images through two stride-2 convs are 32 channels of 8x8 = 2048 features
        "TSL001 Linear(in_features=4096) but 2048 features arrive",
        r"mat1 and mat2 shapes cannot be multiplied \(2x2048 and 4096x1\)"),
    "noise-channels": (
        DCGAN, "torch.randn(b_size, nz, 1, 1)", "torch.randn(b_size, 128, 1, 1)", "nn.ConvTranspose2d(nz",
        "TSL002 ConvTranspose2d(in_channels=100) but 128 arrive (input (s, 128, 1, 1))",
        r"expected input\[2, 128, 1, 1\] to have 100 channels"),
    "noise-rank": (
        DCGAN, "torch.randn(b_size, nz, 1, 1)", "torch.randn(b_size, nz)", "nn.ConvTranspose2d(nz",
        "TSL004 ConvTranspose2d takes a 3-D or 4-D input but gets a 2-D one (s, 100)",
        r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv_transpose2d, but got input of size: \[2, 100\]"),
}

# what the scripts import: a loader of two MNIST-sized images (for torch only: the linter does not see it)
LOADERS = "import torch\nmnist_loader = dataloader = [(torch.zeros(2, 1, 32, 32), torch.zeros(2))]\n"


def planted(tmp_path, name):
    fixture, original, mistake, *_ = MISTAKES[name]
    source = fixture.read_text()
    assert original in source
    path = tmp_path / fixture.name
    path.write_text(source.replace(original, mistake, 1))
    return path


@pytest.mark.parametrize("front", ["cli", "flake8"])
@pytest.mark.parametrize("name", MISTAKES)
def test_a_mistake_whatever_the_batch_is_reported_at_its_line(tmp_path, front, name):
    path = planted(tmp_path, name)
    *_, at, message, _ = MISTAKES[name]
    result = lint(front, path.name, cwd=tmp_path)
    line, column = locate(path, at)
    (only,) = result.stdout.splitlines()
    assert only.removeprefix("./").startswith(f"{path.name}:{line}:{column}: {message}"), result.stdout
    assert result.returncode == 1


@pytest.mark.parametrize("fixture", [GAN, DCGAN])
def test_the_correct_scripts_are_clean_and_checked(fixture):
    result = cli("--no-cache", "--verbose", str(fixture))
    assert result.returncode == 0, result.stdout
    # the loop's body ran the models on the noise: the layers after the view were decided on it
    assert "0 on a concrete input" not in result.stderr, result.stderr


def run_in_torch(path, monkeypatch):
    pytest.importorskip("torch")
    (path.parent / "loaders.py").write_text(LOADERS)
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.setattr(sys, "argv", [str(path)])  # argparse reads its defaults
    monkeypatch.delitem(sys.modules, "loaders", raising=False)
    runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("name", MISTAKES)
def test_torch_fails_on_each_mistake(tmp_path, monkeypatch, name):
    path = planted(tmp_path, name)
    with pytest.raises(RuntimeError, match=MISTAKES[name][-1]) as error:
        run_in_torch(path, monkeypatch)
    assert any(frame.filename == str(path) for frame in traceback.extract_tb(error.value.__traceback__))


@pytest.mark.parametrize("fixture", [GAN, DCGAN])
def test_torch_runs_the_correct_scripts(tmp_path, monkeypatch, fixture):
    path = tmp_path / fixture.name
    path.write_text(fixture.read_text())
    run_in_torch(path, monkeypatch)


# Two sizes nothing tells are not the same size: 9 * 8192 == 8 * 9216, so torch runs this with b = 9, c = 8.
TWO_UNKNOWNS = textwrap.dedent('''
    import torch
    from loaders import b, c

    x = torch.randn(b, 8192)
    y = x.view(c, 128, 9, 8)
    z = torch.cat([torch.randn(b, 4), torch.randn(c, 4)], dim=1) if b == c else x
    w = torch.randn(b, 4) + torch.randn(c, 4) if b == c else x
''')


def test_two_unknown_sizes_are_never_taken_as_equal(tmp_path, monkeypatch):
    (tmp_path / "script.py").write_text(TWO_UNKNOWNS)
    result = cli("--no-cache", "-q", "script.py", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "", result.stdout
    pytest.importorskip("torch")
    (tmp_path / "loaders.py").write_text("b, c = 9, 8\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "loaders", raising=False)
    assert tuple(runpy.run_path(str(tmp_path / "script.py"))["y"].shape) == (8, 128, 9, 8)


def test_fresh_sizes_are_each_their_own():
    a, b = dims.fresh("s"), dims.fresh("s")
    assert a != b and str(a) == str(b) == "s"
    assert dims.can_equal(dims.multiply(a, 8192), dims.multiply(b, 9216)) is None  # 9 * 8192 == 8 * 9216
    assert dims.can_equal(dims.multiply(a, 8192), dims.multiply(a, 9216)) is False
    grown = dims.apply_formula(a, partial(formulas.pad, before=1, after=0), "pad")  # s + 1
    assert dims.shifts(grown, b) is None and not dims.differ_by_a_shift(grown, b)
    assert dims.differ_by_a_shift(grown, a)
