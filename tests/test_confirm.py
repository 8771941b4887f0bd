"""Confirm mode: the models run in PyTorch in a child process, and every static finding gets its verdict.

Expected verdicts are independent of the tool: tests/test_fixtures_in_torch.py shows with torch itself that
each fixture finding fails in PyTorch, and that the clean fixtures run."""

import os
import sys
from types import SimpleNamespace

import pytest

from conftest import FIXTURES, ROOT, cli, flake8, locate

torch = pytest.importorskip("torch")

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.checks.finding import Verdict  # noqa: E402
from torchshape_lint.checks.rules import by_code  # noqa: E402
from torchshape_lint.confirm import worker as confirm_worker  # noqa: E402
from torchshape_lint.confirm.driver import confirm_report, judge, Plan, BuildResult  # noqa: E402

WITH_FINDINGS = [("lenet_mnist.py", None), ("sequential_forms.py", None), ("noqa.py", None),
                 ("vgg_no_avgpool.py", (1, 3, 32, 32)), ("vgg_linear_7x6.py", (1, 3, 224, 224)),
                 ("vgg_pool_removed.py", (1, 3, 224, 224)), ("mnist_training_script.py", None),
                 ("vgg_classic.py", (1, 3, 32, 32))]  # its pragma gives the input; a default keeps it off the CPU list
CLEAN = [("clean_option_vs_usage.py", None), ("clean_seq_view.py", None), ("clean_tencrop.py", None),
         ("vgg.py", (1, 3, 224, 224)), ("sequential_forms.py", None)]
CONFIRM_CODES = ("TSL901", "TSL902", "TSL903")


def confirmed(path, shape, device, keep=None):
    text = open(path).read()
    report = analyze_source(text, str(path), input_shape=shape)
    if keep is not None:  # the builds a test can afford on a CPU
        report.builds = [b for b in report.builds if b.name in keep]
    results = confirm_report(report, text, device, timeout=120, input_shape=shape)
    return report, results


@pytest.mark.parametrize("name, shape", WITH_FINDINGS)
def test_every_fixture_finding_is_confirmed_on_meta(name, shape):
    report, _ = confirmed(FIXTURES / name, shape, "meta")
    static = [f for f in report.findings if f.code not in CONFIRM_CODES]
    assert static and [f.text for f in report.findings if f.code in CONFIRM_CODES] == []
    for finding in static:
        assert finding.verdicts == [Verdict("confirmed", "meta")] and " [confirmed on meta]" in finding.text, \
            finding.text


@pytest.mark.parametrize("name, shape, keep", [(n, s, None) for n, s in WITH_FINDINGS if not s]
                         + [("vgg_no_avgpool.py", (1, 3, 32, 32), {"vgg11()"})])
def test_fixture_findings_are_confirmed_on_cpu(name, shape, keep):
    report, _ = confirmed(FIXTURES / name, shape, "cpu", keep)
    assert [f.text for f in report.findings if f.code in CONFIRM_CODES] == []
    assert all(f.verdicts == [Verdict("confirmed", "cpu")] for f in report.findings), [f.text for f in report.findings]


def agreement(report, results):
    assert [f.text for f in report.findings] == []
    compared = [r for r in results if r.compared]
    assert compared and all(r.agreeing == r.compared and not r.failure for r in compared), [r.line() for r in results]
    return sum(r.compared for r in compared)


@pytest.mark.parametrize("name, shape", CLEAN)
def test_clean_fixtures_agree_layer_by_layer(name, shape):
    report, results = confirmed(FIXTURES / name, shape, "meta")
    if name == "sequential_forms.py":  # `nested` is the wrong one; the other three are clean
        report.findings = [f for f in report.findings if f.models != ["nested"]]
        results = [r for r in results if r.name != "nested"]
    agreement(report, results)


@pytest.mark.parametrize("module, keep", [("vgg", None), ("alexnet", None),
                                          ("resnet", {"resnet18()", "resnet50()", "resnext50_32x4d()"})])
def test_torchvision_models_agree_layer_by_layer(module, keep):
    path = __import__(f"torchvision.models.{module}", fromlist=["_"]).__file__
    report, results = confirmed(path, (1, 3, 224, 224), "meta", keep)
    assert agreement(report, results) >= {"vgg": 8 * 30, "alexnet": 22, "resnet": 60}[module]


@pytest.mark.parametrize("code", ["TSL902", "TSL903"])
def test_confirm_only_rule_examples(tmp_path, code):
    rule = by_code()[code]
    assert rule.confirm_only and analyze_source(rule.bad, "bad.py").findings == []  # silent statically
    for example, expected in ((rule.bad, [code]), (rule.good, [])):
        (tmp_path / "m.py").write_text(example)
        report, _ = confirmed(tmp_path / "m.py", None, "meta")
        assert [f.code for f in report.findings] == expected, [f.text for f in report.findings]


def test_a_static_shape_torch_contradicts_is_tsl901():
    step = SimpleNamespace(line=3, column=4, label="Conv2d", before=(1, 3, 32, 32), after=(1, 8, 16, 16))
    build = SimpleNamespace(name="Net", steps=[step])
    report = SimpleNamespace(path="m.py", findings=[])
    reply = {"calls": [[3, 4, "Conv2d", [1, 3, 32, 32], [1, 8, 15, 15]]], "failure": None}
    added, result = {}, BuildResult("Net", "meta")
    judge(report, Plan(build, [[1, 3, 32, 32]]), reply, "meta", [], {}, added, result)
    (finding,) = added.values()
    assert (finding.code, finding.line, finding.column) == ("TSL901", 3, 4)
    assert "(1, 3, 32, 32) → (1, 8, 15, 15)" in finding.message and (result.compared, result.agreeing) == (1, 0)


