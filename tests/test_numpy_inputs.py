"""A GAN script as PyTorch-GAN writes it: the noise is a NumPy array (`np.random.normal(0, 1, (batch, latent_dim))`)
made a tensor by a legacy type chosen by device (`Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor`,
`cuda` not known statically). Both branches name constructors of the same shape, so the generator is run on the
noise's shape: a wrong layer is reported, the correct script is clean, and torch agrees on both."""

import textwrap

import pytest

from conftest import cli, lint, locate

SCRIPT = textwrap.dedent('''
    import numpy as np
    import torch
    import torch.nn as nn
    from torch.autograd import Variable

    cuda = True if torch.cuda.is_available() else False
    batch_size, latent_dim, img_size = 16, 100, 28


    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Linear(latent_dim, 128),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(128, 256),
                nn.BatchNorm1d(256),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(256, img_size * img_size),
                nn.Tanh(),
            )

        def forward(self, z):
            return self.model(z).view(z.size(0), 1, img_size, img_size)


    generator = Generator()
    if cuda:
        generator.cuda()
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
    z = Variable(Tensor(np.random.normal(0, 1, (batch_size, latent_dim))))
    gen_imgs = generator(z)
    critic = nn.Linear(img_size * img_size, 1)
    validity = critic(gen_imgs.type(Tensor).view(batch_size, -1))
''')
WRONG = ("nn.Linear(128, 256),", "nn.Linear(100, 256),")
WRONG_CRITIC = ("nn.Linear(img_size * img_size, 1)", "nn.Linear(img_size * 2, 1)")


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_a_wrong_layer_fed_by_numpy_noise_is_reported(tmp_path, front):
    (tmp_path / "gan.py").write_text(SCRIPT.replace(*WRONG))
    result = lint(front, "gan.py", cwd=tmp_path)
    line, column = locate(tmp_path / "gan.py", "nn.Linear(100, 256)")
    (only,) = result.stdout.splitlines()
    # by hand: the first Linear gives 128 features, the second declares 100
    assert only.removeprefix("./").startswith(f"gan.py:{line}:{column}: TSL001 Linear(in_features=100) but 128 "
                                              "features arrive: input (16, 100)"), result.stdout
    assert result.returncode == 1


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_an_installed_numpy_beside_the_script_is_not_read_for_its_source(tmp_path, front):
    # a script checked where NumPy's own package is found beside it (in site-packages, say): NumPy's source builds
    # its names from compiled modules the evaluator cannot follow, so the overlay's np.random.normal holds, and the
    # classifier, whose only input is the noise, is still checked on it
    (tmp_path / "numpy").mkdir()
    (tmp_path / "numpy" / "__init__.py").write_text("from ._core import *\nfrom . import random\n")
    (tmp_path / "numpy" / "random.py").write_text("from ._mtrand import normal\n")
    (tmp_path / "noise.py").write_text(textwrap.dedent("""
        import numpy as np
        import torch
        import torch.nn as nn

        noise = torch.from_numpy(np.random.normal(0, 1, (4, 10))).float()
        classifier = nn.Linear(12, 3)
        classifier(noise)
    """))
    result = lint(front, "noise.py", cwd=tmp_path)
    line, column = locate(tmp_path / "noise.py", "nn.Linear(12, 3)")
    (only,) = result.stdout.splitlines()
    # by hand: (4, 10) noise, the Linear declares 12 (torch: mat1 and mat2 shapes cannot be multiplied (4x10 and 12x3))
    assert only.removeprefix("./").startswith(f"noise.py:{line}:{column}: TSL001 Linear(in_features=12) but 10 "), \
        result.stdout


def test_a_tensor_cast_by_its_type_keeps_its_shape(tmp_path):
    (tmp_path / "gan.py").write_text(SCRIPT.replace(*WRONG_CRITIC))
    result = lint("cli", "gan.py", cwd=tmp_path)
    line, column = locate(tmp_path / "gan.py", "nn.Linear(img_size * 2, 1)")
    (only,) = result.stdout.splitlines()
    # by hand: the generator gives (16, 1, 28, 28); viewed as (16, -1) that is 784 features, the critic declares 56
    assert only.startswith(f"gan.py:{line}:{column}: TSL001 Linear(in_features=56) but 784 features arrive"), \
        result.stdout


def test_the_correct_script_is_clean_and_checked_on_the_noise(tmp_path):
    (tmp_path / "gan.py").write_text(SCRIPT)
    result = cli("--no-cache", "--verbose", "gan.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "gan.py:15: checked Linear(in_features=100): 100 arrive in <module> — agrees" in result.stdout, \
        result.stdout
    assert "checked Linear(in_features=784): 784 arrive in <module> — agrees" in result.stdout, result.stdout


@pytest.mark.parametrize("wrong, error", [
    (None, None),
    (WRONG, r"mat1 and mat2 shapes cannot be multiplied \(16x128 and 100x256\)"),
    (WRONG_CRITIC, r"mat1 and mat2 shapes cannot be multiplied \(16x784 and 56x1\)"),
])
def test_torch_agrees(wrong, error):
    pytest.importorskip("torch")
    source = SCRIPT.replace(*wrong) if wrong else SCRIPT
    namespace: dict = {}
    if wrong:
        with pytest.raises(RuntimeError, match=error):
            exec(compile(source, "gan.py", "exec"), namespace)
    else:
        exec(compile(source, "gan.py", "exec"), namespace)
        assert tuple(namespace["gen_imgs"].shape) == (16, 1, 28, 28)
