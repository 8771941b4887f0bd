"""Pragmas and inputs mean what the user wrote: where a pragma stands, what it applies to, how a short shape is
read, what a run-wide default of another rank means, and what is said when a pragma applies to nothing.

Each model's failure is checked in torch itself; numbers in the messages are written by hand from the layers."""

import pytest

from conftest import FIXTURES, cli, flake8, locate

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"

LENET = HEAD + '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


'''


def lint(tmp_path, source, *args):
    (tmp_path / "m.py").write_text(source)
    result = cli("--no-cache", *args, "m.py", cwd=tmp_path)
    return result, (tmp_path / "m.py")


def fails_in_torch(source, build, shape):
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(compile(source, "m.py", "exec"), namespace)  # not as __main__: its usage does not run
    with pytest.raises(RuntimeError):
        eval(build, namespace)(torch.zeros(shape))


# ---- above a class: every build of it ------------------------------------------------------------------------

CLASSIFIER = HEAD + '''# torchshape: input=(1, 3, 32, 32)
class Classifier(nn.Module):
    def __init__(self, features, num_classes=10):
        super().__init__()
        self.features = features
        self.fc = nn.Linear(16 * 8 * 8, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


'''


@pytest.mark.parametrize("build", [
    "model = Classifier(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2)))\n",
    'if __name__ == "__main__":\n'
    "    model = Classifier(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2)))\n",
    "def small():\n    return Classifier(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2)))\n",
])
def test_a_class_pragma_applies_to_every_build_of_it(tmp_path, build):
    source = CLASSIFIER + build
    result, path = lint(tmp_path, source)
    line, col = locate(path, "nn.Linear(16 * 8 * 8")
    # 32 -pool2-> 16: 16 * 16 * 16 = 4096 features, not 1024
    assert result.stdout.startswith(f"m.py:{line}:{col}: TSL001 Linear(in_features=1024) but 4096 features arrive: "
                                    "input (1, 3, 32, 32)"), result.stdout
    assert len(result.stdout.splitlines()) == 1 and result.returncode == 1
    fails_in_torch(source, "Classifier(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2)))",
                   (1, 3, 32, 32))
    right = source.replace("nn.MaxPool2d(2)))", "nn.MaxPool2d(4)))")  # 32 -pool4-> 8: right
    assert lint(tmp_path, right)[0].stdout == ""


# ---- above an assignment: the value of that statement ----------------------------------------------------------


@pytest.mark.parametrize("later", [
    "from torchvision import models\n\nmodel = models.alexnet()\n",
    "use_gpu = torch.cuda.is_available()\nif use_gpu:\n    model = model.cuda()\n",
])
def test_an_assignment_pragma_binds_to_that_statements_value(tmp_path, later):
    source = LENET + "# torchshape: input=(64, 1, 28, 28)\nmodel = Net()\n" + later
    result, path = lint(tmp_path, source)
    line, col = locate(path, "nn.Linear(16 * 5 * 5")
    # 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4: 16 * 4 * 4 = 256 features
    assert result.stdout.startswith(f"m.py:{line}:{col}: TSL001 Linear(in_features=400) but 256 features arrive: "
                                    "input (64, 1, 28, 28)"), result.stdout
    assert len(result.stdout.splitlines()) == 1
    fails_in_torch(LENET, "Net()", (64, 1, 28, 28))


# ---- short shapes ------------------------------------------------------------------------------------------------


def test_a_two_dimensional_pragma_is_the_shape_a_first_linear_reads(tmp_path):
    source = HEAD + ("# torchshape: input=(64, 20)\n"
                     "block = nn.Sequential(nn.Linear(20, 512), nn.BatchNorm1d(256), nn.ReLU())\n")
    result, path = lint(tmp_path, source)
    line, col = locate(path, "nn.BatchNorm1d(256)")
    assert result.stdout.startswith(f"m.py:{line}:{col}: TSL002 BatchNorm1d(num_features=256) but 512 arrive "
                                    "(input (64, 20); Linear (64, 512))"), result.stdout
    assert len(result.stdout.splitlines()) == 1
    fails_in_torch(source, "block", (64, 20))
    assert lint(tmp_path, source.replace("BatchNorm1d(256)", "BatchNorm1d(512)"))[0].stdout == ""


def test_a_three_dimensional_pragma_is_the_shape_a_first_batchnorm1d_reads(tmp_path):
    source = HEAD + ("# torchshape: input=(2, 1, 36)\n"
                     "signal = nn.Sequential(nn.BatchNorm1d(36), nn.ReLU())\n")
    result, path = lint(tmp_path, source)
    line, col = locate(path, "nn.BatchNorm1d(36)")
    # (N, C, L) = (2, 1, 36): one channel, not 36
    assert result.stdout.splitlines() == [
        f"m.py:{line}:{col}: TSL002 BatchNorm1d(num_features=36) but 1 arrive (input (2, 1, 36)); use 1"]
    fails_in_torch(source, "signal", (2, 1, 36))
    assert lint(tmp_path, source.replace("BatchNorm1d(36)", "BatchNorm1d(1)"))[0].stdout == ""


def test_a_rank_the_first_layer_cannot_read_leaves_the_batch_out(tmp_path):
    """(36,) is not a BatchNorm1d input; (N, 36) is: the batch was left out."""
    source = HEAD + "# torchshape: input=(36,)\nnorm = nn.Sequential(nn.BatchNorm1d(36), nn.ReLU())\n"
    assert lint(tmp_path, source)[0].stdout == ""
    torch = pytest.importorskip("torch")
    assert torch.nn.BatchNorm1d(36)(torch.zeros(4, 36)).shape == (4, 36)


# ---- the run-wide default ----------------------------------------------------------------------------------------


def test_a_default_without_its_batch_is_read_as_a_pragma_is():
    line, col = locate(FIXTURES / "vgg_no_avgpool.py", "nn.Linear(512 * 7 * 7")
    for run in (lambda: cli("--no-cache", "--input-shape", "3,32,32", "fixtures/vgg_no_avgpool.py"),
                lambda: flake8("--torchshape-input-shape=3,32,32", "fixtures/vgg_no_avgpool.py")):
        result = run()
        assert result.stdout.startswith(f"fixtures/vgg_no_avgpool.py:{line}:{col}: TSL001 Linear(in_features=25088) "
                                        "but 512 features arrive: input (N, 3, 32, 32)"), result.stdout
        assert result.returncode == 1


def test_a_short_default_means_the_sizes_it_writes():
    """`1,3,32` on a 2-d model: one sample of 3x32 (the channels from the first conv); VGG's five pools cannot
    halve a height of 3."""
    result = cli("--no-cache", "--input-shape", "1,3,32", "fixtures/vgg_no_avgpool.py")
    assert result.returncode == 1 and " TSL003 MaxPool2d gets size 1 " in result.stdout, result.stdout
    torch = pytest.importorskip("torch")
    import runpy

    with torch.device("meta"), pytest.raises(RuntimeError, match="too small"):
        runpy.run_path(str(FIXTURES / "vgg_no_avgpool.py"))["vgg11"]().features(torch.zeros(1, 3, 3, 32))


@pytest.mark.parametrize("shape, dims", [("5", "1 dimension"), ("1,1,1,1,1,1", "6 dimensions")])
def test_a_default_no_model_can_read_stops_the_run(shape, dims):
    result = cli("--no-cache", "--input-shape", shape, "fixtures/vgg_no_avgpool.py")
    assert result.returncode == 2 and result.stdout == ""
    assert f"--input-shape: '{shape}' has {dims}; a default input has 2 to 5" in result.stderr


# ---- pragmas that apply to nothing -------------------------------------------------------------------------------

MODEL = "model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))\n"


@pytest.mark.parametrize("source, needle, code, problem", [
    (HEAD + "# torchshape: input=(1, 3, 32, 32)\n\n" + MODEL, "# torchshape", "TSL905",
     "applies to nothing: a blank line separates it from line 8"),
    (HEAD + "class Net(nn.Module):  # torchshape: input=(1, 3, 32, 32)\n    pass\n", "# torchshape", "TSL905",
     "applies to nothing: it shares its line with code"),
    (HEAD + "# torchshape input=(1, 3, 32, 32)\n" + MODEL, "# torchshape", "TSL904",
     "is ignored: a pragma needs a colon after `torchshape`"),
    (HEAD + "def build():\n    # torchshape: input=(1, 3, 32, 32)\n    " + MODEL + "    return model\n",
     "# torchshape", "TSL905", "applies to nothing: it is not directly above a class, a function or an assignment"),
    (HEAD + "# torchshape: input=(1, 3, 32, 32)\ndef build(width):\n    return nn.Conv2d(3, width, 3)\n",
     "# torchshape", "TSL905", "applies to nothing: build() needs arguments"),
])
def test_a_pragma_that_applies_to_nothing_is_said_at_its_line(tmp_path, source, needle, code, problem):
    result, path = lint(tmp_path, source)
    line, col = locate(path, needle)
    assert result.stdout.splitlines()[0].startswith(f"m.py:{line}:{col}: {code} pragma `"), result.stdout
    assert problem in result.stdout and result.returncode == 1
    assert flake8("m.py", cwd=tmp_path).stdout.startswith(f"m.py:{line}:{col}: {code} ")


@pytest.mark.parametrize("source", [
    HEAD + "# torchshape: input=(1, 3, 32, 32)\n" + MODEL,  # directly above an assignment
    HEAD + "# torchshape: input=(1, 3, 32, 32)\ndef build():\n    return nn.Conv2d(3, 8, 3)\n",  # a builder
    HEAD + "@torch.no_grad()\n# torchshape: input=(1, 3, 32, 32)\ndef build():\n    return nn.Conv2d(3, 8, 3)\n",
    HEAD + "# torchshape: input=(1, 3, 32, 32)\n@torch.no_grad()\ndef build():\n    return nn.Conv2d(3, 8, 3)\n",
])
def test_a_well_placed_pragma_is_silent_on_a_right_model(tmp_path, source):
    result, _ = lint(tmp_path, source)
    assert (result.returncode, result.stdout) == (0, "")
    wrong, _ = lint(tmp_path, source.replace("(1, 3, 32, 32)", "(1, 1, 32, 32)"))  # the pragma is used: 1 channel
    assert " TSL002 Conv2d(in_channels=3) but 1 arrive" in wrong.stdout
