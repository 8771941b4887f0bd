"""A class that no build of its file makes, whose constructor needs arguments, is built on its own with each required
parameter a positive symbolic size (`planes`): what is wrong for every value is reported, what is right for some value
is not. Also the forms that left GAN files' layers undecided: a ReflectionPad2d on the model's input,
`out.view(out.shape[0], 128, 8, 8)` after a Linear whose batch is not known, `img.view(img.shape[0], -1)` of the input. Expected results are PyTorch's own."""

import runpy

import pytest

from conftest import FIXTURES, lint, locate, plant, cli
from torchshape_lint.shapes import dims

BLOCKS = FIXTURES / "parameters" / "blocks.py"
GENERATORS = FIXTURES / "parameters" / "generators.py"
# the values each block is tried with in torch: (constructor arguments, input shape)
BLOCK_VALUES = {"SEBlock": [((16, 32), (2, 16, 8, 8)), ((32, 32), (2, 32, 8, 8)), ((64, 64, 2), (2, 64, 8, 8))],
                "Head": [((3, 8, 10), (2, 3, 8, 8)), ((16, 32, 5), (2, 16, 4, 4))]}
# a mistake, where a user sees it (the text whose line and column the finding names), the message's start
WRONG_FOR_EVERY_VALUE = [
    ("self.bn2 = nn.BatchNorm2d(planes)", "self.bn2 = nn.BatchNorm2d(planes * 2)", "nn.BatchNorm2d(planes * 2)",
     "TSL002 BatchNorm2d(num_features=2*planes) but planes arrive for every input (",
     "(for every value of its parameters `planes`)"),
    ("nn.Linear(channels, num_classes)", "nn.Linear(channels * 4, num_classes)", "nn.Linear(channels * 4",
     "TSL001 Linear(in_features=4*channels) but channels features arrive (",
     "(for every value of its parameters `channels`)"),
]
# mistakes that are right for some values (in_planes == planes; channels == num_classes): nothing is reported
RIGHT_FOR_SOME_VALUE = [
    ("self.conv2 = nn.Conv2d(planes, planes,", "self.conv2 = nn.Conv2d(in_planes, planes,", "SEBlock", (32, 32)),
    ("nn.Linear(channels, num_classes)", "nn.Linear(num_classes, num_classes)", "Head", (3, 8, 8)),
]


def torch_failures(path, name, values):
    """For each value of the block's arguments, torch's error when it is built and run, or None where it runs."""
    torch = pytest.importorskip("torch")
    namespace = runpy.run_path(str(path))
    failures = []
    for arguments, shape in values:
        try:
            with torch.no_grad():
                namespace[name](*arguments).eval()(torch.zeros(shape))
            failures.append(None)
        except RuntimeError as error:
            failures.append(str(error).splitlines()[0])
    return failures


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_blocks_as_written_are_clean_and_run_in_torch(front):
    result = lint(front, str(BLOCKS))
    assert (result.stdout, result.returncode) == ("", 0)
    for name, values in BLOCK_VALUES.items():
        assert torch_failures(BLOCKS, name, values) == [None] * len(values)


def test_verbose_says_each_check_is_for_every_value_of_the_parameters():
    result = cli("--no-cache", "--verbose", str(BLOCKS.relative_to(FIXTURES.parent)))
    lines = result.stdout.splitlines()
    for needle, check in [("self.bn2 = nn.BatchNorm2d(planes)", "checked BatchNorm2d(num_features=planes): planes"),
                          ("nn.Conv2d(planes // 16, planes", "checked Conv2d(in_channels=planes//16): planes//16"),
                          ("nn.Linear(channels, num_classes)", "checked Linear(in_features=channels): channels")]:
        line, _ = locate(BLOCKS, needle)
        assert f"fixtures/parameters/blocks.py:{line}: {check} arrive in " + \
               ("SEBlock" if "planes" in check else "Head") + " — agrees" in lines
    line, _ = locate(BLOCKS, "class SEBlock")
    assert (f"fixtures/parameters/blocks.py:{line}: SEBlock checked on symbolic sizes only, for every value of its "
            "parameters in_planes, planes: no concrete input reached it") in lines


@pytest.mark.parametrize("front", ["cli", "flake8"])
@pytest.mark.parametrize("original, mistake, where, message, values", WRONG_FOR_EVERY_VALUE,
                         ids=["batchnorm", "linear"])
def test_a_mistake_wrong_for_every_value_is_reported_where_torch_raises(front, original, mistake, where, message,
                                                                        values, tmp_path):
    path = plant(BLOCKS, original, mistake, tmp_path / "blocks.py")
    name = "SEBlock" if "planes" in mistake else "Head"
    assert None not in torch_failures(path, name, BLOCK_VALUES[name])  # torch raises for every value tried
    line, column = locate(path, where)
    result = lint(front, str(path))
    assert result.returncode == 1
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"{path}:{line}:{column}: {message}") and finding.endswith(values)


