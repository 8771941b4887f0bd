"""The seed's own file: torchvision's classic vgg.py (a class that needs its `features`, `make_layers`, the
builders), with `# torchshape: input=(...)` above `class VGG`, as a user first writes it.

Expected numbers come from torch itself (the features of each builder run on the meta device) or by hand from
the question: five MaxPool2d(2, 2) halve 32 to 1 and 224 to 7, so 512 * 1 * 1 = 512 and 512 * 7 * 7 = 25088."""

import re
import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate

VGG = FIXTURES / "vgg_classic.py"
BUILDERS = ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


def at_224(tmp_path):
    path = tmp_path / "vgg.py"
    path.write_text(VGG.read_text().replace("input=(1, 3, 32, 32)", "input=(1, 3, 224, 224)"))
    return path


def features_arriving(size):
    """What each builder's features give the classifier on a size x size image, in torch."""
    torch = pytest.importorskip("torch")
    namespace = runpy.run_path(str(VGG))
    arriving = set()
    for name in BUILDERS:
        with torch.device("meta"):
            model = namespace[name]()
            arriving.add(model.features(torch.empty(1, 3, size, size)).flatten(1).shape[1])
    return arriving


def test_torch_agrees_32_gives_512_and_224_gives_25088():
    assert features_arriving(32) == {512 * 1 * 1}
    assert features_arriving(224) == {512 * 7 * 7}


def test_pragma_above_the_class_applies_to_every_builder_through_flake8_and_the_cli():
    line, col = locate(VGG, "nn.Linear(512 * 7 * 7")
    expected = (f"fixtures/vgg_classic.py:{line}:{col}: TSL001 Linear(in_features=25088) but 512 features arrive: "
                "input (1, 3, 32, 32)")
    flaked = flake8("fixtures/vgg_classic.py")
    assert [line.split(" [")[0][:len(expected)] for line in flaked.stdout.splitlines()] == [expected], flaked.stdout
    result = cli("--no-cache", "fixtures/vgg_classic.py")
    assert result.returncode == 1 and result.stdout.splitlines()[0].startswith(expected), result.stdout
    assert len(result.stdout.splitlines()) == 1 and "[in 8 builds]" in result.stdout
    assert "flattened 512*1*1 = 512; use 512 * 1 * 1" in result.stdout


def test_a_class_that_needs_arguments_is_not_a_build_of_its_own():
    result = cli("--no-cache", "--verbose", "fixtures/vgg_classic.py")
    assert "skipped VGG: its constructor needs arguments" in result.stdout
    assert not re.search(r"TSL9\d\d", result.stdout)


def test_at_224_it_is_clean_and_explain_shows_the_seed_arithmetic(tmp_path):
    path = at_224(tmp_path)
    assert (cli("--no-cache", "vgg.py", cwd=tmp_path).returncode, flake8("vgg.py", cwd=tmp_path).stdout) == (0, "")
    table = cli("explain", "vgg.py::vgg16", cwd=tmp_path)
    assert table.returncode == 0, table.stdout + table.stderr
    assert table.stdout.splitlines()[0] == \
        "vgg.py::vgg16(): input (1, 3, 224, 224) from its `# torchshape: input=` pragma"
    pooled = [re.search(r"\((\d+), (\d+), (\d+), (\d+)\)", row).group(3) for row in table.stdout.splitlines()
              if "MaxPool2d" in row]
    assert pooled == ["112", "56", "28", "14", "7"]
    view = next(row for row in table.stdout.splitlines() if ".view" in row)
    assert view.split()[0] == str(locate(path, "x.view(")[0]) and view.endswith("512*7*7 = 25088")


def test_the_language_server_shows_it():
    from test_lsp import Client

    client = Client(FIXTURES.parent)
    client.request("initialize", {"processId": None, "rootUri": FIXTURES.parent.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    uri = VGG.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": VGG.read_text()}})
    [diagnostic] = client.diagnostics(uri)
    line, col = locate(VGG, "nn.Linear(512 * 7 * 7")
    assert diagnostic["range"]["start"] == {"line": line - 1, "character": col - 1}
    assert diagnostic["code"] == "TSL001" and "but 512 features arrive" in diagnostic["message"]
    client.close()


def test_confirm_on_cpu_confirms_it_at_32_and_is_clean_at_224(tmp_path):
    pytest.importorskip("torch")
    line, col = locate(VGG, "nn.Linear(512 * 7 * 7")
    result = cli("--no-cache", "--confirm", "--device", "cpu", "fixtures/vgg_classic.py")
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = result.stdout.splitlines()
    assert finding.startswith(f"fixtures/vgg_classic.py:{line}:{col}: TSL001 ") and "[confirmed on cpu]" in finding
    at_224(tmp_path)
    clean = cli("--no-cache", "--confirm", "--device", "cpu", "vgg.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stdout + clean.stderr
