"""Training scripts laid out as real projects are (fixtures/projects/): sizes from argparse defaults, a config dict,
torchvision's datasets and DataLoader. Each planted mistake is reported at its line through flake8 (per file) and
the command line (per tree), the corrected script is clean, and torch agrees: the model built on the script's defaults
fails on a batch of the dataset's shape (and runs once corrected)."""

import runpy
import sys

import pytest

from conftest import ROOT, cli, flake8, locate

PROJECTS = ROOT / "fixtures" / "projects"

# project file → (code, where the finding stands, the correction: (old, new) replaced once)
CASES = {
    "mnist_mlp/train.py": ("TSL001", "nn.Linear(input_size, hidden_size)", ("default=32 * 32", "default=28 * 28")),
    "cifar_cnn/train.py": ("TSL010", "x.view(BATCH_SIZE", ("x.view(BATCH_SIZE,", "x.view(x.size(0),")),
    "mlp_gan/gan.py": ("TSL001", "nn.Linear(opt.img_size ** 2 * 3, 512)",
                       ("opt.img_size ** 2 * 3", "int(np.prod(img_shape))")),
    "dcgan_config/train.py": ("TSL002", 'nn.BatchNorm2d(params["ngf"] * 2)',
                              ('self.bn2 = nn.BatchNorm2d(params["ngf"] * 2)',
                               'self.bn2 = nn.BatchNorm2d(params["ngf"] * 4)')),
}


def expected_location(name):
    code, needle, _ = CASES[name]
    line, column = locate(PROJECTS / name, needle)
    return f"fixtures/projects/{name}:{line}:{column}: {code} "


@pytest.mark.parametrize("name", sorted(CASES))
def test_flake8_reports_the_mistake_at_its_line(name):
    result = flake8(f"fixtures/projects/{name}")
    assert [line[:len(expected_location(name))] for line in result.stdout.splitlines()] == [expected_location(name)]


def test_the_command_line_reports_each_project_once():
    result = cli("--no-cache", "fixtures/projects/mnist_mlp", "fixtures/projects/cifar_cnn",
                 "fixtures/projects/mlp_gan", "fixtures/projects/dcgan_config")
    found = sorted(line[:len(expected_location(name))] for line in result.stdout.splitlines() for name in CASES
                   if line.startswith(f"fixtures/projects/{name}:"))
    assert found == sorted(expected_location(name) for name in CASES) and result.returncode == 1, result.stdout


def test_the_messages_say_what_they_assumed():
    result = cli("--no-cache", "fixtures/projects/mnist_mlp/train.py", "fixtures/projects/mlp_gan/gan.py",
                 "fixtures/projects/cifar_cnn/train.py")
    mlp, gan, cifar = (next(line for line in result.stdout.splitlines() if line.startswith(f"fixtures/projects/{p}"))
                       for p in ("mnist_mlp", "mlp_gan", "cifar_cnn"))
    assert "but 784 features arrive: input (100, 1, 28, 28)" in mlp
    assert mlp.endswith("(with the default `--input_size 1024`) [in 2 builds]")
    assert "Linear(in_features=2352) but 784 features arrive" in gan and "`--img_size 28`" in gan
    assert "CIFAR10(train=True) has 50000 = 390 × 128 + 80 samples" in cifar  # 390 * 128 + 80 = 50000


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_corrected_script_is_clean(name, tmp_path):
    _, _, (old, new) = CASES[name]
    text = (PROJECTS / name).read_text()
    assert text.count(old) == 1
    script = tmp_path / name
    script.parent.mkdir()
    script.write_text(text.replace(old, new))
    assert flake8(name, cwd=tmp_path).stdout == ""
    result = cli("--no-cache", ".", cwd=tmp_path)
    assert (result.stdout, result.returncode) == ("", 0)


# ---- torch's verdicts: the models built on the scripts' defaults, fed batches of their datasets' shapes ------

torch = pytest.importorskip("torch")


def script_names(path, monkeypatch, tmp_path, text=None):
    """The script's names as an import makes them (its __main__ block does not run), run without options."""
    monkeypatch.chdir(tmp_path)  # the GAN script makes an images/ folder
    monkeypatch.setattr(sys, "argv", [str(path)])
    if text is not None:
        path = tmp_path / "corrected.py"
        path.write_text(text)
    return runpy.run_path(str(path), run_name="script")


def last_batch(length, batch_size):
    *_, (last,) = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.empty(length, 0)),
                                              batch_size=batch_size)
    return last.shape[0]


def run_mnist_mlp(names):
    args = names["args"]
    model = names["NeuralNet"](args.input_size, args.hidden_size, args.num_classes)
    model(torch.randn(args.batch_size, 1, 28, 28).reshape(-1, 28 * 28))  # MNIST: 1x28x28 digits


def run_cifar_cnn(names):
    net = names["Net"]()
    net(torch.randn(names["BATCH_SIZE"], 3, 32, 32))  # a full batch of CIFAR-10 runs
    net(torch.randn(last_batch(50000, names["BATCH_SIZE"]), 3, 32, 32))


def run_mlp_gan(names):
    opt = names["opt"]
    imgs = names["Generator"]()(torch.randn(opt.batch_size, opt.latent_dim))
    names["Discriminator"]()(imgs)


def run_dcgan_config(names):
    params = names["params"]
    names["Generator"](params)(torch.randn(64, params["nz"], 1, 1))
    names["Discriminator"](params)(torch.randn(params["bsize"], params["nc"], params["imsize"], params["imsize"]))


RUNS = {"mnist_mlp/train.py": (run_mnist_mlp, r"100x784 and 1024x500"),
        "cifar_cnn/train.py": (run_cifar_cnn, r"shape '\[128, 400\]' is invalid for input of size 32000"),
        "mlp_gan/gan.py": (run_mlp_gan, r"64x784 and 2352x512"),
        "dcgan_config/train.py": (run_dcgan_config, r"running_mean should contain 256 elements not 128")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_fails_where_the_finding_is_and_runs_once_corrected(name, monkeypatch, tmp_path):
    run, error = RUNS[name]
    path = PROJECTS / name
    with pytest.raises(RuntimeError, match=error):
        run(script_names(path, monkeypatch, tmp_path))
    _, _, (old, new) = CASES[name]
    run(script_names(path, monkeypatch, tmp_path, path.read_text().replace(old, new)))
