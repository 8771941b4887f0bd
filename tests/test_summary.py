"""The run summary and the progress line on stderr, --quiet, and what --verbose says was not checked.

Counts are by hand: a "layer check" is one declared size (Conv2d in_channels, Linear in_features) compared with what
arrives, once per build that reaches the layer. The tutorial LeNet below declares five (conv1, conv2, fc1, fc2, fc3).
"""

import json
import os
import pty
import re
import shutil
import subprocess
import sys

from conftest import FIXTURES, ROOT, cli

LENET = '''import torch
import torch.nn as nn
import torch.nn.functional as F

{pragma}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear({in_features}, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
'''
PRAGMA = "# torchshape: input=(4, 3, 32, 32)"
TIME = re.compile(r" in \d+\.\d\d s$")
HINT = ("give an input with `# torchshape: input=(1, 3, 224, 224)` on the line above the class, or --input-shape "
        "(--verbose names them)")


def lenet(tmp_path, name="net.py", pragma=PRAGMA, in_features="16 * 5 * 5"):
    (tmp_path / name).write_text(LENET.format(pragma=pragma, in_features=in_features))
    return name


def summary(result) -> list:
    """stderr's lines with the run time taken off the first (the one number a test cannot know)."""
    lines = result.stderr.splitlines()
    assert TIME.search(lines[0]), result.stderr
    return [TIME.sub("", lines[0])] + lines[1:]