@pytest.mark.parametrize("make, args", [
    (lambda d: torch.nn.Linear(400, 120, device=d), (64, 256)),
    (lambda d: torch.nn.Conv2d(32, 8, 3, device=d), (1, 16, 8, 8)),
    (lambda d: torch.nn.LayerNorm(64, device=d), (1, 128)),
])
def test_meta_errors_read_as_cpu_errors(make, args):
    messages = []
    for device in ("cpu", "meta"):
        module = make(device)
        with pytest.raises(RuntimeError) as error:
            module(torch.zeros(args, device=device))
        messages.append(confirm_worker.normalize(str(error.value), module, list(args)))
    assert messages[0] == messages[1]


def test_cli_confirm_through_the_command_line():
    result = cli("--confirm", "--device", "cpu", "fixtures/lenet_mnist.py")
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"fixtures/lenet_mnist.py:{line}:{col}: TSL001 ")
    assert result.stdout.rstrip().endswith("[confirmed on cpu]")


def test_flake8_carries_the_verdict():
    result = flake8("--torchshape-confirm", "--torchshape-device", "cpu", "fixtures/lenet_mnist.py")
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    assert result.stdout.startswith(f"fixtures/lenet_mnist.py:{line}:{col}: TSL001 "), result.stdout + result.stderr
    assert "[confirmed on cpu]" in result.stdout


def test_a_raising_a_hanging_and_a_broken_file_do_not_stop_the_run(tmp_path):
    (tmp_path / "a_missing.py").write_text("import torch.nn as nn\nimport not_a_real_module\n\n"
                                           "# torchshape: input=(1, 3)\nmodel = nn.Linear(3, 4)\n")
    (tmp_path / "b_raises.py").write_text(by_code()["TSL903"].bad)
    (tmp_path / "c_hangs.py").write_text("import torch.nn as nn\n\n\n# torchshape: input=(1, 3, 8, 8)\n"
                                         "class Net(nn.Conv2d):\n    def __init__(self):\n"
                                         "        super().__init__(3, 4, 3)\n        while True:\n            pass\n")
    (tmp_path / "d_lenet.py").write_text((FIXTURES / "lenet_mnist.py").read_text())
    result = cli("--confirm", "--device", "cpu", "--confirm-timeout", "3", ".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert any(l.startswith("./a_missing.py:2:1: TSL903 ") and "No module named 'not_a_real_module'" in l for l in lines)
    raise_line, raise_col = locate(tmp_path / "b_raises.py", "raise FileNotFoundError")
    assert any(l.startswith(f"./b_raises.py:{raise_line}:{raise_col}: TSL903 ") and "backbone.pt" in l for l in lines)
    assert any(l.startswith("./c_hangs.py:") and "TSL903" in l and "longer than 3 s" in l for l in lines)
    assert any(l.startswith("./d_lenet.py:") and l.endswith("[confirmed on cpu]") for l in lines), result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_explicit_cuda_without_cuda_is_a_usage_error():
    result = cli("--confirm", "--device", "cuda", "fixtures/lenet_mnist.py")
    assert result.returncode == 2 and "CUDA is not available" in result.stderr


def test_without_torch_the_message_names_the_extra(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    import subprocess

    result = subprocess.run([sys.executable, "-m", "torchshape_lint.frontends.cli", "--confirm", "fixtures/lenet_mnist.py"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "torchshape-lint[confirm]" in result.stderr, result.stderr


def test_confirm_builds_the_main_blocks_model_without_running_the_script(tmp_path):
    """The training script's `__main__` block downloads MNIST into data/ and saves mnist_cnn.pt: confirming
    builds its model and feeds it the 28x28 digit the static run saw, and writes nothing."""
    script = tmp_path / "train.py"
    script.write_text((FIXTURES / "mnist_training_script.py").read_text())
    net = __import__("runpy").run_path(str(script))["Net"]()  # imported, not run as __main__
    with pytest.raises(RuntimeError, match=r"1x9216 and 12544x128"):
        net(torch.zeros(1, 1, 28, 28))
    result = cli("--no-cache", "--confirm", "--device", "cpu", "train.py", cwd=tmp_path)
    line, col = locate(script, "nn.Linear(64 * 14 * 14")
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"train.py:{line}:{col}: TSL001 Linear(in_features=12544) but 9216 features arrive")
    assert finding.endswith("[confirmed on cpu]") and result.returncode == 1, result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]  # no data/, no mnist_cnn.pt


def test_confirm_builds_a_main_block_model_with_the_arguments_it_was_given(tmp_path):
    (tmp_path / "m.py").write_text(
        "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self, width, num_classes=10):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, width, 3, padding=1)\n"
        "        self.fc = nn.Linear(8 * 32 * 32, num_classes)\n\n"
        "    def forward(self, x):\n        return self.fc(torch.flatten(self.conv(x), 1))\n\n\n"
        'if __name__ == "__main__":\n    net = Net(16, num_classes=5)\n    net(torch.zeros(2, 3, 32, 32))\n'
        '    open("ran.txt", "w").write("the script ran")\n')
    result = cli("--no-cache", "--confirm", "--device", "cpu", "m.py", cwd=tmp_path)
    line, col = locate(tmp_path / "m.py", "nn.Linear(8 * 32 * 32")
    # width 16: 16 * 32 * 32 = 16384 features arrive
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"m.py:{line}:{col}: TSL001 Linear(in_features=8192) but 16384 features arrive")
    assert finding.endswith("[confirmed on cpu]"), result.stdout + result.stderr
    assert not (tmp_path / "ran.txt").exists()