@pytest.mark.parametrize("front", ["cli", "flake8"])
@pytest.mark.parametrize("original, mistake, name, right", RIGHT_FOR_SOME_VALUE, ids=["residual", "head"])
def test_a_mistake_right_for_some_value_stays_silent(front, original, mistake, name, right, tmp_path):
    path = plant(BLOCKS, original, mistake, tmp_path / "blocks.py")
    shape = (2, right[0], 8, 8)
    assert torch_failures(path, name, [(right, shape)]) == [None]  # right for these values
    assert None not in torch_failures(path, name, BLOCK_VALUES[name][:1])  # wrong for others
    result = lint(front, str(path))
    assert (result.stdout, result.returncode) == ("", 0)


def test_a_parameter_used_as_a_float_is_not_a_size(tmp_path):
    """`int(64 * ratio)` says `ratio` may be a float: the Linear after it is right for ratio 0.5, so nothing follows."""
    path = tmp_path / "ratio.py"
    path.write_text("import torch.nn as nn\n\n\nclass Squeeze(nn.Module):\n    def __init__(self, ratio):\n"
                    "        super().__init__()\n        self.down = nn.Linear(64, int(64 * ratio))\n"
                    "        self.up = nn.Linear(32, 64)\n\n    def forward(self, x):\n"
                    "        return self.up(self.down(x))\n")
    assert torch_failures(path, "Squeeze", [((0.5,), (2, 64))]) == [None]
    result = lint("cli", str(path))
    assert (result.stdout, result.returncode) == ("", 0)


# (original, mistake, model, its input in torch, what the finding says); each layer is decided only through the
# form named
GENERATOR_MISTAKES = [
    ("nn.BatchNorm2d(64),", "nn.BatchNorm2d(32),", "Generator", (2, 100),  # after out.view(out.shape[0], 128, 8, 8)
     "TSL002 BatchNorm2d(num_features=32) but 64 arrive"),
    ("nn.Conv2d(64, 128, 3, stride=2", "nn.Conv2d(32, 128, 3, stride=2", "ResNetGenerator", (2, 3, 32, 32),
     "TSL002 Conv2d(in_channels=32) but 64 arrive"),  # after a ReflectionPad2d
    ("nn.Linear(512, 256)", "nn.Linear(256, 256)", "Discriminator", (2, 1, 28, 28),  # after img.view(img.shape[0], -1)
     "TSL001 Linear(in_features=256) but 512 features arrive"),
]


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_generators_as_written_are_clean(front):
    result = lint(front, str(GENERATORS))
    assert (result.stdout, result.returncode) == ("", 0)
    torch = pytest.importorskip("torch")
    namespace = runpy.run_path(str(GENERATORS))
    with torch.no_grad():
        assert namespace["Generator"]().eval()(torch.zeros(2, 100)).shape == (2, 3, 16, 16)
        assert namespace["ResNetGenerator"]().eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 128, 16, 16)
        assert namespace["Discriminator"]().eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 1)


@pytest.mark.parametrize("front", ["cli", "flake8"])
@pytest.mark.parametrize("original, mistake, model, shape, message", GENERATOR_MISTAKES,
                         ids=["view-unknown-batch", "reflection-pad", "view-flatten"])
def test_generator_mistakes_are_found(front, original, mistake, model, shape, message, tmp_path):
    path = plant(GENERATORS, original, mistake, tmp_path / "generators.py")
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="running_mean should contain 64 elements not 32|to have 32 channels|2x512 and 256x256"):
        with torch.no_grad():
            runpy.run_path(str(path))[model]().eval()(torch.zeros(shape))
    line, column = locate(path, mistake)
    result = lint(front, str(path))
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"{path}:{line}:{column}: {message}")


def test_symbolic_declared_sizes():
    """A declared size that is a constructor's parameter: the same function agrees for every value; shared factors
    divide out (each is at least 1), and what is left is decided where one side is a number."""
    n, m = dims.parameter("n"), dims.parameter("m")
    assert dims.can_equal(n, n) is True
    assert dims.can_equal(n, dims.multiply(n, 2)) is False
    assert dims.can_equal(dims.multiply(n, 16), dims.multiply(n, 49)) is False
    assert dims.can_equal(dims.multiply(n, m), n) is True  # m = 1
    assert dims.can_equal(dims.multiply(n, 2), dims.multiply(m, 3)) is None  # n = 3, m = 2
    assert dims.can_equal(n, dims.symbol("N")) is None  # a parameter is never the input's size
    assert dims.can_equal(64, dims.multiply(n, 3)) is False and dims.can_equal(63, dims.multiply(n, 3)) is True


def test_explain_says_the_block_is_built_with_its_parameters():
    result = cli("explain", "fixtures/parameters/blocks.py::SEBlock")
    assert result.stdout.splitlines()[0] == (
        "fixtures/parameters/blocks.py::SEBlock: input (N, in_planes, H, W) symbolic: any batch and size; "
        "built with in_planes, planes each any positive int")
    assert result.returncode == 0