def test_a_clean_run_says_what_it_checked_and_no_findings(tmp_path):
    result = cli("--no-cache", lenet(tmp_path), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert summary(result) == ["Checked 1 file (1 with models), 1 model (1 on a concrete input, 0 symbolic only): "
                               "5 layer checks decided, 0 unknown; no findings"]


def test_a_buggy_run_counts_the_finding_and_that_fix_can_fix_it():
    """LeNet at 28x28 run by its own __main__ block: the usage run and Net's own build (symbolic, as the file runs it on
    an input of its own) each decide the five sizes; the finding is proven on the usage's concrete input."""
    result = cli("--no-cache", "fixtures/lenet_mnist.py")
    assert result.returncode == 1 and result.stdout.count("TSL001") == 1
    assert summary(result) == ["Checked 1 file (1 with models), 1 model (1 on a concrete input, 0 symbolic only): "
                               "10 layer checks decided, 0 unknown; 1 finding (1 fixable)"]


def test_layers_only_the_files_own_code_runs_count_as_a_model(tmp_path):
    """make() needs an argument, so it is no build of its own; the module-level run of make(8) is the model:
    Conv2d(in_channels=3) gets 3, BatchNorm2d(16) gets 8 * 2 = 16, two checks decided on a concrete input."""
    (tmp_path / "m.py").write_text(
        "import torch\nimport torch.nn as nn\n\n\ndef make(width):\n"
        "    return nn.Sequential(nn.Conv2d(3, width * 2, 3), nn.BatchNorm2d(16))\n\n\n"
        "make(8)(torch.zeros(1, 3, 8, 8))\n")
    result = cli("--no-cache", "m.py", cwd=tmp_path)
    assert summary(result) == ["Checked 1 file (1 with models), 1 model (1 on a concrete input, 0 symbolic only): "
                               "2 layer checks decided, 0 unknown; no findings"]


def test_a_model_on_symbolic_sizes_only_is_said_so_with_how_to_give_an_input(tmp_path):
    name = lenet(tmp_path, pragma="")
    result = cli("--no-cache", name, cwd=tmp_path)
    assert summary(result) == [
        "Checked 1 file (1 with models), 1 model (0 on a concrete input, 1 symbolic only): 5 layer checks decided, "
        "0 unknown; no findings", f"1 model had no concrete input, only symbolic sizes: {HINT}"]
    given = cli("--no-cache", "--input-shape", "1,3,32,32", name, cwd=tmp_path)
    assert summary(given)[0].startswith("Checked 1 file (1 with models), 1 model (1 on a concrete input, 0 symbolic")


def test_tensor_ops_of_a_constructor_are_not_the_models_input(tmp_path):
    """Swin's relative position index, a positional encoding: ops its constructor runs on tensors of its own
    (`torch.arange(7)`) say nothing of the input the model ran on. Without a pragma the model is still on symbolic
    sizes only (it counted as run on a concrete input, that arange's), and explain's input is the pragma's."""
    source = LENET.replace("        self.conv1 = ", """        coords = torch.stack(torch.meshgrid(torch.arange(7), torch.arange(7), indexing="ij"))
        self.register_buffer("index", torch.flatten(coords, 1).sum(0))
        self.conv1 = """)
    (tmp_path / "net.py").write_text(source.format(pragma="", in_features="16 * 5 * 5"))
    result = cli("--no-cache", "net.py", cwd=tmp_path)
    assert summary(result) == [
        "Checked 1 file (1 with models), 1 model (0 on a concrete input, 1 symbolic only): 5 layer checks decided, "
        "0 unknown; no findings", f"1 model had no concrete input, only symbolic sizes: {HINT}"]
    (tmp_path / "given.py").write_text(source.format(pragma=PRAGMA, in_features="16 * 5 * 5"))
    explained = cli("explain", "given.py", cwd=tmp_path).stdout.splitlines()
    assert explained[0] == "given.py::Net: input (4, 3, 32, 32) from its `# torchshape: input=` pragma"
    assert [row.split()[1] for row in explained[2:4]] == ["torch.stack", "torch.flatten"]  # the constructor's, shown
    # a script's own run: its input is what the script gives the model
    (tmp_path / "script.py").write_text(source.format(pragma="", in_features="16 * 5 * 5")
                                        + "\n\nNet()(torch.zeros(2, 3, 32, 32))\n")
    explained = cli("explain", "script.py", cwd=tmp_path).stdout.splitlines()
    assert explained[0] == "script.py::<module>: input (2, 3, 32, 32) from its use in the file"


def test_verbose_names_the_model_with_no_input_and_the_input_its_linear_implies(tmp_path):
    """fc1 wants 16*h*w = 400, so h*w = 25. With conv 5, pool 2, conv 5, pool 2: h = floor((floor((H-4)/2)-4)/2).
    h = 5 needs floor((H-4)/2) in 14..15, H in 32..35; h = 1 needs it in 6..7, H in 16..19; h = 25, in 54..55,
    H in 112..115. The squarest split (5x5) comes first."""
    name = lenet(tmp_path, pragma="")
    result = cli("--no-cache", "--verbose", "--quiet", name, cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert f"{name}:6: Net checked on symbolic sizes only: no concrete input reached it" in lines
    assert (f"{name}:11: Linear(in_features=400) in Net implies an input with H in 32..35, W in 32..35; "
            "or H in 16..19, W in 112..115; or H in 112..115, W in 16..19") in lines
    with_input = cli("--no-cache", "--verbose", "--quiet", lenet(tmp_path, "given.py"), cwd=tmp_path).stdout
    assert "symbolic sizes only" not in with_input and "implies an input" not in with_input


def test_verbose_gives_the_reason_a_build_stopped():
    lines = cli("--no-cache", "--verbose", "--quiet", "fixtures/vgg.py").stdout.splitlines()
    assert "fixtures/vgg.py: skipped VGG: its constructor needs arguments" in lines


def test_a_model_whose_build_stops_is_counted_as_stopped_not_as_checked(tmp_path):
    (tmp_path / "stops.py").write_text(
        "import torch.nn as nn\n\n\n# torchshape: input=(1, 3, 32, 32)\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        raise ValueError('not on this machine')\n")
    result = cli("--no-cache", "--verbose", "stops.py", cwd=tmp_path)
    # at the class's line, naming the line of the `raise` where its evaluation stopped
    assert "stops.py:5: skipped Net: stops at stops.py:8: raises" in result.stdout.splitlines()
    assert summary(result) == [
        "Checked 1 file (1 with models), 1 model (0 on a concrete input, 0 symbolic only, 1 stopped): "
        "0 layer checks decided, 0 unknown; no findings",
        "1 model stopped part-way: the layers past where the evaluation stopped were not checked (--verbose says why)"]


def test_a_finding_on_symbolic_sizes_is_not_fixable(tmp_path):
    """16*h*w can never be 401 (401 is not a multiple of 16): proven for every input, but no input to fix it for."""
    result = cli("--no-cache", lenet(tmp_path, pragma="", in_features="401"), cwd=tmp_path)
    assert result.returncode == 1
    assert summary(result)[0] == ("Checked 1 file (1 with models), 1 model (0 on a concrete input, 1 symbolic only): "
                                  "5 layer checks decided, 0 unknown; 1 finding (0 fixable)")


def test_a_cached_rerun_gives_the_same_summary(tmp_path):
    lenet(tmp_path)
    shutil.copy(FIXTURES / "lenet_mnist.py", tmp_path / "mnist.py")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-m", "torchshape_lint.frontends.cli", "."], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert any((tmp_path / "cache").rglob("*.json"))  # the second run had results to read
    assert summary(runs[0]) == summary(runs[1]) == [
        "Checked 2 files (2 with models), 2 models (2 on a concrete input, 0 symbolic only): 15 layer checks decided, "
        "0 unknown; 1 finding (1 fixable)"]
    assert runs[0].stdout == runs[1].stdout


def test_jobs_give_the_same_summary(tmp_path):
    lenet(tmp_path)
    shutil.copy(FIXTURES / "lenet_mnist.py", tmp_path / "mnist.py")
    one, two = (cli("--no-cache", "-j", jobs, ".", cwd=tmp_path) for jobs in ("1", "2"))
    assert summary(one) == summary(two) == [
        "Checked 2 files (2 with models), 2 models (2 on a concrete input, 0 symbolic only): 15 layer checks decided, "
        "0 unknown; 1 finding (1 fixable)"]


def test_quiet_silences_stderr_and_leaves_stdout_as_it_is():
    loud = cli("--no-cache", "--format", "json", "fixtures/lenet_mnist.py")
    quiet = cli("--no-cache", "--quiet", "--format", "json", "fixtures/lenet_mnist.py")
    assert (quiet.stderr, quiet.returncode) == ("", 1) and loud.stderr.startswith("Checked 1 file")
    assert json.loads(quiet.stdout) == json.loads(loud.stdout) and len(json.loads(quiet.stdout)) == 1


def test_progress_on_a_terminal_and_none_elsewhere(tmp_path):
    """A hundred and fifty copies of torchvision's VGG module (eight builds each, 0.02 to 0.3 s a file here) take more
    than the second after which progress shows."""
    for number in range(150):
        shutil.copy(FIXTURES / "vgg.py", tmp_path / f"vgg{number}.py")
    controller, terminal = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "torchshape_lint.frontends.cli", "--no-cache", "."], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=terminal, env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    child.wait(timeout=300)
    os.close(controller)
    text = shown.decode()
    before, _, after = text.partition("Checked 150 files")
    assert re.search(r"\rChecking files: \d+/150", before), text
    line = "Checking files: 150/150"
    assert before.endswith(f"\r{line}\r{' ' * len(line)}\r"), text  # cleared before the summary
    assert after.startswith(" (150 with models)") and child.returncode == 0
    piped = cli("--no-cache", ".", cwd=tmp_path)
    assert "Checking" not in piped.stderr and "\r" not in piped.stderr
